"""Each session's contact list: read from the phone when the session connects, kept current
by what the engine reports (`ContactsChanged`, and the push names incoming messages carry),
and served to the API from the database, without asking WhatsApp each time.

A sync reads the whole list from the engine, which takes a while; a change reported in
the meantime must not be overwritten by the older list. So changes and the sync's write
take one lock per session, each change bumps a counter, and a sync whose read was
overtaken by a change reads again.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Awaitable

from sendmako import log
from sendmako.concurrency.background import Background
from sendmako.errors import NotFound, OperationFailed, Unavailable
from sendmako.ids import Jid
from sendmako.model.directory import Contact, ListContacts
from sendmako.model.events import ContactsChanged, MessageReceived, WhatsAppEvent
from sendmako.sessions.hooks import SyncsOnConnect
from sendmako.sessions.manager import Performer, SessionManager
from sendmako.sessions.state import SessionView
from sendmako.storage import contacts, session_syncs, users
from sendmako.storage.db import Database
from sendmako.storage.records import SessionRecord, UserRecord

logger = log.get(__name__)

SYNC_ATTEMPTS = 3
PUSH_NAMES_REMEMBERED = 50_000


class ContactBook(SyncsOnConnect):
    def __init__(self, db: Database, sessions: SessionManager) -> None:
        self.db = db
        self.sessions = sessions
        self.background = Background("contacts.sync")
        self._locks: defaultdict[int, asyncio.Lock] = defaultdict(asyncio.Lock)
        self._changes: defaultdict[int, int] = defaultdict(int)
        # Push names already stored, so a busy chat does not write one row per message.
        self._push_names: dict[tuple[int, str], str] = {}

    async def all(
        self, user: UserRecord, session_id: str | None, *, refresh: bool = False
    ) -> tuple[SessionView, list[Contact]]:
        """The chosen session's contacts, by name (nameless ones last, by number)."""
        view = self.sessions.require(
            user, self.sessions.pick(user, session_id).session_id, ListContacts
        )
        async with self.db.read() as db:
            synced = await session_syncs.synced_at(db, view.id, "contacts")
        if refresh or synced is None:
            await self._sync(view.id, self.sessions.performer(user, view.session_id))
        async with self.db.read() as db:
            found = await contacts.list_for(db, view.id)
        found.sort(key=lambda c: (c.name is None, (c.name or "").casefold(), c.phone))
        return view, found

    # -- what the session manager reports ------------------------------------------------

    async def handle(self, session: SessionRecord, event: WhatsAppEvent) -> Awaitable[None] | None:
        if isinstance(event, ContactsChanged):
            async with self._locks[session.id]:
                self._changes[session.id] += 1
                async with self.db.write() as tx:
                    await contacts.merge(tx, session.id, event.contacts, complete=event.complete)
                    if event.complete:
                        await session_syncs.mark_synced(tx, session.id, "contacts")
        elif isinstance(event, MessageReceived) and event.sender_name and not event.from_me:
            await self._push_name(session.id, event.sender_phone, event.sender_name)
        return None

    # -- internals ------------------------------------------------------------------------

    async def _push_name(self, session_pk: int, phone: str, name: str) -> None:
        key = (session_pk, phone)
        if self._push_names.get(key) == name:
            return
        async with self._locks[session_pk], self.db.write() as tx:
            await contacts.set_push_name(tx, session_pk, str(Jid.user_jid(phone)), name)
        if len(self._push_names) >= PUSH_NAMES_REMEMBERED:
            self._push_names.clear()
        self._push_names[key] = name

    async def _sync_connected(self, user_id: int, session_id: str) -> None:
        async with self.db.read() as db:
            user = await users.get(db, user_id)
        if user is None:
            return
        if not self.sessions.supports(session_id, ListContacts):
            return
        try:
            view = self.sessions.get(user, session_id)
            await self._sync(view.id, self.sessions.performer(user, session_id))
        except (NotFound, Unavailable, OperationFailed) as exc:
            # Deleted or disconnected meanwhile, or an engine without contacts: the next
            # connection (or the first read) syncs.
            logger.info("contacts.sync_skipped", session_id=session_id, reason=exc.message)

    async def _sync(self, session_pk: int, perform: Performer) -> None:
        lock = self._locks[session_pk]
        for attempt in range(1, SYNC_ATTEMPTS + 1):
            changes = self._changes[session_pk]
            found = await perform(ListContacts())
            async with lock:
                if self._changes[session_pk] != changes and attempt < SYNC_ATTEMPTS:
                    continue  # a change arrived while reading: what we read may be older
                async with self.db.write() as tx:
                    await contacts.merge(tx, session_pk, found, complete=True)
                    await session_syncs.mark_synced(tx, session_pk, "contacts")
                logger.info("contacts.synced", session_pk=session_pk, count=len(found))
                return
