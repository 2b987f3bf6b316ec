"""The simulator's controls: what the sandbox control API (`/api/sandbox`) and the
dashboard's sandbox page ask a simulated session to do. They are actions like any other
(model/actions.py): an engine that performs them is a simulator; asking a session of any
other engine for them is refused before anything happens.

Each plays a part WhatsApp's side would: the phone that scans the QR or types the pairing
code, the network that drops, the outside world that sends messages in, the address book
of the phone.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from sendmako.model.actions import Action
from sendmako.model.events import WhatsAppEvent
from sendmako.model.messages import OutgoingMessage
from sendmako.model.restrictions import RestrictionKind


@dataclass(frozen=True, slots=True)
class Scan(Action[None]):
    """The phone `phone_number` scans the QR shown now (or the `qr` payload it read, which
    must still be the one shown)."""

    phone_number: str
    qr: str | None = None
    push_name: str | None = None


@dataclass(frozen=True, slots=True)
class EnterPairCode(Action[None]):
    """The phone's owner types the linking code the session asked for."""

    code: str
    push_name: str | None = None


class DisconnectReason(StrEnum):
    LOGGED_OUT = "logged_out"  # unlinked from the phone: a new QR is needed
    CONNECTION_LOST = "connection_lost"  # the network dropped: it comes back by itself


@dataclass(frozen=True, slots=True)
class Disconnect(Action[None]):
    reason: DisconnectReason
    reconnect_after: float | None = None  # connection_lost: seconds until it comes back


@dataclass(frozen=True, slots=True)
class Arrival:
    """A message the outside world sends to the session: from `sender_phone`, inside
    `group` when given. `message` holds its content (its `to` is not used)."""

    message: OutgoingMessage
    sender_phone: str
    sender_name: str | None = None
    group: str | None = None  # a group JID


@dataclass(frozen=True, slots=True)
class Arrive(Action[list[str]]):
    """The messages arrive in order, all or none, and are stored before this answers: their
    message ids, in the same order."""

    arrivals: tuple[Arrival, ...]


@dataclass(frozen=True, slots=True)
class SentRecord:
    """What a simulated session put on the simulated wire, and when (for demos and tests)."""

    message_id: str
    to: str
    type: str
    text: str | None
    sent_at: float  # unix time, taken when the engine sent it
    monotonic: float


@dataclass(frozen=True, slots=True)
class ListSent(Action[list[SentRecord]]):
    """What the session sent, oldest first (the last 1,000)."""


@dataclass(frozen=True, slots=True)
class AddressBookEntry:
    phone: str
    name: str | None  # the name saved in the address book


@dataclass(frozen=True, slots=True)
class KnownContact:
    """An address book entry, and what the simulated network knows of its number."""

    phone: str
    name: str | None
    push_name: str | None  # of a simulated session linked to this number, if any
    on_whatsapp: bool


@dataclass(frozen=True, slots=True)
class ChangeAddressBook(Action[list[KnownContact]]):
    """Add `entries` to the phone's address book (a number already there takes the new
    name), or with `replace` make them the whole book. Answers the whole book. Works in any
    status, like a phone's address book; a connected session is told."""

    entries: tuple[AddressBookEntry, ...]
    replace: bool = False


@dataclass(frozen=True, slots=True)
class Happen(Action[None]):
    """Something the outside world does reaches the session: a contact reacts, edits or
    deletes a message, votes, calls, types; a group changes. Answers once it is stored."""

    event: WhatsAppEvent


@dataclass(frozen=True, slots=True)
class Restrict(Action[None]):
    """WhatsApp restricts the number for `seconds`: `temporary_ban` reports a TemporaryBan
    with `code` (101-106); `new_contacts` makes its sends to numbers it never exchanged a
    message with (while online) answer 463."""

    kind: RestrictionKind
    seconds: float
    code: int = 101


@dataclass(frozen=True, slots=True)
class Deafen(Action[None]):
    """The connection stays up but nothing reaches the session any more (no messages, no
    receipts, no answer to a question) until it reconnects, or, `for_good`, even after:
    a "zombie" connection."""

    for_good: bool = False
