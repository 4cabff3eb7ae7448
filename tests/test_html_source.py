"""``kind = "html"`` sources against pages served from 127.0.0.1: what ends up in the store."""

from __future__ import annotations

import sqlite3
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from loopback_server import Board, Site, board_source, serve

from feedkit.config import parse_config
from feedkit.errors import ConfigError
from feedkit.ingest.update import run_update
from feedkit.store.articles import Store

SEOUL = ZoneInfo("Asia/Seoul")
FETCH = {"delay": 0, "timeout": 2, "retries": 1, "backoff": 0}


def make_config(tmp_path: Path, *sources: dict, fetch: dict | None = None):
    data = {
        "site": {"title": "보령시 새소식", "url": "https://www.brcn.go.kr/",
                 "feed_url": "https://example.github.io/boryeong-news/",
                 "email": "news@example.org"},
        "store": {"path": "articles.db"},
        "sources": list(sources),
        "fetch": {**FETCH, **(fetch or {})},
    }
    return parse_config(data, tmp_path / "config.toml")


def update(config, **kw):
    with Store(config.store_path) as store:
        return run_update(config, store, **kw)


def stored(config) -> dict[str, sqlite3.Row]:
    db = sqlite3.connect(config.store_path)
    db.row_factory = sqlite3.Row
    return {r["url"]: r for r in db.execute("SELECT * FROM articles")}


@pytest.fixture
def site():
    s = Site()
    with serve(s):
        yield s


# -- a table board with three pages and detail pages --------------------------------------------


def test_table_board_three_pages_with_details(site, tmp_path):
    board = Board(site, count=15, per_page=5)
    config = make_config(tmp_path, board_source(board))
    report = update(config)
    sr = report.sources[0]
    assert sr.error == "" and sr.rejected == []
    # Three pages of rows plus the empty page after them, which ends the paging.
    assert (sr.pages, sr.details, sr.counts.inserted) == (4, 15, 15)
    rows = stored(config)
    assert len(rows) == 15
    item = board.items[7]                       # one on page 2
    url = site.url(board.detail_path(item))
    row = rows[url]
    assert row["title"] == item.title
    assert row["category"] == item.department
    # The detail page's "작성일 : 2025-11-DD HH:MM" wins over the list's date-only cell.
    expected = datetime.strptime(item.detail_date, "작성일 : %Y-%m-%d %H:%M").replace(tzinfo=SEOUL)
    assert datetime.fromisoformat(row["published"]) == expected
    html = row["content_html"]
    assert f"보령시는 {item.id}번째 소식을 전했다" in html
    assert "<script" not in html and "onclick" not in html and "alert" not in html
    # Relative image and attachment links are absolute, attachments kept as links.
    assert f'src="{site.url(f"/upload/{item.id}.jpg")}"' in html
    assert f'href="{site.url(f"/cmm/fms/FileDown.do?atchFileId=F{item.id}&amp;fileSn=0")}"' in html
    assert f"보도자료 {item.id}.hwp" in html
    assert "붙임.pdf" in html                   # a nameless link is named after its file
    assert row["image"] == site.url(f"/upload/{item.id}.jpg")
    # Page 4 (one past the end) was asked for once and held nothing; no page 5.
    assert site.hits("/board/list.do?pageIndex=4") and not site.hits("/board/list.do?pageIndex=5")


def test_second_run_costs_a_304_and_nothing_else(site, tmp_path):
    board = Board(site, count=15, per_page=5)
    config = make_config(tmp_path, board_source(board))
    update(config)
    before = len(site.log)
    report = update(config)
    sr = report.sources[0]
    assert (sr.not_modified, sr.pages, sr.details) == (1, 0, 0)
    assert sr.counts.inserted == sr.counts.updated == 0
    new_hits = [h for h in site.log[before:] if h.path != "/robots.txt"]   # once per run
    assert [h.path for h in new_hits] == ["/board/list.do"]
    assert "if-none-match" in new_hits[0].headers
    assert len(stored(config)) == 15


def test_new_article_fetches_only_its_detail_and_stops_paging(site, tmp_path):
    board = Board(site, count=15, per_page=5)
    config = make_config(tmp_path, board_source(board))
    update(config)
    fresh = board.add("보령시, 새 소식 등록")
    before = len(site.log)
    report = update(config)
    sr = report.sources[0]
    assert sr.counts.inserted == 1 and sr.counts.updated == 0
    paths = [h.path for h in site.log[before:] if h.path != "/robots.txt"]
    # Page 1 (changed), the new article, page 2 (only known rows: stop). No page 3.
    assert paths == ["/board/list.do", board.detail_path(fresh), "/board/list.do?pageIndex=2"]
    assert stored(config)[site.url(board.detail_path(fresh))]["title"] == "보령시, 새 소식 등록"


def test_changed_row_refetches_its_detail_and_updates(site, tmp_path):
    board = Board(site, count=6, per_page=5)
    config = make_config(tmp_path, board_source(board))
    update(config)
    item = board.items[1]
    item.title = "보령시, 제목이 고쳐진 소식"
    item.body = "<p>본문도 고쳐졌다.</p>"
    board.publish()
    before = len(site.log)
    report = update(config)
    assert report.sources[0].counts.updated == 1
    assert board.detail_path(item) in [h.path for h in site.log[before:]]
    row = stored(config)[site.url(board.detail_path(item))]
    assert row["title"] == "보령시, 제목이 고쳐진 소식"
    assert "본문도 고쳐졌다" in row["content_html"]


def test_full_rereads_everything(site, tmp_path):
    board = Board(site, count=10, per_page=5)
    config = make_config(tmp_path, board_source(board))
    update(config)
    before = len(site.log)
    sr = update(config, full=True).sources[0]
    assert sr.pages == 3 and sr.details == 10 and sr.counts.unchanged == 10
    assert all("if-none-match" not in h.headers for h in site.log[before:])


def test_detail_page_failure_rejects_only_that_item_and_retries_next_run(site, tmp_path):
    board = Board(site, count=5, per_page=5)
    broken = board.items[2]
    site.page(board.detail_path(broken), "gone", status=404)
    config = make_config(tmp_path, board_source(board))
    sr = update(config).sources[0]
    assert sr.counts.inserted == 4
    assert len(sr.rejected) == 1
    assert sr.rejected[0].startswith(f"{board.list_url} item 3: detail page ")
    assert "HTTP 404" in sr.rejected[0]
    board.publish()                              # the page is back; the list is unchanged
    before = len(site.log)
    sr = update(config).sources[0]
    assert sr.counts.inserted == 1 and sr.rejected == []
    assert len(stored(config)) == 5
    # The list was read in full again (no 304: it had a rejected item), but only the missing
    # article's detail page was fetched; having found something new, paging went on to page 2.
    hits = [h for h in site.log[before:] if h.path != "/robots.txt"]
    assert [h.path for h in hits] == ["/board/list.do", board.detail_path(broken),
                                      "/board/list.do?pageIndex=2"]
    assert "if-none-match" not in hits[0].headers


def test_bad_rows_are_rejected_with_their_place(site, tmp_path):
    page = """<table class="board_list"><tbody>
      <tr><td class="subject"><a href="/v?id=1">좋은 글</a></td><td>x</td><td>2025.12.01</td></tr>
      <tr><td class="subject"><a href="/v?id=2">날짜 없는 글</a></td><td>x</td><td>미정</td></tr>
      <tr><td class="subject"></td><td>x</td><td>2025.12.01</td></tr>
    </tbody></table>"""
    site.page("/list", page)
    src = {"kind": "html", "url": site.url("/list"),
           "selectors": {"item": "table.board_list tbody tr", "title": "td.subject a",
                         "date": "td:nth-child(3)"}}
    config = make_config(tmp_path, src)
    sr = update(config).sources[0]
    assert sr.counts.inserted == 1
    # Rows without a title fail while reading the page; bad dates when normalising.
    assert sr.rejected == [
        f"{site.url('/list')} item 3: selectors.title 'td.subject a' found no title",
        f"{site.url('/list')} item 2: unrecognised date '미정'",
    ]


def test_layout_change_is_a_source_error(site, tmp_path):
    site.page("/list", "<div>새 디자인</div>")
    src = {"kind": "html", "url": site.url("/list"),
           "selectors": {"item": "table.board_list tbody tr", "title": "a", "date": "td"}}
    sr = update(make_config(tmp_path, src)).sources[0]
    assert "selectors.item 'table.board_list tbody tr' matched nothing" in sr.error


# -- card list, next-link paging, title/date quirks ----------------------------------------------


CARD_PAGE = """<!doctype html><meta charset="utf-8"><ul class="md_list">{cards}</ul>
<div class="md_pagination">{next}</div>"""
CARD = """<li><a href="/news/press?idx={id}&amp;mode=view"><div class="top">
<img src="/thumb/{id}.jpg" alt=""></div><p class="c_tit">{title}</p>
<p class="c_sub">{summary}</p><ul class="c_exp"><li><i class="ico_new">N</i>{date}</li>
<li>조회수 <span>3</span></li></ul></a></li>"""


def test_card_list_with_next_link(site, tmp_path):
    titles = ["[새글] 강진군, 청자축제 개막", "강진군, 겨울 관광 안내\u00a0NEW",
              "강진군 소식이 아주 길어서 잘린 제목입니다...", "강진군, 마지막 소식"]
    for page in (1, 2):
        cards = "".join(
            CARD.format(id=page * 10 + i, title=titles[(page - 1) * 2 + i],
                        summary=f"요약 {page}-{i} ... 더보기", date=f"2025-12-{10 - i:02d}")
            for i in range(2))
        nxt = f'<a class="page_navi next" href="/news/press?page={page + 1}">다음</a>' \
            if page == 1 else ""
        path = "/news/press" if page == 1 else f"/news/press?page={page}"
        site.page(path, CARD_PAGE.format(cards=cards, next=nxt))
    src = {"kind": "html", "url": site.url("/news/press"), "category": "보도자료",
           "selectors": {"item": "ul.md_list > li", "title": "p.c_tit", "link": "a",
                         "summary": "p.c_sub", "date": "ul.c_exp li:first-child",
                         "image": ".top img"},
           "next_page": ".md_pagination a.next"}
    config = make_config(tmp_path, src)
    sr = update(config).sources[0]
    assert sr.pages == 2 and sr.counts.inserted == 4 and sr.rejected == []
    rows = stored(config)
    by_id = {u.split("idx=")[1].split("&")[0]: r for u, r in rows.items()}
    assert by_id["10"]["title"] == "강진군, 청자축제 개막"
    assert by_id["11"]["title"] == "강진군, 겨울 관광 안내"
    assert by_id["20"]["title"] == "강진군 소식이 아주 길어서 잘린 제목입니다…"
    assert by_id["10"]["published"].startswith("2025-12-10T00:00:00+09:00")   # "N2025-12-10"
    assert by_id["10"]["summary"] == "요약 1-0…"
    assert by_id["10"]["image"] == site.url("/thumb/10.jpg")
    assert by_id["10"]["category"] == "보도자료"   # no department on cards: the source's


def test_javascript_links_with_link_pattern(site, tmp_path):
    page = """<meta charset="utf-8"><table><tbody>
    <tr><td class="t"><a href="#none" onclick="fn_egov_select('18842'); return false;">
      보령시, 민원서비스 최우수</a></td><td>2024-06-11</td></tr>
    <tr><td class="t"><a href="javascript:fn_egov_select('18377')">보령시, 적극행정</a></td>
      <td>2024-06-10</td></tr></tbody></table>"""
    site.page("/publicNews/list.do", page)
    src = {"kind": "html", "url": site.url("/publicNews/list.do"),
           "selectors": {"item": "tbody tr", "title": "td.t a", "date": "td:nth-child(2)"},
           "link_pattern": r"fn_egov_select\('(\d+)'\)", "link_template": "view.do?nttId={1}"}
    config = make_config(tmp_path, src)
    sr = update(config).sources[0]
    assert sr.rejected == [] and sr.counts.inserted == 2
    assert set(stored(config)) == {site.url("/publicNews/view.do?nttId=18842"),
                                   site.url("/publicNews/view.do?nttId=18377")}


# -- encodings ------------------------------------------------------------------------------------


@pytest.mark.parametrize("header, meta", [
    ("euc-kr", "euc-kr"),        # declared everywhere
    ("", "euc-kr"),              # only <meta charset>
    ("", ""),                    # nothing declared: detection
    ("iso-8859-1", "euc-kr"),    # a server default that lies
])
def test_euc_kr_board_is_stored_without_mojibake(site, tmp_path, header, meta):
    board = Board(site, count=4, per_page=5, encoding="cp949", charset_header=header,
                  meta_charset=meta, body_paragraphs=6)
    board.add("똠방각하 햏 보령시, 겨울 바다 축제 개최")   # CP949-only syllables
    config = make_config(tmp_path, board_source(board))
    sr = update(config).sources[0]
    assert sr.rejected == [] and sr.counts.inserted == 5
    rows = stored(config)
    titles = {r["title"] for r in rows.values()}
    assert "똠방각하 햏 보령시, 겨울 바다 축제 개최" in titles
    assert all(r["category"] in ("세무과", "관광과", "복지정책과", "안전총괄과", "해양정책과")
               for r in rows.values())
    assert all("\ufffd" not in r["content_html"] and "보령시는" in r["content_html"]
               for r in rows.values())


def test_encoding_override(site, tmp_path):
    # The server swears UTF-8 and the page too, but the bytes are CP949: only config can tell.
    board = Board(site, count=3, per_page=5, encoding="cp949", charset_header="utf-8",
                  meta_charset="utf-8")
    config = make_config(tmp_path, board_source(board, encoding="cp949"))
    sr = update(config).sources[0]
    assert sr.counts.inserted == 3
    assert all("머드축제" in r["title"] for r in stored(config).values())


# -- config validation ---------------------------------------------------------------------------


@pytest.mark.parametrize("change, message", [
    ({"selectors": {"item": "tr", "title": "a"}}, "selectors.date: required"),
    ({"selectors": {"item": "tr[", "title": "a", "date": "td"}},
     "selectors.item: invalid CSS selector 'tr['"),
    ({"selectors": {"item": "tr", "title": "a", "date": "td", "dept": "td"}},
     "selectors.dept: unknown selector"),
    ({"detail": {"bodyy": "div"}}, "detail.bodyy: unknown selector"),
    ({"max_pages": 0}, "max_pages: must be at least 1"),
    ({"next_page": "a.next"}, "use page_param or next_page, not both"),
    ({"link_pattern": "x(\\d+)"}, "link_pattern and link_template go together"),
    ({"link_pattern": "x(\\d+)", "link_template": "v?id={2}"}, "has only 1 group"),
    ({"encoding": "klingon"}, "unknown character set 'klingon'"),
])
def test_config_errors_name_the_key(tmp_path, change, message):
    src = {"kind": "html", "url": "https://city.example/list",
           "selectors": {"item": "tr", "title": "a", "date": "td"}, "page_param": "page"}
    src.update(change)
    with pytest.raises(ConfigError, match=r"config\.toml: \[\[sources\]\] #1 ") as exc:
        make_config(tmp_path, src)
    assert message in str(exc.value)


def test_fetch_section_validation(tmp_path):
    with pytest.raises(ConfigError, match=r"\[fetch\] timeout: must be positive"):
        make_config(tmp_path, fetch={"timeout": 0})
    with pytest.raises(ConfigError, match=r"\[fetch\] delai: unknown key"):
        make_config(tmp_path, fetch={"delai": 1})
    cfg = make_config(tmp_path)
    assert cfg.fetch.max_redirects == 5 and cfg.fetch.retries == 1
