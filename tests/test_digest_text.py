"""The text part is the digest, not a list of titles (issue 28, item 5).

w3m (the Debian package, a text browser nobody on the project wrote) shows what a reader of the
HTML part sees in a terminal: its summaries and its footer links, the digest feed's among them.
The text part must carry the same: the same items in the same order with the same summaries
(compared structurally with the HTML part, read by lxml), the same footer links in the same
order, and every line at most 72 terminal columns (a Hangul syllable is two), except a lone
address that is longer.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from datetime import datetime, timedelta

import pytest
from _digest_support import SEOUL, config_for, korean_articles
from lxml import html as lxml_html

from feedkit.digest.compose import make_digest
from feedkit.digest.render import DigestRenderer
from feedkit.digest.week import Week
from feedkit.model import Article
from feedkit.text.wrap import columns, wrap

MONDAY = datetime(2025, 12, 1, tzinfo=SEOUL)
URL = re.compile(r"(?:https?|mailto):\S+")


def w3m(html: str) -> str:
    exe = shutil.which("w3m")
    if not exe:
        pytest.skip("needs w3m (apt-get install w3m)")
    return subprocess.run([exe, "-dump", "-T", "text/html", "-cols", "72", "-O", "UTF-8",
                           "-o", "display_link_number=1"], input=html.encode("utf-8"),
                          capture_output=True, check=True, timeout=30).stdout.decode("utf-8")


def squash(text: str) -> str:
    return " ".join(text.split())


def digest_parts(tmp_path, **digest):
    articles = korean_articles(23, MONDAY, categories=("세무과", "관광과", "복지정책과"))
    articles.append(Article(
        id="https://www.brcn.go.kr/news/long", url="https://www.brcn.go.kr/news/long",
        title="아주 긴 주소가 달린 소식", published=MONDAY + timedelta(days=2),
        updated=MONDAY + timedelta(days=2), category="세무과",
        summary="보령시는 " + "시민 여러분께 알려 드립니다 " * 12 + "끝.",
        license="kogl-4"))
    config = config_for(tmp_path, site={"title": "보령시 새소식", "url": "https://www.brcn.go.kr/",
                                        "feed_url": "https://news.example.org/boryeong/",
                                        "license": "kogl-1"},
                        digest={"from": "보령시 소식 <news@example.org>",
                                "to": ["subscribers@lists.example.org"],
                                "unsubscribe": ["mailto:leave@lists.example.org"],
                                **digest})
    week = Week.containing(MONDAY.date(), SEOUL)
    dg = make_digest(config, week, articles)
    body = DigestRenderer(config).email(dg)
    return body.personal("mailto:leave@lists.example.org")


@pytest.mark.parametrize("cap", [0, 4], ids=["every-item", "capped"])
def test_the_text_part_has_the_html_parts_items_summaries_and_footer_links(tmp_path, cap):
    html, text = digest_parts(tmp_path, max_items=cap)
    page = lxml_html.fromstring(html)

    # The same items, in the same order, with the same summaries.
    items = [(squash(td.cssselect("h3.item-title")[0].text_content()),
              squash(" ".join(p.text_content() for p in td.cssselect("p.summary"))))
             for td in page.cssselect("td.item")]
    assert len(items) >= 4
    assert text.count("\n* ") == len(items)
    flat = squash(text)
    at = 0
    for title, summary in items:
        at = flat.index("* " + title, at)          # present, and after the one before
        end = flat.find(" * ", at + 2)
        block = flat[at:end if end != -1 else len(flat)]
        assert summary and summary in block, title

    # The same footer links, in the same order.
    footer = page.cssselect("td.footer")[0]
    html_links = [a.get("href") for a in footer.cssselect("a")]
    tail = text.split("\n-- \n", 1)[1]
    assert URL.findall(tail) == html_links
    assert "https://news.example.org/boryeong/digest/feed.xml" in html_links
    assert "https://www.kogl.or.kr/info/licenseType1.do" in html_links   # the licence

    # Readable at 72 columns: only a lone address may be longer.
    for line in text.splitlines():
        assert columns(line) <= 72 or URL.fullmatch(line.strip()), line

    # What w3m shows of the HTML part is in the text part too: the summaries, the links.
    shown = w3m(html)
    solid = "".join(shown.split())   # w3m wraps Hangul anywhere, so compare without spaces
    for _title, summary in items:
        assert "".join(summary.split()) in solid
    refs = [u for u in URL.findall(shown.split("References:", 1)[1])]
    for url in html_links:
        assert url in refs and url in text


def test_wrapping_counts_columns_and_never_splits_a_word():
    line = "보령시 " * 30
    wrapped = wrap(line, 72, "  ")
    assert all(columns(x) <= 72 for x in wrapped.splitlines())
    assert wrapped.replace("\n  ", " ").strip() == line.strip()
    assert columns("보령시 ab") == 9 and columns("e\u0301") == 1
    long = "https://example.org/" + "a" * 80
    assert wrap(f"주소 {long} 끝", 72) == f"주소\n{long}\n끝"
    assert wrap("", 72) == "" and wrap("제목", 72, "  ", first="* ") == "* 제목"
