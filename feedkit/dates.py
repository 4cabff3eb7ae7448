"""Showing dates to people: the Korean way for Korean sites, ISO-like elsewhere.

Only *presentation* lives here; parsing is :mod:`feedkit.ingest.normalize`'s job.
"""

from __future__ import annotations

from datetime import date, datetime

_KO_WEEKDAYS = "월화수목금토일"
_EN_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov",
              "Dec")
_EN_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def _is_korean(language: str) -> bool:
    return language.lower().split("-")[0] == "ko"


def format_date(value: date | datetime, language: str = "ko", *, year: bool = True,
                weekday: bool = True) -> str:
    """``2024년 6월 11일 (화)`` in Korean, ``Tue 11 Jun 2024`` otherwise."""
    if _is_korean(language):
        text = f"{value.month}월 {value.day}일"
        if year:
            text = f"{value.year}년 {text}"
        if weekday:
            text += f" ({_KO_WEEKDAYS[value.weekday()]})"
        return text
    text = f"{value.day} {_EN_MONTHS[value.month - 1]}"
    if year:
        text += f" {value.year}"
    if weekday:
        text = f"{_EN_WEEKDAYS[value.weekday()]} {text}"
    return text


def format_range(start: date, last: date, language: str = "ko") -> str:
    """A week as people write it: ``2024년 6월 10일 – 6월 16일`` (year shown once if shared)."""
    first = format_date(start, language, weekday=False)
    second = format_date(last, language, year=last.year != start.year, weekday=False)
    return f"{first} – {second}"
