"""``feedkit source detect``: what it prints, what it fetches, what --write does to config.toml,
and how it fails. The layouts themselves are scored in tests/test_detect_layouts.py."""

from __future__ import annotations

import sqlite3
import tomllib

import pytest
from board_layouts import serve_board
from click.testing import CliRunner
from detect_support import SITE, detect, update, write_config
from loopback_server import Site, serve

from feedkit.cli import cli
from feedkit.config import load_config
from feedkit.errors import ConfigError
from feedkit.ingest.detect.block import add_source, comment, render, toml_string


@pytest.fixture
def site():
    s = Site()
    with serve(s):
        yield s


# -- fetching: politely, stored nowhere ------------------------------------------------------


def test_detect_fetches_like_update_and_stores_nothing(site, tmp_path):
    board = serve_board(site, "egov_table_js")
    config = write_config(tmp_path)
    config.write_text(config.read_text(encoding="utf-8").replace(
        "[fetch]\n", '[fetch]\ncontact = "mailto:web@example.org"\n'), encoding="utf-8")
    found = detect(config, board.list_url)
    assert found.exit_code == 0, found.output
    agents = {h.headers.get("user-agent") for h in site.log}
    assert agents and all("mailto:web@example.org" in a for a in agents)
    assert site.log[0].path == "/robots.txt"
    # The list page, page 2 to check the paging, three article pages; each once.
    paths = [h.path for h in site.log]
    assert len(paths) == len(set(paths)) <= 8
    assert not (tmp_path / "articles.db").exists()


def test_robots_txt_saying_no_is_obeyed(site, tmp_path):
    board = serve_board(site, "card_list")
    site.page("/robots.txt", "User-agent: *\nDisallow: /news/\n", content_type="text/plain")
    found = detect(write_config(tmp_path), board.list_url)
    assert found.exit_code == 1
    assert "disallowed by" in found.stderr and "robots.txt" in found.stderr
    assert [h.path for h in site.log] == ["/robots.txt"]


def test_article_pages_elsewhere_are_not_fetched(site, tmp_path):
    """The list links its articles on another host: they are kept as links, never fetched."""
    other = Site()
    with serve(other):
        elsewhere = f"http://localhost:{other.port}"     # another host name, not a port
        rows = "".join(
            f'<li><a href="{elsewhere}/view?id={n}">보령시 소식 제{n}호, 해수욕장 개장 안내</a>'
            f'<span class="d">관광과</span><span class="t">2024-06-{10 + n}</span></li>'
            for n in range(5))
        site.page("/list", f'<html><body><ul class="board">{rows}</ul></body></html>')
        found = detect(write_config(tmp_path), site.url("/list"))
        assert found.exit_code == 0, found.output
        assert other.log == []
    assert "no article page could be read" in found.stdout


def test_a_page_without_a_board_is_exit_1_with_one_line(site, tmp_path):
    site.page("/about", "<html><body><nav><ul><li><a href='/a'>소개</a></li><li><a href='/b'>"
                        "연혁</a></li><li><a href='/c'>오시는 길</a></li></ul></nav>"
                        "<p>보령시는 충청남도 서해안에 있는 도시입니다.</p></body></html>")
    found = detect(write_config(tmp_path), site.url("/about"))
    assert found.exit_code == 1
    assert found.stdout == ""
    lines = found.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("feedkit: error: ")
    assert "no board found" in lines[0]


def test_the_block_is_the_same_on_every_run(site, tmp_path):
    board = serve_board(site, "gnuboard")
    config = write_config(tmp_path)
    first, second = detect(config, board.list_url), detect(config, board.list_url)
    assert first.exit_code == second.exit_code == 0
    assert first.stdout == second.stdout


def test_name_option_and_the_block_passes_the_config_checks(site, tmp_path):
    board = serve_board(site, "xe_board")
    config = write_config(tmp_path)
    found = detect(config, board.list_url, "--name", "보령시 보도자료")
    assert found.exit_code == 0
    config.write_text(config.read_text(encoding="utf-8") + found.stdout, encoding="utf-8")
    source = load_config(config).sources[0]
    assert source.name == "보령시 보도자료"
    assert source.page_param == "page"
    # XE links carry the list page (&page=2): the block leaves it out of article addresses.
    assert "page" not in source.link_template


# -- --write ----------------------------------------------------------------------------------


def test_write_adds_the_block_and_keeps_every_byte_before_it(site, tmp_path):
    board = serve_board(site, "dl_list")
    config = write_config(tmp_path, "\n# 우리 시 설정: 손으로 쓴 주석\n[feeds]\n"
                                    "limit = 40   # 줄 끝 주석\n")
    before = config.read_bytes()
    found = detect(config, board.list_url, "--write")
    assert found.exit_code == 0, found.output
    after = config.read_bytes()
    assert after.startswith(before)
    assert after[len(before):].decode("utf-8").lstrip("\n") == found.stdout
    assert load_config(config).feeds.limit == 40
    assert update(config).exit_code == 0
    db = sqlite3.connect(tmp_path / "articles.db")
    assert db.execute("SELECT count(*) FROM articles").fetchone()[0] == 29
    # Again: the same URL is already a source; nothing is written, exit 2.
    again = detect(config, board.list_url, "--write")
    assert again.exit_code == 2
    assert "already has a source with this url" in again.stderr
    assert config.read_bytes() == after


def test_write_refuses_when_config_changed_while_detecting(site, tmp_path):
    """Another process edits config.toml while detection reads the board: its edit wins,
    detection writes nothing and says so."""
    board = serve_board(site, "card_list")
    config = write_config(tmp_path)
    route = site.fallback

    def edit_then_answer(handler):
        if "pressView" in handler.path:
            config.write_text(config.read_text(encoding="utf-8") + "\n[build]\nout = 'x'\n",
                              encoding="utf-8")
        return route(handler)

    site.fallback = edit_then_answer
    found = detect(config, board.list_url, "--write")
    assert found.exit_code == 1
    assert "changed while detecting" in found.stderr
    assert "[[sources]]" not in config.read_text(encoding="utf-8")
    assert "out = 'x'" in config.read_text(encoding="utf-8")


def test_add_source_keeps_the_file_and_checks_the_result():
    block = render({"kind": "html", "url": "https://b.example/list",
                    "selectors": {"item": "ul > li", "title": "a", "date": "span"}}, {}, [])
    text = SITE + "[[sources]]\nkind = \"jsonl\"\npath = \"data/a.jsonl\"\n"
    out = add_source(text, block)
    assert out.startswith(text)
    parsed = tomllib.loads(out)
    assert [s["kind"] for s in parsed["sources"]] == ["jsonl", "html"]
    # CRLF files stay CRLF; a file without a last newline gets one first.
    crlf = add_source(SITE.replace("\n", "\r\n"), block)
    assert "\r\n[[sources]]\r\n" in crlf and "\n" not in crlf.replace("\r\n", "")
    assert tomllib.loads(add_source(SITE.rstrip("\n"), block))["sources"][0]["url"]
    # Sources written as an inline array cannot take a [[sources]] table: refused.
    with pytest.raises(ConfigError, match=r"cannot be appended|not an array"):
        add_source('sources = [{ kind = "jsonl", path = "a.jsonl" }]\n' + SITE, block)
    with pytest.raises(ConfigError, match="invalid TOML"):
        add_source(SITE + "[broken\n", block)


# -- what comes from the page cannot break out of the block --------------------------------


def test_page_text_cannot_inject_configuration():
    evil = 'x"\n[digest]\nto = ["victim@example.org"]\n# \u2028\x7f'
    block = render({"kind": "html", "name": evil, "url": "https://b.example/l?a=\"1\"",
                    "selectors": {"item": "li", "title": "a", "date": "span"}},
                   {"selectors.title": f"e.g. {evil}", "page_param": evil}, [evil])
    parsed = tomllib.loads(block)
    assert set(parsed) == {"sources"}
    assert parsed["sources"][0]["name"] == evil
    assert all(line.startswith("#") or "=" in line or line.startswith("[") or not line
               for line in block.splitlines())
    assert "\n" not in comment("a\nb\rc\u2028d") and len(comment("가" * 500)) <= 90
    raw = "\x00\x1f\\x"
    assert tomllib.loads("v = " + toml_string(raw))["v"] == raw


# -- update tells a source whose selectors stopped matching to detect again ------------------


def test_update_suggests_detect_when_the_layout_changed(site, tmp_path):
    board = serve_board(site, "card_list")
    config = write_config(tmp_path)
    assert detect(config, board.list_url, "--write").exit_code == 0
    # The city redesigns its site: the same address, other markup.
    site.fallback = None
    site.page("/news/press.do", "<html><body><div class='new-list'><p>새 디자인</p></div>"
                                "</body></html>")
    ran = CliRunner().invoke(cli, ["--config", str(config), "update", "--no-build"])
    assert ran.exit_code == 3
    assert "matched nothing" in ran.stderr
    assert f"feedkit source detect {board.list_url}" in ran.stderr
    # Rows still match but their cells moved: said once, not as ten rejected rows.
    site.page("/news/press.do", "<html><body><ul class='card-list'>" + "".join(
        f"<li class='card-item'><span>{n}</span></li>" for n in range(10)) + "</ul></body></html>")
    ran = CliRunner().invoke(cli, ["--config", str(config), "update", "--no-build"])
    assert ran.exit_code == 3
    assert "none of the 10 rows" in ran.stderr and "source detect" in ran.stderr
