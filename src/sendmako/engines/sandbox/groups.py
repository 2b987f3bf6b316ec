"""WhatsApp's group rules on the simulated network, with the state in the database.

Groups belong to phone numbers: every sandbox session linked to a member's number sees
the group and its messages. The rules are WhatsApp's:
- the creator is the superadmin; only admins add, remove, promote and demote members,
  change `announce` and `restrict`, and read or reset the invite link;
- `restrict` ("edit group info: only admins") keeps subject and description for admins,
  otherwise any member may change them; `announce` lets only admins send;
- the superadmin can be neither removed nor demoted, and the last admin cannot demote
  themself; when the last admin leaves, the longest-standing member becomes admin;
- adding a number fails per participant: not on WhatsApp (404), privacy settings that
  only allow invites (403), already a member (409); removing or promoting someone who is
  not a member fails with 404.
Each change is one transaction (the group's row locked on PostgreSQL), and afterwards
every session of every member, past and present, is told with `GroupChanged`.
"""

from __future__ import annotations

import asyncio
import secrets
import string
import time
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from sendmako import log
from sendmako.engines.sandbox.network import SandboxNetwork
from sendmako.engines.sandbox.store import groups as sandbox_groups
from sendmako.engines.sandbox.store.groups import GroupState, Member
from sendmako.errors import OperationFailed
from sendmako.ids import GROUP_SERVER, Jid
from sendmako.model.directory import (
    GroupInfo,
    GroupParticipant,
    GroupSettingsChange,
    ParticipantAction,
    ParticipantResult,
    ParticipantRole,
)
from sendmako.model.events import (
    GroupChanged,
    GroupParticipantsChanged,
    GroupSettingsChanged,
    Someone,
    WhatsAppEvent,
)
from sendmako.settings import SandboxSettings
from sendmako.storage.db import Database

logger = log.get(__name__)

# WhatsApp's group ids: 120363 followed by digits, on the g.us server.
GROUP_PREFIX = "120363"
INVITE_ALPHABET = string.ascii_letters + string.digits
INVITE_LENGTH = 22

MEMBER, ADMIN, SUPERADMIN = (role.value for role in ParticipantRole)
_ADMINS = frozenset({ADMIN, SUPERADMIN})


class SandboxGroups:
    def __init__(self, db: Database, settings: SandboxSettings, network: SandboxNetwork) -> None:
        self.db = db
        self.settings = settings
        self.network = network

    # -- reads --------------------------------------------------------------------------

    async def groups_of(self, phone: str) -> list[GroupInfo]:
        async with self.db.read() as db:
            return [_info(state) for state in await sandbox_groups.of_phone(db, phone)]

    async def info(self, phone: str, group: Jid) -> GroupInfo:
        async with self.db.read() as db:
            return _info(await _membership(db, group, phone))

    async def picture_url(self, phone: str, group: Jid) -> str | None:
        async with self.db.read() as db:
            await _membership(db, group, phone)
        return None  # sandbox groups have no picture

    async def invite_info(self, code: str) -> GroupInfo:
        async with self.db.read() as db:
            return _info(await _by_invite(db, code))

    async def audience(self, phone: str, group: Jid) -> list[str]:
        """The numbers a message from `phone` to `group` reaches; refused as WhatsApp
        refuses it (not a member; not an admin of an announce-only group)."""
        async with self.db.read() as db:
            state = await _membership(db, group, phone)
        if state.announce and not _is_admin(state.member(phone)):
            raise OperationFailed(
                f"Only admins can send messages to group {group} (announce is on).",
                code="not_admin",
            )
        return [m.phone for m in state.members if m.phone != phone]

    async def others(self, phone: str, group: Jid, *, as_admin: bool = False) -> list[str]:
        """The other members of `group`, which `phone` must belong to (and, with `as_admin`,
        administer): who a reaction, an edit or a vote in it reaches."""
        async with self.db.read() as db:
            state = await _membership(db, group, phone)
        if as_admin:
            _require_admin(state, phone, "delete other members' messages")
        return [m.phone for m in state.members if m.phone != phone]

    # -- changes ------------------------------------------------------------------------

    async def create(self, phone: str, subject: str, participants: list[Jid]) -> GroupInfo:
        """`phone` becomes superadmin; numbers that cannot be added directly (not on
        WhatsApp, or invite only) are left out."""
        async with self.db.write() as tx:
            jid = await _new_group_jid(tx)
            await sandbox_groups.create(
                tx, jid, subject=subject, owner_phone=phone, creation=int(time.time())
            )
            await sandbox_groups.add_member(tx, jid, phone, SUPERADMIN)
            added = {phone}
            for participant in participants:
                number = participant.user
                if number in added or self._cannot_add(number) is not None:
                    continue
                await sandbox_groups.add_member(tx, jid, number, MEMBER)
                added.add(number)
            state = await _existing(tx, Jid.parse(jid))
        logger.info("sandbox.group_created", group=jid, members=len(state.members))
        await self._tell(state.jid, before=set(), after=state)
        return _info(state)

    async def update_participants(
        self, phone: str, group: Jid, participants: list[Jid], action: ParticipantAction
    ) -> list[ParticipantResult]:
        async with self.db.write() as tx:
            before = await _membership(tx, group, phone, lock=True)
            _require_admin(before, phone, f"{action.value} participants")
            roles = {m.phone: m.role for m in before.members}
            results = [
                await self._apply(tx, before.jid, roles, participant, action)
                for participant in participants
            ]
            after = await self._settle(tx, before.jid)
        changed = tuple(Someone(r.jid.user) for r in results if r.ok)
        events = [_participants(before.jid, action.value, changed, phone)] if changed else []
        await self._tell(before.jid, before=_phones(before), after=after, events=events)
        return results

    async def update_settings(
        self, phone: str, group: Jid, change: GroupSettingsChange
    ) -> GroupInfo:
        async with self.db.write() as tx:
            before = await _membership(tx, group, phone, lock=True)
            if change.announce is not None or change.restrict is not None:
                _require_admin(before, phone, "change the group's settings")
            if (change.subject is not None or change.description is not None) and before.locked:
                _require_admin(before, phone, "edit the group's info (restrict is on)")
            values: dict[str, object] = {}
            if change.subject is not None:
                values["subject"] = change.subject
            if change.description is not None:
                values["description"] = change.description or None  # "" clears it
            if change.announce is not None:
                values["announce"] = change.announce
            if change.restrict is not None:
                values["locked"] = change.restrict
            if values:
                await sandbox_groups.change(tx, before.jid, **values)
            after = await _existing(tx, group)
        events: list[WhatsAppEvent] = []
        if values:
            events.append(
                GroupSettingsChanged(
                    group=before.jid,
                    by=Someone(phone),
                    timestamp=int(time.time()),
                    subject=change.subject,
                    description=change.description,
                    announce=change.announce,
                    restrict=change.restrict,
                )
            )
        await self._tell(before.jid, before=_phones(before), after=after, events=events)
        return _info(after)

    async def invite_code(self, phone: str, group: Jid, *, reset: bool) -> str:
        """Admins only. `reset` revokes the current code: it stops working at once."""
        async with self.db.write() as tx:
            state = await _membership(tx, group, phone, lock=True)
            _require_admin(state, phone, "read or reset the invite link")
            if state.invite_code is not None and not reset:
                return state.invite_code
            code = "".join(secrets.choice(INVITE_ALPHABET) for _ in range(INVITE_LENGTH))
            await sandbox_groups.change(tx, state.jid, invite_code=code)
        return code

    async def join(self, phone: str, code: str) -> Jid:
        """Join with an invite code (privacy settings do not apply to invites). Joining a
        group one is already in changes nothing."""
        async with self.db.write() as tx:
            found = await _by_invite(tx, code)
            before = await _existing(tx, Jid.parse(found.jid), lock=True)
            if before.member(phone) is not None:
                return Jid.parse(before.jid)
            await sandbox_groups.add_member(tx, before.jid, phone, MEMBER)
            after = await _existing(tx, Jid.parse(before.jid))
        joined = _participants(before.jid, "join", (Someone(phone),), phone)
        await self._tell(before.jid, before=_phones(before), after=after, events=[joined])
        return Jid.parse(before.jid)

    async def leave(self, phone: str, group: Jid) -> None:
        async with self.db.write() as tx:
            before = await _membership(tx, group, phone, lock=True)
            await sandbox_groups.remove_member(tx, before.jid, phone)
            after = await self._settle(tx, before.jid)
        left = _participants(before.jid, "leave", (Someone(phone),), phone)
        await self._tell(before.jid, before=_phones(before), after=after, events=[left])

    # -- internals ----------------------------------------------------------------------

    def _cannot_add(self, number: str) -> tuple[str, int] | None:
        """Why `number` cannot be added directly, if it cannot: WhatsApp's reason and status."""
        if not self.network.on_whatsapp(number):
            return "not_on_whatsapp", 404
        if any(number.endswith(suffix) for suffix in self.settings.invite_required_suffixes):
            return "invite_required", 403
        return None

    def _refused(
        self, action: ParticipantAction, number: str, roles: dict[str, str]
    ) -> tuple[str, int] | None:
        role = roles.get(number)
        if action is ParticipantAction.ADD:
            return ("already_member", 409) if role is not None else self._cannot_add(number)
        if role is None:
            return "not_member", 404
        if action in (ParticipantAction.REMOVE, ParticipantAction.DEMOTE) and role == SUPERADMIN:
            return "not_authorized", 403
        if (
            action is ParticipantAction.DEMOTE
            and role == ADMIN
            and sum(r in _ADMINS for r in roles.values()) == 1
        ):
            # WhatsApp keeps at least one admin; leaving is how the last one steps down.
            return "not_authorized", 403
        return None

    async def _apply(
        self,
        tx: AsyncSession,
        group: str,
        roles: dict[str, str],
        participant: Jid,
        action: ParticipantAction,
    ) -> ParticipantResult:
        """One participant of an add/remove/promote/demote; `roles` follows the changes."""
        number, jid = participant.user, Jid.user_jid(participant.user)
        refused = self._refused(action, number, roles)
        if refused is not None:
            return ParticipantResult(jid, ok=False, reason=refused[0], code=refused[1])
        role = roles.get(number)
        if action is ParticipantAction.ADD:
            await sandbox_groups.add_member(tx, group, number, MEMBER)
            roles[number] = MEMBER
        elif action is ParticipantAction.REMOVE:
            await sandbox_groups.remove_member(tx, group, number)
            del roles[number]
        elif action is ParticipantAction.PROMOTE and role == MEMBER:
            await sandbox_groups.set_role(tx, group, number, ADMIN)
            roles[number] = ADMIN
        elif action is ParticipantAction.DEMOTE and role == ADMIN:
            await sandbox_groups.set_role(tx, group, number, MEMBER)
            roles[number] = MEMBER
        return ParticipantResult(jid, ok=True)

    async def _settle(self, tx: AsyncSession, group: str) -> GroupState | None:
        """After members left: a group without admins gets its longest-standing member as
        admin, and a group without members is gone. Returns what remains."""
        state = await _existing(tx, Jid.parse(group))
        if not state.members:
            await sandbox_groups.delete_group(tx, group)
            return None
        if not any(m.role in _ADMINS for m in state.members):
            eldest = state.members[0]
            await sandbox_groups.set_role(tx, group, eldest.phone, ADMIN)
            logger.info("sandbox.group_admin_promoted", group=group)
            state = await _existing(tx, Jid.parse(group))
        return state

    async def _tell(
        self,
        group: str,
        *,
        before: set[str],
        after: GroupState | None,
        events: Sequence[WhatsAppEvent] = (),
    ) -> None:
        """Every session of every member, past and present, learns that the group changed
        (and what changed: `events`), and this returns once they have stored it."""
        now = _phones(after) if after is not None else set()
        handled: list[asyncio.Future[None]] = []
        for phone in before | now:
            for event in [*events, GroupChanged(group_jid=group, left=phone not in now)]:
                handled.append(await self.network.notify(phone, event))  # noqa: PERF401 - awaits
        for outcome in await asyncio.gather(*handled, return_exceptions=True):
            if isinstance(outcome, BaseException):
                logger.warning("sandbox.group_event_failed", group=group, error=repr(outcome))


def _participants(
    group: str, action: str, who: tuple[Someone, ...], by: str
) -> GroupParticipantsChanged:
    return GroupParticipantsChanged(
        group=group, action=action, participants=who, by=Someone(by), timestamp=int(time.time())
    )


def _info(state: GroupState) -> GroupInfo:
    return GroupInfo(
        jid=Jid.parse(state.jid),
        subject=state.subject,
        description=state.description,
        owner=Jid.user_jid(state.owner_phone) if state.owner_phone else None,
        created_at=state.creation,
        announce=state.announce,
        restrict=state.locked,
        participants=tuple(
            GroupParticipant(Jid.user_jid(m.phone), m.phone, ParticipantRole(m.role))
            for m in state.members
        ),
    )


def _phones(state: GroupState | None) -> set[str]:
    return {m.phone for m in state.members} if state is not None else set()


def _is_admin(member: Member | None) -> bool:
    return member is not None and member.role in _ADMINS


def _require_admin(state: GroupState, phone: str, action: str) -> None:
    if not _is_admin(state.member(phone)):
        raise OperationFailed(
            f"Not authorized: only admins of group {state.jid} can {action}.", code="not_admin"
        )


async def _existing(db: AsyncSession, group: Jid, *, lock: bool = False) -> GroupState:
    state = await sandbox_groups.get(db, str(group), for_update=lock) if group.is_group else None
    if state is None:
        raise OperationFailed(f"Group {group} does not exist.", code="group_not_found")
    return state


async def _membership(
    db: AsyncSession, group: Jid, phone: str, *, lock: bool = False
) -> GroupState:
    state = await _existing(db, group, lock=lock)
    if state.member(phone) is None:
        raise OperationFailed(f"{phone} is not a participant of group {group}.", code="not_member")
    return state


async def _by_invite(db: AsyncSession, code: str) -> GroupState:
    state = await sandbox_groups.by_invite(db, code) if code else None
    if state is None:
        raise OperationFailed(
            "This invite link is not valid: it was reset or never existed.",
            code="invite_invalid",
        )
    return state


async def _new_group_jid(db: AsyncSession) -> str:
    while True:
        user = GROUP_PREFIX + "".join(secrets.choice(string.digits) for _ in range(12))
        jid = f"{user}@{GROUP_SERVER}"
        if not await sandbox_groups.exists(db, jid):
            return jid
