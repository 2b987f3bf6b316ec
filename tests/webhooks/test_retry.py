"""The retry policy: exponential backoff with jitter, for at least 24 hours."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from sendmako.webhooks.retry import RetryPolicy


def test_delays_double_from_10_seconds_within_the_jitter() -> None:
    policy = RetryPolicy()
    rng = random.Random(7)
    for attempts, base in [(1, 10), (2, 20), (3, 40), (4, 80), (20, 3600)]:
        delay = policy.delay(attempts, rng)
        assert base * 0.8 <= delay <= base * 1.2


def test_jitter_spreads_retries_of_deliveries_that_failed_together() -> None:
    policy = RetryPolicy()
    rng = random.Random(1)
    assert len({round(policy.delay(3, rng), 3) for _ in range(20)}) > 15


def test_retries_go_on_for_at_least_24_hours_then_stop() -> None:
    policy = RetryPolicy()
    rng = random.Random(3)
    start = now = datetime(2026, 11, 25, tzinfo=UTC)
    attempts = 0
    while True:
        attempts += 1
        later = policy.next_attempt(attempts=attempts, retry_from=start, now=now, rng=rng)
        if later is None:
            break
        now = later
    assert now - start >= timedelta(hours=24)
    assert now - start <= timedelta(hours=25)
    assert 25 < attempts < 40
