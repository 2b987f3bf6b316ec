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
from sendmako.model.events import (
    CallReceived,
    GroupParticipantsChanged,
    GroupSettingsChanged,
    HistorySynced,
    MessageEdited,
    MessageReceived,
    MessageRevoked,
    PollVoted,
    PresenceChanged,
    ReactionReceived,
    ReceiptReceived,
)

E = TypeVar("E")
S = TypeVar("S")


@dataclass(frozen=True, slots=True)
class Kind(Generic[E, S]):
    event: type[E]
    # The webhook events it raises: the first, unless `choose` names another of them.
    webhooks: tuple[str, ...]
    # Keeps a batch of these events, in arrival order; answers those to announce, in order,
    # each with what was stored for it.
    store: Callable[[AsyncSession, Sequence[Arrived[E]]], Awaitable[list[tuple[Arrived[E], S]]]]
    # The webhook's `data`, from the event and what was stored for it.
    payload: Callable[[E, S], dict[str, object]]
    # About messages this server sent: they are stored before this kind is (a receipt can
    # follow its send within milliseconds).
    after_sends: bool = False
    choose: Callable[[E], str] | None = None

    def webhook(self, event: E) -> str:
        return self.choose(event) if self.choose is not None else self.webhooks[0]


def _message(event: MessageReceived, _: None) -> dict[str, object]:
    return payloads.message_sent(event) if event.from_me else payloads.message_received(event)


KINDS: tuple[Kind[Any, Any], ...] = (
    Kind(
        MessageReceived,
        ("message.received", "message.sent"),
        store=stores.received,
        payload=_message,
        choose=lambda event: "message.sent" if event.from_me else "message.received",
    ),
    Kind(
        ReceiptReceived,
        ("message.status",),
        store=stores.receipts,
        payload=payloads.message_status,
        after_sends=True,
    ),
    Kind(
        ReactionReceived,
        ("message.reaction",),
        store=stores.reactions,
        payload=lambda event, _: payloads.message_reaction(event),
        after_sends=True,
    ),
    Kind(
        MessageEdited,
        ("message.edited",),
        store=stores.edits,
        payload=lambda event, _: payloads.message_edited(event),
        after_sends=True,
    ),
    Kind(
        MessageRevoked,
        ("message.revoked",),
        store=stores.revokes,
        payload=lambda event, _: payloads.message_revoked(event),
        after_sends=True,
    ),
    Kind(
        PollVoted,
        ("poll.vote",),
        store=stores.votes,
        payload=payloads.poll_vote,
        after_sends=True,
    ),
    Kind(
        PresenceChanged,
        ("presence.update",),
        store=stores.announced_only,
        payload=lambda event, _: payloads.presence_update(event),
    ),
    Kind(
        GroupParticipantsChanged,
        ("group.participants",),
        store=stores.announced_only,
        payload=lambda event, _: payloads.group_participants(event),
    ),
    Kind(
        GroupSettingsChanged,
        ("group.updated",),
        store=stores.announced_only,
        payload=lambda event, _: payloads.group_updated(event),
    ),
    Kind(
        CallReceived,
        ("call.received",),
        store=stores.calls,
        payload=payloads.call_received,
    ),
    # Old messages, stored without a webhook: a receiver would take them for new ones.
    Kind(
        HistorySynced,
        (),
        store=stores.history,
        payload=lambda _event, _stored: {},
    ),
)

# Announced by the session manager as a session's status changes (sessions/state.py).
SESSION_CONNECTED = "session.connected"
SESSION_DISCONNECTED = "session.disconnected"
SESSION_QR_READY = "session.qr_ready"
# WhatsApp restricted the number (a temporary ban, or no new contacts), and lifted it.
SESSION_RESTRICTED = "session.restricted"
SESSION_UNRESTRICTED = "session.unrestricted"

WEBHOOKS: tuple[str, ...] = (
    *(webhook for kind in KINDS for webhook in kind.webhooks),
    SESSION_CONNECTED,
    SESSION_DISCONNECTED,
    SESSION_QR_READY,
    SESSION_RESTRICTED,
    SESSION_UNRESTRICTED,
)

BY_EVENT: Mapping[type[Any], Kind[Any, Any]] = {kind.event: kind for kind in KINDS}
