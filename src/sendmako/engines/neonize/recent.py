"""What a worker remembers of the last messages and calls: WhatsApp addresses a message
by who wrote it and where, as it arrived (a hidden @lid or a phone number), and actions
on it (a reply's quote, a vote, a read receipt, refusing a call) work best named exactly
so. Bounded, in memory, lost with the worker: a fallback is always there."""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

V = TypeVar("V")


class _Bounded(Generic[V]):
    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[str, V] = OrderedDict()

    def _put(self, key: str, value: V) -> None:
        self._items[key] = value
        self._items.move_to_end(key)
        while len(self._items) > self.size:
            self._items.popitem(last=False)

    def get(self, key: str) -> V | None:
        return self._items.get(key)


@dataclass(frozen=True, slots=True)
class Remembered:
    sender: str  # JID of who sent it, without device, as WhatsApp named them
    message: Any  # the WhatsApp Message protobuf
    chat: str | None = None  # JID of its chat as it arrived (None: not known)
    from_me: bool = False  # sent by this number
    at: float = field(default_factory=time.time)  # unix seconds: when it was sent or seen


class RecentMessages(_Bounded[Remembered]):
    """The last messages seen or sent, so a reply can quote the original's content."""

    def __init__(self, size: int = 512) -> None:
        super().__init__(size)

    def remember(
        self,
        message_id: str,
        sender: str,
        message: Any,
        *,
        chat: str | None = None,
        from_me: bool = False,
        at: float | None = None,
    ) -> None:
        when = time.time() if at is None else at
        self._put(message_id, Remembered(sender, message, chat, from_me, when))


class RecentCalls(_Bounded[Any]):
    """Who made the last calls offered, by call id: their JID protobuf exactly as the offer
    named them, which is what refusing the call must answer to."""

    def __init__(self, size: int = 64) -> None:
        super().__init__(size)

    def remember(self, call_id: str, caller: Any) -> None:
        self._put(call_id, caller)
