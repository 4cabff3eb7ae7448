"""The digest on real Korean municipal news (read in place from ../shared/real-world; skipped
when absent). Real data brings what synthetic data lacks: scraper junk in titles, page chrome in
bodies, duplicate items, empty summaries."""

from __future__ import annotations

import json
from collections import Counter

import pytest
from _digest_support import SEOUL, config_for, store_with
from lxml import html as lxml_html
from realworld import real_world_dir

from feedkit.digest.compose import load_digest
from feedkit.digest.render import DigestRenderer
from feedkit.digest.week import Week
from feedkit.ingest.normalize import RecordError, normalize_record

REAL = real_world_dir()
DATA = REAL / "real_korean_news.jsonl" if REAL else None
pytestmark = pytest.mark.real_world


@pytest.fixture(scope="module")
def real_articles():
    articles, seen = [], set()
    for line in DATA.read_text(encoding="utf-8").splitlines():
        raw = json.loads(line)
        record = {"url": raw.get("url"), "title": raw.get("title"),
                  "summary": raw.get("summary") or "", "content_html": raw.get("body_html") or "",
                  "published": raw.get("published"),
                  "category": raw.get("department") or raw.get("source") or ""}
        try:
            article = normalize_record(record, SEOUL)
        except RecordError:
            continue
        if article.id not in seen:
            seen.add(article.id)
            articles.append(article)
    assert len(articles) > 100
    return articles


def test_real_news_week_renders_safely_and_within_budget(tmp_path, real_articles):
    config = config_for(tmp_path)
    store = store_with(tmp_path, real_articles)
    labels = Counter(Week.containing(a.published.astimezone(SEOUL).date(), SEOUL).label
                     for a in real_articles)
    busiest, count = labels.most_common(1)[0]
    digest = load_digest(config, store, Week.parse(busiest, SEOUL))
    assert digest.total == count and count >= 10, (busiest, count)
    renderer = DigestRenderer(config)
    body = renderer.email(digest)
    assert len(body.html.encode("utf-8")) <= config.digest.max_html_bytes
    for html in (body.html, renderer.web_page(digest)):
        doc = lxml_html.document_fromstring(html)
        assert not doc.xpath("//script | //iframe | //object")
        assert not [a for el in doc.iter() if isinstance(el.tag, str)
                    for a in el.attrib if a.lower().startswith("on")]
    page = lxml_html.document_fromstring(renderer.web_page(digest))
    hrefs = set(page.xpath("//a/@href"))
    assert all(a.url in hrefs for a in digest.articles())
    flat = " ".join(body.text.split())      # the text part wraps long titles at 72 columns
    for a in digest.articles()[:body.shown]:
        assert " ".join(a.title.split()) in flat
    store.close()
