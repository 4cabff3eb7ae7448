"""How `feedkit source detect` grows with the size of the list page.

    python bench/bench_detect.py [--repeat 3]

A board layout from tests/fixtures/boards (Gnuboard, table rows) is padded with a portal's
full site map (a hidden <div> of every menu, three levels deep, as Korean city portals ship on
every page) until the page is 100 KB ... 4 MB. For each size it reports the CPU time (not wall
time: this machine is shared) of parsing the page and of the list-page analysis (finding the
board, its fields, its links and pager), the best of --repeat runs, and the whole command
(every fetch on loopback with delay 0, three article pages of the same padding) once.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests"), str(ROOT)]

from board_layouts import MENUS, Board, load_layout, serve_board, thirds  # noqa: E402
from detect_support import detect, write_config  # noqa: E402
from loopback_server import Site, serve  # noqa: E402

from feedkit.ingest.detect import links, paging  # noqa: E402
from feedkit.ingest.detect.fields import find_fields  # noqa: E402
from feedkit.ingest.detect.rows import find_boards, item_selector  # noqa: E402
from feedkit.ingest.html_source import parse_html_text  # noqa: E402

SIZES = (100_000, 250_000, 500_000, 1_000_000, 2_000_000, 4_000_000)
LAYOUT = "gnuboard"


def sitemap_group(copy: int) -> str:
    """Every menu three levels deep, as one more block of the site map."""
    return "".join(
        f'<div class="sm_group"><h3>{top}</h3><ul>' + "".join(
            f'<li><a href="/m/{copy}/{i}/{j}">{sub}</a><ul>' + "".join(
                f'<li><a href="/m/{copy}/{i}/{j}/{k}">{third}</a></li>'
                for k, third in enumerate(thirds(sub))) + "</ul></li>"
            for j, sub in enumerate(subs)) + "</ul></div>"
        for i, (top, subs) in enumerate(MENUS))


def padded(page: str, size: int) -> str:
    """``page`` with one hidden site map (<div id="sitemap">) grown until the page has
    ``size`` bytes (a big portal's site map lists a thousand pages)."""
    groups, copies = [], 0
    base = len(page.encode("utf-8"))
    while base + sum(len(g.encode("utf-8")) for g in groups) < size:
        groups.append(sitemap_group(copies))
        copies += 1
    return page.replace("</body>", '<div id="sitemap" style="display:none">' + "".join(groups)
                        + "</div></body>", 1)


def analyse(page: str) -> tuple[float, float]:
    t0 = time.process_time()
    doc = parse_html_text(page, "http://127.0.0.1:1/bbs/board.php?bo_table=press")
    t1 = time.process_time()
    board = find_boards(doc)[0]
    item_selector(doc, board)
    find_fields(board, lambda text: True)
    scripts = "\n".join(s.text or "" for s in doc.iter("script"))
    paging.candidates(doc, "http://127.0.0.1:1/bbs/board.php", board.elements, scripts)
    links.plan(doc, "http://127.0.0.1:1/bbs/board.php",
               [links.raw_link(r.link_el) for r in board.rows], scripts)
    return t1 - t0, time.process_time() - t1


def whole_command(size: int) -> float:
    """CPU seconds of the whole command on pages padded to ``size``, served ready-made (the
    server's thread is in this process too: it only sends bytes here)."""
    site = Site()
    with serve(site), tempfile.TemporaryDirectory() as tmp:
        board = serve_board(site, LAYOUT)
        route = site.fallback
        ready: dict[str, tuple[int, dict[str, str], bytes]] = {}
        for path in [board.list_path_query(1), board.list_path_query(2),
                     *(board.detail_href(a, 1) for a in board.articles)]:
            handler = type("H", (), {"path": path})()
            status, headers, body = route(handler)
            ready[path] = (status, headers, padded(body.decode("utf-8"), size).encode("utf-8"))
        site.fallback = lambda handler: ready.get(handler.path) or route(handler)
        config = write_config(Path(tmp))
        t0 = time.process_time()
        result = detect(config, board.list_url)
        spent = time.process_time() - t0
        assert result.exit_code == 0, result.output
        return spent


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    base = Board(Site(), load_layout(LAYOUT)).render_list(1)
    print(f"{'page':>8} {'elements':>9} {'parse':>7} {'analysis':>9} {'whole command':>14}"
          "   (CPU seconds)")
    for size in SIZES:
        page = padded(base, size)
        runs = [analyse(page) for _ in range(args.repeat)]
        parse_s = min(r[0] for r in runs)
        analysis_s = min(r[1] for r in runs)
        elements = len(parse_html_text(page, "http://x/").xpath("//*"))
        whole = whole_command(size)
        print(f"{len(page.encode()) / 1e6:6.2f}MB {elements:9} {parse_s:7.3f} {analysis_s:9.3f} "
              f"{whole:14.3f}")


if __name__ == "__main__":
    main()
