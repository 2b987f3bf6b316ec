"""The watchdog's rules for sessions that look connected but hear nothing (a "zombie"
connection: WhatsApp's side dropped it without a word). Pure decisions; the manager runs
the rounds (`SessionManager.watch_once`): a session silent for too long is probed, and
reconnected when the probe gets no answer, never more often than the cap allows."""

from __future__ import annotations

from dataclasses import dataclass

HOUR = 3_600.0


@dataclass(frozen=True, slots=True)
class WatchdogTimings:
    silence_seconds: float = 1_800.0  # heard nothing for this long while connected: probe
    probe_timeout_seconds: float = 30.0  # a probe without an answer by then failed
    max_reconnects_per_hour: int = 3  # past this, a deaf session is left as it is (logged)
    check_seconds: float = 60.0  # how often the rounds run


def due(
    now: float, heard_at: float | None, reconnects: list[float], timings: WatchdogTimings
) -> bool:
    """Whether a connected session has been silent long enough to be probed: the silence
    allowed doubles with each reconnection of the last hour (a backoff)."""
    recent = sum(at > now - HOUR for at in reconnects)
    allowed = timings.silence_seconds * 2**recent
    return heard_at is None or now - heard_at >= allowed


def may_reconnect(now: float, reconnects: list[float], timings: WatchdogTimings) -> bool:
    """Whether one more reconnection fits in the cap per hour."""
    return sum(at > now - HOUR for at in reconnects) < timings.max_reconnects_per_hour
