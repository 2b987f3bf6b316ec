"""When to try a failed delivery again: a pure policy, so tests need no sleeping.

Exponential backoff from 10 s, doubling, capped at 1 h, each delay jittered by ±20 % so
that many deliveries failing together do not retry together, for 25 hours from the first
attempt (the contract promises at least 24); then the delivery is marked failed.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    first_delay: float = 10.0
    factor: float = 2.0
    max_delay: float = 3600.0
    jitter: float = 0.2
    give_up_after: timedelta = timedelta(hours=25)

    def delay(self, attempts: int, rng: random.Random) -> float:
        """Seconds before the next try, after `attempts` failed tries (1 or more)."""
        base = min(self.max_delay, self.first_delay * self.factor ** max(0, attempts - 1))
        return base * (1 + rng.uniform(-self.jitter, self.jitter))

    def next_attempt(
        self, *, attempts: int, retry_from: datetime, now: datetime, rng: random.Random
    ) -> datetime | None:
        """When to try again, or None to give up."""
        when = now + timedelta(seconds=self.delay(attempts, rng))
        if when - retry_from > self.give_up_after:
            return None
        return when
