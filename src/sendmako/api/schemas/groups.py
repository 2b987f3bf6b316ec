"""Bodies of `/api/groups` (field names as the original spells them; extras are ours)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints, model_validator

from sendmako.api.schemas.envelopes import Request
from sendmako.model.directory import GroupInfo, ParticipantResult, ParticipantRole

# WhatsApp's limits: a subject of 100 characters, a description of 2,048.
Subject = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Description = Annotated[str, StringConstraints(max_length=2048)]
Numbers = Annotated[list[str], Field(max_length=1024)]
SessionChoice = Annotated[
    str | None, Field(description="the session to act with; default: your oldest connected one")
]

REASONS = {
    "not_on_whatsapp": "This number is not on WhatsApp.",
    "invite_required": "Their privacy settings only let them join by invite: send them the link.",
    "already_member": "Already a participant of this group.",
    "not_member": "Not a participant of this group.",
    "not_authorized": (
        "Not allowed: the group's creator can be neither removed nor demoted, and a group "
        "keeps at least one admin."
    ),
    "not_admin": "Only group admins can do this.",
    "recently_left": "They left this group recently and cannot be added back yet.",
    "group_full": "The group is full.",
}
# WhatsApp's status for each reason, for engines that do not give one.
STATUSES = {
    "not_on_whatsapp": 404,
    "invite_required": 403,
    "already_member": 409,
    "not_member": 404,
    "not_authorized": 403,
    "not_admin": 403,
    "recently_left": 408,
    "group_full": 500,
}


class ParticipantOut(BaseModel):
    id: str = Field(examples=["22241857975@s.whatsapp.net"])
    phone: str | None = Field(description="digits; null when WhatsApp hides the number")
    admin: Literal["admin", "superadmin"] | None = Field(description="null for a member")

    @classmethod
    def of_all(cls, info: GroupInfo) -> list[ParticipantOut]:
        return [
            cls(
                id=str(p.jid),
                phone=p.phone,
                admin=None if p.role is ParticipantRole.MEMBER else p.role.value,
            )
            for p in info.participants
        ]


class GroupOut(BaseModel):
    id: str = Field(examples=["120363012345678901@g.us"])
    subject: str
    description: str | None
    creation: int = Field(description="unix seconds")
    owner: str | None = Field(description="the creator's JID")
    participants: list[ParticipantOut]
    announce: bool = Field(description="only admins may send messages")
    restrict: bool = Field(description="only admins may change the subject and description")
    size: int

    @classmethod
    def of(cls, info: GroupInfo) -> GroupOut:
        return cls(
            id=str(info.jid),
            subject=info.subject,
            description=info.description,
            creation=info.created_at,
            owner=str(info.owner) if info.owner else None,
            participants=ParticipantOut.of_all(info),
            announce=info.announce,
            restrict=info.restrict,
            size=len(info.participants),
        )


class GroupListOut(BaseModel):
    success: Literal[True] = True
    session_id: str
    groups: list[GroupOut]


class GroupOneOut(BaseModel):
    success: Literal[True] = True
    session_id: str
    group: GroupOut


class ParticipantListOut(BaseModel):
    success: Literal[True] = True
    session_id: str
    group_id: str
    participants: list[ParticipantOut]


class CreateGroupIn(Request):
    name: Subject = Field(examples=["Équipe Sendmako"], description="the group's subject")
    participants: Numbers = Field(
        default_factory=list, description="numbers in any spelling, or user JIDs"
    )
    session_id: SessionChoice = None


class ParticipantsIn(Request):
    participants: Numbers = Field(min_length=1, examples=[["22241857975"]])
    session_id: SessionChoice = None


class UpdateParticipantsIn(ParticipantsIn):
    action: Literal["promote", "demote"]


class ParticipantResultOut(BaseModel):
    participant: str = Field(description="the participant's JID")
    phone: str
    status: str = Field(description='WhatsApp\'s status: "200" done, "403", "404", "409"...')
    success: bool
    reason: str | None = Field(
        None, description="why not: not_on_whatsapp, invite_required, already_member..."
    )
    message: str | None = Field(None, description="the reason, for a human")

    @classmethod
    def of(cls, result: ParticipantResult) -> ParticipantResultOut:
        status = result.code or (200 if result.ok else STATUSES.get(result.reason or "", 400))
        return cls(
            participant=str(result.jid),
            phone=result.jid.user,
            status=str(status),
            success=result.ok,
            reason=None if result.ok else result.reason,
            message=None if result.ok else REASONS.get(result.reason or "", result.reason),
        )


class ParticipantResultsOut(BaseModel):
    success: Literal[True] = True
    session_id: str
    group_id: str
    results: list[ParticipantResultOut]


class GroupSettingsIn(Request):
    subject: Subject | None = None
    description: Description | None = Field(None, description='"" removes it')
    announce: bool | None = Field(None, description="true: only admins may send")
    restrict: bool | None = Field(None, description="true: only admins may edit the info")
    session_id: SessionChoice = None

    @model_validator(mode="after")
    def _something(self) -> GroupSettingsIn:
        if all(
            value is None
            for value in (self.subject, self.description, self.announce, self.restrict)
        ):
            raise ValueError("give at least one of subject, description, announce, restrict")
        return self


class GroupSettingsOut(BaseModel):
    success: Literal[True] = True
    session_id: str
    group: GroupOut


class InviteLinkOut(BaseModel):
    success: Literal[True] = True
    session_id: str
    group_id: str
    invite_code: str
    invite_link: str


class AcceptInviteIn(Request):
    invite_code: str = Field(
        alias="inviteCode",
        min_length=1,
        max_length=200,
        description="the code, or the whole https://chat.whatsapp.com/... link",
    )
    session_id: SessionChoice = None


class AcceptInviteOut(BaseModel):
    success: Literal[True] = True
    session_id: str
    group_id: str


class PictureOut(BaseModel):
    success: Literal[True] = True
    session_id: str
    group_id: str
    picture_url: str | None = Field(description="null when the group has no picture")


class SessionChoiceIn(Request):
    """A body with nothing but the optional session (leave, reset the invite link)."""

    session_id: SessionChoice = None
