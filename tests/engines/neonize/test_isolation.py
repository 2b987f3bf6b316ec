"""Only workers load neonize (its Go runtime can abort a process), and workers load neither
the web stack nor the database layer (memory per session)."""

from __future__ import annotations

import subprocess
import sys

PROBE = """
import sys
{imports}
roots = {{name.split(".")[0] for name in sys.modules}}
fetchers = {{"requests", "httpx", "aiohttp"}}
print(",".join(sorted(roots & ({{"neonize", "fastapi", "sqlalchemy"}} | fetchers))))
"""


def loaded(imports: str) -> str:
    code = PROBE.format(imports=imports)
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    return done.stdout.strip()


def test_the_server_never_imports_neonize() -> None:
    assert "neonize" not in loaded(
        "import sendmako.app\nfrom sendmako.engines.neonize.engine import NeonizeEngine"
    ).split(",")


def test_a_worker_loads_neonize_but_not_the_server_or_url_fetchers() -> None:
    imports = (
        "from sendmako.engines.neonize import blocked\nblocked.block()\n"
        "import sendmako.engines.neonize.worker\n"
        "import sendmako.engines.neonize.connection, sendmako.engines.neonize.commands\n"
        "import requests, httpx\n"  # the placeholders, not the libraries
        "assert isinstance(requests, blocked.BlockedModule)"
    )
    assert loaded(imports) == "httpx,neonize,requests"
