"""Applying a session's send policy (model/send_policy.py) to each message it sends.

The node that runs a session counts its sends in memory, read back once from the stored
messages (so a restart, or a session moving to another node, keeps its counts), and
decides before a message is queued: admitted (its place counted at once, so concurrent
requests cannot all pass) or held back with a 429 naming the rule and when to retry.
The random delay and the typing happen in the session's queue (sessions/manager.py)."""

from __future__ import annotations

import asyncio
import math
import time
import unicodedata
from collections import deque
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sendmako import log
from sendmako.errors import TooManyRequests, Unavailable
from sendmako.model.actions import Send
from sendmako.model.messages import OutgoingMessage
from sendmako.model.restrictions import Restriction
from sendmako.model.send_policy import (
    WARMUP_SILENCE_DAYS,
    PolicyRule,
    SendPolicy,
    warmup_cap,
)
from sendmako.storage import send_history
from sendmako.storage.db import Database

logger = log.get(__name__)

HOUR, DAY = 3_600.0, 86_400.0
GROUP_SUFFIX = "@g.us"
MAX_KNOWN = 50_000  # chats remembered as known per session, beyond which they are asked again


class PolicyHeld(TooManyRequests):
    """A send the policy holds back for now (429, `send_policy_<rule>`)."""

    def __init__(self, message: str, *, retry_after: float, code: str | None = None) -> None:
        super().__init__(message, retry_after=retry_after, code=code)


def text_key(text: str | None) -> str | None:
    """What makes two messages "the same text": case, accents' forms and spacing aside."""
    if not text:
        return None
    folded = unicodedata.normalize("NFKC", text).casefold()
    return " ".join(folded.split())


@dataclass
class _NewContact:
    at: float
    chat: str
    text: str | None


@dataclass
class _Budget:
    """One session's sends as the policy counts them (times are the clock's)."""

    # Each window kept apart, oldest first, so that a check is a length, never a scan.
    sends: deque[float] = field(default_factory=deque)  # the last day's
    hour: deque[float] = field(default_factory=deque)  # the last hour's
    new_contacts: deque[_NewContact] = field(default_factory=deque)  # the last day's
    same_text: dict[str, deque[float]] = field(default_factory=dict)  # new contacts', by text
    known: set[str] = field(default_factory=set)
    warmup_start: float = 0.0
    last_send: float | None = None

    def forget_before(self, now: float) -> None:
        while self.sends and self.sends[0] <= now - DAY:
            self.sends.popleft()
        while self.hour and self.hour[0] <= now - HOUR:
            self.hour.popleft()
        while self.new_contacts and self.new_contacts[0].at <= now - DAY:
            contact = self.new_contacts.popleft()
            if contact.text is not None:
                same = self.same_text.get(contact.text)
                if same:
                    same.popleft()
                if not same:
                    self.same_text.pop(contact.text, None)

    def count(self, at: float, contact: _NewContact | None) -> None:
        self.sends.append(at)
        self.hour.append(at)
        if contact is not None:
            self.new_contacts.append(contact)
            if contact.text is not None:
                self.same_text.setdefault(contact.text, deque()).append(contact.at)

    def uncount(self, at: float, contact: _NewContact | None) -> None:
        for window in (self.sends, self.hour):
            with suppress(ValueError):
                window.remove(at)
        if contact is not None:
            with suppress(ValueError):
                self.new_contacts.remove(contact)
            if contact.text is not None:
                with suppress(ValueError, KeyError):
                    self.same_text[contact.text].remove(contact.at)
            self.known.discard(contact.chat)


@dataclass
class Ticket:
    """A send the policy admitted: its place is counted until `cancel` (not sent)."""

    _budget: _Budget | None
    _at: float = 0.0
    _contact: _NewContact | None = None
    _previous_last: float | None = None
    _previous_start: float = 0.0

    def cancel(self) -> None:
        budget, self._budget = self._budget, None
        if budget is None:
            return
        budget.uncount(self._at, self._contact)
        budget.last_send = self._previous_last
        budget.warmup_start = self._previous_start

    def sent(self) -> None:
        self._budget = None  # counted for good


@dataclass(frozen=True, slots=True)
class Sending:
    """What the policy needs to know of the session a message goes out from."""

    session_id: str
    policy: SendPolicy
    linked_at: datetime | None
    restriction: Restriction | None = None  # WhatsApp's, now


class Governor:
    """The send policies of the sessions this node runs."""

    def __init__(self, db: Database, *, clock: Callable[[], float] = time.time) -> None:
        self.db = db
        self.clock = clock
        self._budgets: dict[str, _Budget] = {}
        self._loading: dict[str, asyncio.Lock] = {}

    def forget(self, session_id: str) -> None:
        """The session stopped here (deleted, or moved): read it again if it comes back."""
        self._budgets.pop(session_id, None)
        self._loading.pop(session_id, None)

    async def admit(self, sending: Sending, action: Send) -> Ticket:
        """Count `action` against the session's policy, or raise `PolicyHeld` (429); a
        restriction of WhatsApp's covering it raises `session_restricted` (503)."""
        restriction = sending.restriction
        if not isinstance(action, OutgoingMessage):
            if restriction is not None and restriction.covers(new_contact=False):
                raise restricted(sending.session_id, restriction, self.clock())
            return Ticket(None)  # reactions, edits...: paced by the queue, not counted
        policy = sending.policy
        budget = await self._budget(sending)
        chat = str(action.to)
        new = False
        if not action.to.is_group and chat not in budget.known:
            needs_answer = (
                policy.new_contacts_per_day is not None
                or policy.same_text_new_contacts is not None
                or restriction is not None
            )
            if needs_answer:
                new = not await self._knows(sending.session_id, chat)
                if not new:
                    _remember(budget, chat)
        now = self.clock()
        if restriction is not None and restriction.covers(new_contact=new):
            raise restricted(sending.session_id, restriction, now)
        budget.forget_before(now)
        self._check(sending, budget, action, now, new=new)
        previous_last, previous_start = budget.last_send, budget.warmup_start
        budget.warmup_start = self._warmup_start(budget, now)
        contact = _NewContact(now, chat, text_key(action.text)) if new else None
        budget.count(now, contact)
        budget.last_send = now
        if new:
            _remember(budget, chat)
        return Ticket(budget, now, contact, previous_last, previous_start)

    def _check(
        self, sending: Sending, budget: _Budget, action: OutgoingMessage, now: float, *, new: bool
    ) -> None:
        policy = sending.policy
        session_id = sending.session_id
        sends = budget.sends
        if policy.per_hour is not None:
            in_hour = budget.hour
            if len(in_hour) >= policy.per_hour:
                wait = in_hour[len(in_hour) - policy.per_hour] + HOUR - now
                raise _held(
                    PolicyRule.PER_HOUR,
                    f"Session {session_id} sent {len(in_hour)} messages in the last hour, its "
                    f"cap (send_policy.per_hour = {policy.per_hour})",
                    wait,
                )
        if policy.per_day is not None and len(sends) >= policy.per_day:
            wait = sends[len(sends) - policy.per_day] + DAY - now
            raise _held(
                PolicyRule.PER_DAY,
                f"Session {session_id} sent {len(sends)} messages in the last 24 hours, its "
                f"cap (send_policy.per_day = {policy.per_day})",
                wait,
            )
        if policy.warmup:
            day = math.floor((now - self._warmup_start(budget, now)) / DAY)
            cap = warmup_cap(day)
            if cap is not None and len(sends) >= cap:
                window = sends[len(sends) - cap] + DAY - now
                next_day = self._warmup_start(budget, now) + (day + 1) * DAY - now
                raise _held(
                    PolicyRule.WARMUP,
                    f"Session {session_id} is warming up (day {day + 1} of 7 since it was "
                    f"linked or woke from a long silence): {cap} messages a day for now "
                    "(send_policy.warmup)",
                    min(window, next_day),
                )
        if not new:
            return
        contacts = budget.new_contacts
        if policy.new_contacts_per_day is not None and len(contacts) >= policy.new_contacts_per_day:
            wait = contacts[len(contacts) - policy.new_contacts_per_day].at + DAY - now
            raise _held(
                PolicyRule.NEW_CONTACTS,
                f"Session {session_id} wrote to {len(contacts)} new contacts in the last 24 "
                f"hours, its budget (send_policy.new_contacts_per_day = "
                f"{policy.new_contacts_per_day}); known contacts still get messages",
                wait,
            )
        key = text_key(action.text)
        if policy.same_text_new_contacts is not None and key is not None:
            same = budget.same_text.get(key, ())
            if len(same) >= policy.same_text_new_contacts:
                wait = same[len(same) - policy.same_text_new_contacts] + DAY - now
                raise _held(
                    PolicyRule.SAME_TEXT,
                    f"Session {session_id} sent this same text to {len(same)} new contacts in "
                    f"the last 24 hours (send_policy.same_text_new_contacts = "
                    f"{policy.same_text_new_contacts}); vary it, or send it to known contacts",
                    wait,
                )

    @staticmethod
    def _warmup_start(budget: _Budget, now: float) -> float:
        """A number that sent nothing for a long time (since its last send, or since it was
        linked) warms up again from now."""
        last = budget.last_send if budget.last_send is not None else budget.warmup_start
        if now - last >= WARMUP_SILENCE_DAYS * DAY:
            return now
        return budget.warmup_start

    async def _knows(self, session_id: str, chat: str) -> bool:
        async with self.db.read() as db:
            return await send_history.knows(db, session_id, chat)

    async def _budget(self, sending: Sending) -> _Budget:
        budget = self._budgets.get(sending.session_id)
        if budget is not None:
            return budget
        lock = self._loading.setdefault(sending.session_id, asyncio.Lock())
        async with lock:
            budget = self._budgets.get(sending.session_id)
            if budget is None:
                budget = await self._load(sending)
                self._budgets[sending.session_id] = budget
        return budget

    async def _load(self, sending: Sending) -> _Budget:
        """Read the session's last day of sends, its new contacts among them, and where its
        warm-up starts, from the stored messages."""
        now = self.clock()
        since = _datetime(now - DAY)
        week_ago = _datetime(now - 7 * DAY)
        session_id = sending.session_id
        async with self.db.read() as db:
            recent = await send_history.sends_since(db, session_id, since)
            chats = sorted({send.chat for send in recent if not send.chat.endswith(GROUP_SUFFIX)})
            firsts = await send_history.first_exchanges(db, session_id, chats)
            first_recent = await send_history.first_send_since(db, session_id, week_ago)
            before = await send_history.last_send_before(
                db, session_id, first_recent or _datetime(now)
            )
        budget = _Budget()
        seen: set[str] = set()
        for send in recent:
            at = _timestamp(send.at)
            first, first_in = firsts.get(send.chat, (send.at, None))
            new = (
                send.chat not in seen
                and send.chat in firsts
                and first >= since
                and (first_in is None or first_in > send.at)  # they did not write first
            )
            seen.add(send.chat)
            budget.known.add(send.chat)
            budget.count(at, _NewContact(at, send.chat, text_key(send.body)) if new else None)
        budget.forget_before(now)
        linked = sending.linked_at or _datetime(now)
        budget.warmup_start = _timestamp(linked)
        if first_recent is not None:
            quiet_since = max(before, linked) if before is not None else linked
            if first_recent - quiet_since >= timedelta(days=WARMUP_SILENCE_DAYS):
                budget.warmup_start = _timestamp(first_recent)
            budget.last_send = (
                _timestamp(recent[-1].at) if recent else await self._last_send(session_id, now)
            )
        elif before is not None and before >= linked:
            budget.last_send = _timestamp(before)
        return budget

    async def _last_send(self, session_id: str, now: float) -> float | None:
        async with self.db.read() as db:
            last = await send_history.last_send_before(db, session_id, _datetime(now + 1))
        return _timestamp(last) if last is not None else None


def _remember(budget: _Budget, chat: str) -> None:
    if len(budget.known) >= MAX_KNOWN:
        budget.known.clear()
    budget.known.add(chat)


def restricted(session_id: str, restriction: Restriction, now: float) -> Unavailable:
    """503 `session_restricted`: WhatsApp holds this send, until its restriction ends."""
    wait = max(1.0, restriction.until.timestamp() - now) if restriction.until else None
    when = f"; retry in {math.ceil(wait)} s" if wait is not None else ""
    return Unavailable(
        f"Session {session_id} is restricted by WhatsApp ({restriction.kind.value}, code "
        f"{restriction.code}): {restriction.reason} Nothing was sent{when}.",
        code="session_restricted",
        retry_after=wait,
    )


def _held(rule: PolicyRule, why: str, wait: float) -> PolicyHeld:
    wait = max(1.0, wait)
    return PolicyHeld(
        f"{why}: held back by the send policy; retry in {math.ceil(wait)} s.",
        retry_after=wait,
        code=f"send_policy_{rule.value}",
    )


def _datetime(at: float) -> datetime:
    return datetime.fromtimestamp(at, UTC)


def _timestamp(at: datetime) -> float:
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return at.timestamp()
