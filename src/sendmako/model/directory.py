"""Contacts and groups, as engines report them and the API shows them."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from sendmako.ids import Jid
from sendmako.model.actions import Action


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


# -- actions (model/actions.py) ------------------------------------------------------------
# Each raises `OperationFailed` with WhatsApp's reason as `code` when refused (`not_admin`,
# `not_member`, `invite_invalid`, `group_not_found`...).


@dataclass(frozen=True, slots=True)
class ListContacts(Action[list[Contact]]):
    """Every contact the phone knows, with the best names WhatsApp gives."""


@dataclass(frozen=True, slots=True)
class ListGroups(Action[list[GroupInfo]]):
    """Every group this number is a member of, with participants."""


@dataclass(frozen=True, slots=True)
class GetGroup(Action[GroupInfo]):
    group: Jid


@dataclass(frozen=True, slots=True)
class CreateGroup(Action[GroupInfo]):
    """The creator becomes superadmin; participants who cannot be added directly are left
    out (the answer lists who is in)."""

    subject: str
    participants: tuple[Jid, ...]


@dataclass(frozen=True, slots=True)
class UpdateParticipants(Action[list[ParticipantResult]]):
    """One result per participant, in the order given; one failure never stops the rest."""

    group: Jid
    participants: tuple[Jid, ...]
    action: ParticipantAction


@dataclass(frozen=True, slots=True)
class UpdateGroupSettings(Action[GroupInfo]):
    group: Jid
    change: GroupSettingsChange


@dataclass(frozen=True, slots=True)
class GetInviteCode(Action[str]):
    """The group's invite code (admins only); `reset` revokes the old one first."""

    group: Jid
    reset: bool = False


@dataclass(frozen=True, slots=True)
class GetInviteInfo(Action[GroupInfo]):
    """What the group behind an invite code looks like, without joining."""

    code: str


@dataclass(frozen=True, slots=True)
class JoinGroup(Action[Jid]):
    code: str


@dataclass(frozen=True, slots=True)
class GetGroupPicture(Action[str | None]):
    """The URL of the group's picture; None when it has none."""

    group: Jid


@dataclass(frozen=True, slots=True)
class LeaveGroup(Action[None]):
    group: Jid


@dataclass(frozen=True, slots=True)
class NumberStatus:
    """Whether a number has WhatsApp, and the JID WhatsApp gives it."""

    phone: str
    on_whatsapp: bool
    jid: Jid | None = None


@dataclass(frozen=True, slots=True)
class CheckNumbers(Action[list[NumberStatus]]):
    """Ask WhatsApp about each number (digits with the country code), one answer each, in
    the order asked."""

    phones: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class GetProfilePicture(Action[str | None]):
    """The URL of a contact's (or this number's own) profile picture; None when there is
    none, or it is hidden from this number."""

    jid: Jid
