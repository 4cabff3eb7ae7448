"""Main-content and date libraries against `source detect`'s own code, on the detection corpus.

    pip install trafilatura readability-lxml htmldate dateparser   # not feedkit dependencies
    python bench/eval_detect_libraries.py

For every board layout in tests/fixtures/boards (three article pages each) and, when
../shared/real-world is present, the real 광주광역시 article page with four real articles:

* body: the share of the article's paragraphs found in the extracted text (recall), and how
  many pages leak the portal into it (a menu entry, a "most read" title, the footer);
* date: the article's day and time found (htmldate on the page; ours = the detail selector
  detection chose, read by update's own date parser);
* list dates: the forms boards print, read by dateparser and by feedkit's parse_date.

Detection needs a *selector* (update reads the page without detection), which the libraries
do not give; the numbers say whether one would still be worth its weight.
"""

from __future__ import annotations

import contextlib
import sys
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests"), str(ROOT)]

from board_layouts import Board, layout_names, load_layout  # noqa: E402
from loopback_server import Site  # noqa: E402
from lxml import html as lxml_html  # noqa: E402

from feedkit.ingest.detect import detail as detail_mod  # noqa: E402
from feedkit.ingest.detect.dates import find_date  # noqa: E402
from feedkit.ingest.html_source import parse_html_text  # noqa: E402
from feedkit.ingest.normalize import RecordError, parse_date  # noqa: E402

SEOUL = ZoneInfo("Asia/Seoul")
CHROME = ("개인정보처리방침", "개인정보보호정책", "저작권", "많이 본", "인기 소식", "이전글",
          "이전 글")


def parse_ok(text: str) -> bool:
    try:
        parse_date(text, SEOUL)
    except RecordError:
        return False
    return True


def corpus():
    """(layout, [(html, url, truth paragraphs, truth datetime, list title, list date)])"""
    for name in layout_names():
        board = Board(Site(), load_layout(name))
        pages = []
        for a in board.regular[:3]:
            url = f"http://127.0.0.1:1{board.detail_href(a, 1)}"
            pages.append((board.render_detail(a), url, a.paragraphs, a.when, a.title,
                          a.when.strftime("%Y-%m-%d")))
        yield name, pages


def text_of(fragment: str) -> str:
    if not fragment:
        return ""
    return " ".join(lxml_html.fragment_fromstring(fragment, create_parent="div")
                    .text_content().split())


def recall(text: str, paragraphs: list[str]) -> float:
    flat = " ".join(text.split())
    return sum(" ".join(p.split())[:25] in flat for p in paragraphs) / len(paragraphs)


def main() -> None:
    try:
        import htmldate
        import trafilatura
        from readability import Document
    except ImportError as exc:
        sys.exit(f"needs the libraries being compared ({exc.name}): see the docstring")
    totals: dict[str, list[float]] = {}
    leaks: dict[str, int] = {}
    dates: dict[str, int] = {}
    seconds: dict[str, float] = {}
    pages_n = 0

    def add(who: str, value: float, leak: bool, secs: float) -> None:
        totals.setdefault(who, []).append(value)
        leaks[who] = leaks.get(who, 0) + leak
        seconds[who] = seconds.get(who, 0.0) + secs

    for _name, pages in corpus():
        docs = [parse_html_text(h, u) for h, u, *_ in pages]
        t0 = time.process_time()
        found = detail_mod.find_detail(
            [detail_mod.DetailPage(u, d, title=title, date=find_date(day))
             for d, (_h, u, _p, _w, title, day) in zip(docs, pages, strict=True)],
            set(), parse_ok)
        ours_secs = time.process_time() - t0
        for doc, (html, _url, paragraphs, when, _title, _day) in zip(docs, pages, strict=True):
            pages_n += 1
            body = found.selectors.get("body")
            mine = " ".join(" ".join(e.text_content().split()) for e in doc.cssselect(body)
                            ) if body else ""
            add("feedkit (selector)", recall(mine, paragraphs),
                any(c in mine for c in CHROME), ours_secs / len(pages))
            t = time.process_time()
            traf = trafilatura.extract(html, include_comments=False) or ""
            add("trafilatura", recall(traf, paragraphs), any(c in traf for c in CHROME),
                time.process_time() - t)
            t = time.process_time()
            read = text_of(Document(html).summary(html_partial=True))
            add("readability-lxml", recall(read, paragraphs), any(c in read for c in CHROME),
                time.process_time() - t)
            # Dates: the day and the minute.
            want = when.strftime("%Y-%m-%d %H:%M")
            sel = found.selectors.get("date", "")
            css, _, attr = sel.partition("@")
            got = ""
            if css:
                match = doc.cssselect(css)
                if match:
                    raw = match[0].get(attr) if attr else match[0].text_content()
                    try:
                        got = parse_date(raw, SEOUL).strftime("%Y-%m-%d %H:%M")
                    except RecordError:
                        got = ""
            dates["feedkit day"] = dates.get("feedkit day", 0) + (got[:10] == want[:10])
            dates["feedkit minute"] = dates.get("feedkit minute", 0) + (got == want)
            hd = htmldate.find_date(html, outputformat="%Y-%m-%d %H:%M", original_date=True,
                                    extensive_search=True) or ""
            dates["htmldate day"] = dates.get("htmldate day", 0) + (hd[:10] == want[:10])
            dates["htmldate minute"] = dates.get("htmldate minute", 0) + (hd == want)
    print(f"{pages_n} article pages")
    print(f"{'body':22} {'recall':>8} {'portal leaked':>14} {'CPU s/page':>11}")
    for who, values in totals.items():
        print(f"{who:22} {sum(values) / len(values):8.1%} {leaks[who]:14} "
              f"{seconds[who] / len(values):11.4f}")
    print("dates (right, of", pages_n, "):", ", ".join(f"{k} {v}" for k, v in dates.items()))
    list_dates()


def list_dates() -> None:
    """The list cells boards print, read by dateparser and by feedkit's parse_date."""
    import dateparser

    cells = {"2024.06.14": "2024-06-14", "24.06.14": "2024-06-14", "2024/06/14": "2024-06-14",
             "등록일2024.06.14": "2024-06-14", "작성일 : 2024/06/14": "2024-06-14",
             "N2025-12-10": "2025-12-10", "2024년 6월 14일": "2024-06-14",
             "2024.06.14(금)": "2024-06-14", "24-06-14 16:20": "2024-06-14",
             "관광과 2024.06.14": "2024-06-14"}
    ours = theirs = 0
    for cell, want in cells.items():
        with contextlib.suppress(RecordError):
            ours += parse_date(cell, SEOUL).strftime("%Y-%m-%d") == want
        got = dateparser.parse(cell, languages=["ko"], settings={"DATE_ORDER": "YMD"})
        theirs += isinstance(got, datetime) and got.strftime("%Y-%m-%d") == want
    print(f"list date cells ({len(cells)}): feedkit parse_date {ours}, dateparser {theirs}")


if __name__ == "__main__":
    main()
