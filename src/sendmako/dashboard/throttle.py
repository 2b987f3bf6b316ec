"""Login throttling: failed attempts are counted per email and per client address in a
sliding window; past the limit, attempts are refused before any password is checked.

Counters live in this process's memory: an attacker cannot reset them (restarting the
server is not something they can do), and losing them on a restart costs nothing. When
Sendmako runs on several nodes (DESIGN.md "Growing past one machine") this class moves to
Redis with the other counters; its interface stays.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ThrottlePolicy:
    per_email: int = 5  # failures per email within the window
    per_address: int = 30  # failures per client address (shared NATs are common)
    window_seconds: float = 15 * 60
    max_tracked: int = 10_000  # keys remembered at most; bounds memory under a flood


class LoginThrottle:
    def __init__(
        self,
        policy: ThrottlePolicy | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.policy = policy or ThrottlePolicy()
        self.clock = clock
        self._failures: dict[str, deque[float]] = {}

    def retry_after(self, email: str, address: str) -> float | None:
        """Seconds until `email` may try again from `address`, or None if it may now."""
        now = self.clock()
        waits = [
            self._wait(f"email:{email}", self.policy.per_email, now),
            self._wait(f"addr:{address}", self.policy.per_address, now),
        ]
        longest = max(waits)
        return longest if longest > 0 else None

    def failed(self, email: str, address: str) -> None:
        now = self.clock()
        for key in (f"email:{email}", f"addr:{address}"):
            self._failures.setdefault(key, deque()).append(now)
        if len(self._failures) > self.policy.max_tracked:
            self._prune(now)

    def succeeded(self, email: str) -> None:
        """A right password clears the email's failures (not the address's: one valid
        account must not reset the count of someone trying many others)."""
        self._failures.pop(f"email:{email}", None)

    def _wait(self, key: str, limit: int, now: float) -> float:
        attempts = self._failures.get(key)
        if not attempts:
            return 0.0
        horizon = now - self.policy.window_seconds
        while attempts and attempts[0] <= horizon:
            attempts.popleft()
        if not attempts:
            del self._failures[key]
            return 0.0
        if len(attempts) < limit:
            return 0.0
        # Allowed again when enough of the counted failures have left the window.
        return attempts[len(attempts) - limit] + self.policy.window_seconds - now

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
