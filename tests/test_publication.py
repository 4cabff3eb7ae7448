"""Future-dated articles wait for their time (issue 9, Feeds 3); pre-1990 dates are warned about.

The build's "now" is pinned with ``feedkit build --now`` so these tests do not depend on the day
they run; every expected value is written out by hand.
"""

from __future__ import annotations

import json
from pathlib import Path

import feedparser
from conftest import Site

FUTURE_URL = "https://a.example/future"
OLD_URL = "https://a.example/old"
RECORDS = [
    {"title": "오늘 소식", "url": "https://a.example/today", "published": "2025-12-10 09:00",
     "category": "세무과"},
    {"title": "먼 미래 행사", "url": FUTURE_URL, "published": "2099-01-01", "category": "미래과"},
    {"title": "오래된 기록", "url": OLD_URL, "published": "1985-03-01", "category": "세무과"},
]


def _site(tmp_path: Path, extra: str = "") -> tuple[Site, object]:
    site = Site(tmp_path / "site", extra=extra)
    src = tmp_path / "dates.jsonl"
    src.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in RECORDS),
                   encoding="utf-8")
    return site, site.run("import", str(src))


def _everything(out: Path) -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in sorted(out.rglob("*"))
                     if p.is_file() and p.suffix in (".xml", ".json", ".html"))


def test_import_keeps_odd_dates_and_says_so(tmp_path: Path) -> None:
    site, result = _site(tmp_path)
    assert result.exit_code == 0
    assert site.rows("SELECT count(*) FROM articles") == [(3,)]
    warnings = [line for line in result.stderr.splitlines() if "warning" in line]
    assert len(warnings) == 2, result.stderr
    assert "dates.jsonl:2:" in warnings[0] and "in the future" in warnings[0]
    assert "2099-01-01T00:00:00+09:00" in warnings[0]
    assert "dates.jsonl:3:" in warnings[1] and "before 1990" in warnings[1]


def test_build_holds_future_articles_back_everywhere(tmp_path: Path) -> None:
    site, _ = _site(tmp_path)
    site.run("build", "--now", "2026-01-05T12:00")
    text = _everything(site.out)
    assert "오늘 소식" in text and "오래된 기록" in text
    assert FUTURE_URL not in text and "먼 미래 행사" not in text
    assert not (site.out / "digest" / "2099-W01.html").exists()
    assert (site.out / "digest" / "2025-W50.html").exists()
    # Its category has nothing published yet: no folder at all.
    assert sorted(p.name for p in (site.out / "category").iterdir()) == ["semugwa"]
    parsed = feedparser.parse((site.out / "atom.xml").read_bytes())
    assert parsed.feed.updated == "2025-12-10T09:00:00+09:00"
    # The validator's ImplausibleDate is left for the 1985 record (warned at import), never 2099.
    result = site.run("validate", ok=False)
    assert "2099" not in result.output + result.stderr


def test_a_held_article_appears_when_its_time_comes(tmp_path: Path) -> None:
    site, _ = _site(tmp_path)
    site.run("build", "--now", "2098-12-31T23:59:59+09:00")
    assert FUTURE_URL not in (site.out / "feed.xml").read_text(encoding="utf-8")
    # Nothing in the store changed, only the time: the build must not skip itself.
    site.run("build", "--now", "2099-01-01T00:00:00+09:00")
    links = [e.link for e in feedparser.parse((site.out / "feed.xml").read_bytes()).entries]
    assert links[0] == FUTURE_URL
    # 미래과 → miraegwa; 2099-01-01 is a Thursday, so it opens ISO week 2099-W01.
    assert (site.out / "category" / "miraegwa" / "feed.xml").exists()
    # The digest archive holds completed weeks only (issue 9, item 14): the week joins it
    # when it ends, Monday 2099-01-05 00:00, again with nothing changed in the store.
    assert not (site.out / "digest" / "2099-W01.html").exists()
    site.run("build", "--now", "2099-01-05T00:00:00+09:00")
    assert (site.out / "digest" / "2099-W01.html").exists()


def test_publish_future_publishes_ahead(tmp_path: Path) -> None:
    site, _ = _site(tmp_path)
    site.edit_config(('out = "public"', 'out = "public"\npublish_future = true'))
    site.run("build", "--now", "2026-01-05T12:00")
    links = [e.link for e in feedparser.parse((site.out / "feed.xml").read_bytes()).entries]
    assert links[0] == FUTURE_URL


def test_same_store_and_now_give_the_same_bytes(tmp_path: Path) -> None:
    site, _ = _site(tmp_path)
    site.run("build", "--now", "2026-01-05", "--out", str(tmp_path / "a"))
    site.run("build", "--now", "2026-01-05", "--out", str(tmp_path / "b"))
    for path in sorted((tmp_path / "a").rglob("*")):
        if path.is_file():
            assert path.read_bytes() == (tmp_path / "b" / path.relative_to(tmp_path / "a")
                                         ).read_bytes(), path


def test_nothing_due_yet_is_a_clear_error(tmp_path: Path) -> None:
    site = Site(tmp_path / "site")
    src = tmp_path / "only-future.jsonl"
    src.write_text(json.dumps({"title": "예정", "url": FUTURE_URL, "published": "2099-01-01"},
                              ensure_ascii=False) + "\n", encoding="utf-8")
    site.run("import", str(src))
    result = site.run("build", "--now", "2026-01-05", ok=False)
    assert result.exit_code == 1
    assert "dated in the future" in result.stderr and "Traceback" not in result.output
    assert not (site.out / "feed.xml").exists()


def test_bad_now_is_a_usage_error(tmp_path: Path) -> None:
    site, _ = _site(tmp_path)
    result = site.run("build", "--now", "next tuesday", ok=False)
    assert result.exit_code == 2 and "--now" in result.stderr
