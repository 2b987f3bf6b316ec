"""The circuit breaker per endpoint: opened by timeouts in a row, a probe after the
cooldown, closed by an answer, opened again for longer by a failed probe."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sendmako.webhooks.breaker import Breakers

T0 = datetime(2026, 12, 8, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


def test_three_timeouts_in_a_row_open_the_circuit_for_the_cooldown() -> None:
    clock = Clock()
    breakers = Breakers(clock, threshold=3, cooldown=timedelta(seconds=30))
    breakers.timed_out(7)
    breakers.timed_out(7)
    assert breakers.closed_until(7) is None
    breakers.timed_out(7)
    assert breakers.closed_until(7) == T0 + timedelta(seconds=30)
    assert breakers.open_endpoints() == [7]
    assert breakers.closed_until(8) is None, "other endpoints are not affected"


def test_an_answer_between_timeouts_starts_the_count_again() -> None:
    breakers = Breakers(Clock(), threshold=3)
    breakers.timed_out(7)
    breakers.timed_out(7)
    breakers.answered(7)
    breakers.timed_out(7)
    breakers.timed_out(7)
    assert breakers.closed_until(7) is None


def test_after_the_cooldown_one_probe_goes_out_and_its_answer_closes_the_circuit() -> None:
    clock = Clock()
    breakers = Breakers(clock, threshold=1, cooldown=timedelta(seconds=30))
    breakers.timed_out(7)
    clock.now += timedelta(seconds=31)
    assert breakers.admit(7) is None, "the probe"
    assert breakers.admit(7) is not None, "the others wait for the probe"
    assert 7 in breakers.open_endpoints()
    breakers.answered(7)
    assert breakers.admit(7) is None
    assert breakers.open_endpoints() == []


def test_a_failed_probe_opens_it_again_for_twice_as_long_up_to_the_cap() -> None:
    clock = Clock()
    breakers = Breakers(
        clock, threshold=1, cooldown=timedelta(seconds=30), max_cooldown=timedelta(seconds=100)
    )
    breakers.timed_out(7)
    for expected in (60, 100, 100):
        clock.now = breakers.closed_until(7) or clock.now
        assert breakers.admit(7) is None
        breakers.timed_out(7)
        assert breakers.closed_until(7) == clock.now + timedelta(seconds=expected)


def test_timeouts_of_attempts_already_out_do_not_extend_an_open_circuit() -> None:
    clock = Clock()
    breakers = Breakers(clock, threshold=1, cooldown=timedelta(seconds=30))
    breakers.timed_out(7)
    clock.now += timedelta(seconds=10)
    breakers.timed_out(7)
    assert breakers.closed_until(7) == T0 + timedelta(seconds=30)
