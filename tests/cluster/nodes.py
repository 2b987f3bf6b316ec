"""Several in-process nodes on one PostgreSQL database and one Redis: each a whole server
(its own data directory and node name), reached through its own clients. Placement rounds
run when a test says so (`place`), not on a timer."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path

from sendmako.model.send_policy import SendPolicy
from sendmako.settings import ClusterSettings, SandboxSettings, Settings
from tests import databases
from tests.harness import Server, running
from tests.redis_server import fresh_prefix, require_redis

StartNode = Callable[[str], Awaitable[Server]]


def node_settings(
    tmp_path: Path, database_url: str, redis_url: str, prefix: str, name: str
) -> Settings:
    return Settings(
        data_dir=tmp_path / name,
        database_url=database_url,
        redis_url=redis_url,
        engines=["sandbox"],
        default_engine="sandbox",
        allow_private_hosts=["127.0.0.1"],
        send_policy=SendPolicy.unlimited().to_stored(),  # as tests/conftest.py
        sandbox=SandboxSettings(
            qr_rotate_seconds=30,
            reconnect_seconds=0,
            receipt_delivered_seconds=0,
            receipt_read_seconds=0,
        ),
        # Rounds on a timer would race the tests' own: once a minute is never, here.
        cluster=ClusterSettings(
            redis_prefix=prefix, node_name=name, placement_seconds=60, session_lease_seconds=300
        ),
    )


@asynccontextmanager
async def cluster(tmp_path: Path) -> AsyncIterator[StartNode]:
    """`start(name)` starts a node of one cluster; all stop at the end."""
    databases.skip_without_postgres()
    redis_url, prefix = require_redis(), fresh_prefix()
    async with (
        databases.server_database_url("postgres", tmp_path) as url,
        AsyncExitStack() as stack,
    ):

        async def start(name: str) -> Server:
            settings = node_settings(tmp_path, url, redis_url, prefix, name)
            return await stack.enter_async_context(running(settings))

        yield start


async def place(*servers: Server) -> None:
    """One placement round on each node, in order."""
    for server in servers:
        await server.sessions.place()
