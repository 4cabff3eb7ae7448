"""When the weekly digest is due: the one rule ``feedkit digest send`` (no ``--week``) follows.

Why a rule and not a cron line: GitHub delays and sometimes drops scheduled runs, and a city site
can be down for the one run at 08:00. So every scheduled run calls ``digest send``; the digest of
the last complete week becomes due at ``[digest] send_day`` + ``send_hour`` in the site's
timezone (default Monday 08:00), and the first run at or after that moment sends it. The send
log in the store makes every later run that week a no-op.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from feedkit.config import WEEKDAYS
from feedkit.digest.week import Week
from feedkit.errors import UsageError


@dataclass(frozen=True)
class Due:
    week: Week           # the last complete week at ``now``
    at: datetime         # when its digest becomes due, in the site's timezone
    now: datetime

    @property
    def is_due(self) -> bool:
        return self.now >= self.at


def due_digest(now: datetime, tz: ZoneInfo, send_day: str = "monday",
               send_hour: int = 8) -> Due:
    """The week whose digest a run at ``now`` may send, and from when.

    The digest of ISO week W is due on ``send_day`` of week W+1 at ``send_hour``: with the
    defaults, Monday 08:00 right after the week ends; a run at 09:00 (the 08:00 one missed) or
    on Tuesday still finds it due.
    """
    local = now.astimezone(tz)
    week = Week.last_complete(local.date(), tz)
    day = week.first_day + timedelta(days=7 + WEEKDAYS.index(send_day.lower()))
    at = datetime.combine(day, time(send_hour), tzinfo=tz)
    return Due(week=week, at=at, now=local)


def parse_now(text: str, tz: ZoneInfo) -> datetime:
    """``--now``: ``YYYY-MM-DD HH:MM`` (or with ``T``, seconds, or a UTC offset); a time without
    an offset is in the site's timezone."""
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise UsageError(f"--now: {text!r} is not a date and time (use e.g. "
                         "'2024-06-17 08:00' in the site's timezone)") from None
    return value if value.tzinfo else value.replace(tzinfo=tz)


def pinned_now(now_text: str | None, today: date | None, tz: ZoneInfo) -> datetime:
    """The "now" a command works with: ``--now``, else ``--today`` (that whole day reached: its
    last minute), else the clock. The one place the digest commands read the clock."""
    if now_text:
        return parse_now(now_text, tz)
    if today is not None:
        return datetime.combine(today, time(23, 59), tzinfo=tz)
    return datetime.now(tz)


@dataclass(frozen=True)
class NextDigest:
    """Where the digest ``digest send`` sends next stands: what an editor needs on Monday
    morning (``feedkit serve`` shows it first). ``state`` is one of ``empty`` (no articles:
    nothing is sent), ``waiting`` (``[digest] require_approval`` and not approved, or revoked),
    ``approved`` and ``scheduled`` (no approval needed)."""

    due: Due
    articles: int
    sent: int                 # readers the send log already has for the week
    needs_approval: bool
    approved: bool

    @property
    def week(self) -> Week:
        return self.due.week

    @property
    def state(self) -> str:
        if self.articles == 0:
            return "empty"
        if self.needs_approval:
            return "approved" if self.approved else "waiting"
        return "scheduled"


def next_digest(config, store, now: datetime) -> NextDigest:
    """The week ``digest send`` (no ``--week``) sends next at ``now``, due yet or not, with
    its article count, its approval and how many readers already have it."""
    from feedkit.editorial.decisions import is_approved

    due = due_digest(now, config.tz, config.digest.send_day, config.digest.send_hour)
    week = due.week
    articles = len(store.published_between(week.start, week.end))
    sent = store.db.execute("SELECT count(*) FROM send_log WHERE week = ? AND status = 'sent'",
                            (week.label,)).fetchone()[0]
    return NextDigest(due, articles, sent, config.digest.require_approval,
                      is_approved(store, week.label))
