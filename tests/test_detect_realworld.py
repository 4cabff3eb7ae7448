"""``feedkit source detect`` on the saved real pages (../shared/real-world/pages, read in place,
never copied into this repository), then ``update`` with the printed block.

The truth comes from ``real_korean_news.jsonl``, extracted from the same pages independently of
feedkit. Only page 1 of each board was saved: page 2 is page 1 with its article numbers moved
(so the real pager's links are followed and checked), and the article pages of the list tests
are not there (404), so those blocks read the list alone. The article-page test builds three
article pages from the real 광주광역시 page (its portal, menus and footer untouched) with three
other real articles put where its own article was, as the CMS would render them.
"""

from __future__ import annotations

import html
import json
import re
import sqlite3
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from detect_support import detect, update, write_config
from loopback_server import Site, serve
from lxml import html as lxml_html
from realworld import real_world_dir

REAL = real_world_dir()
pytestmark = pytest.mark.real_world


@pytest.fixture
def site():
    s = Site()
    with serve(s):
        yield s


def records(kind: str, source: str) -> list[dict]:
    with (REAL / "real_korean_news.jsonl").open(encoding="utf-8") as fh:
        return [r for r in map(json.loads, fh)
                if r.get("page_kind") == kind and r.get("source") == source]


def local(url: str) -> str:
    parts = urlsplit(html.unescape(url))
    return parts.path + (f"?{parts.query}" if parts.query else "")


def stored(db: Path) -> dict[str, sqlite3.Row]:
    con = sqlite3.connect(db)
    con.row_factory = sqlite3.Row
    return {local(r["url"]): r for r in con.execute("SELECT * FROM articles")}


def day(text: str) -> str:
    m = re.search(r"(\d{4})[-.](\d{2})[-.](\d{2})", text)
    assert m, text
    return f"{m[1]}-{m[2]}-{m[3]}"


@pytest.mark.parametrize("page, path, source, kind, key", [
    ("naju_press_list_table_2025-12-05.html", "/www/administration/reporting/coverage",
     "나주시 보도자료", "list_table", "591"),
    ("gangjin_press_list_cards_2025-12-10.html", "/www/government/news/press",
     "강진군 보도자료", "list_cards", "647"),
])
def test_real_list_pages(site, tmp_path, page, path, source, kind, key):
    raw = (REAL / "pages" / page).read_bytes()
    site.page(path, raw)
    # Page 2: the same markup with other article numbers (idx=591764 -> idx=491764).
    site.page(f"{path}?page=2", raw.replace(f"idx={key}".encode(), f"idx=4{key[1:]}".encode()))
    config = write_config(tmp_path)
    found = detect(config, site.url(path), "--write")
    assert found.exit_code == 0, found.output
    assert 'page_param = "page"' in found.stdout
    assert "no article page could be read" in found.stdout    # 404 here: the list alone
    ran = update(config)
    assert ran.exit_code == 0, ran.output
    rows = stored(tmp_path / "articles.db")
    truth = records(kind, source)
    assert len(truth) >= 10 and len(rows) == 2 * len(truth)
    for rec in truth:
        got = rows[local(rec["url"])]
        assert got["title"] == rec["title"]
        assert got["published"].startswith(day(rec["published"]) + "T00:00:00+09:00")
        if rec.get("department"):
            assert got["category"] == rec["department"]
        if rec.get("summary"):
            assert got["summary"][:20] == " ".join(rec["summary"].split())[:20]
        moved = local(rec["url"]).replace(f"idx={key}", f"idx=4{key[1:]}")
        assert rows[moved]["title"] == rec["title"]       # page 2 was read


GWANGJU = "gwangju_press_detail_seq21180_2025-12-05.html"


def _article_page(template: str, rec: dict) -> str:
    """The real 광주 article page with ``rec`` where its own article was."""
    doc = lxml_html.document_fromstring(template)
    head = doc.find_class("board_view_head")[0]
    head.find(".//h6").text = rec["title"]
    for p in head.findall(".//p"):
        p.getparent().remove(p)
    m = re.search(r"(\d{4})[-.](\d{2})[-.](\d{2})(?:\s+(\d{1,2}:\d{2}))?", rec["published"])
    when = f"{m[1]}-{m[2]}-{m[3]}" + (f" {m[4]}" if m[4] else "")
    doc.find_class("board_view_info")[0].find(".//span").text = f"작성일 : {when}"
    body = doc.find_class("board_view_body")[0]
    for child in list(body):
        body.remove(child)
    body.text = None
    for part in lxml_html.fragments_fromstring(rec["body_html"]):
        if isinstance(part, str):
            body.text = (body.text or "") + part
        else:
            body.append(part)
    files = doc.find_class("add_file")[0].find(".//ul")
    for li in list(files):
        files.remove(li)
    for n, att in enumerate(rec.get("attachments") or [], 1):
        li = lxml_html.fragment_fromstring(
            f'<li><a href="/fileDownload.do?fileKey={abs(hash(rec["title"])) % 10**6}&amp;'
            f'fileSn={n}">{html.escape(att["name"])}</a></li>')
        files.append(li)
    return lxml_html.tostring(doc, encoding="unicode", doctype="<!DOCTYPE html>")


def test_real_article_pages(site, tmp_path):
    template = (REAL / "pages" / GWANGJU).read_text(encoding="utf-8")
    articles = [r for r in records("detail", "광주광역시 보도자료")]
    articles += [r for src in ("나주시 보도자료", "전라남도 보도자료", "목포시 보도자료")
                 for r in records("detail", src)]
    assert len(articles) == 4
    rows = []
    for n, rec in enumerate(articles):
        seq = 21180 - 7 * n
        path = f"/boardView.do?pageId=www789&boardId=BD_0000000027&seq={seq}"
        # The CMS numbers everything on the page by the article (its zip link, its form).
        page = template.replace("21180", str(seq))
        site.page(path, _article_page(page, rec) if n else template)
        rows.append(f'<tr><td>{seq}</td><td class="title"><a href="{html.escape(path)}">'
                    f'{html.escape(rec["title"])}</a></td><td>{day(rec["published"])}</td></tr>')
    site.page("/boardList.do", "<!DOCTYPE html><html lang=ko><head><meta charset=utf-8><title>"
              "보도자료 | 광주광역시</title></head><body><h3>보도자료</h3><table class=board>"
              "<thead><tr><th>번호</th><th>제목</th><th>작성일</th></tr></thead><tbody>"
              + "".join(rows) + "</tbody></table></body></html>")
    config = write_config(tmp_path)
    found = detect(config, site.url("/boardList.do"), "--write")
    assert found.exit_code == 0, found.output
    assert 'body = "div.board_view_body"' in found.stdout
    ran = update(config)
    assert ran.exit_code == 0, ran.output
    got = {r["title"]: r for r in stored(tmp_path / "articles.db").values()}
    menu = "칭찬합니다(광주온)"    # the portal's own menu, on every page
    assert menu in template
    for rec in articles:
        row = got[rec["title"]]
        text = lxml_html.fragment_fromstring(rec["body_html"], create_parent="div").text_content()
        first = " ".join(text.split())[:30]
        assert first in " ".join(lxml_html.fragment_fromstring(
            row["content_html"], create_parent="div").text_content().split())
        assert menu not in row["content_html"]
        assert row["published"].startswith(day(rec["published"]))
        for att in rec.get("attachments") or []:
            assert html.escape(att["name"]) in row["content_html"]
    gwangju = got["광주 인공지능인들, AI산업 상생발전 다짐"]
    assert gwangju["published"] == "2025-12-05T17:09:00+09:00"
