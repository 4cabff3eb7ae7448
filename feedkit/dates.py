"""Showing dates to people: the Korean way for Korean sites, ISO-like elsewhere.

Only *presentation* lives here; parsing is :mod:`feedkit.ingest.normalize`'s job.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

_KO_WEEKDAYS = "월화수목금토일"
_EN_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov",
              "Dec")
_EN_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def is_korean(language: str) -> bool:
    return language.lower().split("-")[0] == "ko"


def format_date(value: date | datetime, language: str = "ko", *, year: bool = True,
                weekday: bool = True) -> str:
    """``2024년 6월 11일 (화)`` in Korean, ``Tue 11 Jun 2024`` otherwise."""
    if is_korean(language):
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


# -- weeks as people name them ----------------------------------------------------------------

_KO_ORDINALS = ("첫째", "둘째", "셋째", "넷째", "다섯째")
_EN_MONTH_NAMES = ("January", "February", "March", "April", "May", "June", "July", "August",
                   "September", "October", "November", "December")


def week_of_month(monday: date) -> tuple[int, int, int]:
    """``(year, month, n)``: the week starting ``monday`` is the n-th week of that month.

    A week that spans two months belongs to the month holding its Thursday, i.e. four of its
    seven days: the rule ISO 8601 uses for years (and KS X ISO 8601 for Korean week numbering),
    applied to months. So 2025-12-29 – 2026-01-04 is "2026년 1월 첫째 주", and a month's first
    week is the one with its first Thursday.
    """
    thursday = monday + timedelta(days=3)
    return thursday.year, thursday.month, (thursday.day - 1) // 7 + 1


def week_days(monday: date, language: str = "ko") -> str:
    """The seven days, short: ``12월 1일 – 7일``, ``12월 29일 – 1월 4일``; in English
    ``1–7 December 2025``, ``27 October – 2 November 2025``, ``29 December 2025 – 4 January
    2026`` (English always names the year; the Korean heading does)."""
    last = monday + timedelta(days=6)
    if is_korean(language):
        end = f"{last.day}일" if last.month == monday.month else f"{last.month}월 {last.day}일"
        return f"{monday.month}월 {monday.day}일 – {end}"
    month, last_month = _EN_MONTH_NAMES[monday.month - 1], _EN_MONTH_NAMES[last.month - 1]
    if last.year != monday.year:
        return f"{monday.day} {month} {monday.year} – {last.day} {last_month} {last.year}"
    if last.month != monday.month:
        return f"{monday.day} {month} – {last.day} {last_month} {last.year}"
    return f"{monday.day}–{last.day} {month} {last.year}"


def week_name(monday: date, language: str = "ko", *, year: bool = False) -> str:
    """``12월 첫째 주`` (``2025년 12월 첫째 주`` with ``year``); ``Week of 1–7 December 2025``
    in English, which has no custom of numbering weeks within a month."""
    if not is_korean(language):
        return f"Week of {week_days(monday, language)}"
    y, m, n = week_of_month(monday)
    text = f"{m}월 {_KO_ORDINALS[n - 1]} 주"
    return f"{y}년 {text}" if year else text


def week_label(monday: date, language: str = "ko", *, year: bool = False) -> str:
    """The week for a subject line or a title: ``12월 첫째 주 (12월 1일 – 7일)`` (with ``year``:
    ``2025년 12월 첫째 주 (12월 1일 – 7일)``); ``Week of 1–7 December 2025``."""
    if not is_korean(language):
        return week_name(monday, language)
    return f"{week_name(monday, language, year=year)} ({week_days(monday, language)})"
