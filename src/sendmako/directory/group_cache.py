"""The group cache: each session's groups as WhatsApp last described them, so listing
groups and reading metadata need not ask WhatsApp every time.

- The whole list is read when a session connects, and again on demand (`refresh`).
- A group event (`GroupChanged`) marks the group stale at once, in the event's own path
  (so no read can return what the event made obsolete), then refreshes it in the
  background; a group left is dropped.
- A read of a stale group asks WhatsApp. Rows carry a generation (`storage/groups.py`), so
  a refresh that raced an event leaves the row stale rather than hiding the event.
"""

from __future__ import annotations

from collections.abc import Awaitable

from sendmako import log
from sendmako.concurrency.background import Background
from sendmako.errors import NotFound, OperationFailed, SendmakoError, Unavailable
from sendmako.ids import Jid
from sendmako.model.directory import GetGroup, GroupInfo, ListGroups
from sendmako.model.events import GroupChanged, WhatsAppEvent
from sendmako.sessions.hooks import SyncsOnConnect
from sendmako.sessions.manager import Performer, SessionManager
from sendmako.storage import groups, session_syncs, users
from sendmako.storage.db import Database
from sendmako.storage.records import SessionRecord

logger = log.get(__name__)

# Engine refusals meaning "this session cannot see that group": answered as 404.
GONE = frozenset({"group_not_found", "not_member"})
# Past this many stale groups, one read of the whole list is cheaper than one read each.
STALE_BEFORE_FULL_SYNC = 5


def group_not_found(group: Jid | str) -> NotFound:
    # The same answer whether the group does not exist or this session is not in it: a
    # group of another user's number is none of this user's business.
    return NotFound(
        f"Group {group} not found (or this session is not a participant).",
        code="group_not_found",
    )


class GroupCache(SyncsOnConnect):
    def __init__(self, db: Database, sessions: SessionManager) -> None:
        self.db = db
        self.sessions = sessions
        self.background = Background("groups.refresh")

    async def all(self, session_pk: int, perform: Performer, *, refresh: bool) -> list[GroupInfo]:
        async with self.db.read() as db:
            synced = await session_syncs.synced_at(db, session_pk, "groups")
            stale = [c for c in await groups.list_for(db, session_pk) if c.stale]
        if refresh or synced is None or len(stale) > STALE_BEFORE_FULL_SYNC:
            await self.sync(session_pk, perform)
            async with self.db.read() as db:
                stale = [c for c in await groups.list_for(db, session_pk) if c.stale]
        for cached in stale:
            try:
                await self.fetch(session_pk, perform, cached.info.jid, cached.generation)
            except NotFound:
                continue  # gone: fetch dropped it
        async with self.db.read() as db:
            return [c.info for c in await groups.list_for(db, session_pk) if c.refreshed]

    async def get(
        self, session_pk: int, perform: Performer, group: Jid, *, refresh: bool
    ) -> GroupInfo:
        async with self.db.read() as db:
            cached = await groups.get(db, session_pk, str(group))
        if cached is not None and cached.refreshed and not cached.stale and not refresh:
            return cached.info
        return await self.fetch(session_pk, perform, group, cached.generation if cached else None)

    async def fetch(
        self, session_pk: int, perform: Performer, group: Jid, seen_generation: int | None
    ) -> GroupInfo:
        """Ask the engine about one group and store the answer (404 if it is gone)."""
        try:
            info = await perform(GetGroup(group))
        except OperationFailed as exc:
            if exc.code not in GONE:
                raise
            async with self.db.write() as tx:
                await groups.forget(tx, session_pk, str(group), seen_generation=seen_generation)
            raise group_not_found(group) from exc
        async with self.db.write() as tx:
            await groups.store(tx, session_pk, info, seen_generation=seen_generation)
        return info

    async def sync(self, session_pk: int, perform: Performer) -> None:
        async with self.db.read() as db:
            seen = await groups.generations(db, session_pk)
        listed = await perform(ListGroups())
        async with self.db.write() as tx:
            await groups.replace_all(tx, session_pk, listed, seen)
            await session_syncs.mark_synced(tx, session_pk, "groups")
        logger.info("groups.synced", session_pk=session_pk, count=len(listed))

    # -- after this session changed a group itself ---------------------------------------

    async def created(self, session_pk: int, info: GroupInfo) -> None:
        async with self.db.write() as tx:
            await groups.store(tx, session_pk, info, seen_generation=None)

    async def changed(self, session_pk: int, group: Jid | str) -> None:
        """Read-your-writes: the next read asks WhatsApp, whenever its event arrives."""
        async with self.db.write() as tx:
            await groups.mark_stale(tx, session_pk, str(group))

    async def left(self, session_pk: int, group: Jid) -> None:
        async with self.db.write() as tx:
            await groups.forget(tx, session_pk, str(group))

    # -- what the session manager reports ------------------------------------------------

    async def handle(self, session: SessionRecord, event: WhatsAppEvent) -> Awaitable[None] | None:
        if not isinstance(event, GroupChanged):
            return None
        async with self.db.write() as tx:
            if event.left:
                await groups.forget(tx, session.id, event.group_jid)
            else:
                await groups.mark_stale(tx, session.id, event.group_jid)
        if not event.left:
            # Not here: the engine may deliver its answer through this very event path.
            self.background.spawn(
                self._refresh(session, event.group_jid),
                session_id=session.session_id,
                group=event.group_jid,
            )
        return None

    # -- internals ------------------------------------------------------------------------

    async def _performer_of(self, user_id: int, session_id: str) -> tuple[int, Performer] | None:
        """The session's row id and a performer for it; None when it was deleted meanwhile
        or its engine has no groups."""
        async with self.db.read() as db:
            user = await users.get(db, user_id)
        if user is None or not self.sessions.supports(session_id, ListGroups):
            return None
        try:
            return self.sessions.get(user, session_id).id, self.sessions.performer(user, session_id)
        except NotFound:
            return None

    async def _sync_connected(self, user_id: int, session_id: str) -> None:
        found = await self._performer_of(user_id, session_id)
        if found is None:
            return
        try:
            await self.sync(*found)
        except (Unavailable, OperationFailed) as exc:
            # Disconnected meanwhile: the next connection (or the first read) syncs.
            logger.info("groups.sync_skipped", session_id=session_id, reason=exc.message)

    async def _refresh(self, session: SessionRecord, group_jid: str) -> None:
        found = await self._performer_of(session.user_id, session.session_id)
        if found is None:
            return
        perform = found[1]
        async with self.db.read() as db:
            cached = await groups.get(db, session.id, group_jid)
        if cached is None or not cached.stale:
            return  # refreshed or dropped meanwhile
        try:
            await self.fetch(session.id, perform, Jid.parse(group_jid), cached.generation)
        except SendmakoError as exc:
            # The row stays stale: the next read asks again.
            logger.info("groups.refresh_failed", group=group_jid, error=exc.message)
