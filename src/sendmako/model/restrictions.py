"""WhatsApp's restrictions on a number, kept as the session's state rather than as errors
(README "Not getting banned")."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

# whatsmeow's temporary ban codes (events.TemporaryBan), in plain words.
BAN_REASONS = {
    101: "sent too many messages",
    102: "too many people blocked this number",
    103: "created too many groups",
    104: "sent the same message to too many people",
    105: "broadcast lists were misused",
    106: "WhatsApp's terms were breached",
}
# WhatsApp's answer to a message to a number this one may not contact now.
NEW_CONTACTS_CODE = 463
# The code of the error (OperationFailed) an engine raises for a send WhatsApp refused so.
NEW_CONTACTS_REFUSED = "new_contacts_refused"
# A 463 does not say when it ends: sends to new contacts wait this long before one more try.
NEW_CONTACTS_HOLD_SECONDS = 6 * 3600


class RestrictionKind(StrEnum):
    TEMPORARY_BAN = "temporary_ban"  # every send is held until it ends
    NEW_CONTACTS = "new_contacts"  # sends to numbers never talked to are held; known ones pass


@dataclass(frozen=True, slots=True)
class Restriction:
    kind: RestrictionKind
    code: int
    until: datetime | None  # when WhatsApp lifts it (None: not said)
    reason: str  # in plain words

    @classmethod
    def ban(cls, code: int, until: datetime | None) -> Restriction:
        reason = BAN_REASONS.get(code, "WhatsApp restricted this number")
        return cls(RestrictionKind.TEMPORARY_BAN, code, until, f"Temporarily banned: {reason}.")

    @classmethod
    def new_contacts(cls, until: datetime) -> Restriction:
        return cls(
            RestrictionKind.NEW_CONTACTS,
            NEW_CONTACTS_CODE,
            until,
            "WhatsApp refuses messages to new contacts for now (463); known contacts still "
            "get theirs.",
        )

    def covers(self, *, new_contact: bool) -> bool:
        """Whether a send (to a new contact, or not) is held by this restriction."""
        return self.kind == RestrictionKind.TEMPORARY_BAN or new_contact

    def over(self, now: datetime) -> bool:
        return self.until is not None and self.until <= now

    def to_stored(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "code": self.code,
            "until": self.until.isoformat() if self.until else None,
            "reason": self.reason,
        }

    @classmethod
    def from_stored(cls, stored: dict[str, Any] | None) -> Restriction | None:
        if not stored:
            return None
        until = stored.get("until")
        return cls(
            RestrictionKind(stored["kind"]),
            int(stored["code"]),
            datetime.fromisoformat(until).astimezone(UTC) if until else None,
            str(stored.get("reason") or ""),
        )
