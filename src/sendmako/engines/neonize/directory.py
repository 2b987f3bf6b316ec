"""neonize's group and contact protobufs as our types (`model/directory.py`).

Pure functions, like `convert.py`, kept apart because they answer requests rather than
events. Runs in the worker process.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sendmako.ids import USER_SERVER, Jid
from sendmako.model.directory import (
    Contact,
    GroupInfo,
    GroupParticipant,
    ParticipantAction,
    ParticipantResult,
    ParticipantRole,
)


def jid_of(proto: Any) -> Jid:
    """A neonize JID protobuf as our `Jid`, without its device part."""
    return Jid(str(proto.User), str(proto.Server))


def _is_set(proto: Any) -> bool:
    return bool(proto.User) and not proto.IsEmpty


def group_info(info: Any) -> GroupInfo:
    owner = info.OwnerPN if _is_set(info.OwnerPN) else info.OwnerJID
    return GroupInfo(
        jid=jid_of(info.JID),
        subject=str(info.GroupName.Name),
        description=str(info.GroupTopic.Topic) or None,
        owner=jid_of(owner) if _is_set(owner) else None,
        created_at=int(info.GroupCreated),
        announce=bool(info.GroupAnnounce.IsAnnounce),
        restrict=bool(info.GroupLocked.isLocked),
        participants=tuple(participant(p) for p in info.Participants),
    )


def participant(proto: Any) -> GroupParticipant:
    """A member, named by phone number when WhatsApp tells it (LID-addressed groups hide it
    unless the member shares it)."""
    jid = proto.JID
    phone: str | None = None
    if jid.Server == USER_SERVER:
        phone = str(jid.User)
    elif _is_set(proto.PhoneNumber):
        phone = str(proto.PhoneNumber.User)
        jid = proto.PhoneNumber
    role = ParticipantRole.MEMBER
    if proto.IsSuperAdmin:
        role = ParticipantRole.SUPERADMIN
    elif proto.IsAdmin:
        role = ParticipantRole.ADMIN
    return GroupParticipant(jid=jid_of(jid), phone=phone, role=role)


# WhatsApp's per-participant error codes, by action (whatsmeow passes them through).
_REASONS: dict[int, dict[ParticipantAction | None, str]] = {
    401: {None: "not_admin"},
    403: {ParticipantAction.ADD: "invite_required", None: "not_authorized"},
    404: {ParticipantAction.ADD: "not_on_whatsapp", None: "not_member"},
    408: {None: "recently_left"},
    409: {ParticipantAction.ADD: "already_member", None: "not_member"},
    500: {None: "group_full"},
}


def participant_results(
    asked: Sequence[Jid], answered: Sequence[Any], action: ParticipantAction
) -> list[ParticipantResult]:
    """One result per participant asked for, in the order asked."""
    by_user: dict[str, Any] = {}
    for proto in answered:
        for jid in (proto.JID, proto.LID, proto.PhoneNumber):
            if _is_set(jid):
                by_user.setdefault(str(jid.User), proto)
    results = []
    for index, jid in enumerate(asked):
        proto = by_user.get(jid.user)
        if proto is None and len(answered) == len(asked):
            # WhatsApp answered with other ids (LIDs for numbers): its order is ours.
            proto = answered[index]
        code = int(proto.Error) if proto is not None else 0
        if code == 0:
            results.append(ParticipantResult(jid=jid, ok=True))
            continue
        reasons = _REASONS.get(code, {})
        reason = reasons.get(action) or reasons.get(None) or f"error_{code}"
        results.append(ParticipantResult(jid=jid, ok=False, reason=reason, code=code))
    return results


def contacts(protos: Iterable[Any]) -> list[Contact]:
    """The address book; hidden ids (@lid) without a number are left out."""
    found = []
    for proto in protos:
        if proto.JID.Server != USER_SERVER:
            continue
        info = proto.Info
        found.append(
            Contact(
                jid=jid_of(proto.JID),
                phone=str(proto.JID.User),
                saved_name=str(info.FullName or info.FirstName) or None,
                push_name=str(info.PushName) or None,
                business_name=str(info.BusinessName) or None,
            )
        )
    return found
