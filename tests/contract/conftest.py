"""The engine contract suite drives neonize's own code with a fake client, so its modules
import neonize: it is imported here first, quietly, as the neonize tests do (their conftest
says why)."""

from tests.engines.neonize import conftest as _neonize_imported_quietly  # noqa: F401
