"""Every kind of incoming event, declared once: how it is kept, the webhook it raises, and
what that webhook's `data` says.

- The inbox (messaging/inbox.py) stores and announces any kind from its entry here.
- The webhook endpoints accept, and the dashboard offers (with a label per language in
  its catalogues), exactly the webhooks listed here (`WEBHOOKS`).

Adding a kind: its event in model/events.py, its store in stores.py, its payload in
payloads.py, and one `Kind` here.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from sendmako.inbound import payloads, stores
from sendmako.inbound.stores import Arrived
from sendmako.model.events import MessageReceived, ReceiptReceived

E = TypeVar("E")
S = TypeVar("S")


@dataclass(frozen=True, slots=True)
class Kind(Generic[E, S]):
    event: type[E]
    webhook: str  # the webhook event it raises
    # Keeps a batch of these events, in arrival order; answers those to announce, in order,
    # each with what was stored for it.
    store: Callable[[AsyncSession, Sequence[Arrived[E]]], Awaitable[list[tuple[Arrived[E], S]]]]
    # The webhook's `data`, from the event and what was stored for it.
    payload: Callable[[E, S], dict[str, object]]
    # About messages this server sent: they are stored before this kind is (a receipt can
    # follow its send within milliseconds).
    after_sends: bool = False


KINDS: tuple[Kind[Any, Any], ...] = (
    Kind(
        MessageReceived,
        "message.received",
        store=stores.received,
        payload=lambda event, _: payloads.message_received(event),
    ),
    Kind(
        ReceiptReceived,
        "message.status",
        store=stores.receipts,
        payload=payloads.message_status,
        after_sends=True,
    ),
)

# Announced by the session manager as a session's status changes (sessions/state.py).
SESSION_CONNECTED = "session.connected"
SESSION_DISCONNECTED = "session.disconnected"
SESSION_QR_READY = "session.qr_ready"

WEBHOOKS: tuple[str, ...] = (
    *(kind.webhook for kind in KINDS),
    SESSION_CONNECTED,
    SESSION_DISCONNECTED,
    SESSION_QR_READY,
)

BY_EVENT: Mapping[type[Any], Kind[Any, Any]] = {kind.event: kind for kind in KINDS}
