"""ISO weeks in the site's timezone: one week = Monday 00:00 to the next Monday 00:00, so
"last week" means the same thing in Seoul whatever the server's clock zone is. Nothing reads the
wall clock: the week and "now" come from the caller (``--today``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from feedkit.config import Config
from feedkit.errors import UsageError
from feedkit.text.i18n import Language

_WEEK_RE = re.compile(r"^(\d{4})-?W(\d{1,2})$", re.IGNORECASE)


@dataclass(frozen=True)
class Week:
    """An ISO week in a timezone: ``[start, end)`` from Monday 00:00 to the next Monday 00:00."""

    year: int
    number: int
    tz: ZoneInfo

    @classmethod
    def parse(cls, text: str, tz: ZoneInfo) -> Week:
        m = _WEEK_RE.match(text.strip())
        if not m:
            raise UsageError(f"--week: {text!r} is not an ISO week (use e.g. 2024-W24)")
        year, number = int(m[1]), int(m[2])
        try:
            date.fromisocalendar(year, number, 1)
        except ValueError:
            raise UsageError(f"--week: {year} has no ISO week {number}") from None
        return cls(year, number, tz)

    @classmethod
    def containing(cls, day: date, tz: ZoneInfo) -> Week:
        year, number, _ = day.isocalendar()
        return cls(year, number, tz)

    @classmethod
    def last_complete(cls, today: date, tz: ZoneInfo) -> Week:
        """The week before the one ``today`` is in: on a Monday, the week that just ended."""
        return cls.containing(today - timedelta(days=7), tz)

    @classmethod
    def of_timestamp(cls, ts: int, tz: ZoneInfo) -> Week:
        return cls.containing(datetime.fromtimestamp(ts, tz).date(), tz)

    @property
    def label(self) -> str:
        return f"{self.year}-W{self.number:02d}"

    @property
    def first_day(self) -> date:
        return date.fromisocalendar(self.year, self.number, 1)

    @property
    def last_day(self) -> date:
        return self.first_day + timedelta(days=6)

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first_day, time(0), tzinfo=self.tz)

    @property
    def end(self) -> datetime:
        return datetime.combine(self.first_day + timedelta(days=7), time(0), tzinfo=self.tz)

    def range_text(self, language: str | Language) -> str:
        from feedkit.text.dates import format_range

        return format_range(self.first_day, self.last_day, language)

    def title(self, language: str | Language, *, year: bool = False) -> str:
        """What readers see: ``12월 첫째 주 (12월 1일 – 7일)``, ``Week of 1–7 December 2025``
        (see :func:`feedkit.text.dates.week_label`); ``label`` (ISO) is for file names."""
        from feedkit.text.dates import week_label

        return week_label(self.first_day, language, year=year)

    def name(self, language: str | Language, *, year: bool = False) -> str:
        """``12월 첫째 주`` (``2025년 12월 첫째 주``), ``Week of 1–7 December 2025``."""
        from feedkit.text.dates import week_name

        return week_name(self.first_day, language, year=year)

    def days(self, language: str | Language) -> str:
        """``12월 1일 – 7일``, ``1–7 December 2025``."""
        from feedkit.text.dates import week_days

        return week_days(self.first_day, language)

    def shifted(self, weeks: int) -> Week:
        return Week.containing(self.first_day + timedelta(weeks=weeks), self.tz)


def today_in(tz: ZoneInfo) -> date:
    """The one place the digest reads the clock; every caller can pin it instead."""
    return datetime.now(tz).date()


def current_week(config: Config, now: datetime) -> Week:
    """The week ``now`` is in, in the site's timezone: the first one the archive leaves out."""
    return Week.containing(now.astimezone(config.tz).date(), config.tz)
