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
Attempts are fair between accounts and endpoints (concurrency/fair.py): a bounded number
go out at once, at most `per_account` for one account and `per_endpoint` to one endpoint,
handed out in turn, so one account's backlog or hanging endpoints cannot hold back another
account's deliveries. Each attempt's timeout counts from when it starts, not from when it
was queued. An endpoint that keeps timing out has its circuit opened (breaker.py): its
deliveries are postponed in the outbox, in order, with no attempt counted. The dispatcher
claims no more deliveries for an endpoint or an account than it may soon send
(`held_per_endpoint`, `held_per_account`), so a huge backlog stays in the database, not in
memory, and another account's new deliveries are claimed at the next cycle.

The HTTP client, clock, policy and randomness are injected: tests drive `run_once()`.
The client is the guarded one (net/guarded.py): every connection it opens is checked
against the private-address policy at delivery time, whatever the URL resolved to when
it was saved.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from collections.abc import Callable, Sequence
from contextlib import AsyncExitStack, suppress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import Enum
from itertools import groupby

from sendmako import log, metrics
from sendmako.concurrency.fair import FairSlots
from sendmako.errors import SendmakoError
from sendmako.model.statuses import DeliveryStatus
from sendmako.net.client import Answer, HttpClient, Timeout, Timeouts, TransportError
from sendmako.net.hosts import InvalidURL, parse_url
from sendmako.storage import webhooks
from sendmako.storage.db import Database
from sendmako.webhooks import signing
from sendmako.webhooks.breaker import Breakers
from sendmako.webhooks.retry import RetryPolicy

logger = log.get(__name__)

TIMEOUT_SECONDS = 10.0  # for a whole attempt: connecting, sending, the answer's head
MAX_FAILED_CYCLES = 3
EXCERPT_BYTES = 512


@dataclass(frozen=True, slots=True)
class Limits:
    """How many attempts go out at once: in all, for one account, to one endpoint; and how
    many test events ("send a test event") at once, in all (one per account). The
    outbound pool of webhooks has room for all of them (`connections`)."""

    total: int = 64
    per_account: int = 16
    # 8: one endpoint behind a loaded server still takes 200 events/s at 40 ms each.
    per_endpoint: int = 8
    tests: int = 8

    @property
    def connections(self) -> int:
        return self.total + self.tests

    @property
    def held_per_endpoint(self) -> int:
        # Claimed and waiting for a slot: enough to keep the endpoint's slots busy, few
        # enough to be sent well within the claim's lease even at one timeout each.
        return self.per_endpoint * 8

    @property
    def held_per_account(self) -> int:
        return self.per_account * 8


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
        limits: Limits | None = None,
        breakers: Breakers | None = None,
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
        self.limits = limits or Limits()
        self.breakers = breakers or Breakers(clock, probe_wait=timedelta(seconds=timeout))
        self._slots = FairSlots(
            total=self.limits.total,
            per_owner=self.limits.per_account,
            per_group=self.limits.per_endpoint,
        )
        self._test_slots = FairSlots(total=self.limits.tests, per_owner=1, per_group=1)
        # Claimed and not yet finished, to claim no more than can soon be sent.
        self._held_by_endpoint: Counter[int] = Counter()
        self._held_by_account: Counter[int] = Counter()
        self._endpoints_of: dict[int, set[int]] = {}  # account -> endpoints seen
        self._wakeup = asyncio.Event()
        self._loop: asyncio.Task[None] | None = None
        self._stopping = False
        self._chains: set[asyncio.Task[None]] = set()
        # Written by the next cycle's transaction.
        self._outcomes: list[webhooks.Outcome] = []
        self._released: list[int] = []
        self._postponed: list[tuple[int, datetime]] = []
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
        await asyncio.gather(*(self._deliver_chain(chain) for chain in self._hold(claimed)))
        await self._cycle(claim=False)
        return len(claimed)

    async def deliver_now(self, delivery_id: int, account: int) -> webhooks.Outcome | None:
        """Attempt one delivery at once, out of turn (the "send a test event" button),
        beside (not among) the other deliveries' slots: a few tests at once in all, one per
        account. Answers within twice the attempt timeout: waiting for the account's test
        slot, then the attempt. None when it could not be attempted: it stays due, and
        goes out with the others."""
        async with AsyncExitStack() as slot:
            try:
                async with asyncio.timeout(self.timeout):
                    await slot.enter_async_context(
                        self._test_slots.slot(owner=account, group=account)
                    )
            except TimeoutError:
                return None
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
                for chain in self._hold(await self._cycle()):
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
        postponed, self._postponed = self._postponed, []
        if not (claim or outcomes or released or postponed):
            return []
        try:
            async with self.db.write() as tx:
                await webhooks.record(tx, outcomes, node=self.node)
                await webhooks.release(tx, released)
                for until, ids in _by_time(postponed).items():
                    await webhooks.postpone(tx, ids, until)
                claimed = []
                if claim:
                    now = self.clock()
                    claimed = await webhooks.claim(
                        tx,
                        node=self.node,
                        now=now,
                        until=now + self.lease,
                        limit=self.batch,
                        skip=self._skipped(),
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
                self._postponed[:0] = postponed
            else:
                logger.exception("webhooks.outcomes_dropped", count=len(outcomes))
                self._failed_cycles = 0
            raise
        self._failed_cycles = 0
        return claimed

    def _skipped(self) -> list[int]:
        """Endpoints to claim nothing for now: their circuit is open, or this node holds
        as many of their (or their account's) deliveries as it may soon send."""
        skip = set(self.breakers.open_endpoints())
        skip.update(
            endpoint
            for endpoint, held in self._held_by_endpoint.items()
            if held >= self.limits.held_per_endpoint
        )
        for account, held in self._held_by_account.items():
            if held >= self.limits.held_per_account:
                skip.update(self._endpoints_of.get(account, ()))
        return sorted(skip)

    def _hold(self, claimed: Sequence[webhooks.Claimed]) -> list[list[webhooks.Claimed]]:
        """The claimed deliveries as chains, counted as held until their chain ends."""
        for delivery in claimed:
            self._held_by_endpoint[delivery.endpoint_id] += 1
            self._held_by_account[delivery.user_id] += 1
            self._endpoints_of.setdefault(delivery.user_id, set()).add(delivery.endpoint_id)
        return _chains(claimed)

    def _let_go(self, chain: Sequence[webhooks.Claimed]) -> None:
        for delivery in chain:
            for counter, key in (
                (self._held_by_endpoint, delivery.endpoint_id),
                (self._held_by_account, delivery.user_id),
            ):
                counter[key] -= 1
                if counter[key] <= 0:
                    del counter[key]
            if delivery.user_id not in self._held_by_account:
                self._endpoints_of.pop(delivery.user_id, None)

    async def _deliver_chain(self, chain: Sequence[webhooks.Claimed]) -> None:
        try:
            for index, delivery in enumerate(chain):
                outcome = await self._deliver(delivery)  # None: postponed
                if outcome is not None:
                    metrics.webhook_attempt(
                        outcome.status, delivery.retry_from, outcome.attempted_at
                    )
                    self._outcomes.append(outcome)
                if outcome is None or outcome.status != DeliveryStatus.SUCCEEDED:
                    # The rest of the chain waits behind this one: hand it back.
                    self._released.extend(later.id for later in chain[index + 1 :])
                    break
        finally:
            self._let_go(chain)

    async def _deliver(self, delivery: webhooks.Claimed) -> webhooks.Outcome | None:
        """One delivery in its turn: its outcome, or None when its endpoint's circuit is
        open (then it is postponed until the circuit lets an attempt through)."""
        endpoint = delivery.endpoint_id
        if (until := self.breakers.closed_until(endpoint)) is None:
            async with self._slots.slot(owner=delivery.user_id, group=endpoint):
                # The circuit may have opened while this one waited for its turn.
                if (until := self.breakers.admit(endpoint)) is None:
                    return await self._attempt(delivery, breaker=True)
        self._postponed.append((delivery.id, until))
        return None

    async def _attempt(
        self, delivery: webhooks.Claimed, *, breaker: bool = False
    ) -> webhooks.Outcome:
        """Send it now, within the attempt timeout from now on. Whatever happens ends as
        an outcome (to record): nothing raised here may leave a delivery claimed and
        unattempted. With `breaker`, its endpoint's circuit learns how it went."""
        now = self.clock()
        attempts = delivery.attempts + 1
        bound = logger.bind(delivery_id=delivery.id, event_id=delivery.event_id, attempt=attempts)
        if not delivery.enabled:
            return self._outcome(
                delivery, now, error="the endpoint is disabled", ok=False, final=True
            )
        started = time.perf_counter()
        status: int | None = None
        excerpt: str | None = None
        error: str | None = None
        result = _Result.FAILED
        try:
            body = delivery.body.encode()
            headers = signing.headers(
                secret=delivery.secret,
                event_id=delivery.event_id,
                event_name=delivery.event_name,
                timestamp=int(now.timestamp()),
                body_bytes=body,
            )
            url = parse_url(delivery.url)
            # The whole attempt is bounded, not only each read: an endpoint that trickles
            # its answer must not hold a slot for ever.
            async with (
                asyncio.timeout(self.timeout),
                self.client.request(
                    "POST", url, headers=headers, body=body, timeouts=self._timeouts
                ) as answer,
            ):
                status = answer.status
                result = _Result.ANSWERED
                excerpt = await _excerpt(answer)
        except (Timeout, TimeoutError):
            error = f"no answer within {self.timeout:g} s"
            if result != _Result.ANSWERED:
                result = _Result.TIMED_OUT
        except TransportError as exc:
            error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        except InvalidURL as exc:  # saved before URLs were checked as they are now
            error = f"not a valid URL: {exc}"
        except SendmakoError as exc:  # the address guard refused the URL
            error = exc.message
        except Exception as exc:  # noqa: BLE001 - an attempt always ends as an outcome
            bound.exception("webhooks.attempt_crashed")
            error = f"the attempt failed ({type(exc).__name__})"
        if breaker:
            self._learn(delivery.endpoint_id, result)
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

    def _learn(self, endpoint: int, result: _Result) -> None:
        if result == _Result.ANSWERED:
            self.breakers.answered(endpoint)
        elif result == _Result.TIMED_OUT:
            if self.breakers.timed_out(endpoint):
                logger.warning("webhooks.circuit_open", endpoint_id=endpoint)
        else:
            self.breakers.failed(endpoint)

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


class _Result(Enum):
    ANSWERED = "answered"  # any status: the endpoint is alive
    TIMED_OUT = "timed_out"
    FAILED = "failed"  # refused, reset, not allowed...


def _by_time(postponed: Sequence[tuple[int, datetime]]) -> dict[datetime, list[int]]:
    found: dict[datetime, list[int]] = {}
    for delivery_id, until in postponed:
        found.setdefault(until, []).append(delivery_id)
    return found


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
