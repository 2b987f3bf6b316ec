"""neonize's event protobufs as our events (`events.py`): the library's types stop here.

Pure functions of the protobufs, so tests feed them events built with neonize's own classes.
Runs in the worker process (the only place neonize's types exist).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from neonize.events import (
    ConnectFailureEv,
    LoggedOutEv,
    MessageEv,
    ReceiptEv,
    TemporaryBanEv,
)
from neonize.proto import Neonize_pb2 as npb
from neonize.proto.waE2E.WAWebProtobufsE2E_pb2 import ProtocolMessage

from sendmako.ids import LID_SERVER, USER_SERVER
from sendmako.model.events import (
    IncomingMedia,
    MessageEdited,
    MessageReceived,
    MessageRevoked,
    PollVoted,
    ReactionReceived,
    ReceiptReceived,
    Someone,
    TemporaryBanned,
    WhatsAppEvent,
)
from sendmako.model.messages import PollSpec
from sendmako.model.statuses import MessageStatus, SessionStatus

# A LID (hidden id) the message itself did not resolve: asks the device store, or None.
LidResolver = Callable[[Any], str | None]

MEDIA_KINDS = {
    "imageMessage": "image",
    "videoMessage": "video",
    "ptvMessage": "video",  # round video notes: a video for webhooks and decrypt-media
    "audioMessage": "audio",
    "documentMessage": "document",
    "stickerMessage": "sticker",
}
# Fields that ride along with content (or alone, as signalling) and are never the content.
_SIGNALLING = frozenset(
    {
        "messageContextInfo",
        "senderKeyDistributionMessage",
        "fastRatchetKeySenderKeyDistributionMessage",
        "protocolMessage",  # revokes, edits, ephemeral settings, history-sync notices
        "deviceSentMessage",
    }
)
MEDIA_HOST = "https://mmg.whatsapp.net"
# The fields a poll arrives in, by WhatsApp's version of it (V4 is wrapped: left as is).
POLL_KINDS = (
    "pollCreationMessage",
    "pollCreationMessageV2",
    "pollCreationMessageV3",
    "pollCreationMessageV5",
    "pollCreationMessageV6",
)


# -- JIDs -------------------------------------------------------------------------------


def jid_text(jid: Any) -> str:
    """`user@server` without the device part (the chat or person, not one of their phones)."""
    if not jid.User:
        return str(jid.Server)
    return f"{jid.User}@{jid.Server}"


def is_set(jid: Any) -> bool:
    return bool(jid.User) and not jid.IsEmpty


def jid_proto(text: str) -> Any | None:
    """A JID as text in a message key ("user@server", maybe "user:device@server") as
    neonize's protobuf, without device; None when it is not one."""
    user, at, server = text.partition("@")
    user = user.split(":", 1)[0]
    if not at or not user or not server:
        return None
    return npb.JID(User=user, Server=server, RawAgent=0, Device=0, Integrator=0, IsEmpty=False)


def someone(jid: Any, alt: Any = None, resolve: LidResolver | None = None) -> Someone:
    """A person as our events name them: their phone number (resolved from a hidden @lid
    through `alt` or `resolve`), and their LID's digits beside it when WhatsApp used or
    told one."""
    if jid.Server == LID_SERVER:
        return Someone(phone=_phone_of(jid, alt, resolve), lid=str(jid.User))
    lid = str(alt.User) if alt is not None and is_set(alt) and alt.Server == LID_SERVER else None
    return Someone(phone=str(jid.User), lid=lid)


def same_person(one: Someone, other: Someone) -> bool:
    """Whether two namings are one person: the same number, or the same hidden id."""
    return one.phone == other.phone or (one.lid is not None and one.lid == other.lid)


def _lid_of(jid: Any, alt: Any) -> str | None:
    if jid.Server == LID_SERVER:
        return str(jid.User)
    if is_set(alt) and alt.Server == LID_SERVER:
        return str(alt.User)
    return None


def _phone_of(jid: Any, alt: Any, resolve: LidResolver | None) -> str:
    """The phone number behind `jid`: its alternate JID when `jid` is a hidden @lid."""
    if jid.Server != LID_SERVER:
        return str(jid.User)
    if alt is not None and is_set(alt) and alt.Server == USER_SERVER:
        return str(alt.User)
    if resolve is not None:
        phone = resolve(jid)
        if phone:
            return phone
    return str(jid.User)  # unresolvable: the LID's digits are the best we have


def chat_of(source: Any, resolve: LidResolver | None = None) -> str:
    chat = source.Chat
    if chat.Server == LID_SERVER and not source.IsGroup:
        # A direct chat addressed by LID: name it by the other party's number when known.
        alt = source.RecipientAlt if source.IsFromMe else source.SenderAlt
        if is_set(alt) and alt.Server == USER_SERVER:
            return f"{alt.User}@{USER_SERVER}"
        phone = resolve(chat) if resolve is not None else None
        if phone:
            return f"{phone}@{USER_SERVER}"
    return jid_text(chat)


# -- messages ---------------------------------------------------------------------------


def wa_kind(message: Any) -> str | None:
    """WhatsApp's name for what a message holds (`conversation`, `imageMessage`...), or None
    for pure signalling (key distribution, revokes) that is no message for people."""
    for descriptor, _value in message.ListFields():
        if descriptor.name not in _SIGNALLING:
            return str(descriptor.name)
    return None


def message_event(ev: MessageEv, resolve: LidResolver | None = None) -> WhatsAppEvent | None:
    """What a `MessageEv` is for us: a message, or a reaction, an edit or a delete of an
    earlier one; None for WhatsApp's plumbing. Poll votes need decrypting first
    (`is_poll_vote`, then `poll_voted`)."""
    message = ev.Message
    protocol = _protocol(message)
    if protocol is not None:
        return _from_protocol(ev, protocol, resolve)
    if message.HasField("reactionMessage"):
        return _reaction(ev, message.reactionMessage, resolve)
    if message.HasField("encReactionMessage"):
        return None  # community announcement reactions: neonize cannot decrypt them
    if is_poll_vote(ev):
        return None  # encrypted: `poll_voted` once the connection decrypted it
    return message_received(ev, resolve)


def _from_protocol(
    ev: MessageEv, protocol: Any, resolve: LidResolver | None
) -> MessageEdited | MessageRevoked | None:
    if protocol.type == ProtocolMessage.MESSAGE_EDIT and protocol.HasField("editedMessage"):
        return _edited(ev, protocol, resolve)
    if protocol.type == ProtocolMessage.REVOKE and protocol.key.ID:
        return _revoked(ev, protocol, resolve)
    return None  # ephemeral settings, history-sync notices, key shares...


def _protocol(message: Any) -> Any | None:
    """The protocol message a `Message` carries (whatsmeow unwraps an edit's
    `editedMessage` wrapper; an event that kept it is unwrapped here)."""
    if message.HasField("protocolMessage") and message.protocolMessage.HasField("type"):
        return message.protocolMessage
    if message.HasField("editedMessage"):
        inner = message.editedMessage.message
        if inner.HasField("protocolMessage") and inner.protocolMessage.HasField("type"):
            return inner.protocolMessage
    return None


def _about_message(ev: MessageEv, resolve: LidResolver | None) -> dict[str, Any]:
    """What every event about an earlier message says of where and when, and who did it."""
    source = ev.Info.MessageSource
    return {
        "chat": chat_of(source, resolve),
        "timestamp": _seconds(ev),
        "is_group": bool(source.IsGroup),
        "from_me": bool(source.IsFromMe),
    }


def _reaction(ev: MessageEv, reaction: Any, resolve: LidResolver | None) -> ReactionReceived:
    source = ev.Info.MessageSource
    return ReactionReceived(
        message_id=str(reaction.key.ID),
        sender=someone(source.Sender, source.SenderAlt, resolve),
        emoji=str(reaction.text),
        **_about_message(ev, resolve),
    )


def _edited(ev: MessageEv, protocol: Any, resolve: LidResolver | None) -> MessageEdited:
    source = ev.Info.MessageSource
    edited = protocol.editedMessage
    kind = wa_kind(edited)
    return MessageEdited(
        message_id=str(protocol.key.ID),
        sender=someone(source.Sender, source.SenderAlt, resolve),
        body=(_body(kind, edited) if kind is not None else None) or "",
        **_about_message(ev, resolve),
    )


def _revoked(ev: MessageEv, protocol: Any, resolve: LidResolver | None) -> MessageRevoked:
    """Deleted for everyone: by its author (the key is theirs), or by a group admin (the
    key names the author as `participant`; the event comes from the admin)."""
    source = ev.Info.MessageSource
    revoker = someone(source.Sender, source.SenderAlt, resolve)
    author = key_author(ev, protocol.key, resolve)
    by = None
    if author is None:
        author = revoker
    elif not same_person(author, revoker):
        by = revoker
    return MessageRevoked(
        message_id=str(protocol.key.ID),
        sender=author,
        by=by,
        **_about_message(ev, resolve),
    )


def key_author(ev: MessageEv, key: Any, resolve: LidResolver | None) -> Someone | None:
    """Who wrote the message a key (in a reaction, a revoke, a vote) points at, the way
    whatsmeow's getOrigSenderFromKey reads it: the key is written from the point of view
    of the event's sender."""
    source = ev.Info.MessageSource
    if key.fromMe:
        return someone(source.Sender, source.SenderAlt, resolve)
    if source.Chat.Server in (USER_SERVER, LID_SERVER):
        jid = jid_proto(str(key.remoteJID))
    else:
        jid = jid_proto(str(key.participant))
    return someone(jid, None, resolve) if jid is not None else None


def is_poll_vote(ev: MessageEv) -> bool:
    return bool(ev.Message.HasField("pollUpdateMessage"))


def poll_voted(
    ev: MessageEv, option_hashes: Sequence[bytes], resolve: LidResolver | None = None
) -> PollVoted:
    """A vote, once decrypted: the SHA-256 of each option chosen (none: taken back). Each
    vote carries the voter's whole choice, replacing their earlier one."""
    source = ev.Info.MessageSource
    update = ev.Message.pollUpdateMessage
    return PollVoted(
        poll_message_id=str(update.pollCreationMessageKey.ID),
        voter=someone(source.Sender, source.SenderAlt, resolve),
        option_hashes=tuple(bytes(digest) for digest in option_hashes),
        **_about_message(ev, resolve),
    )


def message_received(ev: MessageEv, resolve: LidResolver | None = None) -> MessageReceived | None:
    """The message as our event, or None when it carries nothing to deliver."""
    message = ev.Message
    kind = wa_kind(message)
    if kind is None:
        return None
    source = ev.Info.MessageSource
    inner: Any = getattr(message, kind) if kind != "conversation" else None
    context = getattr(inner, "contextInfo", None)
    fields: dict[str, Any] = {}
    if kind in MEDIA_KINDS:
        fields["media"] = _media(MEDIA_KINDS[kind], inner)
    elif kind in ("locationMessage", "liveLocationMessage"):
        fields.update(
            latitude=inner.degreesLatitude,
            longitude=inner.degreesLongitude,
            location_name=inner.name or None if kind == "locationMessage" else None,
            location_address=inner.address or None if kind == "locationMessage" else None,
        )
    elif kind == "contactMessage":
        fields.update(contact_name=inner.displayName or None, contact_vcard=inner.vcard or None)
    elif kind in POLL_KINDS:
        fields["poll"] = poll_spec(message)
    return MessageReceived(
        message_id=ev.Info.ID,
        chat=chat_of(source, resolve),
        sender_phone=_phone_of(source.Sender, source.SenderAlt, resolve),
        sender_jid=jid_text(source.Sender),
        sender_name=ev.Info.Pushname or None,
        wa_type=kind,
        body=_body(kind, message),
        timestamp=_seconds(ev),
        is_group=bool(source.IsGroup),
        from_me=bool(source.IsFromMe),
        sender_lid=_lid_of(source.Sender, source.SenderAlt),
        quoted_message_id=(context.stanzaID or None) if context is not None else None,
        mentions=tuple(_user(jid) for jid in context.mentionedJID) if context is not None else (),
        **fields,
    )


def poll_spec(message: Any) -> PollSpec | None:
    """The poll a WhatsApp message holds (its question, options, how many may be chosen),
    or None when it holds none."""
    for kind in POLL_KINDS:
        if message.HasField(kind):
            poll = getattr(message, kind)
            return PollSpec(
                name=str(poll.name),
                options=tuple(str(option.optionName) for option in poll.options),
                selectable_count=int(poll.selectableOptionsCount),
            )
    return None


def _seconds(ev: MessageEv) -> int:
    """A message's time: neonize encodes it in milliseconds (UnixMilli), every other time
    (receipts, send answers, presence) in seconds."""
    return int(ev.Info.Timestamp) // 1000


def _body(kind: str, message: Any) -> str | None:
    if kind in POLL_KINDS:
        return str(getattr(message, kind).name) or None
    if kind == "conversation":
        return str(message.conversation)
    if kind == "extendedTextMessage":
        return str(message.extendedTextMessage.text)
    if kind in ("imageMessage", "videoMessage", "documentMessage", "ptvMessage"):
        caption = getattr(message, kind).caption if kind != "ptvMessage" else ""
        return str(caption) or None
    return None


def _media(media_type: str, inner: Any) -> IncomingMedia:
    url = inner.URL or (MEDIA_HOST + inner.directPath if inner.directPath else "")
    width = getattr(inner, "width", 0)
    height = getattr(inner, "height", 0)
    seconds = getattr(inner, "seconds", 0)
    return IncomingMedia(
        media_type=media_type,
        url=url,
        direct_path=inner.directPath,
        media_key=bytes(inner.mediaKey),
        file_enc_sha256=bytes(inner.fileEncSHA256),
        file_sha256=bytes(inner.fileSHA256),
        file_length=int(inner.fileLength),
        mimetype=inner.mimetype,
        width=int(width) or None,
        height=int(height) or None,
        duration=int(seconds) or None,
        filename=getattr(inner, "fileName", "") or None,
        voice_note=bool(getattr(inner, "PTT", False)),
    )


def _user(jid_string: str) -> str:
    return jid_string.split("@", 1)[0].split(":", 1)[0]


# -- receipts ---------------------------------------------------------------------------

_RECEIPT_STATUS = {ReceiptEv.DELIVERED: MessageStatus.DELIVERED, ReceiptEv.READ: MessageStatus.READ}


def receipt_received(ev: ReceiptEv, resolve: LidResolver | None = None) -> ReceiptReceived | None:
    """Delivered and read receipts of messages we sent; None for every other kind (played,
    read-by-self, retries, server errors...)."""
    status = _RECEIPT_STATUS.get(ev.Type)
    if status is None or not ev.MessageIDs:
        return None
    source = ev.MessageSource
    participant = None
    if source.IsGroup and is_set(source.Sender):
        participant = someone(source.Sender, source.SenderAlt, resolve)
    return ReceiptReceived(
        message_ids=tuple(ev.MessageIDs),
        chat=chat_of(source, resolve),
        status=status,
        timestamp=int(ev.Timestamp),
        participant_phone=participant.phone if participant is not None else None,
        participant_lid=participant.lid if participant is not None else None,
    )


# -- connection -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Ending:
    """A connection event that ends this worker's connection, and what follows it."""

    status: SessionStatus | None  # reported at once; None leaves it to the supervisor
    detail: str
    retry: bool
    retry_after: float | None = None


_LOGOUT_REASONS = {
    npb.LOGGED_OUT: "the device was unlinked from the phone (WhatsApp > Linked devices)",
    npb.MAIN_DEVICE_GONE: "the phone's WhatsApp account was deleted or registered again",
    npb.UNKNOWN_LOGOUT: "WhatsApp logged this device out",
}
_UPGRADE_HINT = (
    "WhatsApp refuses this client version (405 client outdated): upgrade neonize and "
    "restart the server (README, 'Upgrading neonize')"
)


def logged_out(ev: LoggedOutEv) -> Ending:
    reason = _LOGOUT_REASONS.get(ev.Reason) or _reason_name(ev.Reason)
    when = "while connecting" if ev.OnConnect else "while connected"
    detail = f"logged out {when}: {reason}; restart the session to link it again"
    return Ending(SessionStatus.LOGGED_OUT, detail, retry=False)


def ban_restriction(ev: TemporaryBanEv, now: float) -> TemporaryBanned:
    """WhatsApp's reason codes are 101-106 (as whatsmeow names them); neonize's protobuf
    enum numbers them 1-6. `Expire` is in seconds."""
    number = int(ev.Code)
    code = 100 + number if 0 < number < 100 else number
    return TemporaryBanned(code, now + max(int(ev.Expire), 0))


def temporary_ban(ev: TemporaryBanEv) -> Ending:
    code = TemporaryBanEv.TempBanReason.Name(ev.Code) if ev.Code else "UNKNOWN"
    expire = max(int(ev.Expire), 0)
    detail = (
        f"temporarily banned by WhatsApp (code {code}: {code.lower().replace('_', ' ')}); "
        f"the ban lifts in {_duration(expire)}, then the session reconnects by itself"
    )
    return Ending(SessionStatus.DISCONNECTED, detail, retry=True, retry_after=float(expire))


def client_outdated() -> Ending:
    return Ending(SessionStatus.DISCONNECTED, _UPGRADE_HINT, retry=False)


def stream_replaced() -> Ending:
    detail = (
        "another client connected with this session's keys (stream replaced); "
        "stop the other one, then restart this session"
    )
    return Ending(SessionStatus.DISCONNECTED, detail, retry=False)


def connect_failure(ev: ConnectFailureEv) -> Ending:
    if ev.Reason in _LOGOUT_REASONS:
        return Ending(SessionStatus.LOGGED_OUT, f"logged out: {_LOGOUT_REASONS[ev.Reason]}", False)
    if ev.Reason == npb.CLIENT_OUTDATED:
        return client_outdated()
    message = f": {ev.Message}" if ev.Message else ""
    detail = f"WhatsApp refused the connection ({_reason_name(ev.Reason)}{message})"
    return Ending(None, detail, retry=True)


def _reason_name(reason: int) -> str:
    try:
        return str(npb.ConnectFailureReason.Name(reason))
    except ValueError:
        return f"reason {reason}"


def _duration(seconds: int) -> str:
    hours, rest = divmod(seconds, 3600)
    minutes = rest // 60
    if hours:
        return f"{hours} h {minutes} min"
    if minutes:
        return f"{minutes} min"
    return f"{seconds} s"


def dial_failure(message: str) -> str:
    """neonize's connect error, for people: whatsmeow nests the cause in several prefixes."""
    text = message.strip() or "no reason given"
    for marker in ('/ws/chat": ', "websocket: "):
        if marker in text:
            text = text.rsplit(marker, 1)[1]
            break
    return f"cannot reach WhatsApp: {text}"
