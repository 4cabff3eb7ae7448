"""``kind = "feed"`` sources: feeds with the quirks Korean government feeds have."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from loopback_server import Site, serve
from realworld import real_world_dir
from test_html_source import make_config, update

# A WordPress feed as news.seoul.go.kr writes it: pubDate without a zone (Seoul time), the
# non-standard <upDate>, the department in dc:creator, several categories, non-permalink GUIDs.
SEOUL_FEED = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"
     xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel>
  <title>행정 &#8211; 서울특별시</title>
  <link>https://news.seoul.go.kr/gov</link>
  <description>서울특별시</description>
  <totalcount>2</totalcount>
  <item>
    <title>전국의 가을축제 마음껏 골라가보세요</title>
    <link>https://news.seoul.go.kr/gov/archives/562363</link>
    <pubDate>2024-10-02 16:34:34</pubDate>
    <upDate>2024-10-04 09:39:14</upDate>
    <dc:creator><![CDATA[홍보기획관 -홍보담당관]]></dc:creator>
    <category><![CDATA[기획행정소식]]></category>
    <category><![CDATA[새소식]]></category>
    <category><![CDATA[가을축제]]></category>
    <guid isPermaLink="false">https://news.seoul.go.kr/gov/?p=562363</guid>
    <description><![CDATA[ 서울시는 가을축제를 한눈에 보는 홍보물을 선보인다.]]></description>
    <content:encoded><![CDATA[<p class="indent20">□ 서울시는 10월~11월 가을축제를 소개한다.</p>
      <p><img src="/gov/wp-content/uploads/2024/10/poster.jpg" alt="포스터"></p>
      <script>track()</script>]]></content:encoded>
  </item>
  <item>
    <title>서울시, 겨울철 안전대책 발표 NEW</title>
    <link>https://news.seoul.go.kr/gov/archives/562400</link>
    <pubDate>Tue, 11 Jun 2024 14:30:00 +0900</pubDate>
    <dc:creator><![CDATA[안전총괄실 -안전총괄과]]></dc:creator>
    <category><![CDATA[안전]]></category>
    <guid isPermaLink="false">https://news.seoul.go.kr/gov/?p=562400</guid>
    <description><![CDATA[겨울철 안전대책...]]></description>
  </item>
</channel>
</rss>
"""


@pytest.fixture
def site():
    s = Site()
    with serve(s):
        yield s


def articles(config) -> dict[str, sqlite3.Row]:
    db = sqlite3.connect(config.store_path)
    db.row_factory = sqlite3.Row
    return {r["id"]: r for r in db.execute("SELECT * FROM articles")}


def test_seoul_feed_quirks(site, tmp_path):
    site.page("/gov/feed", SEOUL_FEED, content_type="application/rss+xml; charset=UTF-8",
              etag='"f1"')
    config = make_config(tmp_path, {"kind": "feed", "url": site.url("/gov/feed")})
    sr = update(config).sources[0]
    assert sr.error == "" and sr.rejected == [] and sr.counts.inserted == 2
    rows = articles(config)
    a = rows["https://news.seoul.go.kr/gov/?p=562363"]          # the GUID is the id
    assert a["url"] == "https://news.seoul.go.kr/gov/archives/562363"
    assert a["published"] == "2024-10-02T16:34:34+09:00"       # Seoul time, not UTC
    assert a["updated"] == "2024-10-04T09:39:14+09:00"         # from <upDate>
    assert a["category"] == "홍보기획관 -홍보담당관"            # dc:creator = department
    assert a["author"] == "홍보기획관 -홍보담당관"
    assert json.loads(a["tags"]) == ["기획행정소식", "새소식", "가을축제"]
    assert a["summary"] == "서울시는 가을축제를 한눈에 보는 홍보물을 선보인다."
    assert "10월~11월 가을축제를 소개한다" in a["content_html"]
    assert "<script" not in a["content_html"] and "track()" not in a["content_html"]
    b = rows["https://news.seoul.go.kr/gov/?p=562400"]
    assert b["published"] == "2024-06-11T14:30:00+09:00"
    assert b["title"] == "서울시, 겨울철 안전대책 발표"
    assert b["summary"] == "겨울철 안전대책…"


def test_relative_links_resolve_against_the_feed_url(site, tmp_path):
    site.page("/gov/feed", SEOUL_FEED, content_type="application/rss+xml; charset=UTF-8")
    config = make_config(tmp_path, {"kind": "feed", "url": site.url("/gov/feed")})
    update(config)
    html = articles(config)["https://news.seoul.go.kr/gov/?p=562363"]["content_html"]
    assert f'src="{site.url("/gov/wp-content/uploads/2024/10/poster.jpg")}"' in html


def test_second_run_is_a_304(site, tmp_path):
    site.page("/gov/feed", SEOUL_FEED, content_type="application/rss+xml; charset=UTF-8",
              etag='"f1"')
    config = make_config(tmp_path, {"kind": "feed", "url": site.url("/gov/feed")})
    update(config)
    sr = update(config).sources[0]
    assert sr.not_modified == 1 and sr.counts.inserted == sr.counts.unchanged == 0
    assert site.hits("/gov/feed")[-1].headers["if-none-match"] == '"f1"'
    assert len(articles(config)) == 2


def test_department_from_category(site, tmp_path):
    site.page("/gov/feed", SEOUL_FEED, content_type="application/rss+xml")
    config = make_config(tmp_path, {"kind": "feed", "url": site.url("/gov/feed"),
                                    "department_from": "category"})
    update(config)
    assert articles(config)["https://news.seoul.go.kr/gov/?p=562363"]["category"] == "기획행정소식"


def test_euc_kr_feed_file(tmp_path):
    text = SEOUL_FEED.replace('encoding="UTF-8"', 'encoding="euc-kr"').replace(
        "가을축제를 소개한다", "똠방각하 가을축제를 소개한다")
    path = tmp_path / "seoul.xml"
    path.write_bytes(text.encode("cp949"))
    config = make_config(tmp_path, {"kind": "feed", "path": "seoul.xml", "encoding": "cp949"})
    sr = update(config).sources[0]
    assert sr.counts.inserted == 2
    html = articles(config)["https://news.seoul.go.kr/gov/?p=562363"]["content_html"]
    assert "똠방각하 가을축제를 소개한다" in html


def test_euc_kr_feed_over_http_without_override(site, tmp_path):
    text = SEOUL_FEED.replace('encoding="UTF-8"', 'encoding="EUC-KR"').replace(
        "가을축제를 소개한다", "똠방각하 가을축제를 소개한다")
    site.page("/feed-euckr", text.encode("cp949"), content_type="application/rss+xml")
    config = make_config(tmp_path, {"kind": "feed", "url": site.url("/feed-euckr")})
    sr = update(config).sources[0]
    assert sr.counts.inserted == 2 and sr.warnings == []
    rows = articles(config)
    assert "똠방각하 가을축제를 소개한다" in rows["https://news.seoul.go.kr/gov/?p=562363"][
        "content_html"]
    assert rows["https://news.seoul.go.kr/gov/?p=562363"]["category"] == "홍보기획관 -홍보담당관"


def test_atom_feed(site, tmp_path):
    atom = """<?xml version="1.0" encoding="utf-8"?>
    <feed xmlns="http://www.w3.org/2005/Atom"><title>보령</title><id>urn:x</id>
      <updated>2024-06-11T05:30:00Z</updated>
      <entry><title>보령 머드축제</title><id>urn:boryeong:1</id>
        <link rel="alternate" href="https://www.brcn.go.kr/news/1"/>
        <published>2024-06-11T05:30:00Z</published><updated>2024-06-12T01:00:00Z</updated>
        <author><name>관광과</name></author>
        <content type="html">&lt;p&gt;축제가 열린다.&lt;/p&gt;</content></entry>
    </feed>"""
    site.page("/atom.xml", atom, content_type="application/atom+xml")
    config = make_config(tmp_path, {"kind": "feed", "url": site.url("/atom.xml")})
    update(config)
    a = articles(config)["urn:boryeong:1"]
    assert a["published"] == "2024-06-11T14:30:00+09:00"
    assert a["updated"] == "2024-06-12T10:00:00+09:00"
    assert a["category"] == "관광과" and a["summary"] == "축제가 열린다."


def test_not_a_feed_fails_that_source_only(site, tmp_path):
    site.page("/page", "<html><body><p>hello</p></body></html>")
    site.page("/gov/feed", SEOUL_FEED, content_type="application/rss+xml")
    config = make_config(tmp_path, {"kind": "feed", "url": site.url("/page")},
                         {"kind": "feed", "url": site.url("/gov/feed")})
    report = update(config)
    bad, good = report.sources
    assert bad.error.startswith(f"{site.url('/page')}: not ")
    assert good.error == "" and good.counts.inserted == 2


@pytest.mark.real_world
def test_truncated_real_seoul_feed_excerpt(tmp_path):
    src = (real_world_dir() / "feeds" /
           "news.seoul.go.kr_gov_tag-sangsaenghongbo_feed.EXCERPT-TRUNCATED.xml.txt")
    config = make_config(tmp_path, {"kind": "feed", "path": str(src)})
    sr = update(config).sources[0]
    # Cut off mid-CDATA: still one entry, with a warning naming the file.
    assert sr.error == "" and sr.counts.inserted == 1
    assert sr.warnings and sr.warnings[0].startswith(f"{src}: malformed feed")
    (row,) = articles(config).values()
    assert row["id"] == "https://news.seoul.go.kr/gov/?p=562363"
    assert row["published"] == "2024-10-02T16:34:34+09:00"
    assert row["category"] == "홍보기획관 -홍보담당관"


def test_missing_feed_file(tmp_path):
    config = make_config(tmp_path, {"kind": "feed", "path": "nope.xml"})
    sr = update(config).sources[0]
    assert sr.error == f"{Path(tmp_path) / 'nope.xml'}: no such file"
