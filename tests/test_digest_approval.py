"""Approval before sending (issue 13): with ``[digest] require_approval = true`` a due digest
waits ("waiting for approval", exit 0) until ``feedkit digest approve`` approves its week; the
approval lives in the store and in the committed text (``export/import --editorial``), so a CI
workflow that rebuilds its store from text every run sees an approval given elsewhere.

Through the CLI, against a real aiosmtpd server on 127.0.0.1; the store read back with sqlite3.
"""

from __future__ import annotations

import json
import sqlite3

import pytest
from _digest_support import smtp_server
from conftest import Site

WEEK = "2024-W51"            # the sample's last week with news (data/boryeong.jsonl)
DUE = "2024-12-23 09:00"     # the Monday after it, past the default send time (08:00)
READERS = ["kim@example.com", "lee@example.org", "park@example.net"]


@pytest.fixture(autouse=True)
def _secrets(monkeypatch):
    monkeypatch.setenv("FEEDKIT_SECRET", "approval-test-secret-0123456789")
    monkeypatch.delenv("FEEDKIT_NOW", raising=False)


def approval_site(root, port: int, *, require: bool = True, load: bool = True) -> Site:
    site = Site(root, extra=f"""
[digest]
from = "보령시 소식 <news@example.org>"
to = {json.dumps(READERS)}
require_approval = {"true" if require else "false"}

[smtp]
host = "127.0.0.1"
port = {port}
tls = "none"
retry_delay = 0.01
timeout = 5.0
""")
    if load:
        site.run("import")
    return site


def approvals(site: Site) -> list[tuple]:
    with sqlite3.connect(site.db) as db:
        return db.execute("SELECT week, approved FROM digest_approvals ORDER BY week").fetchall()


def sent_count(site: Site, week: str = WEEK) -> int:
    with sqlite3.connect(site.db) as db:
        return db.execute("SELECT count(*) FROM send_log WHERE week = ? AND status = 'sent'",
                          (week,)).fetchone()[0]


def test_a_due_digest_waits_for_approval_then_goes_to_everyone(tmp_path):
    with smtp_server() as (smtp, port):
        site = approval_site(tmp_path, port)
        waiting = site.run("digest", "send", "--now", DUE)
        assert waiting.exit_code == 0
        assert f"{WEEK}: waiting for approval" in waiting.output
        assert f"feedkit digest approve --week {WEEK}" in waiting.output
        assert smtp.received == [] and sent_count(site) == 0
        # An explicit --week waits just the same: approval is about the week, not the schedule.
        assert "waiting for approval" in site.run("digest", "send", "--week", WEEK).output
        assert smtp.received == []

        approved = site.run("digest", "approve", "--now", DUE)   # default: the week due
        assert f"{WEEK}" in approved.output and "approved" in approved.output
        assert approvals(site) == [(WEEK, 1)]

        sent = site.run("digest", "send", "--now", DUE)
        assert sent.exit_code == 0, sent.output
        assert sorted(r for got in smtp.received for r in got.rcpt) == sorted(READERS)
        assert sent_count(site) == 3


def test_an_approval_is_for_its_week_only_and_can_be_revoked(tmp_path):
    with smtp_server() as (smtp, port):
        site = approval_site(tmp_path, port)
        site.run("digest", "approve", "--week", "2024-W50")
        assert "waiting for approval" in site.run("digest", "send", "--now", DUE).output
        site.run("digest", "approve", "--week", WEEK)
        again = site.run("digest", "approve", "--week", WEEK)
        assert "already approved" in again.output
        revoked = site.run("digest", "approve", "--week", WEEK, "--revoke")
        assert "revoked" in revoked.output
        assert approvals(site) == [("2024-W50", 1), (WEEK, 0)]
        assert "waiting for approval" in site.run("digest", "send", "--now", DUE).output
        assert smtp.received == []


def test_a_dry_run_says_it_would_wait_and_who_would_get_it(tmp_path):
    with smtp_server() as (smtp, port):
        site = approval_site(tmp_path, port)
        dry = site.run("digest", "send", "--now", DUE, "--dry-run")
        assert dry.exit_code == 0
        assert "waiting for approval" in dry.output
        assert "would send to 3 of 3" in dry.output
        assert smtp.received == []


def test_without_require_approval_nothing_waits(tmp_path):
    with smtp_server() as (smtp, port):
        site = approval_site(tmp_path, port, require=False)
        result = site.run("digest", "send", "--now", DUE)
        assert "waiting" not in result.output
        assert len(smtp.received) == 3
        # Approving is harmless, and says that it changes nothing here.
        note = site.run("digest", "approve", "--week", WEEK)
        assert "require_approval" in note.output


def test_a_test_send_does_not_need_the_approval(tmp_path, monkeypatch):
    with smtp_server() as (smtp, port):
        site = approval_site(tmp_path, port)
        result = site.run("digest", "send", "--to", "editor@city.example.kr", "--now", DUE)
        assert result.exit_code == 0, result.output
        assert [got.rcpt for got in smtp.received] == [["editor@city.example.kr"]]
        assert approvals(site) == [] and sent_count(site) == 0


def test_the_approval_travels_as_text_to_a_store_rebuilt_from_it(tmp_path):
    """The CI workflow's cycle: an editor approves in their store and exports; the workflow
    rebuilds a fresh store from the committed files and sends."""
    with smtp_server() as (smtp, port):
        editor = approval_site(tmp_path / "editor", port)
        editor.run("digest", "approve", "--week", WEEK)
        editor.run("digest", "note", "--week", WEEK, "이번 주 **소식**입니다.")
        editorial = tmp_path / "editorial.jsonl"
        editor.run("export", "--out", str(tmp_path / "store.jsonl"),
                   "--editorial", str(editorial))
        lines = [json.loads(line) for line in editorial.read_text("utf-8").splitlines()]
        assert [(r["week"], r["kind"]) for r in lines] == [(WEEK, "approval"), (WEEK, "note")]
        assert lines[0]["approved"] is True
        assert lines[1]["markdown"] == "이번 주 **소식**입니다."

        ci = approval_site(tmp_path / "ci", port, load=False)
        ci.run("import", "--editorial", str(editorial), str(tmp_path / "store.jsonl"))
        assert approvals(ci) == [(WEEK, 1)]
        result = ci.run("digest", "send", "--now", DUE)
        assert result.exit_code == 0, result.output
        assert len(smtp.received) == 3
        # ... and the note is at the top of what they got.
        html = next(p for p in smtp.received[0].message.walk()
                    if p.get_content_type() == "text/html").get_content()
        assert "이번 주 <strong>소식</strong>입니다." in html


def test_export_import_export_of_decisions_is_byte_identical(tmp_path):
    site = Site(tmp_path / "a")
    site.run("import")
    site.run("digest", "approve", "--week", "2024-W49")
    site.run("digest", "approve", "--week", "2024-W50")
    site.run("digest", "approve", "--week", "2024-W50", "--revoke")
    site.run("digest", "note", "--week", WEEK, "첫 줄\n둘째 줄 [링크](https://www.brcn.go.kr/)")
    site.run("digest", "note", "--week", "2024-W48", "지울 메모")
    site.run("digest", "note", "--week", "2024-W48", "--clear")
    first = tmp_path / "first.jsonl"
    site.run("export", "--out", str(tmp_path / "store.jsonl"), "--editorial", str(first))

    other = Site(tmp_path / "b")
    other.run("import", "--editorial", str(first), str(tmp_path / "store.jsonl"))
    second = tmp_path / "second.jsonl"
    other.run("export", "--out", str(tmp_path / "store2.jsonl"), "--editorial", str(second))
    assert second.read_bytes() == first.read_bytes()
    assert (tmp_path / "store2.jsonl").read_bytes() == (tmp_path / "store.jsonl").read_bytes()
    kinds = [(r["week"], r["kind"]) for r in map(json.loads, first.read_text().splitlines())]
    # Revocations and cleared notes are kept, so they win over an older copy on import.
    assert kinds == [("2024-W48", "note"), ("2024-W49", "approval"), ("2024-W50", "approval"),
                     (WEEK, "note")]


def test_importing_an_older_file_keeps_the_newer_decision(tmp_path):
    site = Site(tmp_path)
    site.run("import")
    site.run("digest", "approve", "--week", WEEK, "--now", "2024-12-23 07:00")
    old = tmp_path / "old.jsonl"
    site.run("export", "--out", str(tmp_path / "s.jsonl"), "--editorial", str(old))
    site.run("digest", "approve", "--week", WEEK, "--revoke", "--now", "2024-12-23 07:30")
    site.run("import", "--editorial", str(old), str(tmp_path / "s.jsonl"))
    assert approvals(site) == [(WEEK, 0)]   # the revocation is newer than the file's approval
    # ... and a newer approval in a file wins over an older revocation.
    newer = tmp_path / "newer.jsonl"
    newer.write_text(json.dumps({"week": WEEK, "kind": "approval", "approved": True,
                                 "changed_at": "2024-12-23T00:00:00+00:00"}) + "\n", "utf-8")
    site.run("import", "--editorial", str(newer), str(tmp_path / "s.jsonl"))
    assert approvals(site) == [(WEEK, 1)]


@pytest.mark.parametrize("line, why", [
    ('{"week": "2024-W60", "kind": "approval", "approved": true, '
     '"changed_at": "2024-12-23T00:00:00+00:00"}', "week"),
    ('{"week": "2024-W51", "kind": "approval", "approved": "yes", '
     '"changed_at": "2024-12-23T00:00:00+00:00"}', "approved"),
    ('{"week": "2024-W51", "kind": "approval", "approved": true, '
     '"changed_at": "yesterday"}', "changed_at"),
    ('{"week": "2024-W51", "kind": "vote", "approved": true, '
     '"changed_at": "2024-12-23T00:00:00+00:00"}', "kind"),
    ('not json', "not an editorial record"),
])
def test_a_bad_editorial_file_is_refused_by_line_and_nothing_is_imported(tmp_path, line, why):
    site = Site(tmp_path)
    good = json.dumps({"week": "2024-W50", "kind": "approval", "approved": True,
                       "changed_at": "2024-12-23T00:00:00+00:00"})
    path = tmp_path / "editorial.jsonl"
    path.write_text(f"{good}\n{line}\n", "utf-8")
    result = site.run("import", "--editorial", str(path), ok=False)
    assert result.exit_code == 1
    assert f"{path}:2: " in result.output and why in result.output
    assert "Traceback" not in result.output
    assert approvals(site) == []


def test_approve_refuses_a_bad_week(tmp_path):
    site = Site(tmp_path)
    result = site.run("digest", "approve", "--week", "2024-W60", ok=False)
    assert result.exit_code == 2 and "2024 has no ISO week 60" in result.output
