"""A fake of the neonize client a worker drives: the same methods `Commands` and
`Connection` call, recording what would have gone to WhatsApp."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from neonize.exc import GetGroupInfoError, IsOnWhatsAppError, NeonizeError, SendMessageError
from neonize.proto import Neonize_pb2 as npb

from tests.engines.neonize.protobufs import ME, jid


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
        self.calls.append(("get_pn_from_lid", (lid.User,)))
        return jid("5511999998888")

    # -- messages --------------------------------------------------------------------

    def is_on_whatsapp(self, *numbers: str) -> list[Any]:
        self.calls.append(("is_on_whatsapp", numbers))
        if not numbers:
            raise IsOnWhatsAppError("Function returned nothing.")
        return [
            npb.IsOnWhatsAppResponse(
                Query=number,
                JID=jid(number.lstrip("+")),
                IsIn=number.lstrip("+") not in self.not_on_whatsapp,
            )
            for number in numbers
        ]

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
        return npb.ProfilePictureInfo(URL="https://pps.whatsapp.net/v/t61/pic.jpg")

    def leave_group(self, group: Any) -> None:
        self.calls.append(("leave_group", (group.User,)))
        self.groups.pop(group.User, None)  # no longer among the joined groups


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
