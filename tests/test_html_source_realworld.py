"""The documented examples (examples/*.toml) against the real saved pages, served in place.

Expectations come from ``real_korean_news.jsonl``, where the same rows were extracted
independently (not by feedkit), so these tests check that the example selectors pick the right
cells, not that feedkit agrees with itself. Skipped when ../shared/real-world is absent.
"""

from __future__ import annotations

import dataclasses
import json
import re
import sqlite3
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from loopback_server import Site, serve
from realworld import real_world_dir

from feedkit.config import FetchConfig, StoreConfig, load_config
from feedkit.ingest.update import run_update
from feedkit.store.articles import Store

REAL = real_world_dir()
pytestmark = pytest.mark.real_world
EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def seoul_day(text: str) -> str:
    """``2025-12-05`` (or ``N2025-12-10``, a glued "new" badge) as the store writes that day:
    midnight in Seoul. Written here, not by feedkit's date parser, which is under test."""
    m = re.fullmatch(r"N?(\d{4})-(\d{2})-(\d{2})", text)
    assert m, text
    return f"{m[1]}-{m[2]}-{m[3]}T00:00:00+09:00"


@pytest.fixture
def site():
    s = Site()
    with serve(s):
        yield s


def rows_of(kind: str, source: str) -> list[dict]:
    items = []
    with (REAL / "real_korean_news.jsonl").open(encoding="utf-8") as fh:
        for line in fh:
            rec = json.loads(line)
            if rec.get("page_kind") == kind and rec.get("source") == source:
                items.append(rec)
    return items


def local(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def example(name: str, site: Site, tmp_path: Path):
    """The example config, pointed at the loopback server, with its store in tmp_path."""
    config = load_config(EXAMPLES / name)
    sources = tuple(dataclasses.replace(s, url=site.url(local(s.url))) for s in config.sources)
    return dataclasses.replace(
        config, sources=sources, store=StoreConfig(path=str(tmp_path / "a.db")),
        fetch=FetchConfig(delay=0, timeout=2, retries=0))


def stored(path: Path) -> dict[str, sqlite3.Row]:
    db = sqlite3.connect(path)
    db.row_factory = sqlite3.Row
    return {local(r["url"]): r for r in db.execute("SELECT * FROM articles")}


def test_naju_table_board(site, tmp_path):
    page = REAL / "pages" / "naju_press_list_table_2025-12-05.html"
    site.page("/www/administration/reporting/coverage", page.read_bytes())
    config = example("naju-table.toml", site, tmp_path)
    with Store(config.store_path) as store:
        report = run_update(config, store)
    sr = report.sources[0]
    assert sr.error == "" and sr.rejected == []
    rows = stored(config.store_path)
    expected = rows_of("list_table", "나주시 보도자료")
    assert len(expected) == 10 and len(rows) == 10
    for exp in expected:
        got = rows[local(exp["url"])]
        assert got["title"] == exp["title"]
        assert got["category"] == exp["department"]
        assert got["published"] == seoul_day(exp["published"])
    first = rows["/www/administration/reporting/coverage?idx=591764&mode=view"]
    assert first["title"] == "꽃소마루 나주혁신점-빛가람동, ‘한돈·가족 외식권 후원’ 협약"
    assert (first["category"], first["published"]) == ("빛가람동", "2025-12-05T00:00:00+09:00")
    # page 2 was asked for (page_param) and is not served here: the board simply ends.
    assert site.hits("/www/administration/reporting/coverage?page=2")


def test_naju_board_as_euc_kr(site, tmp_path):
    """The same real page as an EUC-KR site would serve it: transcoded here, declared euc-kr in
    the header and the meta tag; characters EUC-KR lacks become character references."""
    page = (REAL / "pages" / "naju_press_list_table_2025-12-05.html").read_text(encoding="utf-8")
    page = page.replace('<meta charset="utf-8">', '<meta charset="euc-kr">')
    site.page("/www/administration/reporting/coverage",
              page.encode("cp949", errors="xmlcharrefreplace"),
              content_type="text/html; charset=EUC-KR")
    config = example("naju-table.toml", site, tmp_path)
    with Store(config.store_path) as store:
        sr = run_update(config, store).sources[0]
    assert sr.error == "" and sr.rejected == []
    rows = stored(config.store_path)
    for exp in rows_of("list_table", "나주시 보도자료"):
        got = rows[local(exp["url"])]
        assert got["title"] == exp["title"]
        assert got["category"] == exp["department"]


def test_gangjin_card_list(site, tmp_path):
    page = REAL / "pages" / "gangjin_press_list_cards_2025-12-10.html"
    site.page("/www/government/news/press", page.read_bytes())
    config = example("gangjin-cards.toml", site, tmp_path)
    with Store(config.store_path) as store:
        sr = run_update(config, store).sources[0]
    assert sr.error == "" and sr.rejected == []
    rows = stored(config.store_path)
    expected = rows_of("list_cards", "강진군 보도자료")
    assert len(expected) == 15 and len(rows) == 15
    for exp in expected:
        got = rows[local(exp["url"])]
        assert got["title"] == exp["title"]
        assert got["published"] == seoul_day(exp["published"])
        assert got["category"] == "보도자료"
        (image,) = exp["images"]
        if "noimage" in image:   # the board's grey stand-in is not the article's picture
            assert got["image"] == ""
        else:
            assert got["image"] == site.url(local(image))
        assert got["summary"] and "\n" not in got["summary"]
    assert any(e["published"].startswith("N2025-12-10") for e in expected)
    # The "next" link was followed to page 2 (absent here: a 404 ends the board).
    assert site.hits("/www/government/news/press?page=2")


def test_gwangju_detail_page(site, tmp_path):
    detail_path = "/boardView.do?pageId=www789&boardId=BD_0000000027&seq=21180"
    site.page(detail_path, (REAL / "pages" / "gwangju_press_detail_seq21180_2025-12-05.html")
              .read_bytes())
    # The list page was not saved: a minimal one in the board's table shape links to it, with
    # a title shortened the way the list shows long titles.
    site.page("/boardList.do?boardId=BD_0000000027&pageId=www789", f"""<!doctype html>
        <meta charset="utf-8"><table><tbody><tr><td>21180</td>
        <td class="title"><a href="{detail_path.replace('&', '&amp;')}">광주 인공지능인들,
        AI산업...</a></td><td class="date">2025-12-05</td></tr></tbody></table>""")
    config = example("gwangju-detail.toml", site, tmp_path)
    with Store(config.store_path) as store:
        sr = run_update(config, store).sources[0]
    assert sr.error == "" and sr.rejected == [] and sr.details == 1
    (exp,) = rows_of("detail", "광주광역시 보도자료")
    got = stored(config.store_path)[detail_path]
    assert got["title"] == exp["title"] == "광주 인공지능인들, AI산업 상생발전 다짐"
    assert got["published"] == "2025-12-05T17:09:00+09:00"
    assert got["summary"].startswith("- ‘인공지능인의 날’ 150여명 참여")
    html = got["content_html"]
    assert "광주광역시(시장 강기정)는 5일 북구 오룡동" in html
    assert got["image"].startswith(site.url("/imageView/"))
    for att in exp["attachments"]:
        name, url = att["name"], att["url"]
        assert name in html
        assert local(url).replace("&", "&amp;") in html      # absolute, on our host
    assert site.url("/fileDownload.do?") in html
    assert "미리보기" not in html                           # preview links are not attachments
    assert "<script" not in html and "<form" not in html
