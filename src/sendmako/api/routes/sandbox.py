"""`/api/sandbox`: drives the simulated WhatsApp network (sandbox sessions only)."""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass
from typing import TypeVar

from fastapi import APIRouter
from fastapi.responses import FileResponse

from sendmako.api.deps import CurrentUser, ServicesDep, SessionIdPath, Sessions
from sendmako.api.routes.responses import errors
from sendmako.api.schemas.contacts import SandboxContactsIn, SandboxContactsOut
from sendmako.api.schemas.envelopes import ErrorOut, SuccessOut
from sendmako.api.schemas.history import HistoryIn
from sendmako.api.schemas.messages import (
    SandboxInboundBatchIn,
    SandboxInboundBatchOut,
    SandboxInboundIn,
    SandboxInboundOut,
    SandboxSentItem,
    SandboxSentOut,
)
from sendmako.api.schemas.sandbox import (
    SandboxDeafenIn,
    SandboxDisconnectIn,
    SandboxHappenIn,
    SandboxRestrictIn,
    SandboxScanIn,
    SandboxStateOut,
)
from sendmako.errors import BadRequest, NotFound, OperationFailed, SendmakoError
from sendmako.ids import InvalidIdentifier, Jid, normalize_phone
from sendmako.media.fetch import SANDBOX_MEDIA_PATH
from sendmako.messaging.presence import CHAT_STATES, PRESENCES
from sendmako.messaging.sender import SendRequest, check, parse_recipient
from sendmako.model.events import (
    CallReceived,
    GroupParticipantsChanged,
    GroupSettingsChanged,
    MessageEdited,
    MessageRevoked,
    PollVoted,
    PresenceChanged,
    ReactionReceived,
    Someone,
    WhatsAppEvent,
)
from sendmako.model.restrictions import RestrictionKind
from sendmako.model.simulation import (
    AddressBookEntry,
    Arrival,
    Arrive,
    ChangeAddressBook,
    Deafen,
    Disconnect,
    DisconnectReason,
    EnterPairCode,
    Happen,
    ListSent,
    Restrict,
    Scan,
)
from sendmako.sessions.manager import SessionManager
from sendmako.storage.records import UserRecord

T = TypeVar("T")

router = APIRouter(prefix="/api/sandbox/sessions", tags=["sandbox"])
# The sandbox's media CDN: outside /api and without an API key, like WhatsApp's.
media_router = APIRouter(tags=["sandbox"])


def _state(sessions: SessionManager, user: UserRecord, session_id: str) -> SandboxStateOut:
    view = sessions.get(user, session_id)
    return SandboxStateOut(
        session_id=view.session_id, status=view.status, phone_number=view.phone_number
    )


@router.post("/{session_id}/scan", responses=errors(404, 422))
async def scan(
    session_id: SessionIdPath, body: SandboxScanIn, user: CurrentUser, sessions: Sessions
) -> SandboxStateOut:
    """Simulate the phone: scan the QR (`phone_number`) or type the pairing code (`pair_code`).
    With `history`, the phone then sends those chats as WhatsApp's history sync."""
    history = HistoryIn(chats=body.history) if body.history is not None else None
    if history is not None:
        sessions.require(user, session_id, Happen)
        history.events("0")  # checked before linking: a bad history links nothing
    if body.pair_code is not None:
        await sessions.perform(
            user, session_id, EnterPairCode(body.pair_code, push_name=body.push_name)
        )
    else:
        if body.phone_number is None:
            raise BadRequest(
                "phone_number: this field is required (or give pair_code).", field="phone_number"
            )
        try:
            phone = normalize_phone(body.phone_number)
        except InvalidIdentifier as exc:
            raise BadRequest(f"phone_number: {exc}", field="phone_number") from exc
        await sessions.perform(user, session_id, Scan(phone, qr=body.qr, push_name=body.push_name))
    if history is not None:
        own = sessions.get(user, session_id).phone_number or ""
        for chunk in history.events(own):
            await sessions.perform(user, session_id, Happen(chunk))
    return _state(sessions, user, session_id)


@router.post("/{session_id}/inbound", responses=errors(404, 413, 422, 503))
async def inbound(
    session_id: SessionIdPath, body: SandboxInboundIn, user: CurrentUser, services: ServicesDep
) -> SandboxInboundOut:
    """Simulate the outside world: a message of any type arrives on this sandbox session,
    from `from` (and inside `group_id` when given). Same fields as send-message."""
    services.sessions.require(user, session_id, Arrive)
    arrival = _arrival(body)
    content = await services.sender.content(arrival.request)
    (message_id,) = await services.sessions.perform(
        user,
        session_id,
        Arrive((Arrival(content, arrival.sender, body.from_name, arrival.group),)),
    )
    return SandboxInboundOut(message_id=message_id, session_id=session_id)


@router.post("/{session_id}/inbound/batch", responses=errors(404, 413, 422, 503))
async def inbound_batch(
    session_id: SessionIdPath,
    body: SandboxInboundBatchIn,
    user: CurrentUser,
    services: ServicesDep,
) -> SandboxInboundBatchOut:
    """A burst: up to 100 messages arrive at once, in order (to see how a webhook receiver
    copes with a busy number). All or none: every message is checked and prepared first,
    and an error names it (`messages[i].field`). Media by base64 only (bounded by the
    body size): for media by URL, send messages one at a time to `/inbound`."""
    services.sessions.require(user, session_id, Arrive)
    checked = []
    for index, item in enumerate(body.messages):
        try:
            arrival = _arrival(item, in_burst=True)
            checked.append((item, arrival, await services.sender.content(arrival.request)))
        except (BadRequest, OperationFailed) as exc:
            raise _naming(exc, index) from exc
    # Only now is anything stored (media on the sandbox's CDN), then all arrive at once.
    message_ids = await services.sessions.perform(
        user,
        session_id,
        Arrive(
            tuple(
                Arrival(content, arrival.sender, item.from_name, arrival.group)
                for item, arrival, content in checked
            )
        ),
    )
    return SandboxInboundBatchOut(message_ids=message_ids, session_id=session_id)


def _naming(exc: BadRequest | OperationFailed, index: int) -> SendmakoError:
    """The same error, naming the message of the burst it is about."""
    if isinstance(exc, BadRequest):
        field = f"messages[{index}].{exc.field}" if exc.field else f"messages[{index}]"
        return BadRequest(f"messages[{index}].{exc.message}", field=field, code=exc.code)
    return OperationFailed(f"messages[{index}]: {exc.message}", code=exc.code)


@dataclass(frozen=True, slots=True)
class _Arrival:
    request: SendRequest
    sender: str
    group: str | None


def _arrival(body: SandboxInboundIn, *, in_burst: bool = False) -> _Arrival:
    """The checked parts of a simulated incoming message (400 naming the field)."""
    try:
        sender_phone = normalize_phone(body.sender)
    except InvalidIdentifier as exc:
        raise BadRequest(f"from: {exc}", field="from") from exc
    group = None
    if body.group_id is not None:
        group_jid = parse_recipient(body.group_id, field="group_id")
        if not group_jid.is_group:
            raise BadRequest("group_id: must be a group JID (…@g.us)", field="group_id")
        group = str(group_jid)
    request = body.to_request()
    check(request)
    if in_burst and request.media_url is not None:
        raise BadRequest(
            f"{request.type}Url: a burst takes media by base64 only "
            "(send media by URL one message at a time to /inbound)",
            field=f"{request.type}Url",
        )
    return _Arrival(request, sender_phone, group)


@router.get("/{session_id}/sent", responses=errors(404))
async def sent(
    session_id: SessionIdPath, user: CurrentUser, services: ServicesDep
) -> SandboxSentOut:
    """What this sandbox session put on the simulated wire, oldest first (the last 1,000),
    whichever node it ran on when it sent."""
    sent = await services.sessions.perform(user, session_id, ListSent())
    return SandboxSentOut(
        messages=[
            SandboxSentItem(
                message_id=r.message_id, to=r.to, type=r.type, text=r.text, sent_at=r.sent_at
            )
            for r in sent
        ]
    )


@router.post("/{session_id}/disconnect", responses=errors(404, 422))
async def disconnect(
    session_id: SessionIdPath, body: SandboxDisconnectIn, user: CurrentUser, sessions: Sessions
) -> SandboxStateOut:
    """Simulate an unlink from the phone (`logged_out`) or a network drop (`connection_lost`,
    which reconnects by itself after `reconnect_after` seconds)."""
    await sessions.perform(
        user, session_id, Disconnect(DisconnectReason(body.reason), body.reconnect_after)
    )
    return _state(sessions, user, session_id)


@router.post("/{session_id}/restrict", responses=errors(404, 503))
async def restrict(
    session_id: SessionIdPath, body: SandboxRestrictIn, user: CurrentUser, sessions: Sessions
) -> SandboxStateOut:
    """Simulate one of WhatsApp's restrictions for `seconds`: a temporary ban (code 101-106),
    or a 463 answer to every send to a number the session never exchanged a message with."""
    await sessions.perform(
        user, session_id, Restrict(RestrictionKind(body.kind), body.seconds, body.code)
    )
    return _state(sessions, user, session_id)


@router.post("/{session_id}/deafen", responses=errors(404, 503))
async def deafen(
    session_id: SessionIdPath,
    user: CurrentUser,
    sessions: Sessions,
    body: SandboxDeafenIn | None = None,
) -> SandboxStateOut:
    """Simulate a connection that stays up but hears nothing (no messages, no receipts, no
    answers) until it reconnects: what the watchdog finds and reconnects."""
    body = body or SandboxDeafenIn()
    await sessions.perform(user, session_id, Deafen(for_good=body.for_good))
    return _state(sessions, user, session_id)


@router.put("/{session_id}/contacts", responses=errors(404, 503))
async def set_contacts(
    session_id: SessionIdPath, body: SandboxContactsIn, user: CurrentUser, sessions: Sessions
) -> SandboxContactsOut:
    """Replace the simulated phone's address book. The session's contact list follows (its
    saved names, and the push names of numbers linked to your other sandbox sessions);
    numbers that are not on WhatsApp stay in the address book but not in the contact list."""
    return await _change_contacts(sessions, user, session_id, body, replace=True)


@router.post("/{session_id}/contacts", responses=errors(404, 503))
async def add_contacts(
    session_id: SessionIdPath, body: SandboxContactsIn, user: CurrentUser, sessions: Sessions
) -> SandboxContactsOut:
    """Add numbers (sandbox numbers or any other) to the simulated phone's address book; a
    number already there takes the new name."""
    return await _change_contacts(sessions, user, session_id, body, replace=False)


async def _change_contacts(
    sessions: SessionManager,
    user: UserRecord,
    session_id: str,
    body: SandboxContactsIn,
    *,
    replace: bool,
) -> SandboxContactsOut:
    sessions.require(user, session_id, ChangeAddressBook)
    entries = []
    for index, contact in enumerate(body.contacts):
        try:
            entries.append(AddressBookEntry(normalize_phone(contact.phone), contact.name))
        except InvalidIdentifier as exc:
            field = f"contacts[{index}].phone"
            raise BadRequest(f"{field}: {exc}", field=field) from exc
    known = await sessions.perform(
        user, session_id, ChangeAddressBook(tuple(entries), replace=replace)
    )
    return SandboxContactsOut.of(session_id, known)


@media_router.get(
    SANDBOX_MEDIA_PATH + "{token}",
    response_class=FileResponse,
    responses={200: {"content": {"application/octet-stream": {}}}, 404: {"model": ErrorOut}},
)
async def sandbox_media(token: str, services: ServicesDep) -> FileResponse:
    """An encrypted file of a simulated message (decrypt it with /api/decrypt-media)."""
    path = None
    for engine in services.engines.values():
        if path := await engine.served_file(token):
            break
    if path is None:
        raise NotFound("No such media.", code="media_not_found")
    return FileResponse(path, media_type="application/octet-stream")


@router.post("/{session_id}/happen", responses=errors(404, 422, 503))
async def happen(
    session_id: SessionIdPath, body: SandboxHappenIn, user: CurrentUser, sessions: Sessions
) -> SuccessOut:
    """Simulate the outside world: a contact reacts to, edits, deletes or votes in a message,
    calls, comes online or types; a group changes. The session receives it as from WhatsApp
    (stored, and its webhook sent) before this answers."""
    sessions.require(user, session_id, Happen)
    await sessions.perform(user, session_id, Happen(happening(body)))
    return SuccessOut()


def happening(body: SandboxHappenIn) -> WhatsAppEvent:  # noqa: PLR0911 - one case per event
    """The event `body` describes, checked (400 naming the field)."""
    who = Someone(_number(body.sender, "from"))
    group = _group(body.group_id) if body.group_id is not None else None
    chat, now = group or str(Jid.user_jid(who.phone)), int(time.time())
    in_group = group is not None
    if body.event == "reaction":
        message_id = _given(body.message_id, "message_id")
        return ReactionReceived(chat, message_id, who, _given(body.emoji, "emoji"), now, in_group)
    if body.event == "edit":
        message_id, text = _given(body.message_id, "message_id"), _given(body.text, "text")
        return MessageEdited(chat, message_id, who, text, now, in_group)
    if body.event == "revoke":
        by = Someone(_number(body.by, "by")) if body.by is not None else None
        message_id = _given(body.message_id, "message_id")
        return MessageRevoked(chat, message_id, who, now, by, in_group)
    if body.event == "vote":
        options = _given(body.options, "options")
        hashes = tuple(hashlib.sha256(option.encode()).digest() for option in options)
        poll_id = _given(body.message_id, "message_id")
        return PollVoted(chat, poll_id, who, hashes, now, in_group)
    if body.event == "call":
        return CallReceived(f"CALL{secrets.token_hex(8).upper()}", who, body.video, now)
    if body.event in ("presence", "typing"):
        allowed = PRESENCES if body.event == "presence" else CHAT_STATES
        state = _given(body.state, "state")
        if state not in allowed:
            raise BadRequest(f"state: one of {', '.join(allowed)}", field="state")
        return PresenceChanged(who, state, chat=chat if body.event == "typing" else None)
    if group is None:
        raise BadRequest("group_id: this field is required for a group change", field="group_id")
    if body.event == "group_participants":
        people = tuple(
            Someone(_number(number, f"participants[{index}]"))
            for index, number in enumerate(_given(body.participants, "participants"))
        )
        return GroupParticipantsChanged(group, _given(body.action, "action"), people, who, now)
    return GroupSettingsChanged(
        group,
        who,
        now,
        subject=body.subject,
        description=body.description,
        announce=body.announce,
        restrict=body.restrict,
    )


def _given(value: T | None, field: str) -> T:
    if value is None:
        raise BadRequest(f"{field}: this field is required for this event", field=field)
    return value


def _number(text: str | None, field: str) -> str:
    try:
        return normalize_phone(_given(text, field))
    except InvalidIdentifier as exc:
        raise BadRequest(f"{field}: {exc}", field=field) from exc


def _group(text: str) -> str:
    jid = parse_recipient(text, field="group_id")
    if not jid.is_group:
        raise BadRequest("group_id: must be a group JID (…@g.us)", field="group_id")
    return str(jid)
