"""RFC 822 (RSS) and RFC 3339 (Atom, JSON Feed) date-times as the W3C validator reads them."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, timezone

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_RFC2822 = re.compile(
    r"(?:(Mon|Tue|Wed|Thu|Fri|Sat|Sun), )?(\d\d?) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|"
    r"Dec) (\d\d\d\d) (\d\d):(\d\d)(?::(\d\d))? ([+-]?\d\d[03]0|UT|GMT|EST|EDT|CST|CDT|MST|MDT|"
    r"PST|PDT|Z)\Z")
_RFC822_LENIENT = re.compile(
    r"((mon|tue|wed|thu|fri|sat|sun)\s*,\s*)?\d\d?\s+(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|"
    r"nov|dec)\s+\d\d(\d\d)?\s+\d\d:\d\d(:\d\d)?\s+(([+-]\d\d\d\d)|ut|gmt|est|edt|cst|cdt|mst|"
    r"mdt|pst|pdt|[a-ik-z])?\Z")
_ZONES = {"UT": 0, "GMT": 0, "Z": 0, "EST": -5, "EDT": -4, "CST": -6, "CDT": -5, "MST": -7,
          "MDT": -6, "PST": -8, "PDT": -7}
_RFC3339 = re.compile(r"(\d\d\d\d)-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(\.\d*)?(Z|[+-]\d\d:\d\d)\Z")
# ImplausibleDate: before 1990, or more than ten minutes in the future.
_EARLIEST = datetime(1990, 1, 1, tzinfo=UTC)
_FUTURE_SLACK = timedelta(minutes=10)


def parse_rfc822(value: str) -> tuple[str | None, datetime | None]:
    """Check an RSS date; return (W3C code or None, the instant when it could be read).

    Only ``[Day, ]DD Mon YYYY HH:MM[:SS] zone`` with a four-digit year and a numeric
    (``+0900``) or named zone passes silently; looser forms RFC 822 allows (two-digit year,
    military zones, odd spacing) are ``ProblematicalRFC822Date``; a wrong weekday is
    ``IncorrectDOW``; a future or pre-1990 instant is ``ImplausibleDate``.
    """
    m = _RFC2822.match(value)
    if not m:
        stripped = re.sub(r"\\.", "", value)
        prev = None
        while prev != stripped:
            prev, stripped = stripped, re.sub(r"\([^(]*?\)", " ", stripped)
        if _RFC822_LENIENT.match(stripped.strip().lower()):
            return "ProblematicalRFC822Date", None
        return "InvalidRFC2822Date", None
    dow, day, mon, year, hh, mm, ss, zone = m.groups()
    try:
        when = datetime(int(year), _MONTHS.index(mon) + 1, int(day), int(hh), int(mm),
                        int(ss or 0))
    except ValueError:
        return "InvalidRFC2822Date", None
    if dow and _DAYS[when.weekday()] != dow:
        return "IncorrectDOW", None
    if zone in _ZONES:
        offset = timedelta(hours=_ZONES[zone])
    else:
        sign = -1 if zone.startswith("-") else 1
        digits = zone.lstrip("+-")
        offset = sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    when = when.replace(tzinfo=timezone(offset))
    return (_implausible(when), when)


def parse_rfc3339(value: str) -> tuple[str | None, datetime | None]:
    """Check an Atom/JSON Feed date: ``YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM)``, seconds required,
    upper-case ``T``/``Z`` (what the W3C ``rfc3339`` rule accepts). Returns (code, instant)."""
    m = _RFC3339.match(value)
    if not m:
        return "InvalidRFC3339Date", None
    y, mo, d, hh, mi, ss, frac, zone = m.groups()
    try:
        date(int(y), int(mo), int(d))
    except ValueError:
        return "InvalidRFC3339Date", None
    if int(hh) > 23 or int(mi) > 59 or int(ss) > 60:
        return "InvalidRFC3339Date", None
    if zone == "Z":
        tz = UTC
    else:
        sign = -1 if zone[0] == "-" else 1
        tz = timezone(sign * timedelta(hours=int(zone[1:3]), minutes=int(zone[4:6])))
    micro = int((frac or ".0")[1:7].ljust(6, "0") or 0)
    when = datetime(int(y), int(mo), int(d), int(hh), int(mi), min(int(ss), 59), micro, tz)
    return (_implausible(when), when)


def _implausible(when: datetime) -> str | None:
    if when < _EARLIEST or when > datetime.now(UTC) + _FUTURE_SLACK:
        return "ImplausibleDate"
    return None


# ISO 8601 as the W3C validator reads it: a year, then optionally month, day, time (seconds and
# fraction optional) and zone. W3CDTF (Dublin Core dates, sy:updateBase) is the same but needs
# the zone once a time is given.
_ISO8601 = re.compile(r"\d\d\d\d(-\d\d(-\d\d(T\d\d:\d\d(:\d\d(\.\d*)?)?(Z|[+-]\d\d:\d\d)?)?)?)?\Z")
_W3CDTF = re.compile(r"\d\d\d\d(-\d\d(-\d\d(T\d\d:\d\d(:\d\d(\.\d*)?)?(Z|[+-]\d\d:\d\d))?)?)?\Z")


def parse_w3cdtf(value: str, zone_required: bool = True) -> str | None:
    """Check a W3CDTF date (``2024``, ``2024-06``, ``2024-06-12``, ``2024-06-12T09:30+09:00``);
    return the W3C code of the failure (``InvalidW3CDTFDate``, ``ImplausibleDate``) or None.
    ``zone_required=False`` is plain ISO 8601 (``InvalidISO8601DateTime``)."""
    bad = "InvalidW3CDTFDate" if zone_required else "InvalidISO8601DateTime"
    if not (_W3CDTF if zone_required else _ISO8601).match(value):
        return bad
    day, _, clock = value.partition("T")
    parts = [int(p) for p in day.split("-")]
    try:
        date(parts[0], parts[1] if len(parts) > 1 else 1, parts[2] if len(parts) > 2 else 1)
    except ValueError:
        return bad
    if clock:
        hms = re.split(r"[Z+-]", clock)[0].split(":")
        if int(hms[0]) > 23 or int(hms[1]) > 59 or (len(hms) > 2 and float(hms[2]) >= 61):
            return bad
    # Compared as text, like the W3C check: before 1990, or after this time tomorrow.
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    if value < "1990-01-01" or value > tomorrow:
        return "ImplausibleDate"
    return None
