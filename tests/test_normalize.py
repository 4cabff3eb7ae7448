"""Normalisation: the one gate every untrusted record passes."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from feedkit.ingest.normalize import (
    RecordError,
    clean_summary,
    clean_title,
    clean_url,
    normalize_record,
    parse_date,
)
from feedkit.text.clean import clean_text, sanitize_html

SEOUL = ZoneInfo("Asia/Seoul")
XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-06-11", datetime(2024, 6, 11, tzinfo=SEOUL)),
        ("2024.06.11", datetime(2024, 6, 11, tzinfo=SEOUL)),
        ("2024/06/11 14:30", datetime(2024, 6, 11, 14, 30, tzinfo=SEOUL)),
        ("2024년 6월 11일", datetime(2024, 6, 11, tzinfo=SEOUL)),
        ("2024년 6월 11일 (화) 오후 2시 30분", datetime(2024, 6, 11, 14, 30, tzinfo=SEOUL)),
        ("24.06.11", datetime(2024, 6, 11, tzinfo=SEOUL)),
        ("2025.12.09 ", datetime(2025, 12, 9, tzinfo=SEOUL)),
        ("작성일 : 2025-12-05 17:09", datetime(2025, 12, 5, 17, 9, tzinfo=SEOUL)),
        ("N2025-12-10", datetime(2025, 12, 10, tzinfo=SEOUL)),
        ("2025-12-12 17:44:00", datetime(2025, 12, 12, 17, 44, tzinfo=SEOUL)),
        ("2025.12.05 16:40", datetime(2025, 12, 5, 16, 40, tzinfo=SEOUL)),
        ("2025.12.05 16:40:59", datetime(2025, 12, 5, 16, 40, 59, tzinfo=SEOUL)),
        ("2024/06/11 오후 2:30:15", datetime(2024, 6, 11, 14, 30, 15, tzinfo=SEOUL)),
        # Aware inputs keep their instant (shown in the site's zone).
        ("2025-12-05T09:00:00+09:00", datetime(2025, 12, 5, 9, 0, tzinfo=SEOUL)),
        ("2025-12-13T16:51:45.684+00:00", datetime(2025, 12, 13, 16, 51, 45, 684000, tzinfo=UTC)),
        ("2024-06-11T05:30:00Z", datetime(2024, 6, 11, 5, 30, tzinfo=UTC)),
        ("Tue, 11 Jun 2024 14:30:00 +0900", datetime(2024, 6, 11, 14, 30, tzinfo=SEOUL)),
        ("Tue, 11 Jun 2024 05:30:00 GMT", datetime(2024, 6, 11, 5, 30, tzinfo=UTC)),
    ],
)
def test_parse_date_forms(text: str, expected: datetime) -> None:
    parsed = parse_date(text, SEOUL)
    assert parsed == expected
    assert parsed.utcoffset() == timedelta(hours=9)  # always shown in the site's timezone


# A 12-hour clock, as Korean boards (오전/오후 before the time) and English pages (AM/PM after
# it) write it. The hours are written by hand: 12 AM / 오전 12시 is midnight (the first hour of
# the day), 12 PM / 오후 12시 is noon, and nothing else moves by more than 12 hours.
@pytest.mark.parametrize(
    ("text", "hour", "minute"),
    [
        ("2024년 6월 11일 오전 12시", 0, 0),
        ("2024년 6월 11일 오전 12시 30분", 0, 30),
        ("2024년 6월 11일 오전 12:30", 0, 30),
        ("2024년 6월 11일 (화) 오전 1시", 1, 0),
        ("2024년 6월 11일 오전 11시 59분", 11, 59),
        ("2024년 6월 11일 오후 12시", 12, 0),
        ("2024년 6월 11일 오후 1시 5분", 13, 5),
        ("2024년 6월 11일 오후 11시", 23, 0),
        ("2024-06-11 오전 12:30", 0, 30),
        ("2024.06.11 오전 12:00", 0, 0),
        ("2024.06.11 오전 9:15", 9, 15),
        ("2024.06.11 오후 12:30", 12, 30),
        ("2024.06.11 오후 3:20", 15, 20),
        ("2024-06-11 12:30 AM", 0, 30),
        ("2024-06-11 12:00 am", 0, 0),
        ("2024-06-11 1:05 AM", 1, 5),
        ("2024-06-11 12:30 PM", 12, 30),
        ("2024-06-11 3:20 PM", 15, 20),
        ("2024-06-11 11:59 p.m.", 23, 59),
        ("2024/06/11 AM 12:30", 0, 30),
        ("2024/06/11 PM 12:05", 12, 5),
        ("작성일 : 2024-06-11 오전 12:30 조회 96", 0, 30),
        ("등록 2024-06-11 12:10 AM 조회 5", 0, 10),
        ("June 11, 2024 12:30 AM", 0, 30),
        ("June 11, 2024 12:30 am", 0, 30),
        ("11 Jun 2024 3:20 PM", 15, 20),
    ],
)
def test_twelve_hour_clock(text: str, hour: int, minute: int) -> None:
    assert parse_date(text, SEOUL) == datetime(2024, 6, 11, hour, minute, tzinfo=SEOUL)


@pytest.mark.parametrize(("text", "expected"), [
    ("[2024-06-11]", datetime(2024, 6, 11, tzinfo=SEOUL)),
    ("(작성일: 2024.06.11)", datetime(2024, 6, 11, tzinfo=SEOUL)),
    ("【N2024-06-11 09:05】", datetime(2024, 6, 11, 9, 5, tzinfo=SEOUL)),
    ("보도자료 등록 2025-12-10 17:09:30 조회 3", datetime(2025, 12, 10, 17, 9, 30, tzinfo=SEOUL)),
    ("1970-01-01", datetime(1970, 1, 1, tzinfo=SEOUL)),
    ("2200-12-31", datetime(2200, 12, 31, tzinfo=SEOUL)),
])
def test_board_cells_brackets_and_the_plausible_range(text: str, expected: datetime) -> None:
    assert parse_date(text, SEOUL) == expected


@pytest.mark.parametrize(("value", "reason"), [
    (1718064000, r"^ambiguous numeric date 1718064000: give an ISO 8601 string$"),
    (20240611.0, r"^ambiguous numeric date 20240611\.0: give an ISO 8601 string$"),
    (True, r"^unrecognised date 'True'$"),
    ("1969-12-31", r"^implausible date '1969-12-31'$"),
    ("2201-01-01", r"^implausible date '2201-01-01'$"),
    ("등록 2024-02-30 조회 5", r"^impossible date '등록 2024-02-30 조회 5' "),
])
def test_values_that_are_not_dates(value, reason: str) -> None:
    with pytest.raises(RecordError, match=reason):
        parse_date(value, SEOUL)


def test_date_and_datetime_objects() -> None:
    from datetime import date

    assert parse_date(date(2024, 6, 11), SEOUL) == datetime(2024, 6, 11, tzinfo=SEOUL)
    assert parse_date(datetime(2024, 6, 11, 9, 30), SEOUL) == datetime(2024, 6, 11, 9, 30,
                                                                         tzinfo=SEOUL)
    aware = parse_date(datetime(2024, 6, 11, 0, 30, tzinfo=UTC), SEOUL)
    assert aware == datetime(2024, 6, 11, 9, 30, tzinfo=SEOUL) and aware.tzinfo == SEOUL


def test_naive_dates_are_read_in_the_site_timezone() -> None:
    assert parse_date("2024-06-11 09:00", ZoneInfo("Europe/Berlin")).utcoffset() == timedelta(
        hours=2)
    assert parse_date("2024-06-11 09:00", SEOUL) == datetime(2024, 6, 11, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize("text", ["2024-02-30", "2024.13.01", "2024년 2월 31일", "2023-02-29"])
def test_impossible_dates_are_rejected_as_impossible(text: str) -> None:
    with pytest.raises(RecordError, match="impossible date"):
        parse_date(text, SEOUL)


@pytest.mark.parametrize(("text", "reason"), [
    ("", r"^missing date$"),
    ("   ", r"^missing date$"),
    ("soon", r"^unrecognised date 'soon'$"),
    ("June 11", r"^unrecognised date 'June 11'$"),       # no year: never guess one
    ("지난 2일", r"^unrecognised date '지난 2일'$"),
    ("1700-01-01", r"^implausible date '1700-01-01'$"),
    ("February 31, 2024", r"^impossible date 'February 31, 2024'$"),
    ("보도자료 2024 공지", r"^unrecognised date '보도자료 2024 공지'$"),
    # a long cell is quoted only in part: its first 60 characters
    ("x" * 30 + " 2024 " + "y" * 40,
     "^unrecognised date '" + "x" * 30 + " 2024 " + "y" * 24 + "'$"),
    ("June 11 " + "z" * 70, "^unrecognised date 'June 11 " + "z" * 52 + "'$"),
])
def test_unusable_dates_are_rejected(text: str, reason: str) -> None:
    with pytest.raises(RecordError, match=reason):
        parse_date(text, SEOUL)


@given(st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2199, 1, 1),
                    timezones=st.sampled_from([UTC, SEOUL, timezone(timedelta(hours=-5))])))
def test_iso_dates_round_trip(value: datetime) -> None:
    # Same instant. (Wall times can differ inside a DST gap: Seoul had DST in 1987-88.)
    assert parse_date(value.isoformat(), SEOUL).astimezone(UTC) == value.astimezone(UTC)


def test_clean_text_collapses_whitespace_and_drops_invisible_and_illegal() -> None:
    messy = "  보령시\u00a0\u3000새소식\u200b\x00\x07\x7f\n\t제목 "
    assert clean_text(messy) == "보령시 새소식 제목"
    assert clean_text("<b>굵게</b> &amp; 기울임 &lt;3") == "굵게 & 기울임 <3"
    assert clean_text("<script>alert(1)</script>제목") == "제목"
    # Decomposed Hangul jamo are composed (NFC), so equal titles compare equal.
    assert clean_text("\u1107\u1169\u1105\u1167\u11bc") == "보령"


@given(st.text())
def test_clean_text_never_leaves_xml_illegal_characters(text: str) -> None:
    assert not XML_ILLEGAL.search(clean_text(text))


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("시는 5개.. 더보기", "시는 5개…"),
        ("요약입니다 ...더보기", "요약입니다…"),
        ("요약입니다 [더보기]", "요약입니다"),
        ("요약입니다 (더 보기)", "요약입니다"),
        ("더보기가 중간에 있는 요약", "더보기가 중간에 있는 요약"),
        ("…으로 시작하는 요약", "…으로 시작하는 요약"),  # idempotent: no "…" added
    ],
)
def test_summary_loses_the_read_more_link_text(raw: str, expected: str) -> None:
    assert clean_summary(raw) == expected


def test_sanitize_removes_active_content_and_absolutises_links() -> None:
    dirty = (
        '<p onclick="steal()">본문 <a href="/board/view.do?id=1">링크</a>'
        '<img src="../img/a.jpg" onerror="x()"> <a href="javascript:alert(1)">js</a></p>'
        '<script>alert(1)</script><iframe src="https://evil.example/"></iframe>'
        '<form action="/x"><input name="q"></form><style>p{}</style>'
        '<a href="//cdn.example.org/f.pdf">pdf</a>'
    )
    clean = sanitize_html(dirty, "https://www.brcn.go.kr/kor/news/list.do")
    for bad in ("onclick", "onerror", "script", "iframe", "<form", "<input", "<style",
                "javascript:"):
        assert bad not in clean
    assert 'href="https://www.brcn.go.kr/board/view.do?id=1"' in clean
    assert 'src="https://www.brcn.go.kr/kor/img/a.jpg"' in clean
    assert 'href="https://cdn.example.org/f.pdf"' in clean
    assert "본문" in clean


def test_sanitize_treats_empty_markup_as_no_content() -> None:
    assert sanitize_html("<p>&nbsp;</p><div> </div>", "https://a.example/") == ""


@given(st.text(alphabet=st.sampled_from(list('<>"\'=/ aonclickerscriptjavascript:img')),
               max_size=200))
def test_sanitized_html_has_no_event_handlers_or_scripts(fragment: str) -> None:
    clean = sanitize_html(fragment, "https://a.example/")
    assert "<script" not in clean.lower()
    assert not re.search(r"<[^>]*\son\w+\s*=", clean, re.I)
    assert "javascript:" not in clean.lower() or "href" not in clean.lower()


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("https://www.brcn.go.kr/a?b=1&amp;c=2", "https://www.brcn.go.kr/a?b=1&c=2"),
        ("https://www.brcn.go.kr/파일 이름.hwp",
         "https://www.brcn.go.kr/%ED%8C%8C%EC%9D%BC%20%EC%9D%B4%EB%A6%84.hwp"),
        (" https://a.example/x%20y ", "https://a.example/x%20y"),
    ],
)
def test_clean_url_makes_valid_absolute_uris(raw: str, expected: str) -> None:
    assert clean_url(raw) == expected


@pytest.mark.parametrize("raw", ["/relative/path", "ftp://a.example/x", "javascript:alert(1)",
                                 "mailto:a@b.example", "https://"])
def test_clean_url_rejects_what_a_feed_cannot_link_to(raw) -> None:
    with pytest.raises(RecordError, match=rf"^not an absolute http\(s\) URL: '{re.escape(raw)}'$"):
        clean_url(raw)


@pytest.mark.parametrize("raw", ["", None])
def test_clean_url_says_when_there_is_no_url(raw) -> None:
    with pytest.raises(RecordError, match=r"^missing URL$"):
        clean_url(raw)


def test_normalize_record_defaults_and_aliases() -> None:
    article = normalize_record(
        {"title": " 제목 ", "link": "https://a.example/1", "date": "2024.06.11",
         "body_html": "<p>첫 문장입니다. " + "긴 본문 " * 100 + "</p>",
         "department": "세무과", "category": "보도자료", "images": ["/i.png"]},
        SEOUL)
    assert article.id == article.url == "https://a.example/1"
    assert article.updated == article.published == datetime(2024, 6, 11, tzinfo=SEOUL)
    assert article.category == "세무과"
    assert article.image == "https://a.example/i.png"
    assert article.summary.startswith("첫 문장입니다.") and article.summary.endswith("…")
    assert len(article.summary) <= 200


def test_normalize_record_caps_very_long_titles() -> None:
    article = normalize_record({"title": "가나다 " * 1000, "url": "https://a.example/1",
                                "published": "2024-06-11"}, SEOUL)
    assert len(article.title) <= 300 and article.title.endswith("…")


@pytest.mark.parametrize(
    ("record", "reason"),
    [
        ({"url": "https://a.example/1", "published": "2024-06-11"}, "missing title"),
        ({"title": "\x00\u200b ", "url": "https://a.example/1", "published": "2024-06-11"},
         "missing title"),
        ({"title": "t", "published": "2024-06-11"}, "missing URL"),
        ({"title": "t", "url": "javascript:alert(1)", "published": "2024-06-11"}, "http"),
        ({"title": "t", "url": "https://a.example/1"}, "missing date"),
        ({"title": "t", "url": "https://a.example/1", "published": "2024-02-30"}, "impossible"),
    ],
)
def test_normalize_record_rejects_with_a_reason(record: dict, reason: str) -> None:
    with pytest.raises(RecordError, match=reason):
        normalize_record(record, SEOUL)


@pytest.mark.parametrize(("raw", "expected"), [
    ("송년행사 개...", "송년행사 개…"),
    ("송년행사 개 … ...", "송년행사 개…"),
    ("제목...………", "제목…"),       # more cut marks than badge layers: all go, one "…" stays
    ("...………", ""),                # nothing but cut marks: no title at all
])
def test_clean_title_is_idempotent_on_stacked_cut_marks(raw: str, expected: str) -> None:
    # hypothesis found "...………" -> "...…" -> "" (an export that would not import again).
    assert clean_title(raw) == expected
    assert clean_title(expected) == expected


_URL_ATTR = re.compile(r'(\s(?:href|src)=")([^"]*)"')
_PIECES = st.sampled_from([' href="', ' src="', 'href="', 'src="', '"', " ", "\t", "\u3000",
                           "a", "/x y", "가", "https://e.example/", "&amp;", "%", "hrsrc=\""])


@given(st.lists(_PIECES, max_size=14).map("".join))
def test_links_are_made_absolute_as_the_regex_would(text: str) -> None:
    """The str.find scan that replaced a regex substitution (feedkit.text.clean) rewrites the
    same attributes in the same places, whatever the text around them."""
    from feedkit.text.clean import _absolute_urls, _absolutize

    base, origin = "https://www.brcn.go.kr/news/view.do?x=1", "https://www.brcn.go.kr"
    expected = _URL_ATTR.sub(lambda m: _absolutize(m.group(1), m.group(2), base, origin), text)
    assert _absolute_urls(text, base, origin) == expected
