"""Recognising the date in a board's cell: which form it has, not yet what it means.

Boards write dates many ways (``2024.06.14``, ``24.06.14``, ``2024/06/14 10:21``, ``06-14``,
``16:20`` for a post of today, ``2024년 6월 14일``), often with a label (``등록일``) or a "new"
badge glued on. What detection must know is the *form*: a full date can be read from the list;
a month and day alone, or a time alone, needs the article's own page for the year (or the day).
Parsing itself stays with :func:`feedkit.ingest.normalize.parse_date`, which ``update`` uses.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

FULL, SHORT, NO_YEAR, TIME_ONLY = "full", "short-year", "no-year", "time-only"

_TIME = r"(?:\s*(?:오전|오후)?\s*\d{1,2}:\d{2}(?::\d{2})?)?"
_FULL = re.compile(r"(?<!\d)((?:19|20)\d{2})\s*[-./]\s*(\d{1,2})\s*[-./]\s*(\d{1,2})(?!\d)\.?"
                   r"(?:\s*\([^)]{1,3}\))?" + f"({_TIME})")
_KOREAN = re.compile(r"(?<!\d)((?:19|20)\d{2})\s*년\s*(\d{1,2})\s*월\s*(\d{1,2})\s*일"
                     r"(?:\s*\([^)]{1,3}\))?" + f"({_TIME})")
_SHORT = re.compile(r"(?<![\d.:/-])(\d{2})([-./])(\d{2})\2(\d{2})(?![\d:/-])\.?" + f"({_TIME})")
# Month and day alone, or a time alone: only as the whole of a cell (after a label), since a
# number like "3.5" inside a sentence is not a date.
_LABEL = re.compile(r"^(?:등록일|작성일|게시일|수정일|날짜|일자|등록|작성|date)\s*[:：]?\s*"
                    r"|^(?:N|NEW|new|새글)\s*(?=\d)")
_NO_YEAR = re.compile(r"^(\d{1,2})\s*(?:[-./]|월)\s*(\d{1,2})\s*일?\.?" + f"({_TIME})$")
_TIME_ALONE = re.compile(r"^(?:오전|오후)?\s*\d{1,2}:\d{2}(?::\d{2})?$")
_DIGIT = re.compile(r"\d")
EDIT_LABEL = re.compile(r"수정일|최종\s*수정|modified", re.I)
DATE_LABEL = re.compile(r"등록일|작성일|게시일|등록|작성|일자|날짜|date|posted", re.I)


@dataclass(frozen=True)
class DateHit:
    kind: str                 # FULL, SHORT, NO_YEAR or TIME_ONLY
    day: tuple[int, int, int] | None   # (year, month, day); year 0 when not shown
    has_time: bool
    whole: bool               # the date (with its label) is the whole text


def _valid(y: int, m: int, d: int) -> bool:
    return 1 <= m <= 12 and 1 <= d <= 31 and (y == 0 or 1990 <= y <= 2100)


def find_date(text: str) -> DateHit | None:
    """The first date in ``text`` and its form, or None."""
    if not text or not _DIGIT.search(text):
        return None
    bare = _LABEL.sub("", text.strip()).strip()
    for pattern in (_FULL, _KOREAN):
        m = pattern.search(text)
        if m and _valid(int(m[1]), int(m[2]), int(m[3])):
            whole = len(m.group(0).strip()) >= len(bare) - 1
            return DateHit(FULL, (int(m[1]), int(m[2]), int(m[3])), bool(m[4].strip()), whole)
    m = _SHORT.search(text)
    if m and _valid(2000 + int(m[1]), int(m[3]), int(m[4])):
        whole = len(m.group(0).strip()) >= len(bare) - 1
        return DateHit(SHORT, (2000 + int(m[1]), int(m[3]), int(m[4])), bool(m[5].strip()),
                       whole)
    m = _NO_YEAR.match(bare)
    if m and _valid(0, int(m[1]), int(m[2])):
        return DateHit(NO_YEAR, (0, int(m[1]), int(m[2])), bool(m[3].strip()), True)
    if _TIME_ALONE.match(bare):
        return DateHit(TIME_ONLY, None, True, True)
    return None


def same_day(a: DateHit | None, b: DateHit | None) -> bool:
    """Whether two hits name the same day (a missing year matches any year; a time alone
    matches any day: it is "today" on the list)."""
    if a is None or b is None:
        return False
    if a.day is None or b.day is None:
        return True
    (ya, ma, da), (yb, mb, db) = a.day, b.day
    return (ma, da) == (mb, db) and (ya == 0 or yb == 0 or ya == yb)
