"""Alembic environment. The application runs migrations itself (`Database.migrate`) and hands
its connection over; `alembic` on the command line is not needed to operate Sendmako."""

from alembic import context
from sqlalchemy.engine import Connection

from sendmako.storage.tables import Base

connection: Connection | None = context.config.attributes.get("connection")
if connection is None:
    raise SystemExit("Run migrations through Sendmako: they start with `sendmako serve`.")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
