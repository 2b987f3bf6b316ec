"""`/api/groups`: the thirteen group operations of the original, plus resetting the invite
link. `{groupJid}` may be raw (`120363...@g.us`) or percent-encoded (`%40`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Path, Query

from sendmako.api.deps import CurrentUser, ServicesDep
from sendmako.api.routes.responses import errors
from sendmako.api.schemas.envelopes import SuccessOut
from sendmako.api.schemas.groups import (
    AcceptInviteIn,
    AcceptInviteOut,
    CreateGroupIn,
    GroupListOut,
    GroupOneOut,
    GroupOut,
    GroupSettingsIn,
    GroupSettingsOut,
    InviteLinkOut,
    ParticipantListOut,
    ParticipantOut,
    ParticipantResultOut,
    ParticipantResultsOut,
    ParticipantsIn,
    PictureOut,
    SessionChoiceIn,
    UpdateParticipantsIn,
)
from sendmako.directory.groups import invite_code_of, invite_link
from sendmako.errors import BadRequest
from sendmako.ids import USER_SERVER, InvalidIdentifier, Jid, recipient_jid
from sendmako.model.directory import GroupSettingsChange, ParticipantAction

router = APIRouter(prefix="/api/groups", tags=["groups"])

GroupJid = Annotated[
    str, Path(alias="groupJid", examples=["120363012345678901@g.us"], description="a group JID")
]
InviteCode = Annotated[str, Path(alias="inviteCode", examples=["AbCdEfGhIjKlMn"])]
SessionQuery = Annotated[
    str | None, Query(description="the session to act with; default: your oldest connected one")
]
Refresh = Annotated[bool, Query(description="ask WhatsApp instead of the cache")]
READ_ERRORS = errors(404, 422, 503)
CHANGE_ERRORS = errors(404, 422, 503)


def group_jid(text: str) -> Jid:
    try:
        jid = Jid.parse(text)
    except InvalidIdentifier as exc:
        raise BadRequest(f"groupJid: {exc}", field="groupJid") from exc
    if not jid.is_group:
        raise BadRequest(f"groupJid: {text!r} is not a group JID (…@g.us)", field="groupJid")
    return jid.without_device()


def participant_jids(numbers: list[str]) -> list[Jid]:
    jids = []
    for index, number in enumerate(numbers):
        field = f"participants[{index}]"
        try:
            jid = recipient_jid(number)
        except InvalidIdentifier as exc:
            raise BadRequest(f"{field}: {exc}", field=field) from exc
        if jid.server != USER_SERVER:
            raise BadRequest(f"{field}: {number!r} is not a person's number", field=field)
        jids.append(jid)
    return jids


# The invite routes come first: `invite` is not a group JID.


@router.get("/invite/{inviteCode}", responses=READ_ERRORS)
async def invite_info(
    code: InviteCode, user: CurrentUser, services: ServicesDep, session_id: SessionQuery = None
) -> GroupOneOut:
    """What the group behind an invite code looks like, without joining it."""
    view, info = await services.groups.invite_info(user, session_id, invite_code_of(code))
    return GroupOneOut(session_id=view.session_id, group=GroupOut.of(info))


@router.post("/invite/accept", responses=CHANGE_ERRORS)
async def accept_invite(
    body: AcceptInviteIn, user: CurrentUser, services: ServicesDep
) -> AcceptInviteOut:
    """Join a group with its invite code (or link)."""
    view, group = await services.groups.join(
        user, body.session_id, invite_code_of(body.invite_code)
    )
    return AcceptInviteOut(session_id=view.session_id, group_id=str(group))


@router.get("", responses=errors(404, 422, 503))
async def list_groups(
    user: CurrentUser,
    services: ServicesDep,
    session_id: SessionQuery = None,
    refresh: Refresh = False,
) -> GroupListOut:
    """Every group the session's number is a member of (from the cache, kept current by
    WhatsApp's group events)."""
    view, found = await services.groups.all(user, session_id, refresh=refresh)
    return GroupListOut(session_id=view.session_id, groups=[GroupOut.of(i) for i in found])


@router.post("", status_code=201, responses=errors(404, 422, 503))
async def create_group(
    body: CreateGroupIn, user: CurrentUser, services: ServicesDep
) -> GroupOneOut:
    """Create a group: you become its superadmin. Numbers that cannot be added directly
    (not on WhatsApp, or privacy settings) are left out; `group.participants` says who is in."""
    view, info = await services.groups.create(
        user, body.session_id, body.name, participant_jids(body.participants)
    )
    return GroupOneOut(session_id=view.session_id, group=GroupOut.of(info))


@router.get("/{groupJid}/metadata", responses=READ_ERRORS)
async def metadata(
    jid: GroupJid,
    user: CurrentUser,
    services: ServicesDep,
    session_id: SessionQuery = None,
    refresh: Refresh = False,
) -> GroupOneOut:
    """Subject, description, creation, owner, participants and settings."""
    view, info = await services.groups.get(user, session_id, group_jid(jid), refresh=refresh)
    return GroupOneOut(session_id=view.session_id, group=GroupOut.of(info))


@router.get("/{groupJid}/participants", responses=READ_ERRORS)
async def participants(
    jid: GroupJid,
    user: CurrentUser,
    services: ServicesDep,
    session_id: SessionQuery = None,
    refresh: Refresh = False,
) -> ParticipantListOut:
    """The participants, each with `admin`: null, `admin` or `superadmin`."""
    view, info = await services.groups.get(user, session_id, group_jid(jid), refresh=refresh)
    return ParticipantListOut(
        session_id=view.session_id,
        group_id=str(info.jid),
        participants=ParticipantOut.of_all(info),
    )


async def _change_participants(
    services: ServicesDep,
    user: CurrentUser,
    jid: str,
    body: ParticipantsIn,
    action: ParticipantAction,
) -> ParticipantResultsOut:
    group = group_jid(jid)
    view, results = await services.groups.update_participants(
        user, body.session_id, group, participant_jids(body.participants), action
    )
    return ParticipantResultsOut(
        session_id=view.session_id,
        group_id=str(group),
        results=[ParticipantResultOut.of(result) for result in results],
    )


@router.post("/{groupJid}/participants/add", responses=CHANGE_ERRORS)
async def add_participants(
    jid: GroupJid, body: ParticipantsIn, user: CurrentUser, services: ServicesDep
) -> ParticipantResultsOut:
    """Admins only. One result per number: `"200"` added, `"403"` their privacy settings
    require an invite, `"404"` not on WhatsApp, `"409"` already in the group."""
    return await _change_participants(services, user, jid, body, ParticipantAction.ADD)


@router.post("/{groupJid}/participants/remove", responses=CHANGE_ERRORS)
async def remove_participants(
    jid: GroupJid, body: ParticipantsIn, user: CurrentUser, services: ServicesDep
) -> ParticipantResultsOut:
    """Admins only. `"404"`: not in the group; `"403"`: the creator cannot be removed."""
    return await _change_participants(services, user, jid, body, ParticipantAction.REMOVE)


@router.put("/{groupJid}/participants/update", responses=CHANGE_ERRORS)
async def update_participants(
    jid: GroupJid, body: UpdateParticipantsIn, user: CurrentUser, services: ServicesDep
) -> ParticipantResultsOut:
    """Admins only: `promote` to admin or `demote` to member. `"404"`: not in the group;
    `"403"`: the creator cannot be demoted, nor the last admin."""
    action = ParticipantAction(body.action)
    return await _change_participants(services, user, jid, body, action)


@router.put("/{groupJid}/settings", responses=CHANGE_ERRORS)
async def settings(
    jid: GroupJid, body: GroupSettingsIn, user: CurrentUser, services: ServicesDep
) -> GroupSettingsOut:
    """Any of subject, description, announce (only admins send) and restrict (only admins
    edit the info). `announce` and `restrict` are for admins; subject and description too
    while `restrict` is on."""
    change = GroupSettingsChange(
        subject=body.subject,
        description=body.description,
        announce=body.announce,
        restrict=body.restrict,
    )
    view, info = await services.groups.update_settings(
        user, body.session_id, group_jid(jid), change
    )
    return GroupSettingsOut(session_id=view.session_id, group=GroupOut.of(info))


@router.get("/{groupJid}/invite-link", responses=READ_ERRORS)
async def get_invite_link(
    jid: GroupJid, user: CurrentUser, services: ServicesDep, session_id: SessionQuery = None
) -> InviteLinkOut:
    """Admins only: the group's invite link."""
    group = group_jid(jid)
    view, code = await services.groups.invite_code(user, session_id, group)
    return InviteLinkOut(
        session_id=view.session_id,
        group_id=str(group),
        invite_code=code,
        invite_link=invite_link(code),
    )


@router.post("/{groupJid}/invite-link/reset", responses=CHANGE_ERRORS)
async def reset_invite_link(
    jid: GroupJid,
    user: CurrentUser,
    services: ServicesDep,
    body: Annotated[SessionChoiceIn | None, Body()] = None,
) -> InviteLinkOut:
    """Admins only: revoke the invite link (the old code stops working at once) and get
    the new one."""
    group = group_jid(jid)
    session_id = body.session_id if body else None
    view, code = await services.groups.invite_code(user, session_id, group, reset=True)
    return InviteLinkOut(
        session_id=view.session_id,
        group_id=str(group),
        invite_code=code,
        invite_link=invite_link(code),
    )


@router.get("/{groupJid}/picture", responses=READ_ERRORS)
async def picture(
    jid: GroupJid, user: CurrentUser, services: ServicesDep, session_id: SessionQuery = None
) -> PictureOut:
    """The URL of the group's picture; null when it has none."""
    group = group_jid(jid)
    view, url = await services.groups.picture(user, session_id, group)
    return PictureOut(session_id=view.session_id, group_id=str(group), picture_url=url)


@router.post("/{groupJid}/leave", responses=CHANGE_ERRORS)
async def leave(
    jid: GroupJid,
    user: CurrentUser,
    services: ServicesDep,
    body: Annotated[SessionChoiceIn | None, Body()] = None,
) -> SuccessOut:
    """Leave the group. If you were its last admin, its longest-standing member becomes
    admin."""
    await services.groups.leave(user, body.session_id if body else None, group_jid(jid))
    return SuccessOut()
