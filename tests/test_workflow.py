"""The CI workflow a site copies: every feedkit command it runs must exist, with those options."""

from __future__ import annotations

import re
import shlex
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import click
import pytest
import yaml
from conftest import REPO

from feedkit.cli import cli

WORKFLOW = REPO / "templates" / "scaffold" / "feedkit.yml"
REPO_WORKFLOW = REPO / ".github" / "workflows" / "feedkit.yml"


def load(path):
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["on"] = data.get("on", data.pop(True, None))  # YAML 1.1 reads a bare `on` as true
    return data


def run_scripts(data) -> list[str]:
    return [step["run"] for job in data["jobs"].values() for step in job.get("steps", [])
            if "run" in step]


def feedkit_invocations(data) -> list[list[str]]:
    calls = []
    for script in run_scripts(data):
        for line in script.splitlines():
            line = line.strip()
            if line.startswith("feedkit "):
                calls.append(shlex.split(line)[1:])
    return calls


def _remaining(ctx: click.Context) -> list[str]:
    # Click >= 8.2 keeps a group's unparsed subcommand words in _protected_args.
    protected = getattr(ctx, "_protected_args", None)
    if protected is None:
        protected = ctx.protected_args
    return [*protected, *ctx.args]


def parse_like_click(args: list[str]) -> list[str]:
    """Resolve and parse an invocation exactly as Click would, without running it.

    Returns the command path; raises click.UsageError for an unknown command or option.
    """
    ctx = cli.make_context("feedkit", list(args))
    command, path = cli, ["feedkit"]
    while isinstance(command, click.Group):
        rest = _remaining(ctx)
        if not rest:
            break
        name, command, rest = command.resolve_command(ctx, rest)
        path.append(name)
        ctx = command.make_context(name, rest, parent=ctx)
    return path


def test_the_workflow_runs_only_commands_and_options_that_exist() -> None:
    calls = feedkit_invocations(load(WORKFLOW))
    paths = {" ".join(parse_like_click(args)) for args in calls}
    # The whole unattended cycle is there.
    assert {"feedkit import", "feedkit update", "feedkit validate", "feedkit digest send",
            "feedkit export"} <= paths


def test_a_misspelt_option_would_be_caught() -> None:
    with pytest.raises(click.UsageError):
        parse_like_click(["export", "--sendlog", "x"])
    with pytest.raises(click.UsageError):
        parse_like_click(["digest", "sned"])


def test_workflow_shape() -> None:
    data = load(WORKFLOW)
    steps = [s for job in data["jobs"].values() for s in job.get("steps", [])]
    uses = {s["uses"].split("@")[0] for s in steps if "uses" in s}
    assert {"actions/checkout", "actions/setup-python", "actions/upload-pages-artifact",
            "actions/deploy-pages"} <= uses
    assert "workflow_dispatch" in data["on"]
    send = next(s for s in steps if "digest send" in s.get("run", ""))
    # The password comes from repository secrets, never from a file.
    assert send["env"]["FEEDKIT_SMTP_PASSWORD"] == "${{ secrets.FEEDKIT_SMTP_PASSWORD }}"
    save = next(s for s in steps if "feedkit export" in s.get("run", ""))
    assert save.get("if") == "always()", "the store is saved even when a step failed"


def test_digest_is_sent_on_monday_morning_in_seoul() -> None:
    data = load(WORKFLOW)
    crons = [entry["cron"] for entry in data["on"]["schedule"]]
    send = next(s for job in data["jobs"].values() for s in job["steps"]
                if "digest send" in s.get("run", ""))
    digest_cron = re.search(r"github\.event\.schedule == '([^']+)'", send["if"]).group(1)
    assert digest_cron in crons
    minute, hour, _dom, _mon, dow = digest_cron.split()
    # Find that UTC weekday/time in a real week and look at it from Seoul.
    sunday = datetime(2024, 6, 9, tzinfo=UTC)  # a Sunday; cron weekday 0 = Sunday
    when = sunday + timedelta(days=int(dow), hours=int(hour), minutes=int(minute))
    local = when.astimezone(ZoneInfo("Asia/Seoul"))
    assert local.strftime("%A") == "Monday" and 6 <= local.hour <= 10


def test_repository_workflow_is_the_scaffold_with_a_local_install() -> None:
    ours = REPO_WORKFLOW.read_text(encoding="utf-8").splitlines()
    theirs = WORKFLOW.read_text(encoding="utf-8").splitlines()
    differing = [(a, b) for a, b in zip(ours, theirs, strict=True) if a != b]
    assert len(differing) == 1 and "FEEDKIT_SPEC" in differing[0][0]
