"""Approval before sending (issue 13): with ``[digest] require_approval = true`` a due digest
waits ("waiting for approval", exit 0) until ``feedkit digest approve`` approves its week; the
approval lives in the store and in the committed text (``export/import --editorial``), so a CI
workflow that rebuilds its store from text every run sees an approval given elsewhere.

Through the CLI, against a real aiosmtpd server on 127.0.0.1, on SQLite and PostgreSQL (the
`backend` fixture); the store read back with sqlite3 or psycopg (``Site.rows``).
"""

from __future__ import annotations

import json

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


def approval_site(root, port: int, backend=None, *, require: bool = True,
                  load: bool = True) -> Site:
    """A site on ``backend`` (default: its SQLite file) sending to READERS."""
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
    if backend is not None:
        site.use(backend)
    if load:
        site.run("import")
    return site


def approvals(site: Site) -> list[tuple]:
    """Read with sqlite3 or psycopg (``Site.rows``), whichever backend the site is on."""
    return site.rows("SELECT week, approved FROM digest_approvals ORDER BY week")


def sent_count(site: Site, week: str = WEEK) -> int:
    return site.scalar("SELECT count(*) FROM send_log WHERE week = ? AND status = 'sent'", week)


def test_a_due_digest_waits_for_approval_then_goes_to_everyone(tmp_path, backend):
    with smtp_server() as (smtp, port):
        site = approval_site(tmp_path, port, backend)
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
        assert "approved; the next 'feedkit digest send' (the next scheduled run) sends it\n" \
            in approved.output
        assert approvals(site) == [(WEEK, 1)]

        sent = site.run("digest", "send", "--now", DUE)
        assert sent.exit_code == 0, sent.output
        assert sorted(r for got in smtp.received for r in got.rcpt) == sorted(READERS)
        assert sent_count(site) == 3


def test_an_approval_is_for_its_week_only_and_can_be_revoked(tmp_path, backend):
    with smtp_server() as (smtp, port):
        site = approval_site(tmp_path, port, backend)
        older = site.run("digest", "approve", "--week", "2024-W50", "--now", DUE)
        assert "send it with 'feedkit digest send --week 2024-W50'" in older.output
        ahead = site.run("digest", "approve", "--week", "2024-W52", "--now", DUE)
        assert "once due (2024-12-30 08:00, Asia/Seoul)" in ahead.output
        assert "waiting for approval" in site.run("digest", "send", "--now", DUE).output
        site.run("digest", "approve", "--week", WEEK)
        again = site.run("digest", "approve", "--week", WEEK)
        assert "already approved" in again.output
        revoked = site.run("digest", "approve", "--week", WEEK, "--revoke")
        assert "revoked" in revoked.output
        assert approvals(site) == [("2024-W50", 1), (WEEK, 0), ("2024-W52", 1)]
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


def test_a_test_send_does_not_need_the_approval(tmp_path, backend):
    with smtp_server() as (smtp, port):
        site = approval_site(tmp_path, port, backend)
        result = site.run("digest", "send", "--to", "editor@city.example.kr", "--now", DUE)
        assert result.exit_code == 0, result.output
        assert [got.rcpt for got in smtp.received] == [["editor@city.example.kr"]]
        assert approvals(site) == [] and sent_count(site) == 0


def test_the_approval_travels_as_text_to_a_store_rebuilt_from_it(tmp_path, backend):
    """The CI workflow's cycle: an editor approves in their store (on either backend) and
    exports; the workflow rebuilds a fresh store (a file) from the committed files and sends."""
    with smtp_server() as (smtp, port):
        editor = approval_site(tmp_path / "editor", port, backend)
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


def test_export_import_export_of_decisions_is_byte_identical(tmp_path, backend):
    """Decided on either backend, exported, imported into a file store and exported again."""
    site = Site(tmp_path / "a")
    site.use(backend)
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


def test_importing_an_older_file_keeps_the_newer_decision(tmp_path, backend):
    site = Site(tmp_path)
    site.use(backend)
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
def test_a_bad_editorial_file_is_refused_by_line_and_nothing_is_imported(tmp_path, backend,
                                                                          line, why):
    site = Site(tmp_path)
    site.use(backend)
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


# -- the scaffolded CI workflow --------------------------------------------------------------------


@pytest.mark.slow
def test_the_workflow_waits_then_a_manual_run_with_approve_sends(tmp_path):
    """The scaffolded workflow, run step by step as GitHub would (tests/test_site_workflow.py):
    a scheduled run finds the digest due but waiting; "Run workflow" with approve = the week
    approves and sends; the approval is committed; the next scheduled run sends nothing more."""
    import subprocess

    from loopback_server import Board, board_source, serve
    from loopback_server import Site as LoopbackSite
    from test_site_workflow import (
        FEEDKIT_BIN,
        FILE_RECIPIENT,
        RECIPIENTS,
        SECRET_LIST,
        SEND_LOG_KEY,
        SITE_HEAD,
        git,
        run_workflow,
    )

    web = LoopbackSite()
    with serve(web), smtp_server() as (smtp, port):
        board = Board(web, count=6, per_page=5)         # articles of 2025-W01
        web.page("/down/feed.xml", "maintenance", status=503)
        remote = tmp_path / "remote.git"
        subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(remote)], check=True)
        site = tmp_path / "site"
        private = tmp_path / "private" / "readers.txt"
        private.parent.mkdir()
        private.write_text(f"{FILE_RECIPIENT}\n", encoding="utf-8")
        init = subprocess.run([FEEDKIT_BIN / "feedkit", "init", str(site)], capture_output=True,
                              text=True)
        assert init.returncode == 0, init.stderr
        selectors = "\n".join(f'{k} = "{v}"' for k, v in board_source(board)["selectors"].items())
        head = SITE_HEAD.replace('unsubscribe = "mailto:leave@example.org"\n',
                                 'unsubscribe = "mailto:leave@example.org"\n'
                                 "require_approval = true\n")
        assert "require_approval" in head
        (site / "config.toml").write_text(head.format(
            port=port, down=web.url("/down/feed.xml"), board=board.list_url,
            selectors=selectors, private=private.as_posix()), encoding="utf-8")
        git("init", "-q", "-b", "main", cwd=site)
        git("add", "-A", cwd=site)
        git("-c", "user.name=t", "-c", "user.email=t@example.org", "commit", "-q", "-m", "site",
            cwd=site)
        git("remote", "add", "origin", str(remote), cwd=site)
        git("push", "-q", "-u", "origin", "main", cwd=site)
        secrets = {"FEEDKIT_SECRET": SEND_LOG_KEY, "FEEDKIT_RECIPIENTS": SECRET_LIST,
                   "FEEDKIT_SMTP_PASSWORD": ""}

        def run(now: str, inputs: dict[str, str] | None = None) -> dict:
            checkout = tmp_path / f"run-{now[-5:].replace(':', '')}"
            git("clone", "-q", str(remote), str(checkout), cwd=tmp_path)
            steps = run_workflow(checkout, secrets, now, tmp_path, inputs)
            for s in steps:
                assert s.code == 0, f"{now} {s.name} exited {s.code}:\n{s.stdout}\n{s.stderr}"
            return {s.name: s for s in steps}

        scheduled = run("2025-01-06 09:17")
        assert not scheduled['Approve a digest (Run workflow with "approve")'].ran
        send = scheduled["Send the weekly digest once it is due"]
        assert "2025-W01: waiting for approval" in send.stdout
        assert smtp.received == []

        manual = run("2025-01-06 09:40", {"approve": "2025-W01"})
        approve = manual['Approve a digest (Run workflow with "approve")']
        assert approve.ran and "2025-W01" in approve.stdout and "approved" in approve.stdout
        assert sorted(r.lower() for got in smtp.received for r in got.rcpt) == sorted(
            r.lower() for r in [*RECIPIENTS, FILE_RECIPIENT])

        later = run("2025-01-06 10:17")
        assert "0 sent, 4 already sent" in later["Send the weekly digest once it is due"].stdout
        assert len(smtp.received) == 4

    committed = git("show", "main:data/editorial.jsonl", cwd=remote)
    record = json.loads(committed)
    assert (record["week"], record["kind"], record["approved"]) == ("2025-W01", "approval", True)


def test_set_approval_returns_the_decision_it_recorded(tmp_path) -> None:
    """The library call gives back what it wrote: the week, the decision and its time in UTC."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from feedkit.editorial.decisions import Approval, approval, set_approval
    from feedkit.store.articles import Store

    with Store(tmp_path / "store.db") as store:
        at = datetime(2024, 12, 23, 7, 0, tzinfo=ZoneInfo("Asia/Seoul"))
        made = set_approval(store, WEEK, False, at)
        assert made == Approval(WEEK, False, "2024-12-22T22:00:00+00:00") == approval(store, WEEK)
