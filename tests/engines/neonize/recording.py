"""A `connection.Link` that records what a connection reports."""

from __future__ import annotations

from dataclasses import dataclass, field

from sendmako.engines.neonize.convert import Ending
from sendmako.model.events import EngineEvent


@dataclass
class RecordingLink:
    events: list[EngineEvent] = field(default_factory=list)
    endings: list[Ending] = field(default_factory=list)

    def event(self, event: EngineEvent) -> None:
        self.events.append(event)

    def ended(self, ending: Ending) -> None:
        self.endings.append(ending)
