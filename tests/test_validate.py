"""Tests for feedkit.validate: each W3C-derived rule fires on a bad feed, not on a good one.

Good fixtures are real feedgen output (what the generators ship); bad ones are either feedgen output
with one thing wrong or small hand-written documents, so each test isolates one rule.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from feedgen.feed import FeedGenerator

from feedkit.validate import (
    MAX_FEED_BYTES,
    Problem,
    canonical_uri,
    parse_rfc822,
    parse_rfc3339,
    validate_dir,
    validate_feed,
)

KST = timezone(timedelta(hours=9))
BASE = "https://news.example.org/boryeong/"


def codes(problems: list[Problem]) -> set[str]:
    return {p.code for p in problems}


# --------------------------------------------------------------------------------------------
# Good feeds, written by feedgen itself
# --------------------------------------------------------------------------------------------


def _feedgen(n: int = 3, self_url: str | None = BASE + "feed.xml") -> FeedGenerator:
    fg = FeedGenerator()
    fg.load_extension("dc")
    fg.id(BASE)
    fg.title("보령시 새소식")
    fg.author({"name": "보령시", "email": "news@example.org"})
    # feedgen's RSS <link> is the href of the *last* fg.link() call, so self goes first.
    if self_url:
        fg.link(href=self_url, rel="self")
    fg.link(href="https://www.brcn.go.kr/", rel="alternate")
    fg.language("ko")
    fg.description("보령시 소식을 모았습니다")
    fg.lastBuildDate(datetime(2024, 6, 12, 9, 0, tzinfo=KST))
    fg.updated(datetime(2024, 6, 12, 9, 0, tzinfo=KST))
    for i in range(n):
        fe = fg.add_entry(order="append")
        url = f"https://www.brcn.go.kr/news/{i}"
        fe.id(url)
        fe.guid(url, permalink=True)
        fe.title(f"보령 머드축제 {i}일차 소식")
        fe.link(href=url)
        fe.description("축제 &amp; 행사 요약")  # plain text, HTML-escaped once for <description>
        fe.summary("축제 & 행사 요약")
        fe.content(f'<p>본문 <a href="{url}">자세히</a> <img src="https://www.brcn.go.kr/'
                   f'i/{i}.jpg" alt=""></p>', type="CDATA")
        fe.published(datetime(2024, 6, 1 + i, 9, 30, tzinfo=KST))
        fe.updated(datetime(2024, 6, 1 + i, 9, 30, tzinfo=KST))
        fe.dc.dc_creator("보령시 홍보실")
    return fg


@pytest.fixture
def good_rss() -> bytes:
    return _feedgen().rss_str(pretty=True)


def _good_atom_fg(n: int = 3) -> FeedGenerator:
    fg = FeedGenerator()
    fg.id(BASE)
    fg.title("보령시 새소식")
    fg.author({"name": "보령시"})
    fg.link(href=BASE + "atom.xml", rel="self", type="application/atom+xml")
    fg.link(href="https://www.brcn.go.kr/", rel="alternate")
    fg.language("ko")
    fg.updated(datetime(2024, 6, 12, 9, 0, tzinfo=KST))
    for i in range(n):
        fe = fg.add_entry(order="append")
        url = f"https://www.brcn.go.kr/news/{i}"
        fe.id(url)
        fe.title(f"보령 머드축제 {i}일차 소식")
        fe.link(href=url)  # only the alternate: feedgen 1.0 drops rel on entry links
        fe.summary("축제 & 행사 요약")
        fe.content(f'<p>본문 <a href="{url}">자세히</a></p>', type="html")
        fe.published(datetime(2024, 6, 1 + i, 9, 30, tzinfo=KST))
        fe.updated(datetime(2024, 6, 1 + i, 9, 30, tzinfo=KST))
    return fg


@pytest.fixture
def good_atom() -> bytes:
    return _good_atom_fg().atom_str(pretty=True)


def _good_json(**changes) -> dict:
    doc = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": "보령시 새소식",
        "home_page_url": "https://www.brcn.go.kr/",
        "feed_url": BASE + "feed.json",
        "language": "ko",
        "authors": [{"name": "보령시"}],
        "items": [
            {"id": f"https://www.brcn.go.kr/news/{i}", "url": f"https://www.brcn.go.kr/news/{i}",
             "title": "소식", "content_html": '<p><a href="https://www.brcn.go.kr/">x</a></p>',
             "date_published": f"2024-06-0{i + 1}T09:30:00+09:00",
             "tags": ["축제"]}
            for i in range(3)
        ],
    }
    doc.update(changes)
    return doc


def _json(doc: dict) -> bytes:
    return json.dumps(doc, ensure_ascii=False).encode("utf-8")


def test_feedgen_rss_is_clean(good_rss):
    assert validate_feed(good_rss, "feed.xml", BASE + "feed.xml") == []


def test_feedgen_atom_is_clean(good_atom):
    assert validate_feed(good_atom, "atom.xml", BASE + "atom.xml") == []


def test_json_feed_is_clean():
    assert validate_feed(_json(_good_json()), "feed.json", BASE + "feed.json") == []


def test_problem_str_format():
    p = Problem("feed.xml:3:/rss/channel", "Missing x", "warning", "MissingSelf")
    assert str(p) == "feed.xml:3:/rss/channel: warning: Missing x [MissingSelf]"


# --------------------------------------------------------------------------------------------
# Hand-written documents
# --------------------------------------------------------------------------------------------

RSS_HEAD = ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom" '
            'xmlns:content="http://purl.org/rss/1.0/modules/content/" '
            'xmlns:dc="http://purl.org/dc/elements/1.1/">\n<channel>\n')


def rss(items: str = "", channel: str | None = None, head: str = RSS_HEAD) -> bytes:
    if channel is None:
        channel = (f'<title>T</title>\n<link>https://www.brcn.go.kr/</link>\n'
                   f'<description>D</description>\n<language>ko</language>\n'
                   f'<atom:link href="{BASE}feed.xml" rel="self" type="application/rss+xml"/>\n')
    return (head + channel + items + "</channel>\n</rss>\n").encode("utf-8")


def item(body: str = "", guid: str = "https://www.brcn.go.kr/a/1",
         pub: str = "Sat, 01 Jun 2024 09:30:00 +0900") -> str:
    parts = ["<item>", "<title>제목</title>", "<link>https://www.brcn.go.kr/a/1</link>",
             "<description>요약</description>"]
    if guid:
        parts.append(f"<guid>{guid}</guid>")
    if pub:
        parts.append(f"<pubDate>{pub}</pubDate>")
    parts += [body, "</item>\n"]
    return "\n".join(parts)


ATOM_HEAD = ('<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom" '
             'xml:lang="ko">\n')


def atom(entries: str = "", meta: str | None = None) -> bytes:
    if meta is None:
        meta = (f"<id>{BASE}</id><title>T</title><updated>2024-06-12T09:00:00+09:00</updated>\n"
                f'<author><name>보령시</name></author>\n<link href="{BASE}atom.xml" rel="self"/>\n')
    return (ATOM_HEAD + meta + entries + "</feed>\n").encode("utf-8")


def entry(i: int = 1, updated: str = "2024-06-01T09:30:00+09:00", body: str | None = None,
          eid: str | None = None) -> str:
    if body is None:
        body = '<content type="html">&lt;p&gt;본문&lt;/p&gt;</content>'
    return (f"<entry><id>{eid or f'https://www.brcn.go.kr/a/{i}'}</id><title>제목 {i}</title>"
            f"<updated>{updated}</updated>"
            f'<link href="https://www.brcn.go.kr/a/{i}"/>{body}</entry>\n')


def test_hand_written_baselines_are_clean():
    assert validate_feed(rss(item()), "feed.xml") == []
    assert validate_feed(atom(entry()), "atom.xml") == []


# --- self links ------------------------------------------------------------------------------


def test_missing_self_link_rss_and_atom():
    fg = _feedgen(self_url=None)
    assert "MissingAtomSelfLink" in codes(validate_feed(fg.rss_str(), "feed.xml"))
    no_self = atom(entry(), meta=f"<id>{BASE}</id><title>T</title>"
                   "<updated>2024-06-12T09:00:00+09:00</updated><author><name>A</name></author>")
    assert "MissingSelf" in codes(validate_feed(no_self, "atom.xml"))


def test_self_link_must_match_expected_location(good_rss):
    wrong = validate_feed(good_rss, "feed.xml", BASE + "category/x/feed.xml")
    assert codes(wrong) == {"SelfDoesntMatchLocation"}
    # Equivalent spellings are the same location (default port, case of the host).
    same = validate_feed(good_rss, "feed.xml", "https://NEWS.example.org:443/boryeong/feed.xml")
    assert same == []


def test_relative_self_and_self_type():
    doc = atom(entry(), meta=f"<id>{BASE}</id><title>T</title><updated>2024-06-12T09:00:00Z"
               "</updated><author><name>A</name></author>"
               '<link href="atom.xml" rel="self" type="text/html"/>')
    assert {"RelativeSelf", "SelfNotAtom"} <= codes(validate_feed(doc, "atom.xml"))


# --- links, ids, guids -----------------------------------------------------------------------


def test_relative_item_link_is_invalid_full_link():
    bad = rss(item().replace("<link>https://www.brcn.go.kr/a/1</link>", "<link>/a/1</link>"))
    assert "InvalidFullLink" in codes(validate_feed(bad, "feed.xml"))
    assert validate_feed(rss(item()), "feed.xml") == []


def test_non_ascii_url_must_be_percent_encoded():
    bad = rss(item().replace("https://www.brcn.go.kr/a/1</link>",
                             "https://www.brcn.go.kr/소식/1</link>"))
    assert "UriNotIri" in codes(validate_feed(bad, "feed.xml"))
    good = rss(item().replace("https://www.brcn.go.kr/a/1</link>",
                              "https://www.brcn.go.kr/%EC%86%8C%EC%8B%9D/1</link>"))
    assert validate_feed(good, "feed.xml") == []


def test_duplicate_guids_rss():
    bad = rss(item() + item())
    found = validate_feed(bad, "feed.xml")
    assert "DuplicateValue" in codes(found)
    assert all(p.severity == "error" for p in found if p.code == "DuplicateValue")
    ok = rss(item() + item(guid="https://www.brcn.go.kr/a/2"))
    assert validate_feed(ok, "feed.xml") == []


def test_guid_rules():
    assert "MissingGuid" in codes(validate_feed(rss(item(guid="")), "feed.xml"))
    tag = rss(item(guid="tag:brcn.go.kr,2024:1"))
    assert "InvalidPermalink" in codes(validate_feed(tag, "feed.xml"))
    not_perma = rss(item().replace("<guid>https://www.brcn.go.kr/a/1</guid>",
                                   '<guid isPermaLink="false">tag:brcn.go.kr,2024:1</guid>'))
    assert validate_feed(not_perma, "feed.xml") == []
    short = rss(item().replace("<guid>https://www.brcn.go.kr/a/1</guid>",
                               '<guid isPermaLink="false">123</guid>'))
    assert "NotSufficientlyUnique" in codes(validate_feed(short, "feed.xml"))
    relative = rss(item(guid="/a/1"))
    assert "InvalidHttpGUID" in codes(validate_feed(relative, "feed.xml"))


def test_duplicate_entry_ids_atom():
    found = validate_feed(atom(entry(1) + entry(2, updated="2024-06-02T09:30:00+09:00",
                                                  eid="https://www.brcn.go.kr/a/1")), "atom.xml")
    assert "DuplicateEntries" in codes(found)
    same = "".join(entry(i, updated=f"2024-06-{i + 1:02d}T09:30:00+09:00",
                         eid="https://www.brcn.go.kr/a/1") for i in range(10))
    assert codes(validate_feed(atom(same), "atom.xml")) == {"DuplicateIds"}


def test_atom_id_must_be_canonical():
    doc = atom(entry(eid="HTTPS://www.brcn.go.kr/a/1"))
    assert "NonCanonicalURI" in codes(validate_feed(doc, "atom.xml"))
    no_slash = atom(entry(), meta="<id>https://news.example.org</id><title>T</title>"
                    "<updated>2024-06-12T09:00:00Z</updated><author><name>A</name></author>"
                    f'<link href="{BASE}atom.xml" rel="self"/>')
    assert "NonCanonicalURI" in codes(validate_feed(no_slash, "atom.xml"))
    assert canonical_uri("https://Example.ORG:443/a/./b/../c?x=%7e") == "https://example.org/a/c?x=~"


# --- HTML in description / content:encoded / Atom html ---------------------------------------


@pytest.mark.parametrize("html, code", [
    ("<p>hi</p><script>alert(1)</script>", "SecurityRisk"),
    ('<iframe src="https://www.youtube.com/embed/x"></iframe>', "SecurityRisk"),
    ('<img src="https://x.kr/a.png" onerror="alert(1)">', "SecurityRiskAttr"),
    ('<a href="javascript:alert(1)">x</a>', "SecurityRisk"),
    ('<p style="position:fixed">x</p>', "DangerousStyleAttr"),
    ("<div>unclosed", "NotHtml"),
    ("3 < 5", "NotHtml"),
    ("<o:p>word</o:p>", "NotHtml"),
])
def test_unsafe_html_in_content_encoded(html, code):
    bad = rss(item(f"<content:encoded><![CDATA[{html}]]></content:encoded>"))
    assert code in codes(validate_feed(bad, "feed.xml"))


def test_safe_html_passes():
    html = ('<p>본문 <a href="https://www.brcn.go.kr/a/1" title="t">링크</a><br>'
            '<img src="https://www.brcn.go.kr/i.jpg" alt="" data-x="1"></p><ul><li>a<li>b</ul>')
    good = rss(item(f"<content:encoded><![CDATA[{html}]]></content:encoded>"))
    assert validate_feed(good, "feed.xml") == []


def test_relative_refs_in_content_encoded():
    bad = rss(item('<content:encoded><![CDATA[<a href="/news/1">x</a> <img src="i.png">]]>'
                   "</content:encoded>"))
    found = [p for p in validate_feed(bad, "feed.xml") if p.code == "ContainsRelRef"]
    assert len(found) == 2 and all(p.severity == "warning" for p in found)
    frag = rss(item('<content:encoded><![CDATA[<a href="#top">x</a>]]></content:encoded>'))
    assert "ContainsRelRef" in codes(validate_feed(frag, "feed.xml"))


def test_html_in_description_too():
    bad = rss(item().replace("<description>요약</description>",
                             "<description>&lt;script&gt;x&lt;/script&gt;</description>"))
    assert "SecurityRisk" in codes(validate_feed(bad, "feed.xml"))


def test_unescaped_html_child_elements_are_undefined():
    bad = rss(item().replace("<description>요약</description>",
                             "<description><p>요약</p></description>"))
    assert "UndefinedElement" in codes(validate_feed(bad, "feed.xml"))


def test_need_description_before_content():
    body = "<content:encoded><![CDATA[<p>x</p>]]></content:encoded>"
    bad = rss(item().replace("<description>요약</description>", body))
    assert "NeedDescriptionBeforeContent" in codes(validate_feed(bad, "feed.xml"))


def test_title_html_rules():
    end_tag = rss(item().replace("<title>제목</title>", "<title>&lt;b&gt;제목&lt;/b&gt;</title>"))
    assert "ContainsHTML" in codes(validate_feed(end_tag, "feed.xml"))
    markup = rss(item().replace("<title>제목</title>", "<title>a &lt;b 제목</title>"))
    assert "CharacterData" in codes(validate_feed(markup, "feed.xml"))
    hexed = rss(item().replace("<title>제목</title>", "<title>a &#x3C;b 제목</title>"))
    assert validate_feed(hexed, "feed.xml") == []
    entity = rss(item().replace("<title>제목</title>", "<title>Q&amp;amp;A</title>"))
    assert "ContainsHTML" in codes(validate_feed(entity, "feed.xml"))
    plain = rss(item().replace("<title>제목</title>", "<title>R&amp;D 3 &lt; 5</title>"))
    assert validate_feed(plain, "feed.xml") == []


# --- dates -----------------------------------------------------------------------------------


@pytest.mark.parametrize("value, code", [
    ("2024-06-01T09:30:00+09:00", "InvalidRFC2822Date"),
    ("Sat, 1 June 2024 09:30 KST", "InvalidRFC2822Date"),
    ("Sat, 31 Feb 2024 09:30:00 +0900", "InvalidRFC2822Date"),
    ("Sun, 01 Jun 2024 09:30:00 +0900", "IncorrectDOW"),
    ("01 Jun 24 09:30 +0900", "ProblematicalRFC822Date"),
    ("Tue, 01 Jan 1985 00:00:00 GMT", "ImplausibleDate"),
])
def test_rfc822_dates(value, code):
    assert code in codes(validate_feed(rss(item(pub=value)), "feed.xml"))


def test_rfc822_good_and_future():
    assert parse_rfc822("Sat, 01 Jun 2024 09:30:00 +0900")[0] is None
    assert parse_rfc822("01 Jun 2024 09:30 GMT")[0] is None
    future = (datetime.now(UTC) + timedelta(days=2)).strftime("%a, %d %b %Y %H:%M:%S +0000")
    assert parse_rfc822(future)[0] == "ImplausibleDate"


def test_rfc3339_dates():
    assert parse_rfc3339("2024-06-01T09:30:00.123456+09:00")[0] is None
    assert parse_rfc3339("2024-06-01T09:30+09:00")[0] == "InvalidRFC3339Date"  # seconds required
    assert parse_rfc3339("2024-06-01 09:30:00Z")[0] == "InvalidRFC3339Date"
    assert parse_rfc3339("2024-06-01T09:30:00z")[0] == "InvalidRFC3339Date"
    assert parse_rfc3339("1989-12-31T23:59:59Z")[0] == "ImplausibleDate"
    bad = atom(entry(updated="2024-06-01"))
    assert "InvalidRFC3339Date" in codes(validate_feed(bad, "atom.xml"))


def test_stale_last_build_date():
    channel = (f'<title>T</title><link>https://www.brcn.go.kr/</link><description>D</description>'
               f'<lastBuildDate>Fri, 31 May 2024 09:00:00 +0900</lastBuildDate>'
               f'<atom:link href="{BASE}feed.xml" rel="self"/>')
    assert "StaleFeedDate" in codes(validate_feed(rss(item(), channel=channel), "feed.xml"))


# --- DuplicateUpdated (W3C: same atom:updated *string* on two entries, whatever their ids) ------


def test_duplicate_updated_fires_for_different_entries_with_same_timestamp():
    fg = _good_atom_fg(n=2)
    for fe in fg.entry():
        fe.updated(datetime(2024, 6, 1, 0, 0, tzinfo=KST))  # a whole day's news at midnight
    found = validate_feed(fg.atom_str(), "atom.xml")
    assert codes(found) == {"DuplicateUpdated"}
    assert all(p.severity == "warning" for p in found)


def test_duplicate_updated_compares_strings_not_instants():
    same_instant = atom(entry(1, updated="2024-06-01T09:30:00+09:00")
                        + entry(2, updated="2024-06-01T00:30:00Z"))
    assert validate_feed(same_instant, "atom.xml") == []
    distinct = atom(entry(1, updated="2024-06-01T09:30:00+09:00")
                    + entry(2, updated="2024-06-01T09:30:01+09:00"))
    assert validate_feed(distinct, "atom.xml") == []


# --- language ----------------------------------------------------------------------------------


def test_language_codes():
    bad = rss(item(), channel=(f'<title>T</title><link>https://www.brcn.go.kr/</link>'
                               f'<description>D</description><language>ko_KR</language>'
                               f'<atom:link href="{BASE}feed.xml" rel="self"/>'))
    assert "InvalidLanguage" in codes(validate_feed(bad, "feed.xml"))
    good = bad.replace(b"ko_KR", b"ko-KR")
    assert validate_feed(good, "feed.xml") == []
    xml_lang = atom(entry()).replace(b'xml:lang="ko"', b'xml:lang="korean"')
    assert "InvalidLanguage" in codes(validate_feed(xml_lang, "atom.xml"))


# --- Atom text constructs -----------------------------------------------------------------------


def test_atom_content_type_cdata_from_feedgen():
    fg = _good_atom_fg(n=1)
    fg.entry()[0].content("<p>본문</p>", type="CDATA")  # feedgen writes type="CDATA" verbatim
    found = validate_feed(fg.atom_str(), "atom.xml")
    assert "InvalidMIMEType" in codes(found)


def test_atom_text_rules():
    undeclared = atom(entry(body="<summary>&lt;b&gt;요약&lt;/b&gt;</summary>"))
    assert "ContainsUndeclaredHTML" in codes(validate_feed(undeclared, "atom.xml"))
    no_text = atom(entry(body=""))
    assert "MissingTextualContent" in codes(validate_feed(no_text, "atom.xml"))
    text_type = atom(entry(body='<summary type="text/plain">요약</summary>'))
    assert "InvalidTextType" in codes(validate_feed(text_type, "atom.xml"))
    xhtml = atom(entry(body='<content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml">'
                            "<p>본문</p></div></content>"))
    assert validate_feed(xhtml, "atom.xml") == []
    xhtml_bad = atom(entry(body='<content type="xhtml">본문</content>'))
    assert "MissingXhtmlDiv" in codes(validate_feed(xhtml_bad, "atom.xml"))
    script = atom(entry(body='<content type="html">&lt;script&gt;x&lt;/script&gt;</content>'))
    assert "SecurityRisk" in codes(validate_feed(script, "atom.xml"))


def test_atom_entry_needs_author_somewhere():
    meta = (f"<id>{BASE}</id><title>T</title><updated>2024-06-12T09:00:00Z</updated>"
            f'<link href="{BASE}atom.xml" rel="self"/>')
    assert "MissingElement" in codes(validate_feed(atom(entry(), meta=meta), "atom.xml"))


def test_feedgen_entry_enclosure_duplicates_alternate_link():
    fg = _good_atom_fg(n=1)
    fg.entry()[0].enclosure("https://www.brcn.go.kr/i.jpg", "0", "image/jpeg")
    assert "DuplicateAtomLink" in codes(validate_feed(fg.atom_str(), "atom.xml"))


def test_metadata_after_entries():
    doc = atom(entry() + "<subtitle>late</subtitle>")
    assert "MisplacedMetadata" in codes(validate_feed(doc, "atom.xml"))


# --- enclosures, media, people ------------------------------------------------------------------


def test_enclosure_rules():
    def enc(attrs: str) -> bytes:
        return rss(item(f"<enclosure {attrs}/>"))

    url = 'url="https://www.brcn.go.kr/i.jpg"'
    assert validate_feed(enc(f'{url} length="0" type="image/jpeg"'), "feed.xml") == []
    assert "MissingAttribute" in codes(validate_feed(enc(f'{url} type="image/jpeg"'), "f.xml"))
    assert "UseZeroForUnknown" in codes(
        validate_feed(enc(f'{url} length="-1" type="image/jpeg"'), "f.xml"))
    assert "InvalidMIMEAttribute" in codes(
        validate_feed(enc(f'{url} length="0" type="jpeg"'), "f.xml"))
    assert "InvalidURLAttribute" in codes(
        validate_feed(enc('url="/i.jpg" length="0" type="image/jpeg"'), "f.xml"))
    two = rss(item(f'<enclosure {url} length="0" type="image/jpeg"/>' * 2))
    assert "DuplicateEnclosure" in codes(validate_feed(two, "feed.xml"))


def test_media_rules():
    head = RSS_HEAD.replace("<rss ", '<rss xmlns:media="http://search.yahoo.com/mrss/" ')
    bad = rss(item('<media:content url="https://www.brcn.go.kr/i.jpg" fileSize="0" '
                   'medium="picture"/><media:group><media:content '
                   'url="https://www.brcn.go.kr/v.mp4"/></media:group>'), head=head)
    found = codes(validate_feed(bad, "feed.xml"))
    assert {"InvalidPositiveInteger", "InvalidMediaMedium",
            "MediaGroupWithoutAlternatives"} <= found
    good = rss(item('<media:content url="https://www.brcn.go.kr/i.jpg" medium="image" '
                    'type="image/jpeg" width="640" height="480"/>'), head=head)
    assert validate_feed(good, "feed.xml") == []
    no_slash = RSS_HEAD.replace("<rss ", '<rss xmlns:media="http://search.yahoo.com/mrss" ')
    assert "MediaRssNamespace" in codes(validate_feed(rss(item(), head=no_slash), "feed.xml"))


def test_rss_author_needs_an_email():
    plain = rss(item("<author>홍길동</author>"))
    assert "InvalidContact" in codes(validate_feed(plain, "feed.xml"))
    no_name = rss(item("<author>news@example.org</author>"))
    assert "MissingRealName" in codes(validate_feed(no_name, "feed.xml"))
    ok = rss(item("<author>news@example.org (홍길동)</author>"))
    assert validate_feed(ok, "feed.xml") == []
    both = rss(item("<author>news@example.org (홍길동)</author><dc:creator>홍길동</dc:creator>"))
    assert "DuplicateItemSemantics" in codes(validate_feed(both, "feed.xml"))


# --- characters, encoding, size, well-formedness ----------------------------------------------


def test_control_characters():
    assert "BadCharacters" in codes(validate_feed(rss(item("<category>a\x7fb</category>")),
                                                  "feed.xml"))
    assert "BadCharacters" in codes(validate_feed(rss(item("<category>a\u0085b</category>")),
                                                  "feed.xml"))
    assert "BadCharacters" in codes(validate_feed(rss(item("<category>a&#150;b</category>")),
                                                  "feed.xml"))
    assert "BadCharacters" in codes(validate_feed(rss(item("<category>cafÃ©</category>")),
                                                  "feed.xml"))
    assert "SAXError" in codes(validate_feed(rss(item("<category>a\x01b</category>")),
                                             "feed.xml"))


def test_not_well_formed_and_entities():
    assert "SAXError" in codes(validate_feed(b"<rss version='2.0'><channel>", "feed.xml"))
    nbsp = rss(item("<category>a&nbsp;b</category>"))
    assert "UndefinedNamedEntity" in codes(validate_feed(nbsp, "feed.xml"))


def test_obscure_encoding():
    doc = rss(item()).decode("utf-8").replace('encoding="UTF-8"', 'encoding="EUC-KR"')
    assert "ObscureEncoding" in codes(validate_feed(doc.encode("euc-kr"), "feed.xml"))


def test_unknown_namespace():
    head = RSS_HEAD.replace("<rss ", '<rss xmlns:x="https://example.org/ns/x" ')
    assert "UnknownNamespace" in codes(validate_feed(rss(item(), head=head), "feed.xml"))


def test_oversize_feed():
    small = rss(item())
    padding = b"<!--" + b"x" * (MAX_FEED_BYTES - len(small)) + b"-->"
    big = small.replace(b"</rss>", padding + b"</rss>")
    assert len(big) > MAX_FEED_BYTES
    found = validate_feed(big, "feed.xml")
    assert codes(found) == {"ValidatorLimit"}
    assert found[0].severity == "error"


def test_content_type_checks(good_rss):
    assert validate_feed(good_rss, "feed.xml", content_type="application/rss+xml") == []
    assert "UnexpectedContentType" in codes(
        validate_feed(good_rss, "feed.xml", content_type="text/html"))


# --- JSON Feed ----------------------------------------------------------------------------------


def test_json_feed_problems():
    doc = _good_json(version="https://jsonfeed.org/version/2", language="ko_KR")
    del doc["feed_url"]
    del doc["title"]
    items = doc["items"]
    items[1]["id"] = items[0]["id"]
    items[2]["url"] = "/news/2"
    items[2]["date_published"] = "2024-06-03 09:30"
    items.append({"id": 7, "title": "no content"})
    found = codes(validate_feed(_json(doc), "feed.json"))
    assert {"InvalidJSONFeedVersion", "InvalidLanguage", "MissingSelf", "MissingElement",
            "DuplicateValue", "InvalidFullLink", "InvalidRFC3339Date", "InvalidValue",
            "MissingTextualContent"} <= found


def test_json_feed_html_and_self():
    doc = _good_json()
    doc["items"][0]["content_html"] = '<a href="/x">x</a><script>1</script>'
    found = validate_feed(_json(doc), "feed.json", BASE + "category/x/feed.json")
    assert {"ContainsRelRef", "SecurityRisk", "SelfDoesntMatchLocation"} <= codes(found)
    assert all(p.path.startswith("feed.json") for p in found)


def test_json_without_version_and_broken_json():
    assert "MissingElement" in codes(validate_feed(b'{"title": "x", "items": []}', "a.json"))
    assert "InvalidJSON" in codes(validate_feed(b'{"version": ', "a.json"))


# --------------------------------------------------------------------------------------------
# validate_dir
# --------------------------------------------------------------------------------------------


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def test_validate_dir(tmp_path: Path):
    _write(tmp_path / "feed.xml", _feedgen().rss_str(pretty=True))
    _write(tmp_path / "feed.json", _json(_good_json()))
    good_cat = _good_atom_fg()
    good_cat.id(BASE + "category/culture/")
    good_cat.link(href=BASE + "category/culture/atom.xml", rel="self", replace=True)
    _write(tmp_path / "category/culture/atom.xml", good_cat.atom_str())
    # Self link copied from the main feed: wrong location, and the same feed id as atom.xml.
    _write(tmp_path / "atom.xml", _good_atom_fg().atom_str())
    wrong = _good_atom_fg()
    _write(tmp_path / "category/sports/atom.xml", wrong.atom_str())
    _write(tmp_path / "sitemap.xml", b'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps'
                                     b'.org/schemas/sitemap/0.9"></urlset>')
    _write(tmp_path / "style.xsl", b"<xsl:stylesheet/>")
    _write(tmp_path / "data/stats.json", b'{"count": 3}')
    problems = validate_dir(tmp_path)
    by_file: dict[str, set[str]] = {}
    for p in problems:
        by_file.setdefault(p.path.split(":")[0], set()).add(p.code)
    assert by_file == {
        "category/sports/atom.xml": {"SelfDoesntMatchLocation", "DuplicateFeedId"},
        "data/stats.json": {"MissingElement"},
    }
    assert [p.path for p in problems] == sorted(p.path for p in problems)


def test_validate_dir_base_mismatch(tmp_path: Path):
    _write(tmp_path / "feed.xml", _feedgen().rss_str())
    other = _feedgen(self_url="https://elsewhere.example.com/category/x/feed.xml")
    _write(tmp_path / "category/x/feed.xml", other.rss_str())
    problems = validate_dir(tmp_path)
    assert [(p.path, p.code) for p in problems] == [
        ("category/x/feed.xml", "SelfDoesntMatchLocation")]
    assert validate_dir(tmp_path, base_url="https://elsewhere.example.com/")[0].path == "feed.xml"


def test_validate_dir_reports_line_sorted(tmp_path: Path):
    _write(tmp_path / "feed.xml", rss(item() + item()))  # duplicate guid on a later line
    _write(tmp_path / "a.xml", rss(item(pub="yesterday"), channel=(
        f'<title>T</title><link>https://www.brcn.go.kr/</link><description>D</description>'
        f'<atom:link href="{BASE}a.xml" rel="self"/>')))
    problems = validate_dir(tmp_path)
    assert [p.code for p in problems] == ["InvalidRFC2822Date", "DuplicateValue"]
    assert problems[1].path.startswith("feed.xml:") and "/rss/channel/item[2]/guid" in \
        problems[1].path


def test_channel_elements_after_items_are_misplaced():
    bad = rss(item() + "<ttl>60</ttl>\n")
    assert "MisplacedItem" in codes(validate_feed(bad, "feed.xml"))


def test_json_control_characters():
    doc = _good_json()
    doc["items"][0]["title"] = "a\u0085b"
    assert "BadCharacters" in codes(validate_feed(_json(doc), "feed.json"))
    escaped = json.dumps(doc).encode("ascii")  # the same character as a \\u0085 escape
    assert "BadCharacters" in codes(validate_feed(escaped, "feed.json"))
