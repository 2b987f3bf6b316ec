"""Contacts and groups, as engines report them and the API shows them."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from sendmako.ids import Jid


@dataclass(frozen=True, slots=True)
class Contact:
    jid: Jid
    phone: str
    saved_name: str | None = None  # the name in the phone's address book
    push_name: str | None = None  # the name the contact chose
    business_name: str | None = None

    @property
    def name(self) -> str | None:
        return self.saved_name or self.push_name or self.business_name


class ParticipantRole(StrEnum):
    MEMBER = "member"
    ADMIN = "admin"
    SUPERADMIN = "superadmin"


@dataclass(frozen=True, slots=True)
class GroupParticipant:
    jid: Jid
    phone: str | None  # None when WhatsApp hides it (a LID without its phone number)
    role: ParticipantRole = ParticipantRole.MEMBER


@dataclass(frozen=True, slots=True)
class GroupInfo:
    jid: Jid
    subject: str
    description: str | None
    owner: Jid | None
    created_at: int  # unix seconds
    announce: bool  # only admins may send
    restrict: bool  # only admins may edit the group's info
    participants: tuple[GroupParticipant, ...] = field(default_factory=tuple)


class ParticipantAction(StrEnum):
    ADD = "add"
    REMOVE = "remove"
    PROMOTE = "promote"
    DEMOTE = "demote"


@dataclass(frozen=True, slots=True)
class ParticipantResult:
    """The outcome for one participant of an add/remove/promote/demote."""

    jid: Jid
    ok: bool
    # WhatsApp's reason when not ok: "not_admin", "not_authorized", "invite_required"
    # (privacy settings), "already_member", "not_member", "not_on_whatsapp", "group_full".
    reason: str | None = None
    code: int | None = None  # WhatsApp's numeric error (403, 409, 404...) when it gave one


@dataclass(frozen=True, slots=True)
class GroupSettingsChange:
    subject: str | None = None
    description: str | None = None
    announce: bool | None = None
    restrict: bool | None = None
