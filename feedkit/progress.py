"""Progress for long work: a live bar on a terminal, a few plain lines in CI logs.

On a TTY the line redraws itself (at most ten times a second, so drawing never costs more
than the work). Elsewhere — CI, cron, a pipe — it prints a plain line at each quarter of the
way, with no timestamps or control characters, so logs stay readable and diffable.
``--quiet`` turns it off entirely.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    def __init__(self, label: str, total: int | None = None, *, enabled: bool = True,
                 stream: TextIO | None = None, unit: str = ""):
        self.label = label
        self.total = total
        self.done = 0
        self.unit = f" {unit}" if unit else ""
        self.stream = stream or sys.stderr
        self.enabled = enabled
        self.tty = enabled and _isatty(self.stream)
        self._last_draw = 0.0
        self._next_quarter = 1
        self._drawn = False

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def advance(self, n: int = 1) -> None:
        self.done += n
        if not self.enabled:
            return
        if self.tty:
            now = time.monotonic()
            if now - self._last_draw >= 0.1:
                self._last_draw = now
                self._draw()
        elif self.total:
            while self._next_quarter <= 4 and self.done * 4 >= self.total * self._next_quarter:
                if self._next_quarter < 4:  # the last line comes from the command's summary
                    self.stream.write(f"{self.label}: {self.done}/{self.total}{self.unit}\n")
                    self.stream.flush()
                self._next_quarter += 1

    def _draw(self) -> None:
        if self.total:
            frac = min(1.0, self.done / self.total)
            bar = "#" * int(frac * 24)
            text = f"{self.label} [{bar:<24}] {self.done}/{self.total}{self.unit}"
        else:
            text = f"{self.label} {self.done}{self.unit}"
        self.stream.write("\r" + text + "\x1b[K")
        self.stream.flush()
        self._drawn = True

    def close(self) -> None:
        if self.tty and self._drawn:
            self.stream.write("\r\x1b[K")
            self.stream.flush()


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
