"""Which API operation each client method performs, declared once beside the method.

`@operation("GET", "/api/groups/{jid}/metadata")` marks a method; `covered(Client)` lists
what a client class performs, so a test can hold it against the server's `/openapi.json`."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TypeVar

F = TypeVar("F", bound=Callable[..., object])

_MARK = "__sendmako_operation__"
_PARAMETER = re.compile(r"\{[^}]*\}")


def operation(method: str, path: str) -> Callable[[F], F]:
    def mark(function: F) -> F:
        setattr(function, _MARK, (method.upper(), path))
        return function

    return mark


def shape(method: str, path: str) -> tuple[str, str]:
    """An operation as comparable data: the method, and the path with its parameters unnamed
    and no trailing slash (`GET /api/groups/{}/metadata`)."""
    return method.upper(), _PARAMETER.sub("{}", path).rstrip("/") or "/"


def covered(client: type) -> set[tuple[str, str]]:
    """The operations a client class performs, as `shape` gives them."""
    found = set()
    for name in dir(client):
        mark = getattr(getattr(client, name), _MARK, None)
        if mark is not None:
            found.add(shape(*mark))
    return found
