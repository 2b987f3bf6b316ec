"""The engine interface, split by lifetime (STYLE.md 2).

`Engine` lives as long as the process: it starts and stops shared resources and opens one
`EngineSession` per WhatsApp number. An `EngineSession` lives as long as one connection
attempt chain of one number; a restart opens a fresh one.

A session's lifecycle (start, stop, logout) is the same for every engine. Everything else
a session can do is an action (model/actions.py), performed by the method that says so:

    class SandboxSession(EngineSession):
        @performs(GetGroup)
        async def group_info(self, action: GetGroup) -> GroupInfo: ...

What an engine can do is exactly the set of actions its session class performs, read from
those declarations once, when the class is made (`EngineSession.capabilities`). There is
no separate list to keep in step, and no method that raises NotImplementedError: the
session manager refuses an action the engine does not perform (501) before calling it.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, TypeVar

from sendmako.errors import NotSupported
from sendmako.ids import SessionId
from sendmako.model.actions import Action
from sendmako.model.events import EngineEvent

R = TypeVar("R")
A = TypeVar("A", bound=Action[Any])
Method = TypeVar("Method", bound=Callable[..., Any])

_PERFORMS = "__sendmako_performs__"


def performs(*kinds: type[Action[Any]]) -> Callable[[Method], Method]:
    """Declare that the decorated method performs actions of `kinds`: it takes the action
    and answers what the action's type parameter says."""

    def mark(method: Method) -> Method:
        setattr(method, _PERFORMS, kinds)
        return method

    return mark


def performers_of(cls: type) -> dict[type[Action[Any]], str]:
    """The kinds of action `cls` performs (`@performs`, its bases' included), each with the
    name of the method that does."""
    found: dict[type[Action[Any]], str] = {}
    for klass in reversed(cls.__mro__):
        for name, member in vars(klass).items():
            for kind in getattr(member, _PERFORMS, ()):
                found[kind] = name
    return found


@dataclass(frozen=True, slots=True)
class SessionSpec:
    """What an engine is told about the session it opens."""

    session_id: SessionId
    user_id: int
    row_id: int
    phone_number: str | None  # the last linked number, if any
    device_jid: str | None  # the engine's own device id from the last pairing, if any


EventSink = Callable[[EngineEvent], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class EngineHealth:
    ok: bool
    detail: str = "ok"


class EngineSession(ABC):
    """One WhatsApp number on one engine.

    Every method may be called from any status. Network trouble is never raised from
    `start`: it is reported through the sink as a status (`connecting` with a detail,
    `disconnected`), and the engine retries on its own with backoff.

    Actions (`perform`) raise `Unavailable` (503) when the session is not connected,
    `OperationFailed` (422) with WhatsApp's reason as its code when WhatsApp refuses
    (`not_on_whatsapp`, `not_admin`, ...), `BadRequest` (400) naming the field at fault.
    """

    # The actions this class performs, and the name of the method for each (`@performs`).
    performers: ClassVar[Mapping[type[Action[Any]], str]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.performers = performers_of(cls)

    def __init__(self, spec: SessionSpec, sink: EventSink) -> None:
        self.spec = spec
        self.sink = sink

    @classmethod
    def capabilities(cls) -> frozenset[type[Action[Any]]]:
        """The kinds of action sessions of this class perform."""
        return frozenset(cls.performers)

    async def perform(self, action: Action[R]) -> R:
        """Do `action` and answer what its type says (see the class docstring for errors).
        An action this engine does not perform is refused with `NotSupported` (501)."""
        name = self.performers.get(type(action))
        if name is None:
            raise not_supported(type(action), self.spec.session_id)
        result: R = await getattr(self, name)(action)
        return result

    @abstractmethod
    async def start(self) -> None:
        """Begin connecting and return without waiting for WhatsApp.

        Reports `connecting` first, then `qr_ready` (with `QrCodeChanged`) when the number
        must be linked, or `connected` when a linked device resumed.
        """

    @abstractmethod
    async def stop(self) -> None:
        """Close the connection and release resources; the device stays linked.

        Idempotent, returns within a few seconds, reports nothing afterwards.
        """

    @abstractmethod
    async def logout(self) -> None:
        """Unlink the device from WhatsApp and forget its keys, then stop.

        Reports `logged_out`. Works from any status (a device never linked just stops).
        """


class Engine(ABC):
    """A way to reach WhatsApp (real or simulated), shared by all its sessions."""

    name: ClassVar[str]
    session_class: ClassVar[type[EngineSession]]

    @property
    def capabilities(self) -> frozenset[type[Action[Any]]]:
        """What this engine's sessions can do: the actions its session class performs."""
        return self.session_class.capabilities()

    async def start(self) -> None:
        """Prepare shared resources (schema, worker pools) before any session opens."""

    async def stop(self) -> None:
        """Release shared resources after every session has stopped."""

    @abstractmethod
    def open_session(self, spec: SessionSpec, sink: EventSink) -> EngineSession:
        """Build (not start) the session object for `spec`. No I/O."""

    async def forget(self, spec: SessionSpec) -> None:
        """Delete whatever the engine stored for a deleted session (device keys, state)."""

    async def health(self) -> EngineHealth:
        return EngineHealth(ok=True)

    def room(self) -> int | None:
        """How many more sessions this node can run on this engine; None: no limit known.
        No I/O beyond reading a few /proc files."""
        return None

    def refuse_if_full(self) -> None:
        """Raise Unavailable (503 `node_full`, naming the limit) when this node cannot run
        one more session. Engines whose sessions cost nothing of their own never do."""

    async def served_file(self, token: str) -> Path | None:
        """A file this engine serves to anyone holding `token` (the sandbox's media CDN):
        its path, or None. Engines that serve nothing keep this default. May read the
        database (a file another node stored)."""
        return None


def action_name(kind: type[Action[Any]]) -> str:
    """How people read a kind of action: `GetGroup` -> "get group"."""
    return "".join(f" {c.lower()}" if c.isupper() else c for c in kind.__name__).strip()


def not_supported(
    kind: type[Action[Any]], session_id: str, engine: str | None = None
) -> NotSupported:
    which = f"its engine ({engine})" if engine else "its engine"
    return NotSupported(
        f"Session {session_id} cannot {action_name(kind)}: {which} does not support it.",
        code="capability_not_supported",
    )
