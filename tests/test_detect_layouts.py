"""``feedkit source detect`` on every board layout of tests/fixtures/boards, then ``update`` with
the block it printed, against the layout served on 127.0.0.1: every stored article is checked
against the board's truth (title, link that opens that article, date, department), and nothing
that is not an article of the board may be stored (menus, "most read" stories, a pinned notice
twice). Hold-out layouts (board_layouts.HOLDOUT) were written after the code was frozen; the
scores are in the closing note of issue 23.
"""

from __future__ import annotations

import pytest
from board_layouts import HOLDOUT, layout_names, serve_board
from detect_support import detect, score, update, write_config
from loopback_server import Site, serve

# Layouts where a field cannot be had by any selector, and what is true there instead.
LIMITS = {
    # The article page shows "환경보호과 | 2024.06.14" in one cell, the list no department:
    # no CSS selector can take the department alone, so none is stored (never a wrong one).
    "table_grid_gallery": "department",
}
# Layouts whose title or department, as displayed, hold more than the article's own: a tag
# inside the title link ("[보도] ...") and the office with its team ("관광과 관광기획팀"). No
# selector can drop those, so the truth is what the board shows.
DISPLAYED = {
    "category_col": {
        "title_of": lambda a: f"[{'해명' if a.id % 4 == 0 else '보도'}] {a.title}",
        "department_of": lambda a: f"{a.department} {a.department[:2]}팀",
    },
}
assert set(LIMITS) | set(DISPLAYED) <= set(layout_names())


@pytest.mark.parametrize("name", layout_names())
def test_detect_then_update_stores_every_article_right(name, tmp_path):
    with serve(Site()) as site:
        board = serve_board(site, name)
        config = write_config(tmp_path)
        found = detect(config, board.list_url)
        assert found.exit_code == 0, found.output
        block = found.stdout
        assert block.startswith("# Found by `feedkit source detect`")
        # The preview on stderr names the first article as update will store it.
        first = board.regular[0]
        assert " ".join(first.title.split())[:40] in found.stderr
        # The person pastes the printed block into config.toml, then runs update.
        config.write_text(config.read_text(encoding="utf-8") + "\n" + block, encoding="utf-8")
        ran = update(config)
        assert ran.exit_code == 0, ran.output
        result = score(board, tmp_path / "articles.db", max_pages=5, **DISPLAYED.get(name, {}))
    assert result.not_articles == [], result.not_articles
    assert result.stored == result.expected
    assert result.link == result.expected          # every article, once, by a working link
    limit = LIMITS.get(name)
    if limit is None:
        assert result.share >= 0.95, "\n".join([result.line(name), *result.wrong[:5]])
        assert result.body == result.expected     # the article's text, not the portal's
    else:
        assert (result.title, result.date) == (result.expected, result.expected), result.wrong
        assert result.departments == {""}      # not guessed: left empty


def test_the_hold_out_layouts_are_in_the_corpus():
    assert set(HOLDOUT) <= set(layout_names())
    assert len(layout_names()) - len(HOLDOUT) >= 8
