"""A progress bar on a terminal, or a line per change elsewhere (logs, pipes)."""

from __future__ import annotations

from typing import TextIO

WIDTH = 30


class Progress:
    def __init__(self, total: int, out: TextIO) -> None:
        self.total = total
        self.out = out
        self.tty = out.isatty()
        self._last: tuple[int, int] | None = None

    def show(self, done: int, failed: int) -> None:
        if (done, failed) == self._last:
            return
        self._last = (done, failed)
        filled = WIDTH * done // self.total if self.total else WIDTH
        bar = "#" * filled + "." * (WIDTH - filled)
        line = f"[{bar}] {done}/{self.total} ({failed} failed)"
        # On a terminal the bar redraws in place; elsewhere each step is a line of its own.
        self.out.write(f"\r{line}" if self.tty else f"{line}\n")
        self.out.flush()

    def close(self) -> None:
        if self.tty and self._last is not None:
            self.out.write("\n")
            self.out.flush()
