"""The bus between the nodes: what every implementation promises.

Two services:
- **Broadcasts** (`publish`, `on`): a small message on a topic reaches every other process
  listening, at most once and in the order it was published (a cache to forget, a session
  that changed). A node that may have missed some (its connection dropped) is told through
  `on_reconnect`, and reads again what it keeps.
- **Calls** (`call`, `serve`): a command for another node, answered by it. A call is first
  *accepted* (the node has it and will perform it) within `accept_within` seconds, or never
  performed at all: a node refuses a request that reached it too late. So a caller can
  always tell its client the truth:
  - not accepted in time: `NotDelivered` (503, nothing was done);
  - accepted, then the node died before answering: `NodeLost` (503, the outcome is
    unknown, and nothing is done again behind the caller's back);
  - otherwise the node's answer, or the very error it raised (errors.to_data).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from typing import Any

from sendmako.errors import OutcomeUnknown, Unavailable

Message = dict[str, Any]  # JSON-ready
Listener = Callable[[Message], None]  # called in the bus's reader: quick, never blocking
Handler = Callable[[Message], Awaitable[Message]]

# How long a node has to take a call: a live node takes one in milliseconds, so this is
# about a node stalled or gone.
ACCEPT_SECONDS = 5.0


class NotDelivered(Unavailable):
    """The node did not take the call in time: it was not performed."""

    code = "node_unreachable"


class NodeLost(OutcomeUnknown):
    """The node took the call, then stopped answering (it died): what it did is unknown."""

    code = "node_lost"


class Bus(ABC):
    """One process's end of the bus."""

    def __init__(self, node: str) -> None:
        self.node = node  # this node's name (nodes table)
        self._listeners: dict[str, list[Listener]] = {}
        self._reconnect: list[Callable[[], None]] = []
        self._handlers: dict[str, Handler] = {}

    @property
    @abstractmethod
    def clustered(self) -> bool:
        """Whether other nodes may exist."""

    def on(self, topic: str, listener: Listener) -> None:
        """Call `listener` with each message published on `topic` by another process."""
        self._listeners.setdefault(topic, []).append(listener)

    def on_reconnect(self, listener: Callable[[], None]) -> None:
        """Call `listener` when broadcasts may have been missed (the bus reconnected)."""
        self._reconnect.append(listener)

    def serve(self, method: str, handler: Handler) -> None:
        """Answer calls of `method` from other nodes with `handler`."""
        self._handlers[method] = handler

    @abstractmethod
    async def start(self) -> None: ...

    @abstractmethod
    async def stop(self) -> None:
        """Take no more calls, and answer those taken."""

    @abstractmethod
    async def publish(self, topic: str, message: Message) -> None:
        """Tell every other process listening on `topic`."""

    @abstractmethod
    async def call(
        self, node: str, method: str, payload: Message, *, accept_within: float = ACCEPT_SECONDS
    ) -> Message:
        """`method` performed by `node`, and its answer (see the module's docstring)."""

    async def alive(self, node: str) -> bool:
        """Whether `node` is on the bus now."""
        return node == self.node


class LocalBus(Bus):
    """A single node: nobody else to tell, no other node to call."""

    @property
    def clustered(self) -> bool:
        return False

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    async def publish(self, topic: str, message: Message) -> None:
        return None

    async def call(
        self, node: str, method: str, payload: Message, *, accept_within: float = ACCEPT_SECONDS
    ) -> Message:
        raise NotDelivered(f"Node {node} is not reachable: this server runs alone.")
