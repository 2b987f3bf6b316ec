"""The login throttle of several nodes (throttle.py has the rules): its counters in Redis,
so guesses spread over the nodes count once. Each counter is a sorted set of guesses by
time: `fail:` the failed ones in the window, `busy:` those being checked now. Each step
runs as one script, so two nodes never both take the last slot.

A guess being checked holds its slot for `BUSY_SECONDS` at most: a node that dies while
checking a password does not hold it forever. Keys carry a hash of the email and address,
not the values themselves."""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Callable

from redis.asyncio import Redis

from sendmako.dashboard.throttle import (
    BUSY_RETRY_SECONDS,
    Attempt,
    Throttle,
    Throttled,
    ThrottlePolicy,
)

# A password check takes ~50 ms: one still "being checked" after this was lost with its node.
BUSY_SECONDS = 60.0

# KEYS: fail:k1, busy:k1, fail:k2, busy:k2...; ARGV: now, window, busy_seconds, busy_retry,
# attempt id, limit1, limit2... Answers the seconds to wait ("0": the slots are taken).
_BEGIN = """
local now, window, busy_for, busy_retry = tonumber(ARGV[1]), tonumber(ARGV[2]),
    tonumber(ARGV[3]), tonumber(ARGV[4])
local wait = 0
for i = 1, #KEYS, 2 do
  local fail, busy, limit = KEYS[i], KEYS[i + 1], tonumber(ARGV[5 + (i + 1) / 2])
  redis.call('ZREMRANGEBYSCORE', fail, '-inf', now - window)
  redis.call('ZREMRANGEBYSCORE', busy, '-inf', now - busy_for)
  local failures, checking = redis.call('ZCARD', fail), redis.call('ZCARD', busy)
  if failures + checking >= limit then
    local this = busy_retry
    if failures >= limit then
      local oldest = redis.call('ZRANGE', fail, failures - limit, failures - limit, 'WITHSCORES')
      this = tonumber(oldest[2]) + window - now
    end
    if this > wait then wait = this end
  end
end
if wait > 0 then return tostring(wait) end
for i = 1, #KEYS, 2 do
  redis.call('ZADD', KEYS[i + 1], now, ARGV[5])
  redis.call('PEXPIRE', KEYS[i + 1], math.ceil(busy_for * 1000))
end
return '0'
"""

# KEYS: fail:k1, busy:k1... then the `fail:` keys to clear; ARGV: now, window, attempt id,
# failed (1 or 0), the number of counters.
_END = """
local now, window, id, failed, counted = tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3],
    ARGV[4] == '1', tonumber(ARGV[5])
for i = 1, counted * 2, 2 do
  redis.call('ZREM', KEYS[i + 1], id)
  if failed then
    redis.call('ZADD', KEYS[i], now, id)
    redis.call('PEXPIRE', KEYS[i], math.ceil(window * 1000))
  end
end
for i = counted * 2 + 1, #KEYS do
  redis.call('DEL', KEYS[i])
end
return 1
"""


class RedisThrottle(Throttle):
    def __init__(
        self,
        redis: Redis,
        prefix: str,
        policy: ThrottlePolicy | None = None,
        *,
        clock: Callable[[], float] = time.time,  # every node's: wall clocks, in step (NTP)
        busy_seconds: float = BUSY_SECONDS,
    ) -> None:
        super().__init__(policy)
        self.redis = redis
        self.prefix = prefix
        self.clock = clock
        self.busy_seconds = busy_seconds
        self._begin = redis.register_script(_BEGIN)
        self._end_script = redis.register_script(_END)

    async def begin(
        self, email: str, address: str, *, device: str | None = None
    ) -> Attempt | Throttled:
        limits, clears = self.limits(email, address, device)
        keys: list[str] = []
        for key in limits:
            keys += [self._key("fail", key), self._key("busy", key)]
        attempt_id = secrets.token_hex(8)
        policy = self.policy
        wait = float(
            await self._begin(
                keys=keys,
                args=[
                    self.clock(),
                    policy.window_seconds,
                    self.busy_seconds,
                    BUSY_RETRY_SECONDS,
                    attempt_id,
                    *limits.values(),
                ],
            )
        )
        if wait > 0:
            return Throttled(wait)
        return Attempt(self, tuple(limits), clears, id=attempt_id)

    async def _end(self, attempt: Attempt, *, failed: bool, clears: tuple[str, ...]) -> None:
        keys: list[str] = []
        for key in attempt.keys:
            keys += [self._key("fail", key), self._key("busy", key)]
        keys += [self._key("fail", key) for key in clears]
        await self._end_script(
            keys=keys,
            args=[
                self.clock(),
                self.policy.window_seconds,
                attempt.id,
                1 if failed else 0,
                len(attempt.keys),
            ],
        )

    def _key(self, kind: str, counter: str) -> str:
        digest = hashlib.sha256(counter.encode()).hexdigest()[:32]
        return f"{self.prefix}:login:{kind}:{digest}"
