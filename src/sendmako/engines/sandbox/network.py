"""The simulated WhatsApp network: who is online under which number, and what travels
between them. Messages to a number held by a connected sandbox session arrive there as
incoming messages; everyone else is a simulated phone that delivers and reads after the
configured delays, except numbers the operator marks as not on WhatsApp."""

from __future__ import annotations

import asyncio
import os
import random
import time
from collections import deque
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TYPE_CHECKING

from sendmako import log
from sendmako.engines.sandbox.exchange import Exchange, LocalExchange
from sendmako.engines.sandbox.media import SandboxMediaStore
from sendmako.engines.sandbox.sent import SENT_LOG_SIZE, MemorySentLog, SentLog
from sendmako.errors import OperationFailed
from sendmako.ids import Jid
from sendmako.model.actions import SendResult
from sendmako.model.events import (
    MessageReceived,
    PresenceChanged,
    ReceiptReceived,
    Someone,
    WhatsAppEvent,
)
from sendmako.model.messages import MessageType, OutgoingMessage
from sendmako.model.simulation import SentRecord
from sendmako.model.statuses import MessageStatus
from sendmako.settings import SandboxSettings
from sendmako.storage.tables import utcnow

if TYPE_CHECKING:
    from sendmako.engines.sandbox.engine import SandboxSession

logger = log.get(__name__)

# What WhatsApp calls each kind of message (`type` in message.received webhooks).
WA_TYPES = {
    MessageType.TEXT: "conversation",
    MessageType.IMAGE: "imageMessage",
    MessageType.VIDEO: "videoMessage",
    MessageType.AUDIO: "audioMessage",
    MessageType.DOCUMENT: "documentMessage",
    MessageType.LOCATION: "locationMessage",
    MessageType.STICKER: "stickerMessage",
    MessageType.CONTACT: "contactMessage",
    MessageType.POLL: "pollCreationMessageV3",
}


_ids = random.Random()  # noqa: S311 - ids, not secrets
os.register_at_fork(after_in_child=_ids.seed)  # forked workers must not repeat ids


def new_message_id() -> str:
    """WhatsApp-style id: 3EB0 and 18 upper-case hex digits (unique, not secret: no
    system call for each one)."""
    return f"3EB0{_ids.getrandbits(72):018X}"


class Wire:
    """How a send crosses the simulated network: at once, by default. The sandbox's test
    seam for WhatsApp's own pace: a wire can hold a send (WhatsApp slow to answer, or never
    answering) or do something while it is in flight."""

    async def carry(self, transmit: Callable[[], Awaitable[SendResult]]) -> SendResult:
        return await transmit()


class SandboxNetwork:
    """The simulation: what a send does, who gets what. Who is linked where and how an
    event reaches a session is the `exchange`'s (exchange.py): this node alone, or every
    node of a cluster (cluster.py); what was sent is the `sent` log's (sent.py)."""

    def __init__(
        self,
        settings: SandboxSettings,
        media: SandboxMediaStore,
        *,
        exchange: Exchange | None = None,
        sent: SentLog | None = None,
        wire: Wire | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        """`clock` gives the time a send is stamped with (WhatsApp's clock, for the real
        engine)."""
        self.settings = settings
        self.media = media
        self.exchange = exchange or LocalExchange()
        self.sent = sent or MemorySentLog()
        self.wire = wire or Wire()
        self.clock = clock
        self._timers: set[asyncio.TimerHandle] = set()
        self.rejected_calls: deque[str] = deque(maxlen=SENT_LOG_SIZE)  # their ids

    async def start(self) -> None:
        await self.exchange.start()

    # -- who is online ----------------------------------------------------------------------

    async def online(self, session: SandboxSession, phone: str) -> None:
        await self.exchange.online(session, phone)

    async def unreachable(self, session: SandboxSession) -> None:
        """Unlinked, or its connection lost: what is sent to its number misses it."""
        await self.exchange.unreachable(session)

    async def stopped(self, session: SandboxSession) -> None:
        await self.exchange.stopped(session)

    def on_whatsapp(self, phone: str) -> bool:
        return not any(phone.endswith(suffix) for suffix in self.settings.not_on_whatsapp_suffixes)

    # -- sending ----------------------------------------------------------------------------

    async def send(
        self, sender: SandboxSession, phone: str, message: OutgoingMessage
    ) -> SendResult:
        to = message.to
        if to.is_group:  # groups go through send_to_group, after the group rules
            raise OperationFailed(
                f"Group {to} does not exist in the sandbox.", code="group_not_found"
            )
        if not self.on_whatsapp(to.user):
            raise OperationFailed(
                f"The number {to.user} is not on WhatsApp.", code="not_on_whatsapp"
            )
        return await self.wire.carry(
            lambda: self._transmit(
                sender, phone, message, chat=str(Jid.user_jid(phone)), recipients=[to.user]
            )
        )

    async def send_to_group(
        self, sender: SandboxSession, phone: str, message: OutgoingMessage, audience: list[str]
    ) -> SendResult:
        """A message to a group reaches every session of every other member (`audience`,
        checked by the group rules), with its mentions; the sender gets the receipts."""
        return await self.wire.carry(
            lambda: self._transmit(
                sender, phone, message, chat=str(message.to), recipients=audience, is_group=True
            )
        )

    async def _transmit(
        self,
        sender: SandboxSession,
        phone: str,
        message: OutgoingMessage,
        *,
        chat: str,
        recipients: list[str],
        is_group: bool = False,
    ) -> SendResult:
        """Put `message` on the wire: logged as sent, delivered to every session of each
        recipient number (but the sender's), receipts scheduled back to the sender. Answers
        once no session can miss it (it waits in a session's mailbox while it moves)."""
        message_id = new_message_id()
        now = self.clock()
        me = sender.spec.session_id
        await self.sent.add(me, self._record(message, message_id))
        reached = await self.exchange.sessions_of([*recipients, phone])
        theirs = [s for number in recipients for s in reached.get(number, ()) if s != me]
        twins = [s for s in reached.get(phone, ()) if s != me]
        posted = []
        # Most sends reach no sandbox session (a number nobody linked): build nothing then.
        if theirs:
            incoming = await self.incoming(
                message,
                message_id=message_id,
                sender_phone=phone,
                sender_name=sender.push_name,
                chat=chat,
                timestamp=int(now.timestamp()),
                is_group=is_group,
            )
            posted.append(self.exchange.post(theirs, incoming))
        if twins:  # other sessions linked to the same phone see what it sent
            own = await self.incoming(
                message,
                message_id=message_id,
                sender_phone=phone,
                sender_name=sender.push_name,
                chat=str(message.to),
                timestamp=int(now.timestamp()),
                is_group=is_group,
                from_me=True,
            )
            posted.append(self.exchange.post(twins, own))
        await asyncio.gather(*posted)
        if is_group:
            for number in recipients:  # each member's phone sends its own receipts
                self._receipts(sender, [message_id], str(message.to), participant=number)
        else:
            self._receipts(sender, [message_id], str(message.to))
        return SendResult(message_id=message_id, timestamp=now)

    async def relay(
        self,
        sender: SandboxSession,
        phone: str,
        to: Jid,
        audience: list[str],
        event: Callable[[str, bool], WhatsAppEvent],
        *,
        kind: str,
        text: str | None,
    ) -> SendResult:
        """Something other than a message sent to a chat (a reaction, an edit, a deletion,
        a vote): logged as sent, and `event(chat, from_me)` delivered to every session of
        each number of `audience` (`chat` as that side sees it) and, as `from_me`, to the
        sender's other sessions."""
        message_id = new_message_id()
        now = self.clock()
        await self.sent.add(
            sender.spec.session_id,
            SentRecord(message_id, str(to), kind, text, time.time(), time.monotonic()),
        )
        theirs = str(to) if to.is_group else str(Jid.user_jid(phone))
        for number in audience:
            await self.tell(number, event(theirs, False), but=sender)
        await self.tell(phone, event(str(to), True), but=sender)
        return SendResult(message_id=message_id, timestamp=now)

    async def tell(
        self, phone: str, event: WhatsAppEvent, *, but: SandboxSession | None = None
    ) -> None:
        """Every session linked to `phone` (but `but`) receives `event`."""
        reached = (await self.exchange.sessions_of([phone]))[phone]
        if but is not None:
            reached = [s for s in reached if s != but.spec.session_id]
        await self.exchange.post(reached, event)

    # -- presence ---------------------------------------------------------------------------

    async def subscribe(self, session: SandboxSession, phone: str) -> None:
        await self.exchange.watch(session, phone)

    async def set_presence(self, phone: str, state: str) -> None:
        """`phone` shows itself online or offline: its watchers hear of it."""
        await self.exchange.set_presence(phone, state)
        watchers = await self.exchange.watchers(phone)
        await self.exchange.post(watchers, PresenceChanged(Someone(phone), state))

    async def presence_of(self, phone: str) -> str:
        """What a watcher of `phone` sees: offline unless a linked session is, and says so."""
        if not (await self.exchange.sessions_of([phone]))[phone]:
            return "unavailable"
        return await self.exchange.presence(phone) or "available"

    async def notify(self, phone: str, event: WhatsAppEvent) -> asyncio.Future[None]:
        """Tell every session linked to `phone`; the future resolves once they stored it."""
        reached = (await self.exchange.sessions_of([phone]))[phone]
        return self.exchange.post(reached, event, stored=True)

    async def sent_by(self, session_id: str) -> list[SentRecord]:
        return await self.sent.of(session_id)

    async def wait_sent(self, session_id: str, count: int, timeout: float) -> list[SentRecord]:
        """Wait until `session_id` has sent at least `count` messages (a live view)."""
        return await self.sent.wait(session_id, count, timeout)

    async def forget(self, session_id: str, phone: str | None) -> None:
        """`session_id` (linked to `phone`, if it is) was deleted."""
        await self.sent.forget(session_id)
        await self.exchange.forget(session_id, phone)

    async def close(self) -> None:
        for timer in self._timers:
            timer.cancel()
        self._timers.clear()
        await self.exchange.close()

    # -- internals --------------------------------------------------------------------------

    @staticmethod
    def _record(message: OutgoingMessage, message_id: str) -> SentRecord:
        return SentRecord(
            message_id=message_id,
            to=str(message.to),
            type=message.type.value,
            text=message.text,
            sent_at=time.time(),
            monotonic=time.monotonic(),
        )

    async def incoming(
        self,
        message: OutgoingMessage,
        *,
        message_id: str,
        sender_phone: str,
        sender_name: str | None,
        chat: str,
        timestamp: int,
        is_group: bool = False,
        from_me: bool = False,
    ) -> MessageReceived:
        """What the receiving side of `message` sees (with `from_me`: what another session
        of the sending phone sees)."""
        wa_type = WA_TYPES[message.type]
        if message.type == MessageType.TEXT and (message.mentions or message.quoted_message_id):
            wa_type = "extendedTextMessage"  # what WhatsApp uses once there is context
        location, contact = message.location, message.contact
        media = None
        if message.media is not None:
            media = await self.media.store(
                message.media, message.type, voice_note=message.voice_note
            )
        return MessageReceived(
            message_id=message_id,
            chat=chat,
            sender_phone=sender_phone,
            sender_jid=str(Jid.user_jid(sender_phone)),
            sender_name=sender_name,
            wa_type=wa_type,
            body=message.text,
            timestamp=timestamp,
            is_group=is_group,
            from_me=from_me,
            media=media,
            quoted_message_id=message.quoted_message_id,
            mentions=tuple(jid.user for jid in message.mentions),
            latitude=location.latitude if location else None,
            longitude=location.longitude if location else None,
            location_name=location.name if location else None,
            location_address=location.address if location else None,
            contact_name=contact.name if contact else None,
            contact_vcard=contact.vcard() if contact else None,
            poll=message.poll,
        )

    def _receipts(
        self,
        sender: SandboxSession,
        message_ids: list[str],
        chat: str,
        participant: str | None = None,
    ) -> None:
        loop = asyncio.get_running_loop()
        for status, delay in (
            (MessageStatus.DELIVERED, self.settings.receipt_delivered_seconds),
            (MessageStatus.READ, self.settings.receipt_read_seconds),
        ):
            receipt = ReceiptReceived(
                message_ids=tuple(message_ids),
                chat=chat,
                status=status,
                timestamp=int(time.time()),
                participant_phone=participant,
            )
            self._after(loop, delay, sender, receipt)

    def _after(
        self,
        loop: asyncio.AbstractEventLoop,
        delay: float,
        sender: SandboxSession,
        receipt: ReceiptReceived,
    ) -> None:
        """A timer, not a task: thousands of receipts in flight cost nothing until due."""

        def fire() -> None:
            self._timers.discard(handle)
            # Posted, not handed: a sender that moved meanwhile gets it where it runs.
            posted = self.exchange.post([sender.spec.session_id], receipt, volatile=True)
            posted.add_done_callback(_log_lost_receipt)

        handle = loop.call_later(delay, fire)
        self._timers.add(handle)


def _log_lost_receipt(posted: asyncio.Future[None]) -> None:
    if not posted.cancelled() and (error := posted.exception()) is not None:
        logger.warning("sandbox.receipt_lost", error=str(error))
