"""Calls: refusing one (the session's `reject_calls` setting does it on arrival)."""

from __future__ import annotations

from dataclasses import dataclass

from sendmako.ids import Jid
from sendmako.model.actions import Action


@dataclass(frozen=True, slots=True)
class RejectCall(Action[None]):
    call_id: str
    caller: Jid
