"""Progress for long work: a live bar on a terminal, a few plain lines in CI logs.

On a TTY the line redraws itself (at most ten times a second, so drawing never costs more
than the work), and only once the work has taken half a second: quick commands stay quiet.
Elsewhere — CI, cron, a pipe — it prints a plain line at each quarter of the way, for work of
at least ``min_total`` items, with no timestamps or control characters, so logs stay readable
and diffable. ``--quiet`` turns it off entirely.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TextIO


class Progress:
    """A counter (``advance``) with an optional total, plus free-form status text (``status``)
    and permanent lines (``line``) that never tangle with the live line."""

    def __init__(self, label: str, total: int | None = None, *, enabled: bool = True,
                 stream: TextIO | None = None, unit: str = "", tty: bool | None = None,
                 echo: Callable[[str], None] | None = None, min_total: int = 1000,
                 delay: float = 0.5):
        self.label = label
        self.min_total = min_total
        self._show_after = time.monotonic() + delay
        self.total = total
        self.done = 0
        self.unit = f" {unit}" if unit else ""
        self.stream = stream or sys.stderr
        self.enabled = enabled
        self.tty = enabled and (_isatty(self.stream) if tty is None else tty)
        self.echo = echo
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
            if now >= self._show_after and now - self._last_draw >= 0.1:
                self._last_draw = now
                self._draw()
        elif self.total and self.total >= self.min_total:
            while self._next_quarter <= 4 and self.done * 4 >= self.total * self._next_quarter:
                if self._next_quarter < 4:  # the last line comes from the command's summary
                    self.stream.write(f"{self.label}: {self.done}/{self.total}{self.unit}\n")
                    self.stream.flush()
                self._next_quarter += 1

    def status(self, text: str) -> None:
        """Replace the live line with ``text`` (terminals only; logs get ``line`` instead)."""
        if self.tty:
            self._write_live(f"{self.label}: {text}"[:200])

    def line(self, text: str) -> None:
        """A permanent line, on a terminal or in a log (clears the live line first)."""
        if not self.enabled:
            return
        self.close()
        if self.echo is not None:
            self.echo(text)
        else:
            self.stream.write(text + "\n")
            self.stream.flush()

    def _draw(self) -> None:
        if self.total:
            frac = min(1.0, self.done / self.total)
            bar = "#" * int(frac * 24)
            text = f"{self.label} [{bar:<24}] {self.done}/{self.total}{self.unit}"
        else:
            text = f"{self.label} {self.done}{self.unit}"
        self._write_live(text)

    def _write_live(self, text: str) -> None:
        self.stream.write("\r\x1b[K" + text)  # back to column 0, clear, draw
        self.stream.flush()
        self._drawn = True

    def close(self) -> None:
        if self.tty and self._drawn:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
            self._drawn = False


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
