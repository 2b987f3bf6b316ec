"""Whether numbers have WhatsApp. Answers are kept a day per user (`number_checks`), so a
CRM importing a list does not ask WhatsApp again and again: asking about many unknown
numbers is one of the things that gets numbers restricted."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from sendmako.model.directory import CheckNumbers, NumberStatus
from sendmako.sessions.manager import SessionManager
from sendmako.sessions.state import SessionView
from sendmako.storage import number_checks
from sendmako.storage.db import Database
from sendmako.storage.records import UserRecord
from sendmako.storage.tables import utcnow

KEEP = timedelta(hours=24)
MAX_NUMBERS = 50


class NumberChecks:
    def __init__(
        self, db: Database, sessions: SessionManager, clock: Callable[[], datetime] = utcnow
    ) -> None:
        self.db = db
        self.sessions = sessions
        self.clock = clock

    async def check(
        self, user: UserRecord, phones: list[str], session_id: str | None
    ) -> tuple[SessionView, list[NumberStatus]]:
        """One answer per number (digits with the country code), in the order asked; only
        those not asked within the day reach WhatsApp."""
        view = self.sessions.pick(user, session_id)
        self.sessions.require(user, view.session_id, CheckNumbers)
        now = self.clock()
        async with self.db.read() as db:
            known = await number_checks.recent(db, user.id, phones, now - KEEP)
        unknown = [phone for phone in dict.fromkeys(phones) if phone not in known]
        if unknown:
            asked = await self.sessions.perform(user, view.session_id, CheckNumbers(tuple(unknown)))
            async with self.db.write() as tx:
                await number_checks.store(tx, user.id, asked, now)
            known.update({status.phone: status for status in asked})
        return view, [known.get(phone, NumberStatus(phone, False)) for phone in phones]
