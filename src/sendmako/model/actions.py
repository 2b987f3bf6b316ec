"""What a session can be asked to do, as data: one frozen dataclass per kind of action.

An action's type parameter is what performing it answers (`Action[GroupInfo]`). Routes and
services build actions, the session manager hands them to the session's engine
(`EngineSession.perform`, engines/base.py), and the same values cross to a neonize worker
process unchanged. An engine declares which actions it performs by implementing them
(`@performs(...)`); asking a session for one its engine lacks is refused (501) before
anything is sent.

`Send` actions go through the session's paced queue and count against the plan's daily
quota: they put something in a chat. The others (reading groups, a pairing code, simulator
controls) are performed at once.

The kinds of action live beside what they are about: messages in `messages.py`, contacts
and groups in `directory.py`, the sandbox's controls in `simulation.py`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar, get_args, get_origin

from sendmako.ids import Jid

R = TypeVar("R")


class Action(Generic[R]):
    """Something a session can do; performing it answers an `R`."""

    __slots__ = ()


@dataclass(frozen=True, slots=True)
class SendResult:
    message_id: str  # WhatsApp's id of what was sent
    timestamp: datetime


class Send(Action[SendResult]):
    """An action that puts something in a chat (`to`): paced by the session's queue,
    counted against the daily quota, answered with WhatsApp's id."""

    __slots__ = ()
    to: Jid


@dataclass(frozen=True, slots=True)
class RequestPairCode(Action[str]):
    """An 8-character linking code for `phone_number` (digits with country code), to type
    on the phone instead of scanning the QR. Only while the session shows a QR."""

    phone_number: str


def result_type(kind: type[Action[Any]]) -> Any:
    """What performing an action of `kind` answers: the `R` of its `Action[R]` base."""
    for klass in kind.__mro__:
        for base in getattr(klass, "__orig_bases__", ()):
            if get_origin(base) is Action:
                return get_args(base)[0]
    raise TypeError(f"{kind.__name__} is not an Action[...]")
