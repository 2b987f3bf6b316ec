"""Profiles: a contact's picture, and the account's own name, about line and picture."""

from __future__ import annotations

import asyncio

from sendmako.ids import Jid
from sendmako.media import outgoing
from sendmako.media.fetch import Fetcher
from sendmako.model.directory import GetProfilePicture
from sendmako.model.messages import MessageType
from sendmako.model.profile import GetProfile, Profile, SetProfilePicture, UpdateProfile
from sendmako.sessions.manager import SessionManager
from sendmako.sessions.state import SessionView
from sendmako.storage.records import UserRecord


class Profiles:
    def __init__(self, sessions: SessionManager, fetcher: Fetcher) -> None:
        self.sessions = sessions
        self.fetcher = fetcher

    async def picture_of(
        self, user: UserRecord, jid: Jid, session_id: str | None
    ) -> tuple[SessionView, str | None]:
        """The URL of a contact's profile picture (None: none, or hidden from this number)."""
        view = self.sessions.pick(user, session_id)
        return view, await self.sessions.perform(user, view.session_id, GetProfilePicture(jid))

    async def own(self, user: UserRecord, session_id: str | None) -> tuple[SessionView, Profile]:
        view = self.sessions.pick(user, session_id)
        return view, await self.sessions.perform(user, view.session_id, GetProfile())

    async def update(
        self, user: UserRecord, session_id: str | None, *, name: str | None, about: str | None
    ) -> SessionView:
        view = self.sessions.pick(user, session_id)
        await self.sessions.perform(user, view.session_id, UpdateProfile(name, about))
        return view

    async def set_picture(
        self, user: UserRecord, session_id: str | None, *, url: str | None, base64: str | None
    ) -> SessionView:
        """Downloaded (or decoded) and checked like an image to send, then cut square."""
        view = self.sessions.pick(user, session_id)
        self.sessions.require(user, view.session_id, SetProfilePicture)
        image = await outgoing.load(
            outgoing.MediaSource(kind=MessageType.IMAGE, url=url, base64=base64),
            self.fetcher,
        )
        jpeg = await asyncio.to_thread(outgoing.profile_picture, image)
        await self.sessions.perform(user, view.session_id, SetProfilePicture(jpeg))
        return view
