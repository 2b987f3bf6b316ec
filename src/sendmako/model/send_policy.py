"""A session's send policy: how fast and how widely its number may send, so that WhatsApp
does not take it for a spammer (README "Not getting banned"). Values and pure rules only;
`messaging/send_policy.py` counts the sends and applies them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields, replace
from enum import StrEnum
from typing import Any

# A warm-up's cap on each day since the number was linked (or woke from a long silence):
# day 0 is the first day; from day 7 on, only the policy's own caps hold.
WARMUP_DAILY_CAPS = (20, 30, 45, 70, 100, 150, 220)
# A number that sent nothing for this long warms up again, as if newly linked.
WARMUP_SILENCE_DAYS = 14
# Typing before a text: this long per character, within these bounds.
TYPING_MS_PER_CHAR = 40
TYPING_MIN_MS = 600
TYPING_MAX_MS = 4_000
# The original bulk contract: never less than this between two sends of a bulk job.
BULK_MIN_DELAY_MS = 500
MAX_DELAY_MS = 600_000
MAX_CAP = 1_000_000


class PolicyRule(StrEnum):
    """A rule of the send policy that can hold a send back (its error code is
    `send_policy_<rule>`)."""

    PER_HOUR = "per_hour"  # the hourly cap
    PER_DAY = "per_day"  # the daily cap
    NEW_CONTACTS = "new_contacts_per_day"  # the daily budget of numbers never talked to
    WARMUP = "warmup"  # a newly linked number's smaller daily cap
    SAME_TEXT = "same_text_new_contacts"  # one text to too many new contacts in a day


@dataclass(frozen=True, slots=True)
class SendPolicy:
    """What a careful operator would choose for a number; each field can be changed per
    session (`None` for a cap: none)."""

    min_delay_ms: int = 1_000  # a random delay between two sends, at least this
    max_delay_ms: int = 3_000  # and at most this
    per_hour: int | None = 120
    per_day: int | None = 600
    new_contacts_per_day: int | None = 40
    warmup: bool = True  # small first-day cap for a newly linked number, growing for a week
    same_text_new_contacts: int | None = 15  # one text to at most this many new contacts a day
    typing: bool = True  # `composing` before a text, longer for a longer text

    @classmethod
    def unlimited(cls) -> SendPolicy:
        """No delay, no cap, no typing: for tests of other behaviour, never a default."""
        return cls(0, 0, None, None, None, False, None, False)

    def to_stored(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_stored(cls, stored: dict[str, Any] | None, default: SendPolicy) -> SendPolicy:
        """The stored policy, each field missing from it (an older row) taken from `default`."""
        if not stored:
            return default
        known = {item.name for item in fields(cls)}
        values = {**asdict(default), **{k: v for k, v in stored.items() if k in known}}
        return cls(**values)

    def typing_ms(self, text: str) -> int:
        """How long to show `composing` before sending `text` (0: no typing)."""
        if not self.typing or not text:
            return 0
        return min(TYPING_MAX_MS, max(TYPING_MIN_MS, len(text) * TYPING_MS_PER_CHAR))


def warmup_cap(days_since_start: int) -> int | None:
    """A warm-up's daily cap on its `days_since_start`-th day (None: warm-up is over)."""
    if days_since_start < 0:
        return WARMUP_DAILY_CAPS[0]
    if days_since_start >= len(WARMUP_DAILY_CAPS):
        return None
    return WARMUP_DAILY_CAPS[days_since_start]


class PolicyInvalid(ValueError):
    """A policy change that cannot be: `field` names it (the API answers 400)."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


def changed(policy: SendPolicy, values: Mapping[str, Any]) -> SendPolicy:
    """`policy` with `values` changed (only those given); `PolicyInvalid` names the field."""
    names = {item.name for item in fields(SendPolicy)}
    for name, value in values.items():
        where = f"send_policy.{name}"
        if name not in names:
            known = ", ".join(sorted(names))
            raise PolicyInvalid(f"{where}: unknown field (known: {known})", where)
        is_int = isinstance(value, int) and not isinstance(value, bool)
        if name in ("warmup", "typing"):
            if not isinstance(value, bool):
                raise PolicyInvalid(f"{where}: must be true or false", where)
        elif name in ("min_delay_ms", "max_delay_ms"):
            if not is_int or not 0 <= value <= MAX_DELAY_MS:
                raise PolicyInvalid(
                    f"{where}: a whole number of milliseconds from 0 to {MAX_DELAY_MS}", where
                )
        elif value is not None and (not is_int or not 1 <= value <= MAX_CAP):
            raise PolicyInvalid(
                f"{where}: a whole number from 1 to {MAX_CAP}, or null for no cap", where
            )
    result = replace(policy, **values)
    if result.min_delay_ms > result.max_delay_ms:
        name = "max_delay_ms" if "max_delay_ms" in values else "min_delay_ms"
        raise PolicyInvalid(
            f"send_policy.{name}: max_delay_ms ({result.max_delay_ms}) must be at least "
            f"min_delay_ms ({result.min_delay_ms})",
            f"send_policy.{name}",
        )
    hour, day = result.per_hour, result.per_day
    if hour is not None and day is not None and hour > day:
        name = "per_hour" if "per_hour" in values else "per_day"
        raise PolicyInvalid(
            f"send_policy.{name}: per_hour ({hour}) cannot exceed per_day ({day})",
            f"send_policy.{name}",
        )
    return result
