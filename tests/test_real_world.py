"""Real Korean government news (255 items, ../shared/real-world, internal testing only).

Read in place, never copied into this repository; skipped where the folder is absent.
"""

from __future__ import annotations

import html
import json
from collections import Counter
from pathlib import Path

import feedparser
import pytest
from conftest import Site
from realworld import real_world_dir

from feedkit.validate import validate_dir

REAL = real_world_dir()
pytestmark = pytest.mark.real_world


@pytest.fixture(scope="module")
def real_site(tmp_path_factory) -> tuple[Site, object]:
    site = Site(tmp_path_factory.mktemp("real"))
    result = site.run("import", str(REAL / "real_korean_news.jsonl"), ok=False)
    site.run("build")
    return site, result


def test_every_real_item_is_imported_or_rejected_for_a_stated_reason(real_site) -> None:
    site, result = real_site
    lines = (REAL / "real_korean_news.jsonl").read_text(encoding="utf-8").splitlines()
    records = [json.loads(line) for line in lines]
    rejected = [row for row in result.stderr.splitlines() if row.startswith(str(REAL))]
    stored = site.rows("SELECT count(*) FROM articles")[0][0]
    assert stored + len(rejected) == len(records)
    # The only acceptable reasons: the same URL seen before, or no URL at all (the data's own
    # notes say so), each named by line.
    # URLs copied out of HTML source keep a literal "&amp;"; feedkit reads it as "&".
    urls = [html.unescape(r["url"]).strip() if r.get("url") else None for r in records]
    expected_dupes = sum(n - 1 for u, n in Counter(urls).items() if u and n > 1)
    expected_no_url = sum(1 for u in urls if not u)
    reasons = Counter("duplicate id" if "duplicate id" in row else
                      "missing URL" if "missing URL" in row else row for row in rejected)
    assert reasons == {"duplicate id": expected_dupes, "missing URL": expected_no_url}
    assert stored == len({u for u in urls if u})


def test_real_text_is_clean_in_the_store(real_site) -> None:
    site, _ = real_site
    for title, summary, content in site.rows("SELECT title, summary, content_html FROM articles"):
        assert title == title.strip() and "\u00a0" not in title and "  " not in title
        assert not summary.endswith("더보기")
        for bad in ("<script", "onclick", "javascript:", "<iframe", "<style"):
            assert bad not in content.lower()
    # Dates with a trailing space, "작성일 :" and a glued "N" badge all parsed.
    days = {d[:10] for (d,) in site.rows("SELECT published FROM articles")}
    assert "2025-12-05" in days and "2025-12-09" in days and "2025-12-10" in days


def test_feeds_built_from_real_data_pass_validation(real_site) -> None:
    site, _ = real_site
    found = validate_dir(site.out)
    # Date-only items share their day's midnight: DuplicateUpdated is reported and accepted
    # (issue 9: real dates, never invented ones); everything else must be clean.
    problems = [p for p in found if not p.accepted]
    assert problems == [], "\n".join(map(str, problems[:20]))
    for path in sorted(Path(site.out).rglob("*.xml")):
        if path.name == "feed.xsl":
            continue
        parsed = feedparser.parse(path.read_bytes())
        assert not parsed.bozo, (path, parsed.get("bozo_exception"))
        assert parsed.entries
