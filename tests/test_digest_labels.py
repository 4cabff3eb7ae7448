"""A digest people read (issue 9, item 12): weeks named as people name them, small sections
folded, no repeated department or title, no "새소식 주간 소식"."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime, timedelta
from email import message_from_bytes
from email.header import decode_header, make_header
from email.policy import compat32

import feedparser
import pytest
from _digest_support import SEOUL, config_for, korean_articles, store_with
from lxml import html as lxml_html

from feedkit.digest.compose import make_digest
from feedkit.digest.render import DigestRenderer
from feedkit.digest.week import Week
from feedkit.mail.message import build_message, issue_time, message_bytes
from feedkit.model import Article
from feedkit.site.build import build
from feedkit.text.dates import week_label, week_name

W24 = datetime(2024, 6, 10, tzinfo=SEOUL)


@pytest.mark.parametrize("monday, ko, ko_year, en", [
    (date(2025, 12, 1), "12월 첫째 주 (12월 1일 – 7일)", "2025년 12월 첫째 주",
     "Week of 1–7 December 2025"),
    (date(2024, 6, 10), "6월 둘째 주 (6월 10일 – 16일)", "2024년 6월 둘째 주",
     "Week of 10–16 June 2024"),
    # two months: the week belongs to the month of its Thursday (four of its seven days)
    (date(2025, 9, 29), "10월 첫째 주 (9월 29일 – 10월 5일)", "2025년 10월 첫째 주",
     "Week of 29 September – 5 October 2025"),
    (date(2025, 11, 24), "11월 넷째 주 (11월 24일 – 30일)", "2025년 11월 넷째 주",
     "Week of 24–30 November 2025"),
    (date(2025, 10, 27), "10월 다섯째 주 (10월 27일 – 11월 2일)", "2025년 10월 다섯째 주",
     "Week of 27 October – 2 November 2025"),
    # two years: Thursday 1 January 2026
    (date(2025, 12, 29), "1월 첫째 주 (12월 29일 – 1월 4일)", "2026년 1월 첫째 주",
     "Week of 29 December 2025 – 4 January 2026"),
])
def test_week_labels(monday, ko, ko_year, en):
    assert week_label(monday, "ko") == ko
    assert week_name(monday, "ko-KR", year=True) == ko_year
    assert week_label(monday, "en") == en


def test_every_week_of_a_decade_gets_a_label_that_names_its_thursdays_month():
    monday = date(2020, 1, 6)
    seen, weeks = set(), 0
    while monday.year < 2030:
        weeks += 1
        thursday = monday + timedelta(days=3)
        name = week_name(monday, "ko", year=True)
        assert name.startswith(f"{thursday.year}년 {thursday.month}월 "), (monday, name)
        seen.add(name)
        monday += timedelta(days=7)
    assert len(seen) == weeks == 522  # no two weeks share a name


def _digest(config, articles):
    return make_digest(config, Week.parse("2024-W24", SEOUL),
                       sorted(articles, key=lambda a: a.published, reverse=True))


def test_subject_heading_and_titles_name_the_week_not_its_iso_number(tmp_path):
    config = config_for(tmp_path)
    articles = korean_articles(12, W24)
    digest = _digest(config, articles)
    renderer = DigestRenderer(config)
    assert renderer.subject(digest) == "보령시 주간 소식 · 6월 둘째 주 (6월 10일 – 16일)"
    msg = build_message(config, digest, renderer.email(digest), renderer.subject(digest),
                        "reader@example.com", issue_time(digest.week))
    # decoded by the strict RFC 2047 decoder: no space lost at a fold
    raw = message_from_bytes(message_bytes(msg), policy=compat32)["Subject"]
    assert str(make_header(decode_header(raw))) == renderer.subject(digest)

    text = renderer.text(digest)
    assert text.splitlines()[0] == "보령시 주간 소식 — 2024년 6월 둘째 주 (6월 10일 – 16일)"
    assert "W24" not in text.replace("2024-W24.html", "")

    # the archive: page titles, the index and the digest feed; ISO labels only in file names
    store = store_with(tmp_path, articles + korean_articles(3, W24 + timedelta(days=7),
                                                            prefix="n"))
    build(config, store, tmp_path / "public")
    store.close()
    page = lxml_html.parse(str(tmp_path / "public" / "digest" / "2024-W24.html")).getroot()
    assert page.findtext(".//title") == "보령시 주간 소식 · 2024년 6월 둘째 주 (6월 10일 – 16일)"
    assert page.xpath("//a[@rel='next']")[0].text_content() == "2024년 6월 셋째 주 →"
    index = lxml_html.parse(str(tmp_path / "public" / "digest" / "index.html")).getroot()
    assert [a.text_content() for a in index.xpath("//a[@class='week']")] == [
        "6월 셋째 주 (6월 17일 – 23일)", "6월 둘째 주 (6월 10일 – 16일)"]
    assert "W2" not in index.xpath("string(//main)")
    feed = feedparser.parse((tmp_path / "public" / "digest" / "feed.xml").read_bytes())
    assert feed.feed.title == "보령시 주간 소식"
    assert [e.title for e in feed.entries] == [
        "보령시 주간 소식 · 2024년 6월 셋째 주 (6월 17일 – 23일)",
        "보령시 주간 소식 · 2024년 6월 둘째 주 (6월 10일 – 16일)"]


@pytest.mark.parametrize("site_title, expected", [
    ("보령시 새소식", "보령시 주간 소식"),
    ("보령시 소식", "보령시 주간 소식"),
    ("보령시청", "보령시청 주간 소식"),
    ("보령시새소식", "보령시새소식 주간 소식"),
    ("새소식", "새소식 주간 소식"),
])
def test_the_digest_title_does_not_say_news_twice(tmp_path, site_title, expected):
    config = config_for(tmp_path, site={"title": site_title})
    assert DigestRenderer(config).title() == expected


def test_the_digest_title_can_be_set(tmp_path):
    config = config_for(tmp_path, digest={"title": "주간 보령"})
    digest = _digest(config, korean_articles(3, W24))
    renderer = DigestRenderer(config)
    assert renderer.subject(digest) == "주간 보령 · 6월 둘째 주 (6월 10일 – 16일)"
    doc = lxml_html.document_fromstring(renderer.email(digest).html)
    assert doc.xpath("string(//h1)") == "주간 보령"


def test_an_english_site_reads_naturally(tmp_path):
    config = config_for(tmp_path, site={"title": "Springfield News", "language": "en",
                                        "timezone": "Europe/London"})
    digest = make_digest(config, Week.parse("2025-W49", SEOUL),
                         [dataclasses.replace(a, category="") for a in
                          korean_articles(3, datetime(2025, 12, 1, tzinfo=SEOUL))])
    renderer = DigestRenderer(config)
    assert renderer.subject(digest) == "Springfield News weekly · Week of 1–7 December 2025"
    doc = lxml_html.document_fromstring(renderer.web_page(digest))
    assert doc.findtext(".//title") == "Springfield News weekly · Week of 1–7 December 2025"
    assert doc.xpath("string(//p[@class='eyebrow'])") == "Week of 1–7 December 2025"
    assert doc.xpath("string(//h2)").startswith("Other news")
    text = doc.text_content()
    assert "주간" not in text and "소식" not in text and "W49" not in text


# -- sections -------------------------------------------------------------------------------

_OFFICES = ["대천1동", "대천2동", "대천3동", "대천4동", "대천5동", "웅천읍", "주포면", "오천면",
            "천북면", "청소면"]


def _art(i: int, category: str, hours: int, **kw) -> Article:
    url = f"https://www.brcn.go.kr/news/{i}"
    when = W24 + timedelta(hours=hours)
    return Article(id=url, url=url, title=kw.pop("title", f"소식 {i}"), published=when,
                   updated=when, category=category, **kw)


def _week_with_offices() -> list[Article]:
    arts = [_art(i, office, 10 + i) for i, office in enumerate(_OFFICES)]   # one each
    arts += [_art(100 + i, "관광과", 20 + i) for i in range(4)]
    arts += [_art(200 + i, "세무과", 30 + i) for i in range(2)]
    arts += [_art(300, "도서관", 40), _art(301, "감사실", 41), _art(302, "", 42)]
    return arts


def test_one_item_sections_fold_into_local_and_other_news(tmp_path):
    config = config_for(tmp_path)
    assert config.digest.fold_below == 2
    digest = _digest(config, _week_with_offices())
    titles = [s.title for s in digest.sections]
    assert titles == ["관광과", "세무과", "읍·면·동 소식", "기타 소식"]
    local = digest.sections[2]
    assert [a.category for a in local.articles] == list(reversed(_OFFICES))  # newest first
    other = digest.sections[3]
    assert [a.category for a in other.articles] == ["", "감사실", "도서관"]
    assert digest.total == len(_week_with_offices())


def test_the_fold_threshold_is_configurable(tmp_path):
    keep = _digest(config_for(tmp_path, digest={"fold_below": 0}), _week_with_offices())
    assert len(keep.sections) == 10 + 4 + 1
    wide = _digest(config_for(tmp_path, digest={"fold_below": 3}), _week_with_offices())
    assert [s.title for s in wide.sections] == ["관광과", "읍·면·동 소식", "기타 소식"]
    assert {a.category for a in wide.sections[2].articles} == {"세무과", "도서관", "감사실", ""}


def test_a_lone_small_section_and_configured_sections_do_not_fold(tmp_path):
    arts = [_art(1, "대천1동", 1), *[_art(10 + i, "관광과", 2 + i) for i in range(3)],
            _art(20, "세무과", 9)]
    digest = _digest(config_for(tmp_path, digest={"categories": ["세무과"]}), arts)
    assert [s.title for s in digest.sections] == ["세무과", "관광과", "대천1동"]


def test_items_name_their_department_only_where_the_heading_does_not(tmp_path):
    config = config_for(tmp_path)
    digest = _digest(config, _week_with_offices())
    doc = lxml_html.document_fromstring(DigestRenderer(config).email(digest).html)
    metas = {}
    for h2 in doc.xpath("//h2"):
        section = h2.text.strip()
        row = h2.getparent().getparent()
        for item in row.itersiblings():
            if item.xpath(".//h2") or not item.xpath(".//p[@class='meta']"):
                break
            metas.setdefault(section, []).append(item.xpath("string(.//p[@class='meta'])"))
    assert all("관광과" not in m for m in metas["관광과"]) and len(metas["관광과"]) == 4
    assert all("·" not in m for m in metas["세무과"])
    assert [m.split(" · ")[1] for m in metas["읍·면·동 소식"]] == list(reversed(_OFFICES))
    assert metas["기타 소식"][1].endswith(" · 감사실")
    assert "·" not in metas["기타 소식"][0]  # no department at all: nothing to name


def test_a_summary_that_repeats_the_title_is_trimmed(tmp_path):
    config = config_for(tmp_path)
    arts = [
        _art(1, "관광과", 1, title="보령머드축제 7월 개막",
             summary="보령머드축제 7월 개막 - 올해 축제는 대천해수욕장에서 열린다."),
        _art(2, "관광과", 2, title="보령머드축제 7월 개막 안내",
             summary="보령머드축제   7월 개막 안내"),
        _art(3, "관광과", 3, title="보령시", summary="보령시청은 민원실을 새로 단장했다."),
    ]
    doc = lxml_html.document_fromstring(DigestRenderer(config).email(_digest(config, arts)).html)
    summaries = {it.xpath("string(.//h3)"): it.xpath("string(.//p[@class='summary'])")
                 for it in doc.xpath("//td[contains(@class, 'item')]")}
    assert summaries["보령머드축제 7월 개막"] == "올해 축제는 대천해수욕장에서 열린다."
    assert summaries["보령머드축제 7월 개막 안내"] == ""  # nothing but the title: no summary
    assert summaries["보령시"] == "보령시청은 민원실을 새로 단장했다."  # a word, not the title
