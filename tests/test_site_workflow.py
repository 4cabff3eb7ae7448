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
import re
import subprocess
import sys
from collections.abc import Callable
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
              inputs: dict[str, str] | None = None, env: dict[str, str] | None = None,
              event: str = "schedule") -> bool:
    """The `if:` expressions the scaffold uses, evaluated as GitHub would (an unknown one fails
    the test, so a changed workflow cannot slip past it). ``inputs``: the workflow_dispatch
    inputs of a manual run (a scheduled run has none: every input is ''); ``env``: the job's
    environment (a secret the repository lacks is ''); ``event``: what started the run."""
    shared = (env or {}).get("FEEDKIT_STORE_URL", "") != ""
    restore = results.get("restore")
    restored = restore is not None and restore.ran and restore.code == 0
    if expr is None:
        return not failed                       # success(): every earlier step succeeded
    if expr == "${{ !cancelled() && steps.restore.outcome == 'success' }}":
        return restored
    if expr == ("${{ !cancelled() && steps.restore.outcome == 'success' && "
                "env.FEEDKIT_STORE_URL == '' }}"):
        return restored and not shared
    if expr == "${{ env.FEEDKIT_STORE_URL != '' }}":   # and, implicitly, success()
        return not failed and shared
    if expr == "${{ inputs.approve != '' }}":   # and, implicitly, success()
        return not failed and (inputs or {}).get("approve", "") != ""
    if expr == "${{ !cancelled() && github.event_name == 'workflow_dispatch' }}":
        return event == "workflow_dispatch"
    raise AssertionError(f"the test does not know the workflow condition {expr!r}")


def secret(text: str, secrets: dict[str, str], inputs: dict[str, str] | None = None,
           needs: dict[str, dict[str, str]] | None = None) -> str:
    for name, value in secrets.items():
        text = text.replace("${{ secrets.%s }}" % name, value)  # noqa: UP031
    for job, outputs in (needs or {}).items():   # a later job's ${{ needs.JOB.outputs.NAME }}
        for name, value in outputs.items():
            text = text.replace("${{ needs.%s.outputs.%s }}" % (job, name), value)  # noqa: UP031
    # A secret the repository does not have is the empty string on GitHub.
    text = re.sub(r"\$\{\{ secrets\.[A-Z0-9_]+ \}\}", "", text)
    text = text.replace("${{ inputs.approve }}", (inputs or {}).get("approve", ""))
    assert "${{" not in text, f"unknown expression in {text!r}"
    return text


def run_workflow(checkout: Path, secrets: dict[str, str], now: str, tmp: Path,
                 inputs: dict[str, str] | None = None, job_name: str = "update",
                 needs: dict[str, dict[str, str]] | None = None, *, event: str = "schedule",
                 before: dict[str, Callable[[], None]] | None = None) -> list[StepResult]:
    """The steps of one job (``update`` by default); ``needs``: the outputs of the jobs it
    needs, as ``${{ needs.JOB.outputs.NAME }}`` reads them. What the steps write to
    $GITHUB_OUTPUT is read back by :func:`step_outputs`. ``before`` maps a step's name to
    something that happens just before it (another push landing during the run)."""
    job = load_workflow(checkout)["jobs"][job_name]
    output = output_file(tmp, now, job_name)
    output.write_text("", encoding="utf-8")
    base_env = {**os.environ, "PATH": f"{FEEDKIT_BIN}{os.pathsep}{os.environ['PATH']}",
                "GITHUB_ACTIONS": "true", "GITHUB_OUTPUT": str(output), "FEEDKIT_NOW": now,
                "GIT_CONFIG_NOSYSTEM": "1", "HOME": str(tmp)}
    for name in ("FEEDKIT_CONFIG", "FEEDKIT_SECRET", "FEEDKIT_RECIPIENTS", "FEEDKIT_STORE_URL"):
        base_env.pop(name, None)
    # The job's own environment (the shared store's URL, from a secret) reaches every step.
    job_env = {k: secret(str(v), secrets, inputs, needs)
               for k, v in (job.get("env") or {}).items()}
    base_env.update(job_env)
    results: dict[str, StepResult] = {}
    ordered: list[StepResult] = []
    failed = False
    for index, step in enumerate(job["steps"]):
        name = step.get("name") or step.get("uses", f"step {index}")
        key = step.get("id", name)
        if before and name in before:
            before[name]()
        if "uses" in step:
            # checkout and setup-python are what this folder and this interpreter already are;
            # upload-pages-artifact publishes public/, which must be there.
            ok = condition(step.get("if"), results, failed, event=event)
            if ok and "upload-pages-artifact" in step["uses"]:
                assert (checkout / step["with"]["path"] / "index.html").is_file()
            result = StepResult(name, ok)
        elif step["run"].startswith("pip install"):
            # Installs aside (feedkit and its driver are installed here): whether the step
            # would run is recorded (``ran``), it is not run.
            result = StepResult(name, condition(step.get("if"), results, failed, inputs,
                                                job_env, event))
        elif not condition(step.get("if"), results, failed, inputs, job_env, event):
            result = StepResult(name, False)
        else:
            env = {**base_env, **{k: secret(str(v), secrets, inputs, needs)
                                  for k, v in (step.get("env") or {}).items()}}
            proc = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c",
                                   step["run"]], cwd=checkout, env=env, capture_output=True,
                                  text=True, timeout=120)
            result = StepResult(name, True, proc.returncode, proc.stdout, proc.stderr)
            failed = failed or proc.returncode != 0
        results[key] = result
        ordered.append(result)
    return ordered


def output_file(tmp: Path, now: str, job_name: str = "update") -> Path:
    suffix = "" if job_name == "update" else f"-{job_name}"
    return tmp / f"github-output-{now[-5:].replace(':', '')}{suffix}"


def step_outputs(tmp: Path, now: str, job_name: str = "update") -> dict[str, str]:
    """What a job's steps wrote to $GITHUB_OUTPUT: ``name=value`` lines and ``name<<DELIMITER``
    blocks, as GitHub reads them."""
    lines = output_file(tmp, now, job_name).read_text(encoding="utf-8").splitlines()
    out: dict[str, str] = {}
    i = 0
    while i < len(lines):
        name, sep, value = lines[i].partition("<<")
        if sep and "=" not in name:
            end = lines.index(value, i + 1)
            out[name] = "\n".join(lines[i + 1:end])
            i = end + 1
            continue
        name, _, value = lines[i].partition("=")
        out[name] = value
        i += 1
    return out


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
            # No FEEDKIT_STORE_URL secret: the SQLite store, rebuilt from text; no driver.
            assert not steps["Install the PostgreSQL driver (shared store only)"].ran
            assert "shared store" not in steps["Rebuild the store from the committed text files"
                                               ].stdout

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


def readme_step_3(scaffold: str, port: int) -> str:
    """The config edits README "Set up your own city" step 3 asks for, made on the scaffold's
    own lines (so a changed scaffold sample is noticed): the three TODO values, [digest]
    uncommented (from, recipients_env, the mailto + https {token} unsubscribe pair), and [smtp]
    pointed at the loopback server."""
    edits = [
        ('title = "TODO: 우리 시 새소식"', 'title = "우리 시 새소식"'),
        ('url = "https://TODO.example.go.kr/"', 'url = "https://www.example.go.kr/"'),
        ('feed_url = "https://TODO.github.io/TODO/"',
         'feed_url = "https://example.github.io/mycity-news/"'),
        ("# [digest]\n", "[digest]\n"),
        ('# from = "', 'from = "'),
        ('# recipients_env = "', 'recipients_env = "'),
        ('# unsubscribe = ["mailto:', 'unsubscribe = ["mailto:'),
        ("# [smtp]", "[smtp]"),
        ('# host = "smtp.example.go.kr"', f'host = "127.0.0.1"\ntls = "none"\nport = {port}'),
    ]
    for old, new in edits:
        assert old in scaffold, f"the scaffold's config.toml no longer has {old!r}"
        scaffold = scaffold.replace(old, new, 1)
    return scaffold


@pytest.mark.slow
def test_the_scaffold_sample_token_unsubscribe_link_works_in_the_workflow(tmp_path: Path) -> None:
    """README step 3 keeps the scaffold's mailto: {token} unsubscribe link and step 5 adds the
    FEEDKIT_UNSUBSCRIBE_SECRET secret: the workflow must hand it to the send step, or every
    scheduled send stops with exit 2."""
    site = tmp_path / "site"
    init = subprocess.run([FEEDKIT_BIN / "feedkit", "init", str(site)], capture_output=True,
                          text=True)
    assert init.returncode == 0, init.stderr
    (site / "data" / "articles.jsonl").write_text(
        '{"title": "새해 첫 소식", "url": "https://www.example.go.kr/news/1", '
        '"published": "2025-01-02 10:00", "category": "홍보담당관"}\n', encoding="utf-8")
    with smtp_server() as (server, port):
        config = readme_step_3((site / "config.toml").read_text("utf-8"), port)
        (site / "config.toml").write_text(config, encoding="utf-8")
        secrets = {"FEEDKIT_SECRET": SEND_LOG_KEY, "FEEDKIT_RECIPIENTS": SECRET_LIST,
                   "FEEDKIT_UNSUBSCRIBE_SECRET": "u" * 32}
        git("init", "-q", "-b", "main", cwd=site)   # the save step commits; no remote to push to
        steps = {s.name: s for s in run_workflow(site, secrets, "2025-01-06 09:17", tmp_path)}
        send = steps["Send the weekly digest once it is due"]
        assert send.ran and send.code == 0, f"{send.stdout}\n{send.stderr}"
        assert "2025-W01: 3 sent" in send.stdout
        assert sorted(r.lower() for got in server.received for r in got.rcpt) == sorted(
            r.lower() for r in RECIPIENTS)
        for got in server.received:
            header = str(got.message["List-Unsubscribe"])
            assert re.fullmatch(r"<mailto:news-leave@example\.go\.kr\?subject=unsubscribe%20"
                                r"[0-9a-f]{32}>", header), header   # a token, not the address
            # No https link, so no one-click POST offered: nothing on Pages would answer it.
            assert got.message["List-Unsubscribe-Post"] is None


SHARED_SITE = """\
[site]
title = "보령시 새소식"
url = "https://www.brcn.go.kr/"
feed_url = "https://example.github.io/boryeong-news/"

[store]
schema = "{schema}"

[fetch]
delay = 0
timeout = 2
retries = 0

[digest]
from = "보령시 소식 <news@example.org>"
recipients_env = "FEEDKIT_RECIPIENTS"
unsubscribe = "mailto:leave@example.org"

[smtp]
host = "127.0.0.1"
port = {port}
tls = "none"
timeout = 5
retry_delay = 0.01

[[sources]]
kind = "html"
name = "보도자료"
url = "{board}"
page_param = "pageIndex"

[sources.selectors]
{selectors}
"""


@pytest.mark.slow
def test_the_workflow_with_a_shared_postgresql_store(tmp_path: Path, loopback, pg_schema
                                                      ) -> None:
    """The same scaffolded workflow with the FEEDKIT_STORE_URL secret set: two hourly runs,
    each in a fresh clone, against the test PostgreSQL. The store is neither rebuilt nor
    committed; it lasts between runs on the server (the second run fetches nothing new and
    sends no one twice); the site is built and checked; the clone stays clean."""
    import psycopg

    board = Board(loopback, count=6, per_page=5)
    remote = tmp_path / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(remote)], check=True)
    with smtp_server() as (server, port):
        site = tmp_path / "site"
        init = subprocess.run([FEEDKIT_BIN / "feedkit", "init", str(site)], capture_output=True,
                              text=True)
        assert init.returncode == 0, init.stderr
        selectors = "\n".join(f'{k} = "{v}"' for k, v in board_source(board)["selectors"].items())
        (site / "config.toml").write_text(SHARED_SITE.format(
            schema=pg_schema.schema, port=port, board=board.list_url, selectors=selectors),
            encoding="utf-8")
        git("init", "-q", "-b", "main", cwd=site)
        git("add", "-A", cwd=site)
        git("-c", "user.name=t", "-c", "user.email=t@example.org", "commit", "-q", "-m", "site",
            cwd=site)
        git("remote", "add", "origin", str(remote), cwd=site)
        git("push", "-q", "-u", "origin", "main", cwd=site)
        head = git("rev-parse", "main", cwd=remote)

        secrets = {"FEEDKIT_SECRET": SEND_LOG_KEY, "FEEDKIT_RECIPIENTS": SECRET_LIST,
                   "FEEDKIT_STORE_URL": pg_schema.url}
        runs = {}
        for now in ("2025-01-06 09:17", "2025-01-06 10:17"):
            checkout = tmp_path / f"run-{now[-5:].replace(':', '')}"
            git("clone", "-q", str(remote), str(checkout), cwd=tmp_path)
            steps = {s.name: s for s in run_workflow(checkout, secrets, now, tmp_path)}
            runs[now] = (checkout, steps)
            for s in steps.values():
                assert s.code == 0, f"{now} {s.name} exited {s.code}:\n{s.stdout}\n{s.stderr}"
            # The driver is installed; the store is opened, not rebuilt; nothing is saved.
            assert steps["Install the PostgreSQL driver (shared store only)"].ran
            restore = steps["Rebuild the store from the committed text files"]
            assert restore.ran and "shared store (FEEDKIT_STORE_URL): nothing to rebuild" \
                in restore.stdout
            assert f"store: {pg_schema.url} (schema {pg_schema.schema})" in restore.stdout
            assert not steps["Save the store as text"].ran
            # The site is built from the shared store and checked.
            assert steps["Fetch every source and build"].ran
            assert "all feeds valid" in steps["Check the feeds"].stdout
            feed = feedparser.parse((checkout / "public" / "feed.xml").read_bytes())
            assert {e.title for e in feed.entries} == {i.title for i in board.items}, now
            # No SQLite store, no text copy of the store, nothing to commit.
            assert not (checkout / "articles.db").exists()
            assert not (checkout / "data" / "store.jsonl").exists()
            assert git("status", "--porcelain", "--untracked-files=all", cwd=checkout) == ""
            assert git("rev-parse", "HEAD", cwd=checkout) == head

        first, second = (steps for _checkout, steps in runs.values())
        assert "6 new" in first["Fetch every source and build"].stdout
        # The second runner starts with an empty disk, yet the store remembers everything:
        # the unchanged list page is a 304, and the digest already went to everyone.
        assert "0 new" in second["Fetch every source and build"].stdout
        assert "1 not modified" in second["Fetch every source and build"].stdout
        assert "2025-W01: 3 sent" in first["Send the weekly digest once it is due"].stdout
        assert second["Send the weekly digest once it is due"].ran
        assert sorted(r.lower() for got in server.received for r in got.rcpt) == sorted(
            r.lower() for r in RECIPIENTS)

    # What the server holds, read with psycopg: the board's articles and the send log.
    with psycopg.connect(pg_schema.url, autocommit=True) as conn:
        conn.execute(f'SET search_path TO "{pg_schema.schema}"')
        titles = {r[0] for r in conn.execute("SELECT title FROM articles")}
        sent = conn.execute("SELECT count(*) FROM send_log WHERE week = '2025-W01'").fetchone()
    assert titles == {i.title for i in board.items}
    assert sent == (3,)
    # The remote never received a commit from the workflow.
    assert git("log", "--format=%s", "main", cwd=remote).splitlines() == ["site"]


FILE_SITE = """\
[site]
title = "보령시 새소식"
url = "https://www.brcn.go.kr/"
feed_url = "https://example.github.io/boryeong-news/"

[digest]
from = "보령시 소식 <news@example.org>"
recipients_env = "FEEDKIT_RECIPIENTS"
unsubscribe = "mailto:leave@example.org"

[smtp]
host = "127.0.0.1"
port = {port}
tls = "none"
timeout = 5
retry_delay = 0.01

[[sources]]
kind = "jsonl"
path = "data/articles.jsonl"
"""


def new_site(tmp_path: Path, remote: Path, config: str) -> Path:
    """`feedkit init`, a week of news in the file source, ``config``; pushed to ``remote``."""
    site = tmp_path / "site"
    init = subprocess.run([FEEDKIT_BIN / "feedkit", "init", str(site)], capture_output=True,
                          text=True)
    assert init.returncode == 0, init.stderr
    (site / "data" / "articles.jsonl").write_text(
        '{"title": "새해 첫 소식", "url": "https://www.brcn.go.kr/news/1", '
        '"published": "2025-01-02 10:00", "category": "홍보담당관"}\n', encoding="utf-8")
    (site / "config.toml").write_text(config, encoding="utf-8")
    git("init", "-q", "-b", "main", cwd=site)
    git("add", "-A", cwd=site)
    git("-c", "user.name=t", "-c", "user.email=t@example.org", "commit", "-q", "-m", "site",
        cwd=site)
    git("remote", "add", "origin", str(remote), cwd=site)
    git("push", "-q", "-u", "origin", "main", cwd=site)
    return site


@pytest.mark.slow
def test_a_push_between_send_and_save_loses_no_sent_row(tmp_path: Path) -> None:
    """Issue 22, item 1: the editor pushes while the Monday run is sending. The run's save
    step is rejected, merges the remote's newer files by feedkit's rules, and pushes; the
    editor's commit stays as it was; the next hourly run finds every reader already sent."""
    remote = tmp_path / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(remote)], check=True)
    secrets = {"FEEDKIT_SECRET": SEND_LOG_KEY, "FEEDKIT_RECIPIENTS": SECRET_LIST}
    with smtp_server() as (server, port):
        new_site(tmp_path, remote, FILE_SITE.format(port=port))
        editor = tmp_path / "editor"
        git("clone", "-q", str(remote), str(editor), cwd=tmp_path)

        def editor_pushes() -> None:
            """The editor's Monday routine, on their own machine: approve next week's digest
            (kept in data/editorial.jsonl) and fix a source in config.toml; commit, push."""
            env = {**os.environ, "PATH": f"{FEEDKIT_BIN}{os.pathsep}{os.environ['PATH']}"}
            for args in (["digest", "approve", "--week", "2025-W02"],
                         ["export", "--editorial", "data/editorial.jsonl"]):
                done = subprocess.run(["feedkit", *args], cwd=editor, env=env,
                                      capture_output=True, text=True)
                assert done.returncode == 0, done.stderr
            config = editor / "config.toml"
            config.write_text(config.read_text("utf-8") + '\n[feeds]\nlimit = 30\n', "utf-8")
            git("add", "config.toml", "data/editorial.jsonl", cwd=editor)
            git("-c", "user.name=editor", "-c", "user.email=e@example.org", "commit", "-q", "-m",
                "approve 2025-W02", cwd=editor)
            git("push", "-q", cwd=editor)

        runs = {}
        for now, before in (("2025-01-06 09:17", {"Save the store as text": editor_pushes}),
                            ("2025-01-06 10:17", None)):
            checkout = tmp_path / f"run-{now[-5:].replace(':', '')}"
            git("clone", "-q", str(remote), str(checkout), cwd=tmp_path)
            steps = {s.name: s for s in run_workflow(checkout, secrets, now, tmp_path,
                                                     before=before)}
            for s in steps.values():
                assert s.code == 0, f"{now} {s.name} exited {s.code}:\n{s.stdout}\n{s.stderr}"
            runs[now] = steps
    first, second = runs.values()
    assert "2025-W01: 3 sent, 0 already sent" in first["Send the weekly digest once it is due"
                                                      ].stdout
    save = first["Save the store as text"]
    assert "after merging 1 newer remote commit" in save.stdout, save.stdout + save.stderr
    assert "2025-W01: 0 sent, 3 already sent" in second["Send the weekly digest once it is due"
                                                       ].stdout
    assert sorted(r.lower() for got in server.received for r in got.rcpt) == sorted(
        r.lower() for r in RECIPIENTS)          # each reader once, over both runs
    # The history: the run's commit on top of the editor's, nothing of the editor's lost
    # (the 10:17 run had nothing new to save).
    log = git("log", "--format=%s", "main", cwd=remote).splitlines()
    assert log == ["feedkit: update store", "approve 2025-W02", "site"]
    assert "limit = 30" in git("show", "main:config.toml", cwd=remote)
    editorial = git("show", "main:data/editorial.jsonl", cwd=remote)
    assert '"week": "2025-W02", "kind": "approval", "approved": true' in editorial
    assert git("show", "main:data/send-log.jsonl", cwd=remote).count('"status": "sent"') == 3
