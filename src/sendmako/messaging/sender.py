"""Sending one message: from a validated request to WhatsApp's message id.

The order matters: everything that can be refused cheaply (the recipient, the session,
the engine's capabilities, the plan's quota) is refused before any media is downloaded;
the message goes through the session's paced queue; and the answer is given only once
the sent message is stored.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from sendmako.accounts.usage import DailyUsage, Reservation
from sendmako.cluster import Message
from sendmako.errors import BadRequest, OperationFailed, OutcomeUnknown, SendmakoError
from sendmako.ids import InvalidIdentifier, Jid, normalize_phone, recipient_jid
from sendmako.media import outgoing
from sendmako.media.fetch import Fetcher
from sendmako.messaging.send_policy import Governor, Sending, restricted
from sendmako.messaging.sent_log import SentLog
from sendmako.model.actions import Send, SendResult
from sendmako.model.messages import (
    MEDIA_TYPES,
    ContactCard,
    Location,
    MessageType,
    OutgoingMessage,
    PollSpec,
)
from sendmako.model.restrictions import (
    NEW_CONTACTS_HOLD_SECONDS,
    NEW_CONTACTS_REFUSED,
    Restriction,
)
from sendmako.sessions import routing
from sendmako.sessions.manager import SessionManager
from sendmako.sessions.state import SessionView
from sendmako.storage.records import UserRecord

MAX_TEXT = 65_536
DELIVER = "sender.deliver"  # a send carried to the node that runs its session
MIN_POLL_OPTIONS, MAX_POLL_OPTIONS, MAX_POLL_OPTION = 2, 12, 100


@dataclass(frozen=True, slots=True)
class SendRequest:
    """A message as the API received it (field names as the API spells them in errors)."""

    type: MessageType
    text: str | None = None
    caption: str | None = None
    media_url: str | None = None
    media_base64: str | None = None
    voice_note: bool = False
    filename: str | None = None
    mimetype: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    location_name: str | None = None
    location_address: str | None = None
    contact_name: str | None = None
    contact_phone: str | None = None
    mentions: tuple[str, ...] = ()
    quoted_message_id: str | None = None
    session_id: str | None = None
    poll: PollSpec | None = None


@dataclass(frozen=True, slots=True)
class Sent:
    message_id: str
    session_id: str
    to: str  # digits for a person, the JID for a group
    result: SendResult


def display(jid: Jid) -> str:
    return str(jid) if jid.is_group else jid.user


def parse_recipient(to: str, *, field: str = "to") -> Jid:
    try:
        return recipient_jid(to)
    except InvalidIdentifier as exc:
        raise BadRequest(f"{field}: {exc}", field=field) from exc


class Sender:
    def __init__(
        self,
        sessions: SessionManager,
        usage: DailyUsage,
        sent_log: SentLog,
        fetcher: Fetcher,
        governor: Governor | None = None,
    ) -> None:
        self.sessions = sessions
        self.usage = usage
        self.sent_log = sent_log
        self.fetcher = fetcher
        self.governor = governor or Governor(sessions.db)
        sessions.bus.serve(DELIVER, self._deliver_for_node)

    async def send(self, user: UserRecord, to: str, request: SendRequest) -> Sent:
        recipient = parse_recipient(to)
        check(request)
        if request.session_id is not None:
            await self.sessions.know(request.session_id)
        session = self.choose(user, request)
        reservation = await self.usage.reserve(user)
        try:
            content = await self.content(request)
            return await self.deliver(user, session, replace(content, to=recipient), reservation)
        finally:
            reservation.release()  # nothing left once the message went out

    def choose(self, user: UserRecord, request: SendRequest) -> SessionView:
        """The session to use, refused when its engine cannot send messages."""
        session = self.sessions.pick(user, request.session_id)
        return self.sessions.require(user, session.session_id, OutgoingMessage)

    async def content(self, request: SendRequest) -> OutgoingMessage:
        """The message minus its recipient: media downloaded and prepared once (a bulk
        send reuses it for every recipient)."""
        media = None
        if request.type in MEDIA_TYPES:
            media = await outgoing.load(
                outgoing.MediaSource(
                    kind=request.type,
                    url=request.media_url,
                    base64=request.media_base64,
                    mimetype=request.mimetype,
                    filename=request.filename,
                    voice_note=request.voice_note,
                ),
                self.fetcher,
            )
        location = None
        if request.type == MessageType.LOCATION:
            assert request.latitude is not None
            assert request.longitude is not None
            location = Location(
                request.latitude,
                request.longitude,
                request.location_name,
                request.location_address,
            )
        contact = None
        if request.type == MessageType.CONTACT:
            assert request.contact_name is not None
            assert request.contact_phone is not None
            contact = ContactCard(
                request.contact_name, _phone(request.contact_phone, "contact.phone")
            )
        return OutgoingMessage(
            to=Jid("0", "s.whatsapp.net"),  # replaced per recipient
            type=request.type,
            text=request.text if request.type == MessageType.TEXT else request.caption,
            media=media,
            voice_note=request.voice_note and request.type == MessageType.AUDIO,
            location=location,
            contact=contact,
            mentions=tuple(
                Jid.user_jid(_phone(number, f"mentions[{index}]"))
                for index, number in enumerate(request.mentions)
            ),
            quoted_message_id=request.quoted_message_id,
            poll=request.poll if request.type == MessageType.POLL else None,
        )

    async def deliver(
        self,
        user: UserRecord,
        session: SessionView,
        action: Send,
        reservation: Reservation,
        *,
        bulk_job_id: str | None = None,
        min_gap: float = 0,
    ) -> Sent:
        """Through the session's queue (at least `min_gap` seconds after the session's
        previous send), on the node that runs it; returns once WhatsApp accepted it and,
        for a message, once it is stored."""
        if self.sessions.runs_here(session.session_id):
            result = await self._deliver_here(
                user.id,
                session.session_id,
                action,
                reservation.sent_one,
                bulk_job_id=bulk_job_id,
                min_gap=min_gap,
            )
        else:
            answer = await self.sessions.call_owner(
                user,
                session.session_id,
                DELIVER,
                {
                    "user_id": user.id,
                    "action": routing.codec().encode(action),
                    "bulk_job_id": bulk_job_id,
                    "min_gap": min_gap,
                },
            )
            result = routing.codec().decode(answer["result"])
            reservation.sent_one()
        return Sent(result.message_id, session.session_id, display(action.to), result)

    async def _deliver_here(
        self,
        user_id: int,
        session_id: str,
        action: Send,
        counted: Callable[[], None],
        *,
        bulk_job_id: str | None,
        min_gap: float,
    ) -> SendResult:
        stored: list[asyncio.Future[None]] = []
        view = self.sessions.local_view(session_id)
        ticket = None
        if view is not None:
            sending = Sending(
                session_id,
                view.send_policy,
                view.linked_at,
                self.sessions.restriction(session_id),
            )
            ticket = await self.governor.admit(sending, action)

        def on_sent(result: SendResult) -> None:
            if isinstance(action, OutgoingMessage):
                stored.append(
                    self.sent_log.record_sent(
                        user_id=user_id,
                        session_id=session_id,
                        message=action,
                        result=result,
                        bulk_job_id=bulk_job_id,
                    )
                )
            counted()

        try:
            result = await self.sessions.submit_for(
                user_id, session_id, action, on_sent, min_gap=min_gap
            )
        except OutcomeUnknown:
            raise  # it may have gone out: it stays counted
        except SendmakoError as exc:
            if ticket is not None:
                ticket.cancel()
            if isinstance(exc, OperationFailed) and exc.code == NEW_CONTACTS_REFUSED:
                raise await self._refused_new_contact(session_id) from exc
            raise
        if ticket is not None:
            ticket.sent()
        for commit in stored:
            await commit
        return result

    async def _refused_new_contact(self, session_id: str) -> SendmakoError:
        """WhatsApp answered 463: the number may not write to new contacts for now. Kept
        as the session's state, so the next sends to new contacts wait instead of making
        it last longer; the refused one is not retried here."""
        now = self.governor.clock()
        until = datetime.fromtimestamp(now + NEW_CONTACTS_HOLD_SECONDS, UTC)
        restriction = Restriction.new_contacts(until)
        await self.sessions.restrict(session_id, restriction)
        return restricted(session_id, restriction, now)

    async def _deliver_for_node(self, payload: Message) -> Message:
        """A send another node checked and counted, for a session this node runs."""
        result = await self._deliver_here(
            int(payload["user_id"]),
            str(payload["session_id"]),
            routing.codec().decode(payload["action"]),
            lambda: None,  # its quota is counted where it was reserved
            bulk_job_id=payload.get("bulk_job_id"),
            min_gap=float(payload.get("min_gap") or 0),
        )
        return {"result": routing.codec().encode(result)}


def check(request: SendRequest) -> None:
    """What each type needs, with a message naming the field (400)."""
    kind = request.type
    if kind == MessageType.TEXT:
        if not request.text or not request.text.strip():
            raise BadRequest("text: this field is required for a text message", field="text")
        if len(request.text) > MAX_TEXT:
            raise BadRequest(f"text: longer than {MAX_TEXT:,} characters", field="text")
    elif kind in MEDIA_TYPES:
        url_field, b64_field = f"{kind.value}Url", f"{kind.value}Base64"
        if (request.media_url is None) == (request.media_base64 is None):
            raise BadRequest(
                f"{url_field}: give {url_field} or {b64_field} (exactly one)", field=url_field
            )
        if request.media_url is not None and not request.media_url.lower().startswith(
            ("http://", "https://")
        ):
            raise BadRequest(f"{url_field}: must be an http:// or https:// URL", field=url_field)
    elif kind == MessageType.LOCATION:
        _coordinate(request.latitude, "latitude", 90)
        _coordinate(request.longitude, "longitude", 180)
    elif kind == MessageType.CONTACT and (not request.contact_name or not request.contact_phone):
        missing = "contact.name" if not request.contact_name else "contact.phone"
        raise BadRequest(f"{missing}: this field is required for a contact", field=missing)
    elif kind == MessageType.POLL:
        _check_poll(request.poll)


def _check_poll(poll: PollSpec | None) -> None:
    """2 to 12 distinct options of 1 to 100 characters, 1 to all of them selectable."""
    if poll is None:
        raise BadRequest("poll: this field is required for a poll", field="poll")
    if not poll.name.strip():
        raise BadRequest("poll.name: the question is empty", field="poll.name")
    if not MIN_POLL_OPTIONS <= len(poll.options) <= MAX_POLL_OPTIONS:
        raise BadRequest(
            f"poll.options: give {MIN_POLL_OPTIONS} to {MAX_POLL_OPTIONS} options "
            f"(got {len(poll.options)})",
            field="poll.options",
        )
    seen: set[str] = set()
    for index, option in enumerate(poll.options):
        field = f"poll.options[{index}]"
        if not option.strip() or len(option) > MAX_POLL_OPTION:
            raise BadRequest(
                f"{field}: an option has 1 to {MAX_POLL_OPTION} characters", field=field
            )
        if option in seen:
            raise BadRequest(f"{field}: {option!r} is given twice", field=field)
        seen.add(option)
    if not 1 <= poll.selectable_count <= len(poll.options):
        raise BadRequest(
            f"poll.selectable_count: between 1 and the number of options ({len(poll.options)})",
            field="poll.selectable_count",
        )


def _coordinate(value: float | None, field: str, bound: int) -> None:
    if value is None:
        raise BadRequest(f"{field}: this field is required for a location", field=field)
    if not math.isfinite(value) or abs(value) > bound:
        raise BadRequest(f"{field}: must be between -{bound} and {bound}", field=field)


def _phone(number: str, field: str) -> str:
    try:
        return normalize_phone(number)
    except InvalidIdentifier as exc:
        raise BadRequest(f"{field}: {exc}", field=field) from exc
