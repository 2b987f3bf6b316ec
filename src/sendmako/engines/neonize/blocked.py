"""Modules a worker refuses to import: neonize's URL fetchers and what they pull in.

neonize's media helpers fetch whatever URL they are given (no size limit, no timeout) or
read whatever local path (`neonize-notes.md` 2.5), and its loader downloads a Go library
when its own is missing. A worker never needs any of that: it sends bytes the server
gave it. Putting placeholders in `sys.modules` before neonize is imported makes any such
use fail loudly instead of reaching the network, and saves about 13 MiB per worker
(requests, httpx, linkpreview with BeautifulSoup, tqdm).
"""

from __future__ import annotations

import sys
from types import ModuleType
from typing import Any, NoReturn

BLOCKED = ("requests", "httpx", "linkpreview", "tqdm")


class BlockedModule(ModuleType):
    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        module = self.__name__

        def refuse(*_args: object, **_kwargs: object) -> NoReturn:
            raise RuntimeError(
                f"{module}.{name} is blocked in neonize workers: they never fetch URLs or "
                "read paths for neonize (media arrive as bytes from the server)"
            )

        return refuse


def block() -> None:
    """Install the placeholders; call before the first neonize import."""
    for name in BLOCKED:
        sys.modules.setdefault(name, BlockedModule(name))
