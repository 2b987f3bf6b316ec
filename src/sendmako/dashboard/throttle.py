"""Login throttling: guesses are counted per client address, per email and address, and per
email, each in a sliding window; past a limit, a guess is refused before any password is
checked. There is no global limit: what one client does never locks out the others.

- An address: 30 guesses, whatever the emails (one machine trying many accounts). Past
  it, guesses from that address are refused; other addresses are not affected. Behind a
  reverse proxy every client would share the proxy's address: name the proxy in
  `SENDMAKO_TRUSTED_PROXIES` and each client is counted under its own (`proxies.py`).
- An email from one address: 5 guesses. Past it, that address may not try that account
  again; the owner, from anywhere else, still can.
- An email from every address: 20 guesses (guessing spread over many machines). Past it,
  the account is refused to everyone, except the browsers that logged in to it before: a
  successful login leaves a signed device cookie naming the account (`cookies.py`), and a
  guess that carries it is counted only under that device (5 guesses, like an address).
  So an attacker can lock an account to new browsers for a while, never to its owner's.

A guess counts from the moment it starts: it takes a slot in each of its counters before
its password is checked, a wrong password keeps it for the window, a right one gives it
back. Concurrent guesses beyond a limit are therefore refused without being checked.

On one node the counters live in this process's memory (`LoginThrottle`): an attacker
cannot reset them (restarting the server is not something they can do), and losing them on
a restart costs nothing. On several nodes they live in Redis (`RedisThrottle`,
`shared_throttle.py`), so that guesses spread over the nodes count once.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

# How long to wait when a limit is full only of guesses being checked now (each takes
# ~50 ms): by then they have their outcome.
BUSY_RETRY_SECONDS = 1.0


@dataclass(frozen=True, slots=True)
class ThrottlePolicy:
    per_address: int = 30  # guesses from one client address, any emails
    per_email_address: int = 5  # guesses at one email from one address
    per_email: int = 20  # guesses at one email from all addresses (known devices aside)
    per_device: int = 5  # guesses at one email from a browser that logged in to it before
    window_seconds: float = 15 * 60
    max_tracked: int = 10_000  # keys remembered at most; bounds memory under a flood


@dataclass(frozen=True, slots=True)
class Throttled:
    """The guess is refused: it may be tried again after `retry_after` seconds."""

    retry_after: float


@dataclass(eq=False)
class Attempt:
    """A guess that holds a slot in each of its counters until its outcome is known.
    Exactly one of `failed` or `succeeded` is called (a second call does nothing)."""

    throttle: Throttle
    keys: tuple[str, ...]
    clears: tuple[str, ...]  # counters a right password resets
    id: str = ""  # tells this guess's slot from the others' (RedisThrottle)
    done: bool = field(default=False)

    async def failed(self) -> None:
        """A wrong password (or a check that broke): the slot stays taken for the window."""
        if not self.done:
            self.done = True
            await self.throttle._end(self, failed=True, clears=())

    async def succeeded(self) -> None:
        """A right password: the slot is given back."""
        if not self.done:
            self.done = True
            await self.throttle._end(self, failed=False, clears=self.clears)


class Throttle(ABC):
    def __init__(self, policy: ThrottlePolicy | None = None) -> None:
        self.policy = policy or ThrottlePolicy()

    @abstractmethod
    async def begin(
        self, email: str, address: str, *, device: str | None = None
    ) -> Attempt | Throttled:
        """Take a slot for a guess at `email` from `address` (from a browser that logged in
        to this email before: `device`, its id), or say how long to wait."""

    @abstractmethod
    async def _end(self, attempt: Attempt, *, failed: bool, clears: tuple[str, ...]) -> None: ...

    def limits(
        self, email: str, address: str, device: str | None
    ) -> tuple[dict[str, int], tuple[str, ...]]:
        """The counters a guess takes a slot in, each with its limit, and those a right
        password resets."""
        policy = self.policy
        if device is not None:
            return {f"device:{device}": policy.per_device}, (f"device:{device}",)
        pair = f"pair:{email}\n{address}"
        limits = {
            f"addr:{address}": policy.per_address,
            pair: policy.per_email_address,
            f"email:{email}": policy.per_email,
        }
        return limits, (pair,)


class LoginThrottle(Throttle):
    """One node: the counters in this process's memory."""

    def __init__(
        self,
        policy: ThrottlePolicy | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(policy)
        self.clock = clock
        self._failures: dict[str, deque[float]] = {}
        self._checking: dict[str, int] = {}  # guesses being checked now, per key

    async def begin(
        self, email: str, address: str, *, device: str | None = None
    ) -> Attempt | Throttled:
        limits, clears = self.limits(email, address, device)
        now = self.clock()
        wait = max(self._wait(key, limit, now) for key, limit in limits.items())
        if wait > 0:
            return Throttled(wait)
        for key in limits:
            self._checking[key] = self._checking.get(key, 0) + 1
        return Attempt(self, tuple(limits), clears)

    async def _end(self, attempt: Attempt, *, failed: bool, clears: tuple[str, ...]) -> None:
        keys = attempt.keys
        now = self.clock()
        for key in keys:
            left = self._checking.get(key, 0) - 1
            if left > 0:
                self._checking[key] = left
            else:
                self._checking.pop(key, None)
            if failed:
                self._failures.setdefault(key, deque()).append(now)
        for key in clears:
            self._failures.pop(key, None)
        if len(self._failures) > self.policy.max_tracked:
            self._prune(now)

    def _wait(self, key: str, limit: int, now: float) -> float:
        """Seconds until `key` has room for one more guess (0: it has now)."""
        attempts = self._failures.get(key)
        if attempts:
            horizon = now - self.policy.window_seconds
            while attempts and attempts[0] <= horizon:
                attempts.popleft()
            if not attempts:
                del self._failures[key]
        failures = len(attempts) if attempts else 0
        if failures + self._checking.get(key, 0) < limit:
            return 0.0
        if attempts and failures >= limit:
            # Room again when enough of the counted failures have left the window.
            return attempts[failures - limit] + self.policy.window_seconds - now
        return BUSY_RETRY_SECONDS  # full of guesses being checked right now

    def _prune(self, now: float) -> None:
        horizon = now - self.policy.window_seconds
        for key in [k for k, attempts in self._failures.items() if attempts[-1] <= horizon]:
            del self._failures[key]
        excess = len(self._failures) - self.policy.max_tracked
        if excess > 0:
            # Forget the keys whose last failure is oldest.
            oldest = sorted(self._failures, key=lambda k: self._failures[k][-1])[:excess]
            for key in oldest:
                del self._failures[key]
