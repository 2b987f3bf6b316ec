"""A fake of the neonize client a worker drives: the same methods `Commands` and
`Connection` call, recording what would have gone to WhatsApp.

The calls that abort the real process (a Go panic) raise `ProcessAborted` here in the same
states, a BaseException no handler of ours catches: a test that reaches one fails."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from neonize.exc import (
    GetGroupInfoError,
    GetProfilePictureError,
    IsOnWhatsAppError,
    NeonizeError,
    SendMessageError,
)
from neonize.proto import Neonize_pb2 as npb
from neonize.proto.waCommon.WACommon_pb2 import MessageKey
from neonize.proto.waE2E.WAWebProtobufsE2E_pb2 import (
    Message,
    PollEncValue,
    PollUpdateMessage,
    PollVoteMessage,
)
from neonize.utils.enum import ChatPresence, ChatPresenceMedia

from tests.engines.neonize.protobufs import ME, jid


class ProcessAborted(BaseException):
    """The real neonize call would have killed the process here (a Go panic)."""


@dataclass
class FakeContacts:
    contacts: list[Any] = field(default_factory=list)
    calls: int = 0

    def get_all_contacts(self) -> list[Any]:
        self.calls += 1
        return self.contacts


@dataclass
class FakeClient:
    """What a connected, logged-in session's client answers."""

    not_on_whatsapp: set[str] = field(default_factory=set)
    sent: list[tuple[Any, Any]] = field(default_factory=list)
    uploads: list[tuple[bytes, Any]] = field(default_factory=list)
    groups: dict[str, Any] = field(default_factory=dict)
    participant_errors: dict[str, int] = field(default_factory=dict)
    calls: list[tuple[str, tuple[Any, ...]]] = field(default_factory=list)
    fail_send: str | None = None
    is_logged_in: bool = True
    contact: FakeContacts = field(default_factory=FakeContacts)
    handlers: dict[type[Any], Callable[[Any, Any], None]] = field(default_factory=dict)
    qr_handler: Callable[[Any, bytes], None] | None = None
    me: Any = None
    connect_error: str | None = None
    uuid: bytes = b"user_1"
    # WhatsApp's clock in send answers (unix seconds); None: the time of the send.
    server_time: int | None = 1767225600
    in_go_map: bool = True  # connect() started and stop() not called: neonize knows it
    pictures: dict[str, str] = field(default_factory=dict)  # user -> URL, or an error text
    about: str = ""
    lids: dict[str, str] = field(default_factory=dict)  # phone -> LID user, for on_whatsapp
    vote_hashes: list[bytes] | None = None  # what decrypt_poll_vote answers
    fail: dict[str, str] = field(default_factory=dict)  # method name -> whatsmeow's error

    def _crashes_unless(self, condition: bool, call: str) -> None:
        if not condition:
            raise ProcessAborted(f"{call} would abort the worker process here")

    def _record(self, name: str, *args: Any) -> None:
        self.calls.append((name, args))
        if name in self.fail:
            raise NeonizeError(self.fail[name])

    # -- events (Connection) ---------------------------------------------------------

    def event(self, event_type: type[Any]) -> Callable[[Callable[[Any, Any], None]], None]:
        def register(handler: Callable[[Any, Any], None]) -> None:
            self.handlers[event_type] = handler

        return register

    def qr(self, handler: Callable[[Any, bytes], None]) -> None:
        self.qr_handler = handler

    def fire(self, event: Any) -> None:
        self.handlers[type(event)](self, event)

    def connect(self, proxy: Any = None) -> None:
        self.calls.append(("connect", (proxy.proxy_address if proxy else None,)))
        if self.connect_error is not None:
            raise NeonizeError(self.connect_error)

    def PairPhone(self, phone: str, show_push_notification: bool) -> str:  # noqa: N802 - neonize's name
        self.calls.append(("PairPhone", (phone, show_push_notification)))
        return "ABCD-EFGH"

    def logout(self) -> None:
        self.calls.append(("logout", ()))

    def stop(self) -> None:
        self.calls.append(("stop", ()))

    def get_pn_from_lid(self, lid: Any) -> Any:
        self._crashes_unless(self.in_go_map and self.is_logged_in, "get_pn_from_lid")
        self.calls.append(("get_pn_from_lid", (lid.User,)))
        return jid("5511999998888")

    def get_lid_from_pn(self, pn: Any) -> Any:
        self._crashes_unless(self.in_go_map and self.is_logged_in, "get_lid_from_pn")
        self.calls.append(("get_lid_from_pn", (pn.User,)))
        user = self.lids.get(pn.User, "")
        return jid(user, "lid") if user else npb.JID(User="", Server="", IsEmpty=True)

    def get_me(self) -> Any:
        self._crashes_unless(self.in_go_map, "get_me")
        return self.me

    def revoke_message(self, *_args: Any) -> Any:
        raise ProcessAborted("revoke_message calls get_me: never used")

    def build_revoke(self, *_args: Any, **_kwargs: Any) -> Any:
        raise ProcessAborted("build_revoke calls get_me (or returns garbage): never used")

    # -- messages --------------------------------------------------------------------

    def is_on_whatsapp(self, *numbers: str) -> list[Any]:
        self.calls.append(("is_on_whatsapp", numbers))
        if not numbers:
            raise IsOnWhatsAppError("Function returned nothing.")
        answers = []
        for number in numbers:
            phone = number.lstrip("+")
            lid = self.lids.get(phone)
            answers.append(
                npb.IsOnWhatsAppResponse(
                    Query=number,
                    JID=jid(lid, "lid") if lid else jid(phone),
                    IsIn=phone not in self.not_on_whatsapp,
                )
            )
        return answers

    def upload(self, data: bytes, media_type: Any) -> Any:
        self.uploads.append((data, media_type))
        return npb.UploadResponse(
            url="https://mmg.whatsapp.net/v/t62/upload.enc",
            DirectPath="/v/t62/upload.enc?ccb=11-4",
            MediaKey=b"k" * 32,
            FileEncSHA256=hashlib.sha256(b"enc" + data).digest(),
            FileSHA256=hashlib.sha256(data).digest(),
            FileLength=len(data),
        )

    def send_message(self, to: Any, message: Any) -> Any:
        if self.fail_send is not None:
            raise SendMessageError(self.fail_send)
        self.sent.append((to, message))
        now = self.server_time if self.server_time is not None else int(time.time())
        return npb.SendResponse(Timestamp=now, ID=f"3EB0SENT{len(self.sent)}", ServerID=0)

    # -- groups ----------------------------------------------------------------------

    def get_joined_groups(self) -> list[Any]:
        return list(self.groups.values())

    def get_group_info(self, group: Any) -> Any:
        if group.User not in self.groups:
            raise GetGroupInfoError("info query returned status 404: item-not-found")
        return self.groups[group.User]

    def create_group(self, name: str, participants: list[Any]) -> Any:
        info = group_info("120363000000000001", name, [p.User for p in participants])
        self.groups[info.JID.User] = info
        return info

    def update_group_participants(
        self, group: Any, participants: list[Any], change: Any
    ) -> list[Any]:
        self.calls.append(("update_group_participants", (group.User, change.value)))
        return [
            npb.GroupParticipant(JID=p, Error=self.participant_errors.get(p.User, 0))
            for p in participants
        ]

    def set_group_name(self, group: Any, name: str) -> None:
        self.calls.append(("set_group_name", (group.User, name)))
        self.groups[group.User].GroupName.Name = name

    def set_group_topic(self, group: Any, previous: str, new: str, topic: str) -> None:
        self.calls.append(("set_group_topic", (group.User, previous, new, topic)))
        self.groups[group.User].GroupTopic.Topic = topic

    def set_group_announce(self, group: Any, announce: bool) -> None:
        self.calls.append(("set_group_announce", (group.User, announce)))
        self.groups[group.User].GroupAnnounce.IsAnnounce = announce

    def set_group_locked(self, group: Any, locked: bool) -> None:
        self.calls.append(("set_group_locked", (group.User, locked)))
        self.groups[group.User].GroupLocked.isLocked = locked

    def get_group_invite_link(self, group: Any, revoke: bool = False) -> str:
        self.calls.append(("get_group_invite_link", (group.User, revoke)))
        return "https://chat.whatsapp.com/" + ("NEWCODE" if revoke else "INVITECODE")

    def get_group_info_from_link(self, code: str) -> Any:
        return next(iter(self.groups.values()))

    def join_group_with_link(self, code: str) -> Any:
        return jid("120363000000000009", "g.us")

    def get_profile_picture(self, target: Any) -> Any:
        self.calls.append(("get_profile_picture", (target.User, target.Server)))
        found = self.pictures.get(target.User, "https://pps.whatsapp.net/v/t61/pic.jpg")
        if not found.startswith("https://"):
            # neonize wraps the whole answer protobuf in this one
            raise GetProfilePictureError(npb.GetProfilePictureReturnFunction(Error=found))
        return npb.ProfilePictureInfo(URL=found)

    def leave_group(self, group: Any) -> None:
        self.calls.append(("leave_group", (group.User,)))
        self.groups.pop(group.User, None)  # no longer among the joined groups

    # -- chats, presence, calls --------------------------------------------------------

    def mark_read(self, *ids: str, chat: Any, sender: Any, receipt: Any) -> None:
        self._record("mark_read", ids, _text(chat), _text(sender), receipt)

    def send_chat_presence(self, to: Any, state: Any, media: Any) -> None:
        # Go indexes a slice with the raw number: anything but neonize's members aborts.
        self._crashes_unless(
            isinstance(state, ChatPresence) and isinstance(media, ChatPresenceMedia),
            "send_chat_presence with a value out of neonize's enums",
        )
        self._record("send_chat_presence", _text(to), state, media)

    def send_presence(self, presence: Any) -> None:
        self._record("send_presence", presence)

    def subscribe_presence(self, to: Any) -> None:
        self._record("subscribe_presence", _text(to))

    def reject_call(self, caller: Any, call_id: str) -> None:
        self._record("reject_call", _text(caller), call_id)

    # -- profile ---------------------------------------------------------------------

    def get_user_info(self, *jids: Any) -> list[Any]:
        self._record("get_user_info", *(_text(j) for j in jids))
        return [
            npb.GetUserInfoSingleReturnFunction(
                JID=j, UserInfo=npb.UserInfo(Status=self.about if j.User == ME else "")
            )
            for j in reversed(jids)
        ]

    def set_profile_name(self, name: str) -> None:
        # whatsmeow's app-state store is nil until the device is paired
        self._crashes_unless(not self.in_go_map or self.is_logged_in, "set_profile_name")
        self._record("set_profile_name", name)

    def set_status_message(self, text: str) -> None:
        self._crashes_unless(self.in_go_map, "set_status_message")
        self._record("set_status_message", text)

    def set_profile_photo(self, data: Any) -> str:
        assert isinstance(data, bytes), "neonize reads a path or fetches a URL given a str"
        self._record("set_profile_photo", len(data))
        return "1767225600"

    def build_poll_vote(self, info: Any, options: list[str]) -> Any:
        source = info.SerializeToString() and info.MessageSource  # neonize serialises first
        self._record(
            "build_poll_vote",
            _text(source.Chat),
            _text(source.Sender),
            source.IsFromMe,
            source.IsGroup,
            info.ID,
            tuple(options),
        )
        key = MessageKey(remoteJID=_text(source.Chat), fromMe=source.IsFromMe, ID=info.ID)
        return Message(
            pollUpdateMessage=PollUpdateMessage(
                pollCreationMessageKey=key,
                vote=PollEncValue(encPayload=b"sealed", encIV=b"\x00" * 12),
            )
        )

    def decrypt_poll_vote(self, event: Any) -> Any:
        self._crashes_unless(self.in_go_map and self.is_logged_in, "decrypt_poll_vote")
        self._record("decrypt_poll_vote", event.Info.ID)
        if self.vote_hashes is None:
            raise NeonizeError("failed to decrypt poll vote: original message secret key not found")
        return PollVoteMessage(selectedOptions=self.vote_hashes)


def _text(value: Any) -> str:
    return f"{value.User}@{value.Server}" if value.User else str(value.Server)


def group_info(user: str, subject: str, members: list[str], *, admins: tuple[str, ...] = ()) -> Any:
    participants = [
        npb.GroupParticipant(JID=jid(ME), IsAdmin=True, IsSuperAdmin=True),
        *(npb.GroupParticipant(JID=jid(member), IsAdmin=member in admins) for member in members),
    ]
    return npb.GroupInfo(
        JID=jid(user, "g.us"),
        OwnerJID=jid(ME),
        GroupName=npb.GroupName(Name=subject),
        GroupTopic=npb.GroupTopic(Topic=""),
        GroupLocked=npb.GroupLocked(isLocked=False),
        GroupAnnounce=npb.GroupAnnounce(IsAnnounce=False),
        GroupCreated=1767225600,
        Participants=participants,
    )
