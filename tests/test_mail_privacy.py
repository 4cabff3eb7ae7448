"""No subscriber address in the send log, its export, the output or the Message-ID; recipients
from a secret or a private file (issue 8). Real aiosmtpd on loopback, real sqlite files and a
real PostgreSQL (the store tests run on both), real git for the "would a commit publish it"
check."""

from __future__ import annotations

import hashlib
import hmac
import shutil
import sqlite3
import subprocess
from datetime import datetime
from pathlib import Path

import pytest
from _digest_support import (
    SEOUL,
    SITE_AND_SENDER_TOML,
    config_for,
    korean_articles,
    smtp_server,
    store_with,
    write_config_toml,
)
from click.testing import CliRunner

from feedkit.cli import cli
from feedkit.digest.week import Week
from feedkit.errors import ConfigError
from feedkit.mail.recipients import load_recipients
from feedkit.mail.send import send_week
from feedkit.store.articles import MIGRATIONS, SCHEMA_VERSION, Store

SECRET = "privacy-test-secret-0123456789"
W24 = datetime(2024, 6, 10, tzinfo=SEOUL)
NOW = datetime(2024, 6, 17, 9, 0, tzinfo=SEOUL)
WEEK = Week.parse("2024-W24", SEOUL)
READERS = ["kim@example.com", "Lee.Young@Example.com", "park@example.net"]


def key(address: str, secret: str = SECRET) -> str:
    """HMAC-SHA256 of the lower-cased address, computed here without feedkit."""
    msg = b"feedkit send-log v1\n" + address.lower().encode()
    return "hmac-sha256:" + hmac.new(secret.encode(), msg, hashlib.sha256).hexdigest()


def _every_byte(folder: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file())


def _every_value(backend) -> bytes:
    """Every value in every table of a PostgreSQL store's schema, as text (PostgreSQL's files
    are the server's, not the site's: what the database holds is what could leak)."""
    tables = backend.rows("SELECT table_name FROM information_schema.tables "
                          "WHERE table_schema = ? ORDER BY table_name", backend.schema)
    assert ("send_log",) in tables
    text = "".join(repr(backend.rows(f'SELECT * FROM "{name}"')) for (name,) in tables)
    return text.encode()


def test_send_log_store_file_and_export_hold_no_address(tmp_path, monkeypatch, backend):
    monkeypatch.setenv("FEEDKIT_SECRET", SECRET)
    with smtp_server() as (server, port):
        config = config_for(tmp_path, backend, smtp={"port": port}, digest={"to": READERS})
        store = store_with(tmp_path, korean_articles(5, W24), backend)
        report = send_week(config, store, WEEK, now=NOW)
        assert len(report.sent) == 3 and len(server.received) == 3
        rows = backend.rows("SELECT recipient, message_id, error FROM send_log")
        assert sorted(r[0] for r in rows) == sorted(key(a) for a in READERS)
        from feedkit.site.export import export_send_log

        exported = export_send_log(store)
        store.close()
    stored = _every_byte(tmp_path)  # the sqlite file, its WAL, everything
    if backend.is_pg:
        stored += _every_value(backend)
        assert key(READERS[0]).encode() in stored   # the check can see the log
    for addr in READERS:
        for form in (addr, addr.lower()):
            assert form.encode() not in stored and form.encode() not in exported
            # not even an unkeyed hash of it (a guess could be checked against that)
            assert hashlib.sha256(form.encode()).hexdigest()[:24].encode() not in exported
    assert exported.count(b"hmac-sha256:") == 3


def test_message_id_comes_from_the_keyed_hash(tmp_path, monkeypatch):
    ids = {}
    for secret in ("first-secret-0123456789abc", "second-secret-0123456789ab"):
        monkeypatch.setenv("FEEDKIT_SECRET", secret)
        folder = tmp_path / secret
        folder.mkdir()
        with smtp_server() as (server, port):
            config = config_for(folder, smtp={"port": port}, digest={"to": READERS[:1]})
            store = store_with(folder, korean_articles(3, W24))
            send_week(config, store, WEEK, now=NOW)
            ids[secret] = server.received[0].message["Message-ID"]
            logged = store.db.execute("SELECT message_id FROM send_log").fetchone()[0]
            assert logged == ids[secret]
            store.close()
    # the same reader, the same week: a different key gives a different id, so the id
    # is not a function of the address alone
    assert len(set(ids.values())) == 2


def test_without_the_secret_nothing_is_sent_and_the_exit_code_is_2(tmp_path, monkeypatch,
                                                                   backend):
    monkeypatch.delenv("FEEDKIT_SECRET", raising=False)
    with smtp_server() as (server, port):
        write_config_toml(tmp_path, SITE_AND_SENDER_TOML + f"""\
to = ["kim@example.com"]

[smtp]
host = "127.0.0.1"
port = {port}
tls = "none"

{backend.store_lines()}""")
        store_with(tmp_path, korean_articles(3, W24), backend).close()
        runner = CliRunner()
        args = ["--config", str(tmp_path / "config.toml"), "digest", "send", "--week", "2024-W24"]
        for extra in ([], ["--dry-run"]):
            result = runner.invoke(cli, args + extra)
            assert result.exit_code == 2, result.output
            assert "$FEEDKIT_SECRET is not set" in result.output
            assert "Traceback" not in result.output
        monkeypatch.setenv("FEEDKIT_SECRET", "short")
        result = runner.invoke(cli, args)
        assert result.exit_code == 2 and "too short" in result.output
        assert server.received == []
        assert backend.rows("SELECT count(*) FROM send_log") == [(0,)]


def _old_store(path: Path, rows: list[tuple]) -> None:
    """A store as feedkit wrote it before the send log was hashed (schema version 1)."""
    db = sqlite3.connect(path)
    db.executescript(MIGRATIONS[0])
    db.executemany("INSERT INTO send_log VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
    db.execute("PRAGMA user_version = 1")
    db.commit()
    db.close()


def test_an_old_store_is_migrated_to_hashes(tmp_path, monkeypatch):
    db_path = tmp_path / "articles.db"
    _old_store(db_path, [
        ("2024-W23", "kim@example.com", "<a@x>", "sent", 1, "", "t"),
        ("2024-W24", "kim@example.com", "<b@x>", "failed", 2,
         "550 5.1.1 <kim@example.com>: unknown", "t"),
    ])
    # without the key the upgrade stops with a configuration error and changes nothing
    monkeypatch.delenv("FEEDKIT_SECRET", raising=False)
    with pytest.raises(ConfigError, match=r"addresses in clear .*FEEDKIT_SECRET is not set"):
        Store(db_path)
    with sqlite3.connect(db_path) as db:
        # the steps before the send-log one may have run; the send-log step has not
        assert db.execute("PRAGMA user_version").fetchone()[0] < SCHEMA_VERSION
        assert db.execute("SELECT count(*) FROM send_log WHERE recipient = 'kim@example.com'"
                          ).fetchone()[0] == 2
    monkeypatch.setenv("FEEDKIT_SECRET", SECRET)
    with Store(db_path) as store:
        rows = store.db.execute(
            "SELECT week, recipient, status, error FROM send_log ORDER BY week").fetchall()
        assert store.schema_version == SCHEMA_VERSION
    assert rows == [("2024-W23", key("kim@example.com"), "sent", ""),
                    ("2024-W24", key("kim@example.com"), "failed",
                     "550 5.1.1 <recipient>: unknown")]
    # a store that never sent needs no key to upgrade
    monkeypatch.delenv("FEEDKIT_SECRET")
    _old_store(tmp_path / "empty.db", [])
    with Store(tmp_path / "empty.db") as store:
        assert store.schema_version == SCHEMA_VERSION


def test_an_old_exported_send_log_is_hashed_on_import(tmp_path, monkeypatch, backend):
    from feedkit.site.export import import_send_log

    old = tmp_path / "send-log.jsonl"
    old.write_text('{"week": "2024-W24", "recipient": "kim@example.com", "message_id": "<m@x>",'
                   ' "status": "sent", "attempts": 1, "error": "", "updated_at": "t"}\n',
                   encoding="utf-8")
    monkeypatch.delenv("FEEDKIT_SECRET", raising=False)
    with backend.open_store() as store:
        with pytest.raises(ConfigError, match=r"send-log\.jsonl:1: this send log names readers"):
            import_send_log(store, old)
        assert backend.rows("SELECT count(*) FROM send_log") == [(0,)]
        monkeypatch.setenv("FEEDKIT_SECRET", SECRET)
        assert import_send_log(store, old) == 1
    assert backend.rows("SELECT recipient, status FROM send_log") == [
        (key("kim@example.com"), "sent")]


def test_recipients_from_an_environment_variable(tmp_path):
    config = config_for(tmp_path, digest={"to": [], "recipients_env": "FEEDKIT_RECIPIENTS"})
    env = {"FEEDKIT_RECIPIENTS": "kim@example.com\n# a comment\n\nlee@example.com, "
                                 "\"Park, Jisoo\" <park@example.net>\nnot an address\n"}
    got = load_recipients(config, env)
    assert got.addresses == ["kim@example.com", "lee@example.com", "park@example.net"]
    assert got.problems == ["$FEEDKIT_RECIPIENTS line 5: not an email address, skipped"]
    with pytest.raises(ConfigError, match=r"\$FEEDKIT_RECIPIENTS is not set or empty"):
        load_recipients(config, {})


def test_recipients_keyed_by_one_spelling(tmp_path):
    # the same reader spelled with another case or with the domain in IDNA form is one reader
    config = config_for(tmp_path, digest={"to": [
        "kim@예시.한국", "KIM@xn--vv4b11d.xn--3e0b707e", "Kim@Example.com", "kim@example.com"]})
    assert load_recipients(config).addresses == ["kim@예시.한국", "Kim@Example.com"]


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_a_recipients_file_git_would_commit_gets_a_loud_warning(tmp_path):
    repo = tmp_path / "site"
    repo.mkdir()
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    (repo / "readers.txt").write_text("kim@example.com\n", encoding="utf-8")
    config = config_for(repo, digest={"to": [], "recipients_file": "readers.txt"})
    got = load_recipients(config)
    assert got.addresses == ["kim@example.com"]
    assert len(got.warnings) == 1 and "WARNING" in got.warnings[0]
    assert "a commit would publish every address" in got.warnings[0]
    (repo / ".gitignore").write_text("readers.txt\n", encoding="utf-8")
    assert load_recipients(config).warnings == []
    # outside any work tree: nothing to warn about
    outside = tmp_path / "private"
    outside.mkdir()
    (outside / "readers.txt").write_text("kim@example.com\n", encoding="utf-8")
    config = config_for(repo, digest={"to": [], "recipients_file": str(outside / "readers.txt")})
    assert load_recipients(config).warnings == []


def test_a_recipients_file_in_the_output_folder_is_refused(tmp_path):
    (tmp_path / "public").mkdir()
    (tmp_path / "public" / "readers.txt").write_text("kim@example.com\n", encoding="utf-8")
    config = config_for(tmp_path, digest={"to": [], "recipients_file": "public/readers.txt"})
    with pytest.raises(ConfigError, match="inside the output folder"):
        load_recipients(config)


def test_cli_output_names_no_address_unless_verbose(tmp_path, monkeypatch):
    monkeypatch.setenv("FEEDKIT_SECRET", SECRET)
    (tmp_path / "readers.txt").write_text("kim@example.com\nlee@example.com\nbad@@x\n",
                                          encoding="utf-8")
    with smtp_server() as (_server, port):
        write_config_toml(tmp_path, SITE_AND_SENDER_TOML + f"""\
recipients_file = "readers.txt"

[smtp]
host = "127.0.0.1"
port = {port}
tls = "none"
""")
        store_with(tmp_path, korean_articles(3, W24)).close()
        base = ["--config", str(tmp_path / "config.toml")]
        dry = CliRunner().invoke(cli, [*base, "digest", "send", "--week", "2024-W24",
                                       "--dry-run"])
        assert dry.exit_code == 0, dry.output
        assert "would send 2 message(s); -v lists the addresses" in dry.output
        assert "readers.txt:3: not an email address, skipped" in dry.output
        sent = CliRunner().invoke(cli, [*base, "digest", "send", "--week", "2024-W24"])
        assert sent.exit_code == 0, sent.output
        for result in (dry, sent):
            assert "@" not in result.output, result.output
