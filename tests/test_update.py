"""``feedkit update`` end to end: CLI, several sources, failures, build, progress output."""

from __future__ import annotations

import io
import json
import sqlite3
from pathlib import Path

import feedparser
import pytest
from click.testing import CliRunner
from loopback_server import Board, Site, board_source, serve

from feedkit.cli import cli
from feedkit.ingest.update import Progress, SourceReport


def toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float):
        return repr(v)
    if isinstance(v, list):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    return json.dumps(v, ensure_ascii=False)


def write_config(tmp_path: Path, sources: list[dict], fetch: dict | None = None) -> Path:
    lines = ['[site]', 'title = "보령시 새소식"', 'url = "https://www.brcn.go.kr/"',
             'feed_url = "https://example.github.io/boryeong-news/"', "",
             "[fetch]"]
    for k, v in {"delay": 0, "timeout": 2, "retries": 1, "backoff": 0, **(fetch or {})}.items():
        lines.append(f"{k} = {toml_value(v)}")
    for src in sources:
        lines += ["", "[[sources]]"]
        tables = {k: v for k, v in src.items() if isinstance(v, dict)}
        lines += [f"{k} = {toml_value(v)}" for k, v in src.items() if not isinstance(v, dict)]
        for name, table in tables.items():
            lines += [f"[sources.{name}]"] + [f"{k} = {toml_value(v)}" for k, v in table.items()]
    path = tmp_path / "config.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def run(config: Path, *args: str):
    return CliRunner().invoke(cli, ["--config", str(config), "update", *args])


@pytest.fixture
def site():
    s = Site()
    with serve(s):
        yield s


def titles_in_feed(path: Path) -> set[str]:
    return {e.title for e in feedparser.parse(path.read_bytes()).entries}


def count(tmp_path: Path) -> int:
    return sqlite3.connect(tmp_path / "articles.db").execute(
        "SELECT count(*) FROM articles").fetchone()[0]


def test_update_fetches_imports_and_builds(site, tmp_path):
    board = Board(site, count=7, per_page=5)
    (tmp_path / "extra.jsonl").write_text(json.dumps({
        "url": "https://www.brcn.go.kr/news/1", "title": "파일에서 온 소식",
        "published": "2024-06-11"}, ensure_ascii=False) + "\n", encoding="utf-8")
    config = write_config(tmp_path, [board_source(board),
                                     {"kind": "jsonl", "path": "extra.jsonl"}])
    result = run(config)
    assert result.exit_code == 0, result.output + result.stderr
    assert "보도자료: 3 page(s), 7 detail page(s), 7 new, 0 changed" in result.stdout
    assert "extra.jsonl: 1 new" in result.stdout
    assert "\r" not in result.output                 # not a terminal: plain lines only
    assert count(tmp_path) == 8
    titles = titles_in_feed(tmp_path / "public" / "feed.xml")
    assert {i.title for i in board.items} | {"파일에서 온 소식"} == titles
    # Nothing new: no page but the first (a 304), nothing rewritten.
    again = run(config)
    assert again.exit_code == 0
    assert "1 not modified" in again.stdout and "0 written" in again.stdout


def test_one_failing_source_does_not_stop_the_others(site, tmp_path):
    board = Board(site, count=3, per_page=5)
    site.page("/down/feed", "busy", status=503)
    site.page("/robots.txt", "User-agent: *\nDisallow: /secret\n", content_type="text/plain")
    secret = board_source(board, name="비공개", url=site.url("/secret/list.do"), details=False)
    config = write_config(tmp_path, [
        {"kind": "feed", "name": "다운된 피드", "url": site.url("/down/feed")},
        secret,
        board_source(board),
    ])
    result = run(config)
    assert result.exit_code == 3  # partly done
    assert (f"다운된 피드: error: {site.url('/down/feed')}: HTTP 503 Service Unavailable "
            "after 2 attempts") in result.stderr
    assert "비공개: error: " in result.stderr and "disallowed by" in result.stderr
    assert "Traceback" not in result.output + result.stderr
    assert count(tmp_path) == 3
    assert titles_in_feed(tmp_path / "public" / "feed.xml") == {i.title for i in board.items}
    assert "3 source(s): 3 new, 0 changed, 0 unchanged, 0 rejected, 2 failed" in result.stdout


def test_a_source_on_a_closed_port_is_reported_as_the_connection_failure(tmp_path):
    """robots.txt is the first thing asked of a site, so a server that is not there at all
    used to be reported as "robots.txt could not be read", sending the operator to look at a
    robots file. The connection failure comes first now; robots.txt is only where it showed."""
    import socket

    with socket.socket() as probe:   # a port nothing listens on: bound, then released
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}/board/list.do"
    config = write_config(tmp_path, [{"kind": "feed", "name": "닫힌 포트", "url": url},
                                     {"kind": "jsonl", "path": "extra.jsonl"}])
    (tmp_path / "extra.jsonl").write_text(json.dumps({
        "url": "https://www.brcn.go.kr/news/1", "title": "파일에서 온 소식",
        "published": "2024-06-11"}, ensure_ascii=False) + "\n", encoding="utf-8")
    result = run(config)
    assert result.exit_code == 3, result.output
    [line] = [x for x in result.stderr.splitlines() if x.startswith("닫힌 포트: error: ")]
    assert line == (f"닫힌 포트: error: {url}: network error: Connection refused after 2 "
                    f"attempts (asking for http://127.0.0.1:{port}/robots.txt, which is read "
                    "first; nothing on the site was fetched)")
    assert "could not be read" not in result.stderr


def test_a_failing_run_never_deletes_stored_articles(site, tmp_path):
    board = Board(site, count=6, per_page=5)
    config = write_config(tmp_path, [board_source(board)])
    assert run(config).exit_code == 0
    feed_before = (tmp_path / "public" / "feed.xml").read_bytes()
    site.page("/board/list.do", "maintenance", status=500)           # the site breaks
    result = run(config)
    assert result.exit_code == 3 and "HTTP 500" in result.stderr
    assert count(tmp_path) == 6
    assert (tmp_path / "public" / "feed.xml").read_bytes() == feed_before
    site.page("/board/list.do", "<html><body>새 디자인</body></html>")  # layout changed
    result = run(config)
    assert result.exit_code == 3 and "matched nothing" in result.stderr
    assert count(tmp_path) == 6


def test_a_failed_source_is_read_in_full_once_fixed(site, tmp_path):
    """Board A's list page is fetched (its ETag staged), then A fails: its item selector, a
    config mistake, matches nothing. B, read after it, succeeds and commits. A's staged ETag
    must not ride along with B's commit: after the selector is fixed, the unchanged page would
    answer 304 and A's news would never arrive ("304 forever")."""
    a = Board(site, count=4, per_page=5, prefix="/a")
    b = Board(site, count=2, per_page=5, prefix="/b")
    broken = board_source(a, name="A")
    broken["selectors"] = {**broken["selectors"], "item": "table.bord_list tbody tr"}  # typo
    config = write_config(tmp_path, [broken, board_source(b, name="B")])
    first = run(config)
    assert first.exit_code != 0 and "A: error: " in first.stderr
    assert "matched nothing" in first.stderr
    assert count(tmp_path) == 2                                     # B's news only
    config = write_config(tmp_path, [board_source(a, name="A"), board_source(b, name="B")])
    second = run(config)
    assert second.exit_code == 0, second.stderr
    assert "A: 2 page(s), 4 detail page(s), 4 new" in second.stdout
    assert count(tmp_path) == 6
    assert "if-none-match" not in site.hits("/a/list.do")[-1].headers
    assert {i.title for i in a.items} <= titles_in_feed(tmp_path / "public" / "feed.xml")


def test_a_board_whose_second_page_failed_is_read_again(site, tmp_path):
    """Page 2 fails: page 1's articles land (one rejected line says which page failed), and
    the next run reads page 1 again instead of taking a 304, and walks on past its known
    articles to page 2 instead of stopping there as usual."""
    a = Board(site, count=7, per_page=5, prefix="/a")
    site.page("/a/list.do?pageIndex=2", "maintenance", status=500)
    config = write_config(tmp_path, [board_source(a, name="A")])
    first = run(config)
    assert first.exit_code != 0 and "list page 2: " in first.stderr
    assert count(tmp_path) == 5
    a.publish()                                                     # page 2 is back
    second = run(config)
    assert second.exit_code == 0, second.stderr
    assert count(tmp_path) == 7
    assert "if-none-match" not in site.hits("/a/list.do")[-1].headers
    assert {i.title for i in a.items} == titles_in_feed(tmp_path / "public" / "feed.xml")
    # Caught up: the next run stops at page 1 again (a 304), as for any unchanged board.
    third = run(config)
    assert third.exit_code == 0 and "A: not modified" in third.stdout


def test_no_build_and_source_filter(site, tmp_path):
    a = Board(site, count=2, per_page=5, prefix="/a")
    b = Board(site, count=3, per_page=5, prefix="/b")
    config = write_config(tmp_path, [board_source(a, name="A"), board_source(b, name="B")])
    result = run(config, "--no-build", "--source", "B")
    assert result.exit_code == 0, result.stderr
    assert not (tmp_path / "public").exists()
    assert count(tmp_path) == 3
    assert not any(h.path.startswith("/a/") for h in site.log)
    bad = run(config, "--source", "C")
    assert bad.exit_code == 2 and "no source named 'C'" in bad.stderr


def test_rejected_records_exit_nonzero_but_good_ones_land(site, tmp_path):
    site.page("/list", """<meta charset="utf-8"><table><tbody>
      <tr><td class="t"><a href="/v/1">좋은 글</a></td><td>2025.12.09 </td></tr>
      <tr><td class="t"><a href="/v/2">날짜가 이상한 글</a></td><td>2025.13.45</td></tr>
      </tbody></table>""")
    config = write_config(tmp_path, [{
        "kind": "html", "url": site.url("/list"),
        "selectors": {"item": "tbody tr", "title": "td.t a", "date": "td:nth-child(2)"}}])
    result = run(config)
    assert result.exit_code == 3
    assert f"{site.url('/list')} item 2: impossible date '2025.13.45'" in result.stderr
    assert count(tmp_path) == 1


def test_no_sources_is_an_error(tmp_path):
    config = write_config(tmp_path, [])
    result = run(config)
    assert result.exit_code == 2 and "no [[sources]]" in result.stderr


def test_progress_on_a_terminal_is_one_live_line():
    out = io.StringIO()
    progress = Progress(out, tty=True)
    progress.start("보도자료")
    progress.page("http://x/list", "fetched", 20, 3)
    progress.page("http://x/list?page=2", "fetched", 20, 0)
    report = SourceReport(label="보도자료", kind="html", pages=2)
    report.counts.inserted = 3
    progress.done(report)
    text = out.getvalue()
    assert "\r\x1b[K보도자료: 2 page(s), 3 new or changed" in text
    assert text.endswith("\r\x1b[K보도자료: 2 page(s), 3 new, 0 changed, 0 unchanged, "
                         "0 rejected\n")


def test_progress_in_a_log_is_plain_lines():
    out = io.StringIO()
    progress = Progress(out, tty=False, verbose=True)
    progress.start("보도자료")
    progress.page("http://x/list", "fetched", 20, 3)
    progress.done(SourceReport(label="보도자료", kind="html", pages=1))
    assert out.getvalue().splitlines() == [
        "보도자료: http://x/list: fetched, 20 item(s), 3 new or changed",
        "보도자료: 1 page(s), 0 new, 0 changed, 0 unchanged, 0 rejected",
    ]


# -- errors that explain the first run; sources failing run after run ---------------------------


def test_source_errors_come_before_a_failing_build(site, tmp_path):
    board = Board(site, count=3, per_page=5)
    site.page("/down/feed", "gone", status=404)
    config = write_config(tmp_path, [
        {"kind": "feed", "name": "다운된 피드", "url": site.url("/down/feed")},
        board_source(board)])
    text = config.read_text(encoding="utf-8").replace('title = "보령시 새소식"',
                                                      'title = "TODO: 우리 시 새소식"')
    config.write_text(text, encoding="utf-8")
    result = run(config)
    assert result.exit_code == 2   # the build refuses the placeholder title
    lines = result.stderr.splitlines()
    source_line = next(i for i, line in enumerate(lines) if line.startswith("다운된 피드: error:"))
    build_line = next(i for i, line in enumerate(lines) if "[site] title" in line)
    assert source_line < build_line, lines
    assert count(tmp_path) == 3, "the store was updated before the build failed"


def test_an_empty_store_after_a_failed_first_update_says_why(site, tmp_path):
    site.page("/list", "<html><body><p>새 디자인</p></body></html>")
    site.page("/down/feed", "maintenance", status=503)
    config = write_config(tmp_path, [
        {"kind": "html", "name": "보도자료", "url": site.url("/list"),
         "selectors": {"item": "table.board tbody tr", "title": "td a", "date": "td.d"}},
        {"kind": "feed", "name": "소식지", "url": site.url("/down/feed")}])
    result = run(config)
    assert result.exit_code == 1
    errors = [line for line in result.stderr.splitlines() if line.startswith("feedkit: error:")]
    assert errors[0] == ("feedkit: error: nothing to build: the article store is empty and "
                         "2 of 2 source(s) failed:")
    assert "보도자료: " in errors[1] and "'table.board tbody tr' matched nothing" in errors[1]
    assert "소식지: " in errors[2] and "HTTP 503" in errors[2]


def test_a_source_failing_many_runs_in_a_row_is_reported_louder(site, tmp_path, monkeypatch):
    import feedkit.store.health

    monkeypatch.setattr(feedkit.store.health, "LOUD_AFTER", 3)
    board = Board(site, count=2, per_page=5)
    site.page("/down/feed", "maintenance", status=503)
    config = write_config(tmp_path, [
        {"kind": "feed", "name": "소식지", "url": site.url("/down/feed")}, board_source(board)])
    for n in (1, 2):
        quiet = run(config)
        assert quiet.exit_code == 3
        assert "runs in a row" not in quiet.stderr, n
    loud = CliRunner().invoke(cli, ["--config", str(config), "update"],
                              env={"GITHUB_ACTIONS": "true"})
    assert loud.exit_code == 3
    assert "error: 소식지: has failed 3 runs in a row (since " in loud.stderr
    # In GitHub Actions: annotations on the run's page, a warning per source, an error when loud.
    assert "::warning title=feedkit update%3A 소식지::" in loud.stdout
    assert "::error title=feedkit update%3A 소식지::소식지: has failed 3 runs" in loud.stdout
    stats = CliRunner().invoke(cli, ["--config", str(config), "stats"])
    assert "소식지: 3 run(s) in a row since" in stats.stdout and "fix it" in stats.stdout
    as_json = json.loads(CliRunner().invoke(cli, ["--config", str(config), "stats", "--json"])
                         .stdout)
    assert [(f["source"], f["runs"], f["loud"]) for f in as_json["failing_sources"]] == [
        ("소식지", 3, True)]

    # A workflow rebuilds its store from text each run: the count survives export -> import.
    state = tmp_path / "state.jsonl"
    exported = CliRunner().invoke(cli, ["--config", str(config), "export", "--out",
                                        str(tmp_path / "store.jsonl"), "--state", str(state)])
    assert exported.exit_code == 0
    assert json.loads(state.read_text(encoding="utf-8"))["runs"] == 3
    (tmp_path / "articles.db").unlink()
    restored = CliRunner().invoke(cli, ["--config", str(config), "import", "--state", str(state),
                                        str(tmp_path / "store.jsonl")])
    assert restored.exit_code == 0, restored.output
    assert "4 runs in a row" in run(config).stderr

    # --source runs only some sources: the others' streaks are left as they are.
    assert "5 runs in a row" in run(config, "--source", "소식지").stderr
    assert "runs in a row" not in run(config, "--source", "보도자료").stderr
    assert "6 runs in a row" in run(config).stderr

    # The source comes back: its streak is gone, and the exit code is 0 again.
    site.page("/down/feed", "<rss version='2.0'><channel><title>t</title></channel></rss>",
              content_type="application/rss+xml")
    back = run(config)
    assert back.exit_code == 0, back.stderr
    stats = CliRunner().invoke(cli, ["--config", str(config), "stats"])
    assert "failing sources" not in stats.stdout
    assert CliRunner().invoke(cli, ["--config", str(config), "export", "--state",
                                    str(state)]).exit_code == 0
    assert state.read_bytes() == b""


def test_update_full_reads_every_page_again(site, tmp_path):
    """``--full``: no conditional GET and no skipping of known rows, every page is read again
    (and, with --verbose in a log, each page gets its own line)."""
    board = Board(site, count=3, per_page=5)
    config = write_config(tmp_path, [board_source(board)])
    assert run(config).exit_code == 0
    before = len(site.log)
    result = CliRunner().invoke(cli, ["--config", str(config), "--verbose", "update", "--full"])
    assert result.exit_code == 0, result.stderr
    hits = site.log[before:]
    assert all("if-none-match" not in h.headers for h in hits)
    assert sum("view.do" in h.path for h in hits) == 3            # every detail page again
    assert "보도자료: 2 page(s), 3 detail page(s), 0 new, 0 changed, 3 unchanged" in result.stdout
    assert f"보도자료: {board.list_url}: fetched, 3 item(s)" in result.output


def test_run_update_as_a_library_only_updates_and_then_asks_conditionally(site, tmp_path):
    """The library call with its defaults: update and report, never build (issue 10: ingest
    depends on the store, not on the output; the caller builds); the next call sends the
    validators (a 304), also with a Fetcher the caller made."""
    from feedkit.config import load_config
    from feedkit.ingest.fetch import Fetcher, FetchSettings
    from feedkit.ingest.update import run_update
    from feedkit.site.build import build
    from feedkit.store.articles import Store

    board = Board(site, count=2, per_page=5)
    config = load_config(write_config(tmp_path, [board_source(board)]))
    with Store(config.store_path) as store:
        first = run_update(config, store)
        assert first.ok and first.totals().inserted == 2
        assert not (tmp_path / "public").exists()
        build(config, store)
        assert (tmp_path / "public" / "feed.xml").is_file()
        fetcher = Fetcher(FetchSettings.from_config(config), private_hosts={"127.0.0.1"})
        second = run_update(config, store, fetcher=fetcher)
    assert second.sources[0].not_modified == 1
    assert site.hits("/board/list.do")[-1].headers["if-none-match"]


def test_attachments_are_labelled_in_the_site_language(site, tmp_path):
    board = Board(site, count=1, per_page=5)
    config = write_config(tmp_path, [board_source(board)])
    text = config.read_text(encoding="utf-8").replace("[site]\n", '[site]\nlanguage = "en"\n')
    config.write_text(text, encoding="utf-8")
    assert run(config, "--no-build").exit_code == 0
    (html,) = [r[0] for r in sqlite3.connect(tmp_path / "articles.db").execute(
        "SELECT content_html FROM articles")]
    assert "Attachments" in html and "첨부파일" not in html


@pytest.mark.parametrize("language, label, other", [
    ("", "첨부파일", "Attachments"),     # the default language is Korean
    ("ko-KR", "첨부파일", "Attachments"),
    ("en", "Attachments", "첨부파일"),
])
def test_the_attachments_heading_is_exactly_the_site_languages_word(site, tmp_path, language,
                                                                   label, other):
    board = Board(site, count=1, per_page=5)
    config = write_config(tmp_path, [board_source(board)])
    if language:
        text = config.read_text(encoding="utf-8")
        config.write_text(text.replace("[site]\n", f'[site]\nlanguage = "{language}"\n'),
                          encoding="utf-8")
    assert run(config, "--no-build").exit_code == 0
    (html,) = [r[0] for r in sqlite3.connect(tmp_path / "articles.db").execute(
        "SELECT content_html FROM articles")]
    assert f"<h3>{label}</h3>" in html and other not in html


def test_a_removed_source_is_not_reported_forever(site, tmp_path):
    board = Board(site, count=2, per_page=5)
    site.page("/down/feed", "maintenance", status=503)
    down = {"kind": "feed", "name": "옛 소식지", "url": site.url("/down/feed")}
    config = write_config(tmp_path, [down, board_source(board)])
    assert run(config).exit_code == 3
    stats = CliRunner().invoke(cli, ["--config", str(config), "stats"])
    assert "옛 소식지: 1 run(s) in a row" in stats.stdout
    write_config(tmp_path, [board_source(board)])       # the team removes the dead source
    assert run(config).exit_code == 0
    stats = CliRunner().invoke(cli, ["--config", str(config), "stats"])
    assert "옛 소식지" not in stats.stdout
