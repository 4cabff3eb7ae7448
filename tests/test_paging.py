"""Paging an html source (issue 14, item 4): stored page by page, and a sane bound on pages."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from loopback_server import Board, Site, board_source, serve

from feedkit.config import MAX_PAGES, parse_config
from feedkit.errors import ConfigError


@pytest.fixture
def site():
    s = Site()
    with serve(s):
        yield s


def _site_table() -> dict:
    return {"title": "t", "url": "https://city.example/", "feed_url": "https://f.example/"}


def test_max_pages_is_capped_with_a_message_naming_the_key(tmp_path):
    src = {"kind": "html", "url": "http://127.0.0.1:9/list",
           "selectors": {"item": "li", "title": "a", "date": "span"}, "page_param": "page"}
    ok = parse_config({"site": _site_table(), "sources": [{**src, "max_pages": MAX_PAGES}]},
                      tmp_path / "config.toml")
    assert ok.sources[0].max_pages == 1000
    with pytest.raises(ConfigError, match=r"config\.toml: \[\[sources\]\] #1 max_pages: at most "
                                          r"1000, got 1000000"):
        parse_config({"site": _site_table(), "sources": [{**src, "max_pages": 1_000_000}]},
                     tmp_path / "config.toml")


def _toml(value) -> str:
    if isinstance(value, dict):
        return "{ " + ", ".join(f'"{k}" = {_toml(v)}' for k, v in value.items()) + " }"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return str(value)


def test_pages_read_before_the_process_dies_are_kept(site, tmp_path):
    """Page 3 of a board never answers; the update is killed with SIGKILL while it waits. The
    articles of pages 1 and 2 (and their detail pages) are in the store all the same."""
    board = Board(site, count=20, per_page=5)
    site.handler("/board/list.do?pageIndex=3", lambda h: (site.release.wait(60), None)[1])
    src = board_source(board)
    lines = ['[site]', 'title = "t"', 'url = "https://city.example/"',
             'feed_url = "https://f.example/"',
             '[fetch]', 'delay = 0', 'timeout = 60', 'retries = 0', '[[sources]]']
    lines += [f"{k} = {_toml(v)}" for k, v in src.items()]
    config = tmp_path / "config.toml"
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    proc = subprocess.Popen([sys.executable, "-m", "feedkit", "--config", str(config), "update",
                             "--no-build"], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        waited = 0.0
        while not site.hits("/board/list.do?pageIndex=3") and waited < 30:
            time.sleep(0.05)
            waited += 0.05
        assert site.hits("/board/list.do?pageIndex=3"), "the update never reached page 3"
        time.sleep(0.2)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    db = sqlite3.connect(tmp_path / "articles.db")
    titles = {r[0] for r in db.execute("SELECT title FROM articles")}
    assert titles == {item.title for item in board.items[:10]}
    bodies = [r[0] for r in db.execute("SELECT content_html FROM articles")]
    assert all("번째 소식을 전했다" in b for b in bodies)   # detail pages were stored too
