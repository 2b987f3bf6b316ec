"""Delivers the outbox: claims due deliveries, posts them with one shared HTTP client,
records every attempt, and reschedules or gives up by the retry policy.

Deliveries are claimed by chain prefix (consecutive deliveries of one chat to one
endpoint) with a lease, and each prefix is delivered in order by one task, so ordering
costs no database round trip per event; different chains go out concurrently. A failed
delivery stops its chain until its retry: later events of that chat wait behind it.

The database sees one transaction per cycle: the outcomes of the attempts finished since
the last cycle, the chains handed back, then the next claim. (On SQLite every transaction
waits for the single writer; one per delivery would make the lock the bottleneck.) An
outcome not yet written when the process dies leaves its delivery claimed: it is sent
again once the lease expires or the node restarts, never lost.
The HTTP client, clock, policy and randomness are injected: tests drive `run_once()`.
The client is the guarded one (net/guarded.py): every connection it opens is checked
against the private-address policy at delivery time, whatever the URL resolved to when
it was saved.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable, Sequence
from contextlib import suppress
from datetime import UTC, datetime, timedelta
from itertools import groupby

from sendmako import log, metrics
from sendmako.errors import SendmakoError
from sendmako.model.statuses import DeliveryStatus
from sendmako.net.client import Answer, HttpClient, Timeout, Timeouts, TransportError
from sendmako.net.hosts import InvalidURL, parse_url
from sendmako.storage import webhooks
from sendmako.storage.db import Database
from sendmako.webhooks import signing
from sendmako.webhooks.retry import RetryPolicy

logger = log.get(__name__)

TIMEOUT_SECONDS = 10.0  # for a whole attempt: connecting, sending, the answer's head
MAX_FAILED_CYCLES = 3
EXCERPT_BYTES = 512


class Dispatcher:
    def __init__(
        self,
        db: Database,
        client: HttpClient,
        *,
        node: str,
        policy: RetryPolicy | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        rng: random.Random | None = None,
        concurrency: int = 16,
        batch: int = 500,
        lease: timedelta = timedelta(minutes=5),
        poll_seconds: float = 1.0,
        timeout: float = TIMEOUT_SECONDS,
    ) -> None:
        self.db = db
        self.client = client
        self.node = node
        self.policy = policy or RetryPolicy()
        self.clock = clock
        self.rng = rng or random.Random()  # noqa: S311 - jitter, not secrecy
        self.batch = batch
        self.lease = lease
        self.poll_seconds = poll_seconds
        self.timeout = timeout
        self._timeouts = Timeouts(connect=timeout, read=timeout)
        self._requests = asyncio.Semaphore(concurrency)
        self._wakeup = asyncio.Event()
        self._loop: asyncio.Task[None] | None = None
        self._stopping = False
        self._chains: set[asyncio.Task[None]] = set()
        # Written by the next cycle's transaction.
        self._outcomes: list[webhooks.Outcome] = []
        self._released: list[int] = []
        self._failed_cycles = 0

    # -- lifetime ---------------------------------------------------------------------------

    async def start(self, *, background: bool = True) -> None:
        """Take back what this node held before a restart, then deliver in the background
        (tests pass `background=False` and call `run_once()`)."""
        async with self.db.write() as tx:
            released = await webhooks.release_node(tx, self.node)
        if released:
            logger.info("webhooks.claims_released", count=released)
        if background:
            self._loop = asyncio.create_task(self._run(), name="webhook-dispatcher")

    async def stop(self) -> None:
        # The loop finishes the cycle it is in rather than being cancelled inside its
        # transaction: cut short there, SQLite's connection keeps its lock until collected.
        loop, self._loop = self._loop, None
        self._stopping = True
        self._wakeup.set()
        if loop is not None:
            await loop
        chains = list(self._chains)
        for chain in chains:
            chain.cancel()
        await asyncio.gather(*chains, return_exceptions=True)
        await self._cycle(claim=False)

    def wake(self) -> None:
        """New deliveries are committed: look now rather than at the next poll."""
        self._wakeup.set()

    # -- one pass (tests call this directly) ---------------------------------------------------

    async def run_once(self) -> int:
        """Claim what is due, deliver it, store the outcomes. Returns the attempts made."""
        claimed = await self._cycle()
        await asyncio.gather(*(self._deliver_chain(chain) for chain in _chains(claimed)))
        await self._cycle(claim=False)
        return len(claimed)

    async def deliver_now(self, delivery_id: int) -> webhooks.Outcome | None:
        """Attempt one delivery at once, out of turn (the "send test event" button)."""
        now = self.clock()
        async with self.db.write() as tx:
            claimed = await webhooks.claim_one(
                tx, delivery_id, node=self.node, now=now, until=now + self.lease
            )
        if claimed is None:
            return None
        outcome = await self._attempt(claimed)
        async with self.db.write() as tx:
            await webhooks.record(tx, [outcome], node=self.node)
        self.wake()
        return outcome

    # -- internals ----------------------------------------------------------------------------

    async def _run(self) -> None:
        while not self._stopping:
            self._wakeup.clear()
            try:
                for chain in _chains(await self._cycle()):
                    task = asyncio.create_task(self._deliver_chain(chain))
                    self._chains.add(task)
                    task.add_done_callback(self._chain_done)
            except Exception:  # noqa: BLE001 - the dispatcher must outlive a database hiccup
                logger.exception("webhooks.claim_failed")
            if self._stopping:
                return
            with suppress(TimeoutError):
                async with asyncio.timeout(self.poll_seconds):
                    await self._wakeup.wait()

    def _chain_done(self, task: asyncio.Task[None]) -> None:
        self._chains.discard(task)
        self.wake()  # the chain's next events (or others) may now be due

    async def _cycle(self, *, claim: bool = True) -> list[webhooks.Claimed]:
        """One transaction: store the outcomes gathered since the last cycle, hand back
        what failed chains no longer hold, then (with `claim`) claim what is due."""
        outcomes, self._outcomes = self._outcomes, []
        released, self._released = self._released, []
        if not (claim or outcomes or released):
            return []
        try:
            async with self.db.write() as tx:
                await webhooks.record(tx, outcomes, node=self.node)
                await webhooks.release(tx, released)
                claimed = []
                if claim:
                    now = self.clock()
                    claimed = await webhooks.claim(
                        tx, node=self.node, now=now, until=now + self.lease, limit=self.batch
                    )
        except BaseException:
            # Not written: keep them for the next cycles (their deliveries stay claimed, so
            # writing them twice is harmless: `record` skips what this node no longer holds).
            # After a few failures give them up: the deliveries go out again once their
            # lease ends, rather than one bad row stopping every later cycle.
            self._failed_cycles += 1
            if self._failed_cycles < MAX_FAILED_CYCLES:
                self._outcomes[:0] = outcomes
                self._released[:0] = released
            else:
                logger.exception("webhooks.outcomes_dropped", count=len(outcomes))
                self._failed_cycles = 0
            raise
        self._failed_cycles = 0
        return claimed

    async def _deliver_chain(self, chain: Sequence[webhooks.Claimed]) -> None:
        for index, delivery in enumerate(chain):
            outcome = await self._attempt(delivery)
            metrics.webhook_attempt(outcome.status, delivery.retry_from, outcome.attempted_at)
            self._outcomes.append(outcome)
            if outcome.status != DeliveryStatus.SUCCEEDED:
                # The rest of the chain waits behind this one: hand it back.
                self._released.extend(later.id for later in chain[index + 1 :])
                break

    async def _attempt(self, delivery: webhooks.Claimed) -> webhooks.Outcome:
        now = self.clock()
        attempts = delivery.attempts + 1
        bound = logger.bind(delivery_id=delivery.id, event_id=delivery.event_id, attempt=attempts)
        if not delivery.enabled:
            return self._outcome(
                delivery, now, error="the endpoint is disabled", ok=False, final=True
            )
        body = delivery.body.encode()
        headers = signing.headers(
            secret=delivery.secret,
            event_id=delivery.event_id,
            event_name=delivery.event_name,
            timestamp=int(now.timestamp()),
            body_bytes=body,
        )
        started = time.perf_counter()
        status: int | None = None
        excerpt: str | None = None
        error: str | None = None
        try:
            url = parse_url(delivery.url)
            # The whole attempt is bounded (once it has a slot), not only each read: an
            # endpoint that trickles its answer must not hold a slot for ever.
            async with (
                self._requests,
                asyncio.timeout(self.timeout),
                self.client.request(
                    "POST", url, headers=headers, body=body, timeouts=self._timeouts
                ) as answer,
            ):
                status = answer.status
                excerpt = await _excerpt(answer)
        except (Timeout, TimeoutError):
            error = f"no answer within {self.timeout:g} s"
        except TransportError as exc:
            error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        except InvalidURL as exc:  # saved before URLs were checked as they are now
            error = f"not a valid URL: {exc}"
        except SendmakoError as exc:  # the address guard refused the URL
            error = exc.message
        latency = round((time.perf_counter() - started) * 1000)
        ok = status is not None and 200 <= status < 300
        if ok:
            bound.info("webhooks.delivered", status=status, ms=latency)
        else:
            bound.warning("webhooks.attempt_failed", status=status, error=error, ms=latency)
        if error is None and not ok:
            error = f"HTTP {status}"
        return self._outcome(
            delivery,
            now,
            status=status,
            error=error,
            latency=latency,
            excerpt=excerpt,
            ok=ok,
            final=False,
        )

    def _outcome(
        self,
        delivery: webhooks.Claimed,
        now: datetime,
        *,
        ok: bool,
        final: bool,
        status: int | None = None,
        error: str | None = None,
        latency: int = 0,
        excerpt: str | None = None,
    ) -> webhooks.Outcome:
        """The delivery's fate after this attempt: done, retried later, or given up
        (`final` gives up at once, e.g. for a disabled endpoint)."""
        if ok:
            new_status, next_at = DeliveryStatus.SUCCEEDED, None
        else:
            next_at = (
                None
                if final
                else self.policy.next_attempt(
                    attempts=delivery.attempts + 1,
                    retry_from=delivery.retry_from,
                    now=now,
                    rng=self.rng,
                )
            )
            new_status = DeliveryStatus.PENDING if next_at is not None else DeliveryStatus.FAILED
            if new_status == DeliveryStatus.FAILED:
                logger.warning("webhooks.gave_up", delivery_id=delivery.id, error=error)
        return webhooks.Outcome(
            delivery_id=delivery.id,
            attempted_at=now,
            status_code=status,
            error=None if ok else error,
            latency_ms=latency,
            response_excerpt=excerpt,
            status=new_status,
            next_attempt_at=next_at,
        )


def _chains(claimed: Sequence[webhooks.Claimed]) -> list[list[webhooks.Claimed]]:
    ordered = sorted(claimed, key=lambda d: (d.endpoint_id, d.chain, d.id))
    return [list(group) for _, group in groupby(ordered, key=lambda d: (d.endpoint_id, d.chain))]


async def _excerpt(answer: Answer) -> str:
    """The first bytes of the answer, never the whole of a large one."""
    collected = b""
    async for chunk in answer.chunks():
        collected += chunk
        if len(collected) >= EXCERPT_BYTES:
            break
    return collected[:EXCERPT_BYTES].decode("utf-8", errors="replace")
