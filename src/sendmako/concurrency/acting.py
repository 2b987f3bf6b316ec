"""Which account the current task works for, so shared resources deep below the API (the
media download slots, the media CPU pool) can count work per account without every
service between passing the account along.

The API sets it once a request is authenticated (`act_for`); background work that runs for
no request (bulk jobs resumed at start) runs as nobody (`None`), and shares one account's
share of each resource."""

from __future__ import annotations

from contextvars import ContextVar

_acting: ContextVar[int | None] = ContextVar("sendmako_acting_for", default=None)


def act_for(account: int) -> None:
    """From now on, in this task (and the tasks it starts), work is counted to `account`."""
    _acting.set(account)


def acting_for() -> int | None:
    return _acting.get()
