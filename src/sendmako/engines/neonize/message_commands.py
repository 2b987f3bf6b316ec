"""Commands that put something in a chat: messages (polls among them), and what acts on a
message already there: reactions, edits, deletes for everyone, poll votes. Each answers
WhatsApp's id of what it sent.

A message is addressed by its chat, its id and its author, best named the way WhatsApp
named them when it arrived (a hidden @lid or a phone number): the worker's memory of recent
messages (`recent.py`) is asked first, then the caller's `MessageKey`, then WhatsApp (a
group's members, a number's LID).
"""

from __future__ import annotations

import time
from typing import Any

from neonize.proto import Neonize_pb2 as npb
from neonize.utils.jid import build_jid

from sendmako.engines.base import performs
from sendmako.engines.neonize import convert, outgoing, targets
from sendmako.engines.neonize.errors import Context
from sendmako.engines.neonize.ffi import FFI, Own, proto_jid, timestamp
from sendmako.engines.neonize.recent import Remembered
from sendmako.errors import BadRequest, OperationFailed
from sendmako.ids import LID_SERVER, USER_SERVER, InvalidIdentifier, Jid
from sendmako.model.actions import SendResult
from sendmako.model.messages import (
    EditMessage,
    MessageKey,
    OutgoingMessage,
    PollVote,
    Reaction,
    RevokeMessage,
)

ON_WHATSAPP_TTL_SECONDS = 3600.0
# WhatsApp's apps offer editing for 15 minutes (whatsmeow's EditWindow says 20 and does
# not enforce it), and delete for everyone for "about 2 days" (2 days 12 h, measured by
# its users): past these the server may take the change and the phones ignore it.
EDIT_WINDOW_SECONDS = 15 * 60.0
REVOKE_WINDOW_SECONDS = 60 * 3600.0
_EMPTY_JID = npb.JID(User="", Server="", RawAgent=0, Device=0, Integrator=0, IsEmpty=True)


class MessageCommands(FFI):
    _on_whatsapp: dict[str, tuple[float, Any]]

    # -- messages -----------------------------------------------------------------------

    @performs(OutgoingMessage)
    def send(self, message: OutgoingMessage) -> SendResult:
        data = message.media.data if message.media is not None else None
        self._require_ready()
        to = self._destination(message.to)

        def upload(blob: bytes, kind: Any) -> Any:
            return self._call(Context.SEND, lambda: self.client.upload(blob, kind))

        proto = outgoing.build(message, data, upload, self.recent)
        response = self._call(Context.SEND, lambda: self.client.send_message(to, proto))
        own = self.own().jid
        if own is not None:
            chat = f"{to.User}@{to.Server}"
            self.recent.remember(response.ID, own, proto, chat=chat, from_me=True)
        return SendResult(message_id=str(response.ID), timestamp=timestamp(response.Timestamp))

    def _destination(self, to: Jid) -> Any:
        """The JID to send to: a number is checked with WhatsApp first (and WhatsApp's own
        JID for it used), so a number without WhatsApp fails instead of vanishing."""
        if to.server != USER_SERVER:
            return build_jid(to.user, to.server)
        cached = self._on_whatsapp.get(to.user)
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
        try:
            answers = self._call(Context.SEND, lambda: self.client.is_on_whatsapp("+" + to.user))
        except OperationFailed as exc:
            raise OperationFailed(
                f"+{to.user} is not on WhatsApp ({exc.message}).", code="not_on_whatsapp"
            ) from exc
        found = next((answer for answer in answers if answer.IsIn), None)
        if found is None:
            raise OperationFailed(f"+{to.user} is not on WhatsApp.", code="not_on_whatsapp")
        jid = found.JID if found.JID.User else build_jid(to.user, USER_SERVER)
        self._on_whatsapp[to.user] = (time.monotonic() + ON_WHATSAPP_TTL_SECONDS, jid)
        return jid

    def _send_about(self, to: Jid, message: Any) -> SendResult:
        """Send something about an earlier message to its chat (no number check: the chat
        exists, and whatsmeow fails on a number without WhatsApp by itself)."""
        chat = proto_jid(to.without_device())
        response = self._call(Context.SEND, lambda: self.client.send_message(chat, message))
        return SendResult(message_id=str(response.ID), timestamp=timestamp(response.Timestamp))

    # -- on a message already in a chat -------------------------------------------------

    @performs(Reaction)
    def react(self, action: Reaction) -> SendResult:
        self._require_ready()
        target = action.target
        remembered = self.recent.get(target.message_id)
        mine = _is_own(target, remembered, self.own())
        key = targets.message_key(
            target.chat,
            target.message_id,
            from_me=mine,
            author=None if mine else self._author(target, remembered),
        )
        return self._send_about(action.to, targets.reaction(key, action.emoji))

    @performs(EditMessage)
    def edit(self, action: EditMessage) -> SendResult:
        self._require_ready()
        target = action.target
        if not action.text.strip():
            raise BadRequest("text: the new text is empty", field="text")
        remembered = self.recent.get(target.message_id)
        if not _is_own(target, remembered, self.own()):
            raise OperationFailed(
                "Only this number's own messages can be edited.", code="not_own_message"
            )
        _within(remembered, EDIT_WINDOW_SECONDS, "edit_window_passed", "edited", "15 minutes")
        content = targets.edited_content(
            remembered.message if remembered is not None else None, action.text
        )
        result = self._send_about(action.to, targets.edit(target.chat, target.message_id, content))
        if remembered is not None:  # a later reply quotes the new text
            self.recent.remember(
                target.message_id,
                remembered.sender,
                content,
                chat=remembered.chat,
                from_me=True,
                at=remembered.at,
            )
        return result

    @performs(RevokeMessage)
    def revoke(self, action: RevokeMessage) -> SendResult:
        """Delete for everyone: our own message, or as a group admin anyone's there."""
        self._require_ready()
        target = action.target
        remembered = self.recent.get(target.message_id)
        own = self.own()
        if _is_own(target, remembered, own):
            _within(
                remembered, REVOKE_WINDOW_SECONDS, "revoke_window_passed", "deleted", "about 2 days"
            )
            key = targets.message_key(target.chat, target.message_id, from_me=True, author=None)
            return self._send_about(action.to, targets.revoke(key))
        if not target.chat.is_group:
            raise OperationFailed(
                "Only this number's own messages can be deleted in a direct chat.",
                code="not_own_message",
            )
        author = self._author(target, remembered)
        members = self._members(target.chat)
        me = _member(members, own.users)
        if me is None:
            raise OperationFailed("This number is not in that group.", code="not_member")
        if not (me.IsAdmin or me.IsSuperAdmin):
            raise OperationFailed(
                "Only a group admin can delete someone else's message.", code="not_admin"
            )
        # The author as the group addresses its members (a LID group: their LID).
        found = _member(members, frozenset({author.user}))
        if found is not None and found.JID.User:
            author = Jid(str(found.JID.User), str(found.JID.Server))
        key = targets.message_key(target.chat, target.message_id, from_me=False, author=author)
        return self._send_about(action.to, targets.revoke(key))

    @performs(PollVote)
    def vote(self, action: PollVote) -> SendResult:
        """Vote with whatsmeow's BuildPollVote: it encrypts the choice with the poll's
        secret, which whatsmeow kept when this device sent or received the poll."""
        self._require_ready()
        poll = action.poll
        remembered = self.recent.get(poll.message_id)
        spec = convert.poll_spec(remembered.message) if remembered is not None else None
        chosen = list(dict.fromkeys(action.options))
        known = spec.options if spec is not None else action.poll_options
        if known and any(option not in known for option in chosen):
            raise BadRequest("options: not among the poll's options", field="options")
        if spec is not None and spec.selectable_count and len(chosen) > spec.selectable_count:
            raise BadRequest(
                f"options: this poll takes at most {spec.selectable_count}", field="options"
            )
        info = self._poll_info(poll, remembered)
        message = self._logged_in_call(
            Context.SEND, lambda: self.client.build_poll_vote(info, chosen)
        )
        return self._send_about(action.to, message)

    def _poll_info(self, poll: MessageKey, remembered: Remembered | None) -> Any:
        """The poll's message info as whatsmeow needs it to encrypt a vote: its chat and
        id, and its author in the form this number is known by where the vote goes (our
        LID in direct chats and LID groups), since whatsmeow picks our own id from it."""
        own = self.own()
        chat = _parsed(remembered.chat if remembered is not None else None) or poll.chat
        chat = chat.without_device()
        mine = _is_own(poll, remembered, own)
        if mine:
            author = _own_jid(own)
            if chat.is_group:
                me = _member(self._members(chat), own.users)
                if me is not None and me.JID.User:
                    author = _jid_of(me.JID)
        else:
            author = self._author(poll, remembered)
            if chat.is_group and (remembered is None or remembered.from_me):
                found = _member(self._members(chat), frozenset({author.user}))
                if found is not None and found.JID.User:
                    author = _jid_of(found.JID)
            elif not chat.is_group and author.server == USER_SERVER:
                # whatsmeow sends to a number's LID, so the vote must say ours is the LID
                author = self._lid_of(author) or author
        source = npb.MessageSource(
            Chat=proto_jid(chat),
            Sender=proto_jid(author),
            IsFromMe=mine,
            IsGroup=chat.is_group,
            SenderAlt=_EMPTY_JID,
            RecipientAlt=_EMPTY_JID,
            BroadcastListOwner=_EMPTY_JID,
        )
        return npb.MessageInfo(
            MessageSource=source,
            ID=poll.message_id,
            ServerID=0,
            Type="poll",
            Pushname="",
            Timestamp=0,
            Category="",
            Multicast=False,
            MediaType="",
            Edit="",
        )

    # -- who wrote it -------------------------------------------------------------------

    def _author(self, target: MessageKey, remembered: Remembered | None) -> Jid:
        """Who wrote someone else's message: as it arrived when remembered, else as the
        caller said (in a direct chat, the chat itself)."""
        if remembered is not None and not remembered.from_me:
            found = _parsed(remembered.sender)
            if found is not None:
                return found
        if target.sender is not None:
            return target.sender.without_device()
        if not target.chat.is_group:
            return target.chat.without_device()
        raise BadRequest(
            "target.sender: required for someone else's message in a group", field="sender"
        )

    def _members(self, group: Jid) -> list[Any]:
        jid = proto_jid(group)
        info = self._call(Context.GROUP, lambda: self.client.get_group_info(jid))
        return list(info.Participants)

    def _lid_of(self, phone: Jid) -> Jid | None:
        """The hidden id whatsmeow knows for a number (get_lid_from_pn aborts the process
        unless logged in: asked only then)."""
        pn = proto_jid(phone)
        found = self._logged_in_call(Context.OTHER, lambda: self.client.get_lid_from_pn(pn))
        return Jid(str(found.User), LID_SERVER) if found.User else None


def _is_own(target: MessageKey, remembered: Remembered | None, own: Own) -> bool:
    """Whether this number wrote the message: said by the caller, by its author's user
    (our phone number or our LID), or by the worker's memory."""
    if target.from_me or (remembered is not None and remembered.from_me):
        return True
    return target.sender is not None and target.sender.user in own.users


def _within(remembered: Remembered | None, window: float, code: str, done: str, limit: str) -> None:
    """Refuse a change WhatsApp's phones would ignore: our message, known to be too old."""
    if remembered is None or not remembered.from_me:
        return  # its age is not known here; WhatsApp decides
    if time.time() - remembered.at > window:
        raise OperationFailed(
            f"That message is too old to be {done} for everyone (WhatsApp allows {limit}).",
            code=code,
        )


def _member(members: list[Any], users: frozenset[str]) -> Any | None:
    """The group member who is one of `users` under any of their ids."""
    for member in members:
        ids = {str(member.JID.User), str(member.LID.User), str(member.PhoneNumber.User)}
        if ids & users:
            return member
    return None


def _own_jid(own: Own) -> Jid:
    if own.lid:
        return Jid(own.lid, LID_SERVER)
    if own.phone:
        return Jid.user_jid(own.phone)
    raise OperationFailed("This number's own id is not known yet.", code="session_state")


def _jid_of(proto: Any) -> Jid:
    return Jid(str(proto.User), str(proto.Server))


def _parsed(text: str | None) -> Jid | None:
    if not text:
        return None
    try:
        return Jid.parse(text).without_device()
    except InvalidIdentifier:
        return None
