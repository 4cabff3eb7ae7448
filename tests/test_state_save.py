"""The store kept as text survives a push that lands during a CI run (issue 22, item 1).

First the merge rules on the text files themselves (feedkit.site.textstate.merge_text), then
``feedkit state save`` against a real local bare git repository: a commit pushed by someone
else while the run worked is merged in and kept, the run's "sent" rows are never lost, and a
remote that refuses every push makes the command fail loudly, saying what to do and printing
the rows not saved. The whole scheduled workflow with a push landing between its send and save
steps is in tests/test_site_workflow.py.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from feedkit.site.textstate import merge_text

FEEDKIT = Path(sys.executable).parent / "feedkit"


def _lines(*records: dict) -> str:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)


def _row(week: str, who: str, status: str, at: str, attempts: int = 1) -> dict:
    return {"week": week, "recipient": f"hmac-sha256:{who * 64}"[:76], "message_id": f"<{who}>",
            "status": status, "attempts": attempts, "error": "", "updated_at": at}


def _parse(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines()]


# -- the rules -----------------------------------------------------------------------------


def test_the_send_log_is_a_union_and_sent_always_wins() -> None:
    base = _lines(_row("2025-W01", "a", "sent", "2025-01-06T00:10:00+00:00"))
    ours = _lines(_row("2025-W01", "a", "sent", "2025-01-06T00:10:00+00:00"),
                  _row("2025-W01", "b", "sent", "2025-01-06T00:20:00+00:00"),
                  _row("2025-W01", "c", "failed", "2025-01-06T00:20:00+00:00"),
                  _row("2025-W01", "d", "deferred", "2025-01-06T00:25:00+00:00"))
    # The remote: another sender got c through, saw d fail later, and knows e; it dropped a.
    theirs = _lines(_row("2025-W01", "c", "sent", "2025-01-06T00:15:00+00:00"),
                    _row("2025-W01", "d", "failed", "2025-01-06T00:30:00+00:00"),
                    _row("2025-W01", "e", "sent", "2025-01-06T00:05:00+00:00"))
    merged = {r["recipient"][12]: r for r in _parse(merge_text("send-log", base, ours, theirs))}
    assert {k: r["status"] for k, r in merged.items()} == {
        "a": "sent", "b": "sent", "c": "sent", "d": "failed", "e": "sent"}
    assert merged["d"]["updated_at"] == "2025-01-06T00:30:00+00:00"   # the newer row
    # ... in export order, byte for byte a line of either side.
    text = merge_text("send-log", base, ours, theirs)
    assert [r["recipient"] for r in _parse(text)] == sorted(r["recipient"] for r in merged.values())
    assert set(text.splitlines()) <= set(ours.splitlines()) | set(theirs.splitlines())


def test_an_editorial_decision_is_newest_wins() -> None:
    approval = {"week": "2025-W02", "kind": "approval", "approved": True,
                "changed_at": "2025-01-13T00:00:00+00:00"}
    revoked = {**approval, "approved": False, "changed_at": "2025-01-13T01:00:00+00:00"}
    note = {"week": "2025-W02", "kind": "note", "markdown": "안내", "changed_at":
            "2025-01-12T00:00:00+00:00"}
    merged = _parse(merge_text("editorial", "", _lines(revoked), _lines(approval, note)))
    assert merged == [revoked, note]           # approval before note, newer decision kept
    assert _parse(merge_text("editorial", "", _lines(approval), _lines(revoked))) == [revoked]


def _article(i: int, title: str, withdrawn: bool = False) -> dict:
    record = {"id": f"https://www.example.go.kr/news/{i}", "url":
              f"https://www.example.go.kr/news/{i}", "title": title,
              "published": "2025-01-02T10:00:00+09:00"}
    if withdrawn:
        record["withdrawn"] = {"at": "2025-01-06T01:00:00+00:00", "reason": "정정"}
    return record


def test_articles_merge_three_way_and_a_withdrawal_is_never_undone() -> None:
    base = _lines(_article(1, "하나"), _article(2, "둘"), _article(3, "셋"), _article(4, "넷"))
    # The run fetched new versions of 1 and 2 and a new article 5.
    ours = _lines(_article(1, "하나 (수정)"), _article(2, "둘 (수정)"), _article(3, "셋"),
                  _article(4, "넷"), _article(5, "다섯"))
    # Meanwhile an editor withdrew 2 and 3 and removed 4.
    theirs = _lines(_article(1, "하나"), _article(2, "둘", withdrawn=True),
                    _article(3, "셋", withdrawn=True))
    merged = {r["id"][-1]: r for r in _parse(merge_text("articles", base, ours, theirs))}
    assert merged["1"]["title"] == "하나 (수정)"        # only the run changed it
    assert merged["2"].get("withdrawn")                 # both changed: the withdrawal wins
    assert merged["3"].get("withdrawn")                 # only the editor changed it
    assert "4" not in merged                            # only the editor removed it
    assert merged["5"]["title"] == "다섯"               # only the run added it


def test_streaks_and_the_unsubscribe_list_merge_three_way() -> None:
    def streak(source: str, runs: int) -> dict:
        return {"error": "HTTP 503", "runs": runs, "since": "2025-01-06T00:17+00:00",
                "source": source}

    merged = _parse(merge_text("state", _lines(streak("a", 1), streak("b", 1)),
                               _lines(streak("a", 2)), _lines(streak("a", 1), streak("b", 1),
                                                              streak("c", 4))))
    assert merged == [streak("a", 2), streak("c", 4)]   # b: the run cleared it; c: theirs
    key = "hmac-sha256:" + "1" * 64
    other = "hmac-sha256:" + "2" * 64
    left = {"recipient": key, "at": "2025-01-06T00:00:00+00:00", "via": "mailto"}
    gone = {**left, "recipient": other}
    assert _parse(merge_text("unsubscribed", "", _lines(left), _lines(gone))) == [left, gone]


def test_a_broken_line_on_the_remote_is_named() -> None:
    from feedkit.errors import FeedkitError

    with pytest.raises(FeedkitError, match=r"data/send-log.jsonl \(the remote's\):2: not a "
                                           r"record feedkit wrote"):
        merge_text("send-log", "", "", _lines(_row("2025-W01", "a", "sent", "x")) + "{oops\n",
                   "data/send-log.jsonl")


# -- feedkit state save against a real bare repository ---------------------------------------


def git(*args: str, cwd: Path) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True,
                          env={**os.environ, "GIT_CONFIG_NOSYSTEM": "1"}).stdout


def _identity(repo: Path) -> None:
    git("config", "user.name", "t", cwd=repo)
    git("config", "user.email", "t@example.org", cwd=repo)


SITE = """[site]
title = "보령시 새소식"
url = "https://www.brcn.go.kr/"
feed_url = "https://example.github.io/boryeong-news/"
"""
FILES = ["--out", "data/store.jsonl", "--send-log", "data/send-log.jsonl", "--state",
         "data/state.jsonl", "--editorial", "data/editorial.jsonl", "--unsubscribed",
         "data/unsubscribed.jsonl"]


@pytest.fixture
def repos(tmp_path: Path):
    """A bare remote with a site, and two clones of it: the run's and the editor's."""
    remote = tmp_path / "remote.git"
    git("init", "-q", "--bare", "-b", "main", str(remote), cwd=tmp_path)
    seed = tmp_path / "seed"
    (seed / "data").mkdir(parents=True)
    (seed / "config.toml").write_text(SITE, encoding="utf-8")
    (seed / ".gitignore").write_text("articles.db*\n", encoding="utf-8")
    for name in ("store", "send-log", "state", "editorial", "unsubscribed"):
        (seed / "data" / f"{name}.jsonl").write_text("", encoding="utf-8")
    git("init", "-q", "-b", "main", cwd=seed)
    _identity(seed)
    git("add", "-A", cwd=seed)
    git("commit", "-q", "-m", "site", cwd=seed)
    git("remote", "add", "origin", str(remote), cwd=seed)
    git("push", "-q", "-u", "origin", "main", cwd=seed)
    clones = []
    for name in ("run", "editor"):
        git("clone", "-q", str(remote), name, cwd=tmp_path)
        _identity(tmp_path / name)
        clones.append(tmp_path / name)
    return remote, *clones


def feedkit(*args: str, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([str(FEEDKIT), *args], cwd=cwd, capture_output=True, text=True,
                          env={**os.environ, "FEEDKIT_SECRET": "s" * 32, "FEEDKIT_NO_CACHE": "1",
                               "GIT_CONFIG_NOSYSTEM": "1", **(env or {})}, timeout=120)


def _sent_in_store(run: Path, readers: list[str]) -> None:
    """The run's store: an article, and these readers marked sent for 2025-W01 (what a real
    send leaves; sending itself is tested elsewhere)."""
    import sqlite3

    from feedkit.privacy import recipient_key

    (run / "news.jsonl").write_text(json.dumps(_article(1, "새해 첫 소식")) + "\n",
                                    encoding="utf-8")
    assert feedkit("import", "news.jsonl", cwd=run).returncode == 0
    db = sqlite3.connect(run / "articles.db")
    secret = b"s" * 32
    with db:
        for r in readers:
            db.execute("INSERT INTO send_log VALUES ('2025-W01', ?, '<m>', 'sent', 1, '', "
                       "'2025-01-06T00:17:00+00:00')", (recipient_key(r, secret),))
    db.close()


def test_a_push_during_the_run_is_merged_in_and_nothing_is_lost(repos) -> None:
    remote, run, editor = repos
    _sent_in_store(run, ["kim@example.com", "lee@example.org"])
    # While the run works, the editor approves next week and edits the config.
    (editor / "data" / "editorial.jsonl").write_text(_lines(
        {"week": "2025-W02", "kind": "approval", "approved": True,
         "changed_at": "2025-01-06T00:30:00+00:00"}), encoding="utf-8")
    (editor / "config.toml").write_text(SITE + '\n[feeds]\nlimit = 30\n', encoding="utf-8")
    git("commit", "-qam", "approve 2025-W02", cwd=editor)
    git("push", "-q", cwd=editor)

    done = feedkit("state", "save", *FILES, "--retry-delay", "0", cwd=run)
    assert done.returncode == 0, done.stderr
    assert "saved and pushed" in done.stdout and "after merging 1 newer remote commit" in \
        done.stdout
    log = git("log", "--format=%s", "main", cwd=remote).splitlines()
    assert log == ["feedkit: update store", "approve 2025-W02", "site"]   # linear, nothing lost
    files = git("show", "--name-only", "--format=", "main", cwd=remote).split()
    assert sorted(files) == ["data/send-log.jsonl", "data/store.jsonl"]
    sent = git("show", "main:data/send-log.jsonl", cwd=remote)
    assert sent.count('"status": "sent"') == 2
    assert '"week": "2025-W02"' in git("show", "main:data/editorial.jsonl", cwd=remote)
    assert "limit = 30" in git("show", "main:config.toml", cwd=remote)
    assert "새해 첫 소식" in git("show", "main:data/store.jsonl", cwd=remote)
    # Run again with nothing new: nothing to commit.
    again = feedkit("state", "save", *FILES, cwd=run)
    assert again.returncode == 0 and "nothing to save" in again.stdout, again.stdout


def test_a_remote_that_refuses_every_push_fails_loudly_with_the_rows_at_risk(repos) -> None:
    remote, run, _editor = repos
    hook = remote / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\necho 'protected branch: pushes need a review' >&2\nexit 1\n")
    hook.chmod(0o755)
    _sent_in_store(run, ["kim@example.com"])
    done = feedkit("state", "save", *FILES, "--attempts", "3", "--retry-delay", "0", cwd=run)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "could not save the store to origin/main after 1 push(es)" in done.stderr
    assert "protected branch: pushes need a review" in done.stderr
    assert "1 reader(s) this run sent to are not in the committed send log" in done.stderr
    assert "Disable workflow" in done.stderr
    printed = done.stdout.splitlines()
    assert printed[0].startswith("send-log lines not saved")
    [row] = [json.loads(line) for line in printed[1:]]
    assert row["status"] == "sent" and row["recipient"].startswith("hmac-sha256:")
    assert "kim@" not in done.stdout + done.stderr
    assert git("log", "--format=%s", "main", cwd=remote).splitlines() == ["site"]
