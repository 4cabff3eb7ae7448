"""Showing dates to people, in the site's language: patterns from the catalogs, names from CLDR.

Every date phrase is a catalog string whose ``{name:PATTERN}`` fields are LDML date patterns
(``{date:EEE d MMM y}`` is "Tue 11 Jun 2024"; the Korean catalog's ``{date:y년 M월 d일 (E)}``
is "2024년 6월 11일 (화)"), formatted by Babel with the CLDR locale of the language whose
catalog was found (:mod:`feedkit.text.i18n`): the translator chooses the order and the words, CLDR
supplies month and weekday names. Babel's answers are remembered across runs
(:mod:`feedkit.text.cldr`). Only *presentation* lives here; parsing is
:mod:`feedkit.ingest.normalize`'s job.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from functools import lru_cache, wraps

from feedkit.errors import ConfigError
from feedkit.text import i18n
from feedkit.text.cldr import remembered
from feedkit.text.i18n import Language


def is_korean(language: str) -> bool:
    """For Korean-specific *rules* (folding 읍·면·동 offices), not for choosing words: words
    come from the catalogs."""
    return language.lower().split("-")[0] == "ko"


def language_of(language: str | Language) -> Language:
    """A tag as a :class:`Language` with the bundled catalogs only; pass a site's
    :class:`Language` (``i18n.for_config``) to use its own catalogs."""
    return language if isinstance(language, Language) else i18n.get(language)


class _Dated:
    """A date that formats itself with an LDML pattern given as its format spec."""

    __slots__ = ("lang", "value")

    def __init__(self, value: date, lang: Language) -> None:
        self.value, self.lang = value, lang

    def __format__(self, spec: str) -> str:
        value = self.value
        # Babel formats a datetime by its .date(); keyed by the day, the cache below hits.
        day = value.date() if isinstance(value, datetime) else value
        return _cldr_date(day, spec or "medium", self.lang)


def _babel_dates():
    """Babel's date module, imported only when an answer is not remembered yet."""
    from babel import dates

    return dates


def _cldr_date(value: date, pattern: str, lang: Language) -> str:
    """Babel's formatting, remembered for the run and across runs (:mod:`feedkit.text.cldr`): a
    ten-year archive formats the same few thousand days tens of thousands of times, and
    Babel parses the pattern on every call."""
    return remembered(lang.code, "date", pattern, value.isoformat(),
                      lambda: _babel_dates().format_date(value, pattern, locale=lang.locale))


def phrase(lang: Language, text: str, **values: object) -> str:
    """``text`` (already translated) with its ``{name:PATTERN}`` date fields filled in."""
    try:
        return text.format(**{k: _Dated(v, lang) if isinstance(v, date) else v
                              for k, v in values.items()})
    except (KeyError, IndexError, ValueError, AttributeError) as exc:
        files = ", ".join(str(f) for f in lang.files) or "the catalogs"
        raise ConfigError(f"{files}: the translation {text!r} cannot be used: {exc!r} (its "
                          f"fields are {', '.join('{' + k + '}' for k in values)})") from None


def _untranslated(lang: Language, text: str, msgid: str) -> bool:
    """A date message the language's catalog leaves untranslated (a catalog just started with
    ``pybabel init``): CLDR's own format for that language beats English word order."""
    return text == msgid and lang.code != i18n.ENGLISH


# The CLDR skeleton each date message falls back to when untranslated.
_SKELETONS = {"{date:EEE d MMM y}": "yMMMEd", "{date:d MMM y}": "yMMMd",
              "{date:EEE d MMM}": "MMMEd", "{date:d MMM}": "MMMd"}


def _per_day(func: Callable[..., str]) -> Callable[..., str]:
    """``func(day, language, [year=, weekday=])`` remembered per (day, :class:`Language`,
    flags): what a date shows depends on nothing else, and a ten-year archive asks for the
    same few thousand days tens of thousands of times (every item shows its date, every week
    its name several times). Keyed by the day, as :class:`_Dated` formats a datetime by its
    day (an aware datetime would compare equal to the same instant in another timezone, whose
    day may differ); the flags are named, so the key is the same in whatever order a caller
    gives them."""

    @lru_cache(maxsize=8192)
    def remembered_call(day: date, lang: Language, year: bool | None,
                        weekday: bool | None) -> str:
        flags = {k: v for k, v in (("year", year), ("weekday", weekday)) if v is not None}
        return func(day, lang, **flags)

    @wraps(func)
    def call(value: date | datetime, language: str | Language = "ko", *,
             year: bool | None = None, weekday: bool | None = None) -> str:
        day = value.date() if isinstance(value, datetime) else value
        return remembered_call(day, language_of(language), year, weekday)

    return call


@_per_day
def format_date(day: date, lang: Language, *, year: bool = True, weekday: bool = True) -> str:
    """``2024년 6월 11일 (화)`` in Korean, ``Tue 11 Jun 2024`` in English."""
    if year and weekday:
        msgid = "{date:EEE d MMM y}"
        # TRANSLATORS: a date in LDML (https://unicode.org/reports/tr35/tr35-dates.html):
        # y year, M month number, MMM/MMMM month name, d day, E/EEE weekday. Keep {date:...}.
        text = lang.gettext("{date:EEE d MMM y}")
    elif year:
        msgid = "{date:d MMM y}"
        text = lang.gettext("{date:d MMM y}")
    elif weekday:
        msgid = "{date:EEE d MMM}"
        text = lang.gettext("{date:EEE d MMM}")
    else:
        msgid = "{date:d MMM}"
        text = lang.gettext("{date:d MMM}")
    if _untranslated(lang, text, msgid):
        return _skeleton(_SKELETONS[msgid], day, lang)
    return phrase(lang, text, date=day)


def _skeleton(skeleton: str, day: date, lang: Language) -> str:
    """CLDR's own format for ``skeleton`` in the language (for catalogs that leave a date
    message untranslated), remembered like :func:`_cldr_date`."""
    return remembered(lang.code, "skeleton", skeleton, day.isoformat(),
                      lambda: _babel_dates().format_skeleton(skeleton, day, locale=lang.locale))


def _interval(start: date, last: date, lang: Language) -> str:
    return remembered(lang.code, "interval", "yMMMd", f"{start.isoformat()}/{last.isoformat()}",
                      lambda: _babel_dates().format_interval(start, last, "yMMMd",
                                                             locale=lang.locale))


def format_range(start: date, last: date, language: str | Language = "ko") -> str:
    """A week as people write it: ``2024년 6월 10일 – 6월 16일`` (year shown once if shared)."""
    lang = language_of(language)
    if last.year == start.year:
        msgid = "{first:d MMM y} – {last:d MMM}"
        # TRANSLATORS: a span of days (LDML patterns); the year once, as it is shared.
        text = lang.gettext("{first:d MMM y} – {last:d MMM}")
    else:
        msgid = "{first:d MMM y} – {last:d MMM y}"
        text = lang.gettext("{first:d MMM y} – {last:d MMM y}")
    if _untranslated(lang, text, msgid):
        return _interval(start, last, lang)
    return phrase(lang, text, first=start, last=last)


# -- weeks as people name them ----------------------------------------------------------------


def week_of_month(monday: date) -> tuple[int, int, int]:
    """``(year, month, n)``: the week starting ``monday`` is the n-th week of that month.

    A week that spans two months belongs to the month holding its Thursday, i.e. four of its
    seven days: the rule ISO 8601 uses for years (and KS X ISO 8601 for Korean week numbering),
    applied to months. So 2025-12-29 – 2026-01-04 is "2026년 1월 첫째 주", and a month's first
    week is the one with its first Thursday.
    """
    thursday = monday + timedelta(days=3)
    return thursday.year, thursday.month, (thursday.day - 1) // 7 + 1


@_per_day
def week_days(monday: date, lang: Language) -> str:
    """The seven days, short: ``12월 1일 – 7일``, ``12월 29일 – 1월 4일``; in English
    ``1–7 December 2025``, ``27 October – 2 November 2025``, ``29 December 2025 – 4 January
    2026`` (English always names the year; the Korean heading does)."""
    last = monday + timedelta(days=6)
    if last.month == monday.month:
        msgid = "{first:d}–{last:d MMMM y}"
        # TRANSLATORS: the seven days of a week within one month (LDML patterns).
        text = lang.pgettext("week days", "{first:d}–{last:d MMMM y}")
    elif last.year == monday.year:
        msgid = "{first:d MMMM} – {last:d MMMM y}"
        text = lang.pgettext("week days", "{first:d MMMM} – {last:d MMMM y}")
    else:
        msgid = "{first:d MMMM y} – {last:d MMMM y}"
        text = lang.pgettext("week days", "{first:d MMMM y} – {last:d MMMM y}")
    if _untranslated(lang, text, msgid):
        return _interval(monday, last, lang)
    return phrase(lang, text, first=monday, last=last)


def _nth(lang: Language, n: int) -> str:
    names = (lang.pgettext("week of the month", "first"),
             lang.pgettext("week of the month", "second"),
             lang.pgettext("week of the month", "third"),
             lang.pgettext("week of the month", "fourth"),
             lang.pgettext("week of the month", "fifth"))
    return names[n - 1]


@_per_day
def week_name(monday: date, lang: Language, *, year: bool = False) -> str:
    """``12월 첫째 주`` (``2025년 12월 첫째 주`` with ``year``); ``Week of 1–7 December 2025``
    in English, which has no custom of numbering weeks within a month."""
    y, m, n = week_of_month(monday)
    # TRANSLATORS: {days} is the week's days; {month} the month holding the week's Thursday
    # (LDML pattern), {nth} its ordinal in that month ("first" ... "fifth", below).
    text = (lang.pgettext("week name with year", "Week of {days}") if year
            else lang.pgettext("week name", "Week of {days}"))
    return phrase(lang, text, days=week_days(monday, lang), month=date(y, m, 1),
                  nth=_nth(lang, n))


@_per_day
def week_label(monday: date, lang: Language, *, year: bool = False) -> str:
    """The week for a subject line or a title: ``12월 첫째 주 (12월 1일 – 7일)`` (with ``year``:
    ``2025년 12월 첫째 주 (12월 1일 – 7일)``); ``Week of 1–7 December 2025``."""
    # TRANSLATORS: a week in a subject line: {name} is the week's name; add {days} when the
    # name does not show the days already.
    text = lang.pgettext("week label", "{name}")
    return phrase(lang, text, name=week_name(monday, lang, year=year),
                  days=week_days(monday, lang))


def format_year(year: int, language: str | Language = "ko") -> str:
    """A year as a heading: ``2024년``, ``2024``."""
    lang = language_of(language)
    text = lang.pgettext("year heading", "{date:y}")
    if _untranslated(lang, text, "{date:y}"):
        return _skeleton("y", date(year, 1, 1), lang)
    return phrase(lang, text, date=date(year, 1, 1))
