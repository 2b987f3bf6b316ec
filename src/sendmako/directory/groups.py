"""Group operations for the API: choose the session (API.md "Choosing the session"), refuse
engines without groups, call the engine, keep the cache (`group_cache.py`) in step, and
turn WhatsApp's refusals into our answers: a group the session cannot see, or an invite
that does not exist, is 404; anything else WhatsApp refuses (not an admin...) is 422.
"""

from __future__ import annotations

from typing import TypeVar

from sendmako.directory.group_cache import GONE, GroupCache, group_not_found
from sendmako.errors import NotFound, OperationFailed
from sendmako.ids import Jid
from sendmako.model.actions import Action
from sendmako.model.directory import (
    CreateGroup,
    GetGroupPicture,
    GetInviteCode,
    GetInviteInfo,
    GroupInfo,
    GroupSettingsChange,
    JoinGroup,
    LeaveGroup,
    ParticipantAction,
    ParticipantResult,
    UpdateGroupSettings,
    UpdateParticipants,
)
from sendmako.sessions.manager import Performer, SessionManager
from sendmako.sessions.state import SessionView
from sendmako.storage.records import UserRecord

T = TypeVar("T")

INVITE_LINK_PREFIX = "https://chat.whatsapp.com/"


def invite_link(code: str) -> str:
    return INVITE_LINK_PREFIX + code


def invite_code_of(text: str) -> str:
    """An invite code, also when given as the whole link."""
    text = text.strip()
    for prefix in (INVITE_LINK_PREFIX, "http://chat.whatsapp.com/", "chat.whatsapp.com/"):
        if text.startswith(prefix):
            return text.removeprefix(prefix).split("?")[0].strip("/")
    return text


class Groups:
    def __init__(self, sessions: SessionManager, cache: GroupCache) -> None:
        self.sessions = sessions
        self.cache = cache

    # -- reads (served from the cache) ----------------------------------------------------

    async def all(
        self, user: UserRecord, session_id: str | None, *, refresh: bool = False
    ) -> tuple[SessionView, list[GroupInfo]]:
        view, perform = self._session(user, session_id)
        return view, await self.cache.all(view.id, perform, refresh=refresh)

    async def get(
        self, user: UserRecord, session_id: str | None, group: Jid, *, refresh: bool = False
    ) -> tuple[SessionView, GroupInfo]:
        view, perform = self._session(user, session_id)
        return view, await self.cache.get(view.id, perform, group, refresh=refresh)

    async def invite_info(
        self, user: UserRecord, session_id: str | None, code: str
    ) -> tuple[SessionView, GroupInfo]:
        view, perform = self._session(user, session_id)
        return view, await self._call(perform, view, None, GetInviteInfo(code))

    async def picture(
        self, user: UserRecord, session_id: str | None, group: Jid
    ) -> tuple[SessionView, str | None]:
        view, perform = self._session(user, session_id)
        return view, await self._call(perform, view, group, GetGroupPicture(group))

    # -- changes --------------------------------------------------------------------------

    async def create(
        self, user: UserRecord, session_id: str | None, subject: str, participants: list[Jid]
    ) -> tuple[SessionView, GroupInfo]:
        view, perform = self._session(user, session_id)
        info = await self._call(perform, view, None, CreateGroup(subject, tuple(participants)))
        await self.cache.created(view.id, info)
        return view, info

    async def update_participants(
        self,
        user: UserRecord,
        session_id: str | None,
        group: Jid,
        participants: list[Jid],
        action: ParticipantAction,
    ) -> tuple[SessionView, list[ParticipantResult]]:
        view, perform = self._session(user, session_id)
        results = await self._call(
            perform, view, group, UpdateParticipants(group, tuple(participants), action)
        )
        await self.cache.changed(view.id, group)
        return view, results

    async def update_settings(
        self, user: UserRecord, session_id: str | None, group: Jid, change: GroupSettingsChange
    ) -> tuple[SessionView, GroupInfo]:
        view, perform = self._session(user, session_id)
        info = await self._call(perform, view, group, UpdateGroupSettings(group, change))
        await self.cache.changed(view.id, group)
        return view, info

    async def invite_code(
        self, user: UserRecord, session_id: str | None, group: Jid, *, reset: bool = False
    ) -> tuple[SessionView, str]:
        view, perform = self._session(user, session_id)
        return view, await self._call(perform, view, group, GetInviteCode(group, reset=reset))

    async def join(
        self, user: UserRecord, session_id: str | None, code: str
    ) -> tuple[SessionView, Jid]:
        view, perform = self._session(user, session_id)
        group = await self._call(perform, view, None, JoinGroup(code))
        await self.cache.changed(view.id, group)
        return view, group

    async def leave(self, user: UserRecord, session_id: str | None, group: Jid) -> SessionView:
        view, perform = self._session(user, session_id)
        await self._call(perform, view, group, LeaveGroup(group))
        await self.cache.left(view.id, group)
        return view

    # -- internals ------------------------------------------------------------------------

    def _session(self, user: UserRecord, session_id: str | None) -> tuple[SessionView, Performer]:
        view = self.sessions.pick(user, session_id)
        return view, self.sessions.performer(user, view.session_id)

    async def _call(
        self, perform: Performer, view: SessionView, group: Jid | None, action: Action[T]
    ) -> T:
        try:
            return await perform(action)
        except OperationFailed as exc:
            if group is not None and exc.code in GONE:
                await self.cache.left(view.id, group)
                raise group_not_found(group) from exc
            if exc.code == "invite_invalid":
                raise NotFound(exc.message, code="invite_invalid") from exc
            raise
