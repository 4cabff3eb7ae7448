"""The command-line contract every command shares: where options go, how the config is found,
and one exit-code table (0 done, 1 run-time failure, 2 usage/configuration, 3 partly done)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from _digest_support import (
    SEOUL,
    Behaviour,
    korean_articles,
    smtp_server,
    store_with,
    write_config_toml,
)
from click.testing import CliRunner
from conftest import SITE_CONFIG, Site

from feedkit.cli import cli
from feedkit.validate import candidate_files


def invoke(*args: str, env: dict | None = None):
    return CliRunner().invoke(cli, list(args), env=env)


# -- options where users type them ---------------------------------------------------------------


def test_global_options_work_after_the_subcommand(site: Site) -> None:
    assert invoke("import", "--config", str(site.config)).exit_code == 0
    quiet = invoke("build", "--config", str(site.config), "-q")
    assert quiet.exit_code == 0 and quiet.stdout == ""
    loud = invoke("build", "--config", str(site.config), "--verbose")
    # Nothing changed since the last build, so verbose says so in the summary line only; with
    # a fresh output folder it lists every file written.
    shutil.rmtree(site.out)
    loud = invoke("build", "-v", "--config", str(site.config))
    assert loud.exit_code == 0 and "wrote feed.xml" in loud.stdout
    normal = invoke("--config", str(site.config), "stats")
    assert "articles: 7" in normal.stdout
    sub = invoke("digest", "render", "--config", str(site.config), "--week", "2024-W51",
                 "--allow-empty", "-q", "--html", str(site.root / "digest.html"))
    assert sub.exit_code == 0 and sub.stdout == "", sub.output


def test_quiet_and_verbose_together_is_a_usage_error(site: Site) -> None:
    for args in (["-q", "build", "-v"], ["build", "-q", "-v"], ["-q", "-v", "build"]):
        result = invoke("--config", str(site.config), *args)
        assert result.exit_code == 2, args
        assert "--quiet and --verbose" in result.stderr


def test_config_may_name_a_folder_and_comes_from_the_environment(site: Site) -> None:
    assert invoke("--config", str(site.root), "import").exit_code == 0
    result = invoke("stats", env={"FEEDKIT_CONFIG": str(site.root)})
    assert result.exit_code == 0 and str(site.db) in result.stdout
    result = invoke("stats", env={"FEEDKIT_CONFIG": str(site.config)})
    assert result.exit_code == 0 and str(site.db) in result.stdout
    missing = invoke("--config", str(site.root / "nowhere"), "stats")
    assert missing.exit_code == 2 and "no config file found via --config" in missing.stderr


def test_the_nearest_config_in_a_parent_folder_is_used(site: Site, monkeypatch) -> None:
    monkeypatch.delenv("FEEDKIT_CONFIG", raising=False)
    deep = site.root / "templates" / "mine"
    deep.mkdir(parents=True)
    monkeypatch.chdir(deep)
    result = invoke("import")
    assert result.exit_code == 0, result.output
    assert site.db.is_file(), "the store is the site's, not one in the current folder"
    assert not (deep / "articles.db").exists()
    # A nearer config wins over one further up.
    nearer = deep / "config.toml"
    nearer.write_text(SITE_CONFIG.format(sample=site.root / "none.jsonl", limit=5)
                      .replace('path = "articles.db"', 'path = "near.db"'), encoding="utf-8")
    assert invoke("stats").stdout.startswith(f"store: {deep / 'near.db'}")


def test_validate_skips_hidden_folders_and_virtual_environments(built_site: Site,
                                                                tmp_path: Path) -> None:
    folder = tmp_path / "copy"
    shutil.copytree(built_site.out, folder)
    for junk in (".venv/lib/python3.11/site-packages/pkg/data.json", ".git/x/feed.json",
                 "env/lib/site.json", "node_modules/a/package.json"):
        path = folder / junk
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text('{"not": "a feed"}', encoding="utf-8")
    (folder / "env" / "pyvenv.cfg").write_text("home = /usr/bin\n", encoding="utf-8")
    names = {p.relative_to(folder).as_posix() for p in candidate_files(folder)}
    assert "feed.xml" in names and "category/semugwa/feed.json" in names
    assert not any(n.startswith((".venv", ".git", "env/", "node_modules")) for n in names)
    result = invoke("validate", str(folder))
    assert result.exit_code == 0, result.output
    # Point it at a site folder and it checks that site's output folder.
    (built_site.root / ".venv" / "lib").mkdir(parents=True)
    (built_site.root / ".venv" / "lib" / "x.json").write_text("{}", encoding="utf-8")
    at_site = invoke("validate", str(built_site.root))
    assert at_site.exit_code == 0, at_site.output
    assert "all feeds valid" in at_site.stdout


# -- exit codes, per command --------------------------------------------------------------------


def test_exit_codes_of_import_build_validate_export_stats(site: Site, tmp_path: Path) -> None:
    # Configuration and usage errors: 2.
    assert invoke("--config", str(tmp_path / "no.toml"), "build").exit_code == 2
    assert invoke("no-such-command").exit_code == 2
    assert invoke("--config", str(site.config), "build", "--no-such-option").exit_code == 2
    assert invoke("--config", str(site.config), "validate", str(tmp_path / "no")).exit_code == 2
    # Run-time failures: 1.
    empty = invoke("--config", str(site.config), "build")
    assert empty.exit_code == 1 and "store is empty" in empty.stderr
    assert invoke("--config", str(site.config), "import", str(tmp_path / "no.jsonl")
                  ).exit_code == 1
    # Partly done: 3 (a bad record, the good ones imported).
    mixed = tmp_path / "mixed.jsonl"
    mixed.write_text('{"title": "ok", "url": "https://a.example/1", "published": "2024-06-11"}\n'
                     '{"title": "no url", "published": "2024-06-11"}\n', encoding="utf-8")
    partly = invoke("--config", str(site.config), "import", str(mixed))
    assert partly.exit_code == 3 and "1 rejected" in partly.output
    # Done: 0.
    for args in (["import"], ["build"], ["validate"], ["stats"], ["export", "--out",
                                                                   str(tmp_path / "s.jsonl")]):
        result = invoke("--config", str(site.config), *args)
        assert result.exit_code == 0, (args, result.output)
    (site.out / "feed.xml").write_text("<rss version='2.0'><channel></channel></rss>",
                                       encoding="utf-8")
    assert invoke("--config", str(site.config), "validate").exit_code == 1
    unwritable = invoke("--config", str(site.config), "export", "--out",
                        str(site.config / "x"))   # under a file: not a folder
    assert unwritable.exit_code == 1 and "cannot write" in unwritable.stderr
    assert "Traceback" not in unwritable.output


def test_exit_codes_of_init(tmp_path: Path) -> None:
    assert invoke("init", str(tmp_path)).exit_code == 0
    assert invoke("init", str(tmp_path)).exit_code == 2


def test_exit_codes_of_digest_render(tmp_path: Path) -> None:
    site = Site(tmp_path)
    site.run("import")
    base = ["--config", str(site.config), "digest", "render", "--html", str(tmp_path / "d.html")]
    assert invoke(*base, "--week", "2025-49").exit_code == 2
    assert invoke(*base, "--week", "2024-W99").exit_code == 2
    assert invoke(*base, "--now", "next monday").exit_code == 2
    assert invoke(*base, "--today", "2024-13-01").exit_code == 2
    assert invoke(*base, "--week", "2024-W30").exit_code == 1   # no articles that week
    assert invoke(*base, "--week", "2024-W51").exit_code == 0
    assert (tmp_path / "d.html").stat().st_size > 0


def test_digest_render_without_an_output_says_what_to_add(tmp_path: Path) -> None:
    """Rendering into thin air used to exit 0: an editor then looked for a file that was never
    written. Now it is a usage error naming each option, and nothing is read or written."""
    site = Site(tmp_path)
    site.run("import")
    before = sorted(p.name for p in tmp_path.iterdir())
    result = invoke("--config", str(site.config), "digest", "render", "--week", "2024-W51")
    assert result.exit_code == 2
    assert result.stdout == ""
    [line] = result.stderr.splitlines()
    assert line.startswith("feedkit: error: nothing to write: add --html FILE")
    for option in ("--html", "--text", "--eml", "--web"):
        assert option in line
    assert sorted(p.name for p in tmp_path.iterdir()) == before


DIGEST_SITE = """
[site]
title = "보령시 새소식"
url = "https://www.brcn.go.kr/"
feed_url = "https://news.example.org/boryeong/"

[digest]
{from_line}
to = ["reader0@example.com", "reader1@example.com"]

[smtp]
host = "127.0.0.1"
port = {port}
tls = "none"
retry_delay = 0.01
retries = 0
timeout = 5
"""


def _digest_site(tmp_path: Path, port: int, from_line: str = 'from = "소식 <news@example.org>"'):
    config = write_config_toml(tmp_path, DIGEST_SITE.format(from_line=from_line, port=port))
    from datetime import datetime

    store_with(tmp_path, korean_articles(4, datetime(2024, 6, 10, tzinfo=SEOUL))).close()
    return ["--config", str(config), "digest", "send"]


def test_exit_codes_of_digest_send(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("FEEDKIT_SECRET", "test-secret-0123456789abcdef")  # send-log key
    with smtp_server(Behaviour(on_rcpt=lambda r: "550 5.1.1 unknown" if "reader1" in r
                               else None)) as (server, port):
        no_from = _digest_site(tmp_path, port, from_line="")
        result = invoke(*no_from, "--week", "2024-W24")
        assert result.exit_code == 2 and "[digest] from" in result.stderr
        base = _digest_site(tmp_path, port)
        assert invoke(*base, "--week", "2025-49").exit_code == 2
        assert invoke(*base, "--now", "yesterday").exit_code == 2
        not_due = invoke(*base, "--now", "2024-06-17 07:59")
        assert not_due.exit_code == 0 and "not due until 2024-06-17 08:00" in not_due.stdout
        assert server.received == []
        partly = invoke(*base, "--now", "2024-06-17 08:00")
        assert partly.exit_code == 3, partly.output    # reader0 got it, reader1 refused
        assert [r.rcpt for r in server.received] == [["reader0@example.com"]]
    # Nobody reachable at all: a run-time failure.
    failing = invoke(*base, "--week", "2024-W24")
    assert failing.exit_code == 1 and "Traceback" not in failing.output


def test_exit_codes_of_update(tmp_path: Path) -> None:
    site = Site(tmp_path)
    assert invoke("--config", str(site.config), "update", "--source", "nope").exit_code == 2
    assert invoke("--config", str(site.config), "update").exit_code == 0


@pytest.mark.parametrize("args", [["serve", "--port", "70000"], ["stats", "--bogus"],
                                  ["digest", "nope"], ["update", "--out"]])
def test_click_usage_errors_are_2(site: Site, args: list[str]) -> None:
    assert invoke("--config", str(site.config), *args).exit_code == 2
