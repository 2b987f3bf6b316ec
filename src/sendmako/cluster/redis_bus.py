"""The cluster's bus, on Redis (the contract is in bus.py).

- Broadcasts: one pub/sub channel, `<prefix>:events`; each message names its topic and the
  process that sent it (a process does not hear its own).
- Calls: a node pops its requests from the list `<prefix>:rpc:<node>` and pushes the
  answer on the caller's `<prefix>:reply:<caller>` (lists, so nothing is lost while the
  other side is busy). A caller not answered within the time a request must be taken by
  removes its request from the list (`LREM`, atomic with the pops): removed, it was never
  taken, so "not performed" is certain; already gone, it was taken, and the caller waits
  for the answer. No acknowledgement crosses: a call costs four Redis round trips. A
  request popped after its time anyway (the callee's clock, in step by NTP) is answered
  "too late" unperformed, and one popped by a stopping node goes back to the list.
- Liveness: each node keeps `<prefix>:alive:<node>` alive with a short expiry. A caller
  whose accepted call goes unanswered checks it now and then: gone means `NodeLost`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError

from sendmako import log
from sendmako.cluster.bus import ACCEPT_SECONDS, Bus, Message, NodeLost, NotDelivered
from sendmako.concurrency.background import Background
from sendmako.errors import SendmakoError, Unavailable, from_data, to_data

logger = log.get(__name__)

# A node is gone once its alive key has not been refreshed for this long.
ALIVE_SECONDS = 10.0
# A caller waiting for an accepted call's answer checks the node is alive this often.
LIVENESS_CHECK_SECONDS = 2.0
# Answers for a caller that died are of no use to anyone after this.
REPLY_KEEP_SECONDS = 120
# Clocks of two hosts differ by a little, even with NTP: the caller waits this much longer
# than the time by which a request must be taken, before taking it back.
CLOCK_MARGIN_SECONDS = 1.0
# A blocking read returns empty-handed this often (a connection is never silent for long,
# and the redis client's read timeout, 5 s by default, is never reached).
BLOCK_SECONDS = 1
# At a stop, calls already taken get this long to be answered (the sessions are stopped
# first: their sends are answered by then).
STOP_GRACE_SECONDS = 15.0
RECONNECT_BACKOFF_SECONDS = (0.1, 0.5, 1.0, 2.0, 5.0)


_WAKE_UP = "{}"  # pushed on this node's own lists at a stop: not a request, not a reply
_TOO_LATE = "too_late"  # a reply: the request was taken after its time, and not performed


@dataclass
class _Pending:
    answer: asyncio.Future[Message] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


class RedisBus(Bus):
    def __init__(
        self,
        url: str,
        node: str,
        *,
        prefix: str = "sendmako",
        clock: Callable[[], float] = time.time,
        alive_seconds: float = ALIVE_SECONDS,
        liveness_check: float = LIVENESS_CHECK_SECONDS,
        clock_margin: float = CLOCK_MARGIN_SECONDS,
        stop_grace: float = STOP_GRACE_SECONDS,
    ) -> None:
        super().__init__(node)
        self.clock_margin = clock_margin
        self.stop_grace = stop_grace
        self.url = url
        self.prefix = prefix
        self.clock = clock
        self.alive_seconds = alive_seconds
        self.liveness_check = liveness_check
        # Named, for operators (CLIENT LIST) and tests.
        self.redis: Redis = Redis.from_url(
            url, decode_responses=True, client_name=f"{prefix}:{node}"
        )
        self._pending: dict[str, _Pending] = {}
        self._loops = Background("bus")
        self._answers = Background("bus-calls")
        self._serving = False

    @property
    def clustered(self) -> bool:
        return True

    # -- keys -------------------------------------------------------------------------------

    def _requests_of(self, node: str) -> str:
        return f"{self.prefix}:rpc:{node}"

    def _replies_of(self, node: str) -> str:
        return f"{self.prefix}:reply:{node}"

    def _alive_key(self, node: str) -> str:
        return f"{self.prefix}:alive:{node}"

    @property
    def _channel(self) -> str:
        return f"{self.prefix}:events"

    # -- lifetime ---------------------------------------------------------------------------

    async def start(self) -> None:
        try:
            await self.redis.ping()
        except RedisError as exc:
            raise Unavailable(
                f"Redis is unreachable ({_where(self.url)}): {exc}. Several nodes need it "
                "(SENDMAKO_REDIS_URL); unset it to run a single node.",
                code="redis_unreachable",
            ) from exc
        await self._keep_alive_once()
        pubsub = self.redis.pubsub()
        await pubsub.subscribe(self._channel)  # before start returns: nothing after is missed
        self._serving = True
        self._loops.spawn(self._listen(pubsub))
        self._loops.spawn(self._serve())
        self._loops.spawn(self._read_replies())
        self._loops.spawn(self._keep_alive())

    async def stop(self) -> None:
        self._serving = False
        # The redis client lets a blocking read finish even when cancelled: wake them.
        with contextlib.suppress(RedisError):
            async with self.redis.pipeline(transaction=False) as pipe:
                pipe.rpush(self._requests_of(self.node), _WAKE_UP)
                pipe.rpush(self._replies_of(self.node), _WAKE_UP)
                await pipe.execute()
        await self._loops.close()  # no request is taken from now on
        with contextlib.suppress(TimeoutError):  # those taken are answered
            await self._answers.idle(timeout=self.stop_grace)
        await self._answers.close()
        for pending in self._pending.values():
            if not pending.answer.done():
                pending.answer.set_exception(Unavailable("This node is stopping.", code="stopping"))
        with contextlib.suppress(RedisError):
            await self.redis.delete(self._alive_key(self.node))
        await self.redis.aclose()

    # -- broadcasts -------------------------------------------------------------------------

    async def publish(self, topic: str, message: Message) -> None:
        await self.redis.publish(
            self._channel, json.dumps({"from": self.node, "topic": topic, "data": message})
        )

    async def _listen(self, pubsub: Any) -> None:
        failures = 0
        while True:
            try:
                if pubsub is None:
                    pubsub = self.redis.pubsub()
                    await pubsub.subscribe(self._channel)
                    logger.info("bus.reconnected", node=self.node)
                    for listener in self._reconnect:
                        _safely(listener)
                failures = 0
                async for raw in pubsub.listen():
                    if raw.get("type") == "message":
                        self._hear(raw["data"])
            except (RedisError, OSError) as exc:
                logger.warning("bus.disconnected", node=self.node, error=str(exc))
                with contextlib.suppress(RedisError, OSError):
                    await pubsub.aclose()
                pubsub = None
                await asyncio.sleep(_backoff(failures))
                failures += 1

    def _hear(self, raw: str) -> None:
        try:
            envelope = json.loads(raw)
        except ValueError:
            logger.warning("bus.bad_message", node=self.node)
            return
        if envelope.get("from") == self.node:
            return
        for listener in self._listeners.get(str(envelope.get("topic")), ()):
            _safely(listener, envelope.get("data") or {})

    # -- calls: the caller's side -----------------------------------------------------------

    async def call(
        self, node: str, method: str, payload: Message, *, accept_within: float = ACCEPT_SECONDS
    ) -> Message:
        if node == self.node:
            return await self._perform(method, payload)
        call_id = uuid.uuid4().hex
        pending = self._pending[call_id] = _Pending()
        request = {
            "id": call_id,
            "from": self.node,
            "method": method,
            "payload": payload,
            "accept_by": self.clock() + accept_within,
        }
        raw = json.dumps(request)
        try:
            try:
                await self.redis.rpush(self._requests_of(node), raw)
            except RedisError as exc:
                raise NotDelivered(f"Node {node} is not reachable: {exc}") from exc
            # Most calls are answered well within the time a request must be taken by.
            done, _ = await asyncio.wait(
                {pending.answer}, timeout=accept_within + self.clock_margin
            )
            if not done and await self._taken_back(node, raw):
                raise NotDelivered(
                    f"Node {node} did not take the request within {accept_within:g} s "
                    "(stalled or gone): nothing was done."
                )
            while True:  # taken: the answer comes, or the node is gone
                done, _ = await asyncio.wait({pending.answer}, timeout=self.liveness_check)
                if done:
                    answer = pending.answer.result()
                    if answer.get(_TOO_LATE):
                        raise NotDelivered(
                            f"Node {node} took the request after its time: nothing was done."
                        )
                    return answer
                if not await self.alive(node):
                    raise NodeLost(
                        f"Node {node} stopped answering after it took the request: whether "
                        "it was done is unknown, and it was not done again."
                    )
        finally:
            del self._pending[call_id]

    async def _taken_back(self, node: str, raw: str) -> bool:
        """Whether the request was still waiting in the node's list (and is no more)."""
        try:
            return bool(await self.redis.lrem(self._requests_of(node), 1, raw))
        except RedisError:
            return False  # cannot tell: wait for the answer as if it was taken

    async def alive(self, node: str) -> bool:
        if node == self.node:
            return True
        try:
            return bool(await self.redis.exists(self._alive_key(node)))
        except RedisError:
            return True  # cannot tell: keep waiting rather than guess it died

    async def _read_replies(self) -> None:
        key, failures = self._replies_of(self.node), 0
        while self._serving:
            try:
                item = await self.redis.blpop([key], timeout=BLOCK_SECONDS)
                failures = 0
            except (RedisError, OSError) as exc:
                logger.warning("bus.replies_unreadable", node=self.node, error=str(exc))
                await asyncio.sleep(_backoff(failures))
                failures += 1
                continue
            if item is None:
                continue
            reply = json.loads(item[1])
            pending = self._pending.get(str(reply.get("id")))
            if pending is None:
                continue  # its caller gave up
            if reply.get(_TOO_LATE) and not pending.answer.done():
                pending.answer.set_result({_TOO_LATE: True})
            elif "answer" in reply and not pending.answer.done():
                pending.answer.set_result(reply["answer"])
            elif "error" in reply and not pending.answer.done():
                pending.answer.set_exception(from_data(reply["error"]))

    # -- calls: the node's side -------------------------------------------------------------

    async def _serve(self) -> None:
        key, failures = self._requests_of(self.node), 0
        while self._serving:
            try:
                item = await self.redis.blpop([key], timeout=BLOCK_SECONDS)
                failures = 0
            except (RedisError, OSError) as exc:
                logger.warning("bus.requests_unreadable", node=self.node, error=str(exc))
                await asyncio.sleep(_backoff(failures))
                failures += 1
                continue
            if item is None:
                continue
            request = json.loads(item[1])
            if "id" not in request:
                continue  # woken up to stop
            if not self._serving:  # popped while stopping: back to the front, untouched
                with contextlib.suppress(RedisError):
                    await self.redis.lpush(key, item[1])
                continue
            if self.clock() > float(request["accept_by"]):
                # Its caller may have told its client that nothing was done: keep it true.
                logger.warning("bus.request_too_late", method=request.get("method"))
                await self._reply(request, {_TOO_LATE: True})
                continue
            self._answers.spawn(self._answer(request))

    async def _answer(self, request: Message) -> None:
        try:
            answer = await self._perform(str(request["method"]), request["payload"])
        except SendmakoError as exc:
            await self._reply(request, {"error": to_data(exc)})
        except Exception as exc:  # noqa: BLE001 - the caller gets a 500, this node goes on
            logger.exception("bus.call_failed", method=request.get("method"))
            await self._reply(request, {"error": to_data(SendmakoError(f"Internal error: {exc}"))})
        else:
            await self._reply(request, {"answer": answer})

    async def _perform(self, method: str, payload: Message) -> Message:
        handler = self._handlers.get(method)
        if handler is None:
            raise Unavailable(f"Node {self.node} does not answer {method}.", code="no_handler")
        return await handler(payload)

    async def _reply(self, request: Message, body: Message) -> None:
        key = self._replies_of(str(request["from"]))
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.rpush(key, json.dumps({"id": request["id"], **body}))
            pipe.expire(key, REPLY_KEEP_SECONDS)
            await pipe.execute()

    # -- liveness ---------------------------------------------------------------------------

    async def _keep_alive_once(self) -> None:
        await self.redis.set(
            self._alive_key(self.node), str(os.getpid()), px=int(self.alive_seconds * 1000)
        )

    async def _keep_alive(self) -> None:
        while True:
            await asyncio.sleep(self.alive_seconds / 3)
            try:
                await self._keep_alive_once()
            except RedisError as exc:
                logger.warning("bus.keep_alive_failed", node=self.node, error=str(exc))


async def publish_once(url: str, prefix: str, topic: str, message: Message) -> None:
    """Tell every node, from a process that is not one (the CLI)."""
    redis: Redis = Redis.from_url(url, decode_responses=True)
    try:
        envelope = {"from": f"cli:{os.getpid()}", "topic": topic, "data": message}
        await redis.publish(f"{prefix}:events", json.dumps(envelope))
    finally:
        await redis.aclose()


def _safely(listener: Callable[..., None], *args: Any) -> None:
    try:
        listener(*args)
    except Exception:  # noqa: BLE001 - one listener's bug must not deafen the others
        logger.exception("bus.listener_failed")


def _backoff(failures: int) -> float:
    return RECONNECT_BACKOFF_SECONDS[min(failures, len(RECONNECT_BACKOFF_SECONDS) - 1)]


def _where(url: str) -> str:
    """The URL without its password, for messages."""
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{rest.rpartition('@')[2]}"
