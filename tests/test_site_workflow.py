"""A new city's site, run by its scaffolded workflow as CI would: the "Done when" of issue 8.

`feedkit init` makes the site; it is pushed to a bare git remote. Each "CI run" is a fresh clone
in which the workflow's `run:` steps are executed in order with bash, as GitHub runs them
(`bash -eo pipefail`, secrets as environment variables, `if:` conditions honoured; the install
step and the `uses:` actions aside). The sources are on loopback: one board that works, one feed
that is down. SMTP is aiosmtpd on loopback. Three hourly runs on a Monday: 07:17 (digest not due
yet), 09:17 (the 08:17 run was dropped: catch up and send), 10:17 (nothing more to send).
Recipients come from the FEEDKIT_RECIPIENTS secret and from a private file outside the repository.
Afterwards no recipient address is anywhere in what was pushed.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import feedparser
import pytest
import yaml
from _digest_support import smtp_server
from loopback_server import Board, Site, board_source, serve

RECIPIENTS = ["kim.reader@example.com", "Lee.Reader@Example.org", "park.reader@example.net"]
FILE_RECIPIENT = "choi.reader@example.kr"   # from a private file outside the repository
SECRET_LIST = f"{RECIPIENTS[0]}\n이영희 <{RECIPIENTS[1]}>\n{RECIPIENTS[2]}\n"
SEND_LOG_KEY = "k" * 40
FEEDKIT_BIN = Path(sys.executable).parent


@dataclass
class StepResult:
    name: str
    ran: bool
    code: int = 0
    stdout: str = ""
    stderr: str = ""


def load_workflow(site: Path) -> dict:
    data = yaml.safe_load((site / ".github" / "workflows" / "feedkit.yml").read_text("utf-8"))
    data["on"] = data.get("on", data.pop(True, None))
    return data


def condition(expr: str | None, results: dict[str, StepResult], failed: bool,
              inputs: dict[str, str] | None = None) -> bool:
    """The `if:` expressions the scaffold uses, evaluated as GitHub would (an unknown one fails
    the test, so a changed workflow cannot slip past it). ``inputs``: the workflow_dispatch
    inputs of a manual run (a scheduled run has none: every input is '')."""
    if expr is None:
        return not failed                       # success(): every earlier step succeeded
    if expr == "${{ !cancelled() && steps.restore.outcome == 'success' }}":
        restore = results.get("restore")
        return restore is not None and restore.ran and restore.code == 0
    if expr == "${{ inputs.approve != '' }}":   # and, implicitly, success()
        return not failed and (inputs or {}).get("approve", "") != ""
    raise AssertionError(f"the test does not know the workflow condition {expr!r}")


def secret(text: str, secrets: dict[str, str], inputs: dict[str, str] | None = None) -> str:
    for name, value in secrets.items():
        text = text.replace("${{ secrets.%s }}" % name, value)  # noqa: UP031
    text = text.replace("${{ inputs.approve }}", (inputs or {}).get("approve", ""))
    assert "${{" not in text, f"unknown expression in {text!r}"
    return text


def run_workflow(checkout: Path, secrets: dict[str, str], now: str, tmp: Path,
                 inputs: dict[str, str] | None = None) -> list[StepResult]:
    job = load_workflow(checkout)["jobs"]["update"]
    output = tmp / f"github-output-{now[-5:].replace(':', '')}"
    output.write_text("", encoding="utf-8")
    base_env = {**os.environ, "PATH": f"{FEEDKIT_BIN}{os.pathsep}{os.environ['PATH']}",
                "GITHUB_ACTIONS": "true", "GITHUB_OUTPUT": str(output), "FEEDKIT_NOW": now,
                "GIT_CONFIG_NOSYSTEM": "1", "HOME": str(tmp)}
    for name in ("FEEDKIT_CONFIG", "FEEDKIT_SECRET", "FEEDKIT_RECIPIENTS"):
        base_env.pop(name, None)
    results: dict[str, StepResult] = {}
    ordered: list[StepResult] = []
    failed = False
    for index, step in enumerate(job["steps"]):
        name = step.get("name") or step.get("uses", f"step {index}")
        key = step.get("id", name)
        if "uses" in step:
            # checkout and setup-python are what this folder and this interpreter already are;
            # upload-pages-artifact publishes public/, which must be there.
            ok = condition(step.get("if"), results, failed)
            if ok and "upload-pages-artifact" in step["uses"]:
                assert (checkout / step["with"]["path"] / "index.html").is_file()
            result = StepResult(name, ok)
        elif step["run"].startswith("pip install"):
            result = StepResult(name, False)     # installs aside: feedkit is installed here
        elif not condition(step.get("if"), results, failed, inputs):
            result = StepResult(name, False)
        else:
            env = {**base_env, **{k: secret(str(v), secrets, inputs)
                                  for k, v in (step.get("env") or {}).items()}}
            proc = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c",
                                   step["run"]], cwd=checkout, env=env, capture_output=True,
                                  text=True, timeout=120)
            result = StepResult(name, True, proc.returncode, proc.stdout, proc.stderr)
            failed = failed or proc.returncode != 0
        results[key] = result
        ordered.append(result)
    return ordered


def git(*args: str, cwd: Path) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True,
                          text=True, env={**os.environ, "GIT_CONFIG_NOSYSTEM": "1"}).stdout


SITE_HEAD = """\
[site]
title = "보령시 새소식"
url = "https://www.brcn.go.kr/"
feed_url = "https://example.github.io/boryeong-news/"

[fetch]
delay = 0
timeout = 2
retries = 0

[digest]
from = "보령시 소식 <news@example.org>"
recipients_env = "FEEDKIT_RECIPIENTS"
recipients_file = "{private}"
unsubscribe = "mailto:leave@example.org"

[smtp]
host = "127.0.0.1"
port = {port}
tls = "none"
timeout = 5
retry_delay = 0.01

[[sources]]
kind = "feed"
name = "소식지"
url = "{down}"

[[sources]]
kind = "html"
name = "보도자료"
url = "{board}"
page_param = "pageIndex"

[sources.selectors]
{selectors}
"""


@pytest.fixture
def loopback():
    s = Site()
    with serve(s):
        yield s


@pytest.mark.slow
def test_a_new_city_goes_live_with_the_scaffolded_workflow(tmp_path: Path, loopback) -> None:
    board = Board(loopback, count=6, per_page=5)   # articles of 2025-01-01 .. 02 (2025-W01)
    loopback.page("/down/feed.xml", "maintenance", status=503)
    remote = tmp_path / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(remote)], check=True)

    with smtp_server() as (server, port):
        # 1. The team scaffolds the site, edits config.toml, pushes to an empty repository.
        site = tmp_path / "site"
        private = tmp_path / "private" / "readers.txt"
        private.parent.mkdir()
        private.write_text(f"# the city's own list\n{FILE_RECIPIENT}\n", encoding="utf-8")
        init = subprocess.run([FEEDKIT_BIN / "feedkit", "init", str(site)], capture_output=True,
                              text=True)
        assert init.returncode == 0, init.stderr
        selectors = "\n".join(f'{k} = "{v}"' for k, v in board_source(board)["selectors"].items())
        (site / "config.toml").write_text(SITE_HEAD.format(
            port=port, down=loopback.url("/down/feed.xml"), board=board.list_url,
            selectors=selectors, private=private.as_posix()), encoding="utf-8")
        git("init", "-q", "-b", "main", cwd=site)
        git("add", "-A", cwd=site)
        git("-c", "user.name=t", "-c", "user.email=t@example.org", "commit", "-q", "-m", "site",
            cwd=site)
        git("remote", "add", "origin", str(remote), cwd=site)
        git("push", "-q", "-u", "origin", "main", cwd=site)

        secrets = {"FEEDKIT_SECRET": SEND_LOG_KEY, "FEEDKIT_RECIPIENTS": SECRET_LIST,
                   "FEEDKIT_SMTP_PASSWORD": ""}
        runs = {}
        for now in ("2025-01-06 07:17", "2025-01-06 09:17", "2025-01-06 10:17"):
            checkout = tmp_path / f"run-{now[-5:].replace(':', '')}"
            git("clone", "-q", str(remote), str(checkout), cwd=tmp_path)
            steps = run_workflow(checkout, secrets, now, tmp_path)
            runs[now] = (checkout, {s.name: s for s in steps})
            for s in steps:
                assert s.code == 0, f"{now} {s.name} exited {s.code}:\n{s.stdout}\n{s.stderr}"

        # 2. Every run: the down feed is reported, the board is built, validated and saved.
        for now, (checkout, steps) in runs.items():
            update = steps["Fetch every source and build"]
            assert update.ran
            assert "소식지: error: " in update.stderr and "HTTP 503" in update.stderr
            assert "::warning title=feedkit update::partly done (exit 3)" in update.stdout
            assert "all feeds valid" in steps["Check the feeds"].stdout
            feed = feedparser.parse((checkout / "public" / "feed.xml").read_bytes())
            assert {e.title for e in feed.entries} == {i.title for i in board.items}, now
            assert steps["Save the store as text"].ran

        # 3. The digest: not due at 07:17, sent at 09:17 (catching up 08:00), once.
        first, second, third = (runs[n][1]["Send the weekly digest once it is due"]
                                for n in runs)
        assert "2025-W01: not due until 2025-01-06 08:00" in first.stdout
        assert second.ran and third.ran
        assert sorted(r.lower() for got in server.received for r in got.rcpt) == sorted(
            r.lower() for r in [*RECIPIENTS, FILE_RECIPIENT])
        assert all("2025-W01" in got.message["Message-ID"] for got in server.received)

    # 4. The pushed history: the store and the streak of the down source are there...
    log = git("log", "--format=%s", "main", cwd=remote).splitlines()
    assert log.count("feedkit: update store") >= 2
    state = git("show", "main:data/state.jsonl", cwd=remote)
    assert '"runs": 3' in state and "소식지" in state
    assert board.items[0].title in git("show", "main:data/store.jsonl", cwd=remote)
    # ... and no recipient address anywhere: every object the remote holds, every commit.
    everything = subprocess.run(["git", "cat-file", "--batch-all-objects", "--batch"],
                                cwd=remote, capture_output=True, check=True).stdout
    everything = everything.decode("utf-8", "replace").lower()
    everything += git("log", "--all", "-p", "--format=%an %ae %cn %ce %B", cwd=remote).lower()
    assert "send-log.jsonl" in everything  # what we are looking through is really there
    for address in [*RECIPIENTS, FILE_RECIPIENT]:
        for needle in (address.lower(), address.split("@")[0].lower()):
            assert needle not in everything, f"{needle} is in the pushed history"
    assert "이영희" not in everything
    # Nor in the published folder.
    for checkout, _steps in runs.values():
        for path in (checkout / "public").rglob("*"):
            if path.is_file():
                text = path.read_bytes().decode("utf-8", "replace").lower()
                assert not any(a.split("@")[0].lower() in text
                               for a in [*RECIPIENTS, FILE_RECIPIENT]), path
