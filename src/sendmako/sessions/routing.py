"""What crosses between nodes for a session another node runs: every action and its
answer, as data (model/wire.py), and how a failed hand-over reads to the API's client."""

from __future__ import annotations

import dataclasses
import sys
from functools import cache
from typing import Any, cast

from sendmako.cluster import NodeLost, NotDelivered
from sendmako.errors import OutcomeUnknown, SendmakoError, Unavailable
from sendmako.model import calls, chats, directory, messages, profile, simulation
from sendmako.model.actions import Action, result_type
from sendmako.model.wire import WireCodec

# What a client is told to wait before it asks again, while a session changes nodes.
MOVING_RETRY_SECONDS = 5.0
_MODULES = (calls, chats, directory, messages, profile, simulation)  # where actions live


def action_kinds() -> list[type[Action[Any]]]:
    """Every kind of action (the dataclasses among Action's subclasses)."""
    found: set[type[Action[Any]]] = set()
    pending: list[type[Any]] = [Action]
    while pending:
        kind = pending.pop()
        pending.extend(kind.__subclasses__())
        # A slotted dataclass replaces the class it decorates; the one replaced lingers
        # among the subclasses until collected: only the one its module names counts.
        named = getattr(sys.modules[kind.__module__], kind.__name__, None) is kind
        if dataclasses.is_dataclass(kind) and named:
            found.add(cast("type[Action[Any]]", kind))
    return sorted(found, key=lambda kind: kind.__name__)


@cache
def codec() -> WireCodec:
    kinds = action_kinds()
    return WireCodec([*kinds, *(result_type(kind) for kind in kinds)])


def moving(session_id: str, detail: str = "") -> Unavailable:
    """A 503 for a session changing nodes (a node died, or was drained)."""
    return Unavailable(
        f"Session {session_id} is moving to another node{detail}; retry in a few seconds.",
        code="session_moving",
        retry_after=MOVING_RETRY_SECONDS,
    )


def translated(session_id: str, exc: SendmakoError) -> SendmakoError:
    """What a failed call to the session's node means to the API's client."""
    if isinstance(exc, NotDelivered):
        return moving(session_id, " (its node did not answer: nothing was done)")
    if isinstance(exc, NodeLost):
        return OutcomeUnknown(
            f"Session {session_id}'s node stopped while it was doing this: whether it was "
            "done is unknown, and it was not done again.",
            code="node_lost",
        )
    return exc
