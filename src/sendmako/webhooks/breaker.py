"""A circuit breaker per endpoint: an endpoint whose attempts keep timing out is left alone
for a while instead of holding delivery slots for the whole attempt timeout, again and
again.

    closed     attempts go out; `threshold` timeouts in a row open it
    open       nothing goes out until `until`: the dispatcher postpones the endpoint's
               deliveries to then (they stay in the outbox, their order kept, no attempt
               counted)
    half-open  after `until`, one attempt (a probe) goes out alone; its success closes the
               circuit, a timeout opens it again for twice as long (up to `max_cooldown`)

Only timeouts count: an endpoint that answers an error at once costs a slot for a moment,
like any other answer, and its deliveries follow the retry policy. Kept in memory, per
node: a restarted node starts with every circuit closed and learns again within
`threshold` attempts. The clock is the dispatcher's, injected.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass
class _Circuit:
    timeouts: int = 0  # in a row
    until: datetime | None = None  # open until then
    cooldown: timedelta | None = None  # the last one, doubled at each failed probe
    probing: bool = False


class Breakers:
    def __init__(
        self,
        clock: Callable[[], datetime],
        *,
        threshold: int = 3,
        cooldown: timedelta = timedelta(seconds=30),
        max_cooldown: timedelta = timedelta(minutes=10),
        probe_wait: timedelta = timedelta(seconds=10),
    ) -> None:
        """`probe_wait`: how long the others wait for a probe's outcome (the attempt
        timeout): then they go, or the circuit is open again."""
        self.clock = clock
        self.probe_wait = probe_wait
        self.threshold = threshold
        self.cooldown = cooldown
        self.max_cooldown = max_cooldown
        self._circuits: dict[int, _Circuit] = {}

    def closed_until(self, endpoint: int) -> datetime | None:
        """None when an attempt to `endpoint` may go out (closed, or half-open with no probe
        out yet); else when to look again. Changes nothing."""
        circuit = self._circuits.get(endpoint)
        if circuit is None or circuit.until is None:
            return None
        now = self.clock()
        if now < circuit.until:
            return circuit.until
        if circuit.probing:
            return now + self.probe_wait  # the probe is out: look again once it is over
        return None

    def admit(self, endpoint: int) -> datetime | None:
        """Like `closed_until`, for an attempt about to go out: in the half-open state the
        first one admitted is the probe (it must report its outcome), the others wait."""
        until = self.closed_until(endpoint)
        circuit = self._circuits.get(endpoint)
        if until is None and circuit is not None and circuit.until is not None:
            circuit.probing = True
        return until

    def open_endpoints(self) -> list[int]:
        """The endpoints not to claim deliveries for now."""
        now = self.clock()
        return [
            endpoint
            for endpoint, circuit in self._circuits.items()
            if circuit.until is not None and (now < circuit.until or circuit.probing)
        ]

    def answered(self, endpoint: int) -> None:
        """An attempt got an answer (any status): the endpoint is alive."""
        self._circuits.pop(endpoint, None)

    def failed(self, endpoint: int) -> None:
        """An attempt failed otherwise than by a timeout (refused, reset...): a probe is
        over; the count of timeouts in a row is left as it is."""
        circuit = self._circuits.get(endpoint)
        if circuit is not None and circuit.probing:
            circuit.probing = False
            self._open(circuit)

    def timed_out(self, endpoint: int) -> bool:
        """Counts a timeout; True when it opened the circuit."""
        circuit = self._circuits.setdefault(endpoint, _Circuit())
        circuit.timeouts += 1
        if circuit.probing or (circuit.until is None and circuit.timeouts >= self.threshold):
            circuit.probing = False
            self._open(circuit)
            return True
        return False

    def _open(self, circuit: _Circuit) -> None:
        cooldown = (
            self.cooldown
            if circuit.cooldown is None
            else min(self.max_cooldown, circuit.cooldown * 2)
        )
        circuit.cooldown = cooldown
        circuit.until = self.clock() + cooldown
