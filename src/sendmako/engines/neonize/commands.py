"""What the worker does for the server: the actions of `actions.py` (sends, contacts,
groups), each one FFI call (or a few) under the connection's lock, refused before touching
neonize when the session is not logged in.

Each action has one method, marked `@performs`; importing this module checks that they are
exactly the actions `actions.py` lists, so a command cannot be forgotten on either side.

`Commands` sees the neonize client only through the methods it calls, so tests drive it
with a fake client and read the protobufs that would have gone on the wire.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from threading import Lock
from typing import Any, TypeVar, cast

from neonize.exc import NeonizeError
from neonize.utils.enum import ParticipantChange
from neonize.utils.jid import build_jid

from sendmako.engines.base import performers_of, performs
from sendmako.engines.neonize import directory, outgoing
from sendmako.engines.neonize.actions import WORKER_ACTIONS
from sendmako.engines.neonize.errors import Context, translate
from sendmako.engines.neonize.protocol import SPOOL_NAME
from sendmako.errors import BadRequest, OperationFailed, Unavailable
from sendmako.ids import GROUP_SERVER, USER_SERVER, Jid
from sendmako.model.actions import Action, SendResult
from sendmako.model.directory import (
    Contact,
    CreateGroup,
    GetGroup,
    GetGroupPicture,
    GetInviteCode,
    GetInviteInfo,
    GroupInfo,
    JoinGroup,
    LeaveGroup,
    ListContacts,
    ListGroups,
    ParticipantResult,
    UpdateGroupSettings,
    UpdateParticipants,
)
from sendmako.model.messages import OutgoingMessage

T = TypeVar("T")
R = TypeVar("R")
ON_WHATSAPP_TTL_SECONDS = 3600.0
INVITE_PREFIX = "https://chat.whatsapp.com/"
_NO_PICTURE = ("does not have a profile picture", "no profile picture", "item-not-found")


class Commands:
    def __init__(
        self,
        client: Any,
        *,
        session_id: str,
        lock: Lock,
        ready: Callable[[], bool],
        recent: outgoing.RecentMessages,
        spool_dir: Path | None,
        own_jid: Callable[[], str | None] = lambda: None,
    ) -> None:
        self.client = client
        self.session_id = session_id
        self.lock = lock
        self.ready = ready
        self.recent = recent
        self.spool_dir = spool_dir
        self.own_jid = own_jid
        self._on_whatsapp: dict[str, tuple[float, Any]] = {}

    # -- the FFI boundary ---------------------------------------------------------------

    def _call(self, context: Context, call: Callable[[], T]) -> T:
        """Run one neonize call under the lock, with its errors as ours."""
        with self.lock:
            if not self.ready():
                raise Unavailable(
                    f"Session {self.session_id} is not connected to WhatsApp.",
                    code="session_not_connected",
                )
            try:
                return call()
            except NeonizeError as exc:
                raise translate(_text(exc), session_id=self.session_id, context=context) from exc

    # -- messages -----------------------------------------------------------------------

    def perform(self, action: Action[R], *, spool: str | None = None) -> R:
        """Do `action`; `spool` names the file the server left its media in."""
        if spool is not None and isinstance(action, OutgoingMessage) and action.media:
            media = replace(action.media, data=self._take_spooled(spool))
            action = cast(Action[R], replace(action, media=media))
        name = PERFORMERS.get(type(action))
        if name is None:
            raise BadRequest(f"this worker does not perform {type(action).__name__}")
        result: R = getattr(self, name)(action)
        return result

    @performs(OutgoingMessage)
    def send(self, message: OutgoingMessage) -> SendResult:
        data = message.media.data if message.media is not None else None
        if not self.ready():
            raise Unavailable(
                f"Session {self.session_id} is not connected to WhatsApp.",
                code="session_not_connected",
            )
        to = self._destination(message.to)

        def upload(blob: bytes, kind: Any) -> Any:
            return self._call(Context.SEND, lambda: self.client.upload(blob, kind))

        proto = outgoing.build(message, data, upload, self.recent)
        response = self._call(Context.SEND, lambda: self.client.send_message(to, proto))
        own = self.own_jid()
        if own is not None:
            self.recent.remember(response.ID, own, proto)
        return SendResult(message_id=str(response.ID), timestamp=_timestamp(response.Timestamp))

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

    def _take_spooled(self, name: str) -> bytes:
        """The media file the server spooled for this send (read once, then deleted)."""
        if self.spool_dir is None or not SPOOL_NAME.match(name):
            raise BadRequest("media: not a spool file of this server", field="media")
        path = self.spool_dir / name
        try:
            data = path.read_bytes()
        except FileNotFoundError as exc:
            raise BadRequest("media: the spooled file is gone", field="media") from exc
        path.unlink(missing_ok=True)
        return data

    # -- contacts -----------------------------------------------------------------------

    @performs(ListContacts)
    def contacts(self, _: ListContacts) -> list[Contact]:
        def call() -> list[Contact]:
            if not self.client.is_logged_in:  # contact.* crashes the process otherwise
                raise Unavailable(f"Session {self.session_id} is not logged in.")
            return directory.contacts(self.client.contact.get_all_contacts())

        return self._call(Context.OTHER, call)

    # -- groups -------------------------------------------------------------------------

    @performs(ListGroups)
    def groups(self, _: ListGroups) -> list[GroupInfo]:
        found = self._call(Context.GROUP, self.client.get_joined_groups)
        return [directory.group_info(info) for info in found]

    @performs(GetGroup)
    def group_info(self, action: GetGroup) -> GroupInfo:
        return self._group_info(action.group)

    def _group_info(self, group: Jid) -> GroupInfo:
        info = self._call(Context.GROUP, lambda: self.client.get_group_info(_proto(group)))
        return directory.group_info(info)

    @performs(CreateGroup)
    def create_group(self, action: CreateGroup) -> GroupInfo:
        members = [_proto(jid) for jid in action.participants]
        subject = action.subject
        info = self._call(Context.GROUP, lambda: self.client.create_group(subject, members))
        return directory.group_info(info)

    @performs(UpdateParticipants)
    def update_participants(self, action: UpdateParticipants) -> list[ParticipantResult]:
        change = ParticipantChange(action.action.value)
        members = [_proto(jid) for jid in action.participants]
        group = _proto(action.group)
        answered = self._call(
            Context.GROUP,
            lambda: self.client.update_group_participants(group, members, change),
        )
        return directory.participant_results(
            list(action.participants), list(answered), action.action
        )

    @performs(UpdateGroupSettings)
    def update_group_settings(self, action: UpdateGroupSettings) -> GroupInfo:
        group, change = action.group, action.change
        jid = _proto(group)
        if change.subject is not None:
            subject = change.subject
            self._call(Context.GROUP, lambda: self.client.set_group_name(jid, subject))
        if change.description is not None:
            topic = change.description
            # Empty ids: whatsmeow fetches the previous one and makes the new one itself.
            self._call(Context.GROUP, lambda: self.client.set_group_topic(jid, "", "", topic))
        if change.announce is not None:
            announce = change.announce
            self._call(Context.GROUP, lambda: self.client.set_group_announce(jid, announce))
        if change.restrict is not None:
            restrict = change.restrict
            self._call(Context.GROUP, lambda: self.client.set_group_locked(jid, restrict))
        return self._group_info(group)

    @performs(GetInviteCode)
    def invite_code(self, action: GetInviteCode) -> str:
        group, reset = _proto(action.group), action.reset
        link = self._call(Context.GROUP, lambda: self.client.get_group_invite_link(group, reset))
        return str(link).removeprefix(INVITE_PREFIX).rsplit("/", 1)[-1]

    @performs(GetInviteInfo)
    def invite_info(self, action: GetInviteInfo) -> GroupInfo:
        code = action.code
        info = self._call(Context.INVITE, lambda: self.client.get_group_info_from_link(code))
        return directory.group_info(info)

    @performs(JoinGroup)
    def join_with_invite(self, action: JoinGroup) -> Jid:
        code = action.code
        joined = self._call(Context.INVITE, lambda: self.client.join_group_with_link(code))
        return directory.jid_of(joined)

    @performs(GetGroupPicture)
    def group_picture_url(self, action: GetGroupPicture) -> str | None:
        group = _proto(action.group)
        try:
            picture = self._call(Context.GROUP, lambda: self.client.get_profile_picture(group))
        except OperationFailed as exc:
            if any(marker in exc.message.lower() for marker in _NO_PICTURE):
                return None
            raise
        return str(picture.URL) or None

    @performs(LeaveGroup)
    def leave_group(self, action: LeaveGroup) -> None:
        group = _proto(action.group)
        self._call(Context.GROUP, lambda: self.client.leave_group(group))


PERFORMERS = performers_of(Commands)
if set(PERFORMERS) != WORKER_ACTIONS:  # pragma: no cover - fails at import, on purpose
    raise TypeError(
        "Commands must perform exactly the actions of actions.py: "
        f"missing {sorted(k.__name__ for k in WORKER_ACTIONS - set(PERFORMERS))}, "
        f"extra {sorted(k.__name__ for k in set(PERFORMERS) - WORKER_ACTIONS)}"
    )


def _proto(jid: Jid) -> Any:
    if jid.server not in (USER_SERVER, GROUP_SERVER, "lid"):
        raise BadRequest(f"{jid} is not a user or group JID", field="jid")
    return build_jid(jid.user, jid.server)


def _text(exc: NeonizeError) -> str:
    """whatsmeow's error text (GetProfilePictureError wraps the whole answer protobuf)."""
    first = exc.args[0] if exc.args else ""
    error = getattr(first, "Error", None)
    return str(error) if error else str(first or exc)


def _timestamp(value: int) -> datetime:
    seconds = value / 1000 if value > 10**11 else value  # whatsmeow gives seconds
    return datetime.fromtimestamp(seconds or time.time(), UTC)
