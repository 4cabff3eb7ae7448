"""The CI workflow a site copies: every feedkit command it runs must exist, with those options."""

from __future__ import annotations

import shlex

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
                # Only the command itself: stop at the shell's `||`, `&&`, `;` or `|`.
                lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
                lexer.whitespace_split = True
                words = []
                for word in lexer:
                    if word in ("||", "&&", ";", "|"):
                        break
                    words.append(word)
                calls.append(words[1:])
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
            "feedkit digest unsubscribes", "feedkit state save", "feedkit check"} <= paths


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
    # The password, the list and the send-log key come from repository secrets, never a file.
    for name in ("FEEDKIT_SMTP_PASSWORD", "FEEDKIT_RECIPIENTS", "FEEDKIT_SECRET"):
        assert send["env"][name] == "${{ secrets." + name + " }}"
    save = next(s for s in steps if "feedkit state save" in s.get("run", ""))
    # Sending and saving happen even when an earlier step (update, validate) failed; saving
    # (a commit) only without a shared store (see test_the_shared_store_variant...).
    assert send["if"] == "${{ !cancelled() && steps.restore.outcome == 'success' }}"
    assert save["if"] == ("${{ !cancelled() && steps.restore.outcome == 'success' && "
                          "env.FEEDKIT_STORE_URL == '' }}")
    # The site's requirements.txt is what pip installs and what the pip cache is keyed on.
    setup = next(s for s in steps if s.get("uses", "").startswith("actions/setup-python"))
    assert setup["with"]["cache"] == "pip"
    assert setup["with"]["cache-dependency-path"] == "requirements.txt"
    assert any(s.get("run") == "pip install -r requirements.txt" for s in steps)
    # Only the five text files are ever committed (`feedkit state save` adds exactly the files
    # it is given): never `git add -A`, never a recipients file; and the push is its own, which
    # merges a push that landed during the run instead of losing the send log (issue 22).
    lines = [line.strip() for line in save["run"].splitlines()]
    assert not [ln for ln in lines if ln.startswith(("git add", "git push", "git commit"))]
    [call] = [ln for ln in lines if ln.startswith("feedkit state save")]
    assert call.split()[3:] == ["--out", "data/store.jsonl", "--send-log", "data/send-log.jsonl",
                                "--state", "data/state.jsonl", "--editorial",
                                "data/editorial.jsonl", "--unsubscribed",
                                "data/unsubscribed.jsonl"]
    restore = next(s for s in steps if s.get("id") == "restore")
    for path in ("data/send-log.jsonl", "data/state.jsonl", "data/editorial.jsonl",
                 "data/unsubscribed.jsonl"):
        assert path in restore["run"].splitlines()[-1]   # what is saved is restored
    # The unsubscribe requests are read before the send, whose list they change.
    names = [s.get("name") for s in steps]
    unsub = next(s for s in steps if "digest unsubscribes" in s.get("run", ""))
    assert names.index(unsub["name"]) < names.index(send["name"])
    assert unsub["if"] == send["if"]
    # `feedkit check` on a manual run only, with every secret a run uses.
    check = next(s for s in steps if s.get("run") == "feedkit check")
    assert check["if"] == "${{ !cancelled() && github.event_name == 'workflow_dispatch' }}"
    assert set(check["env"]) >= set(send["env"]) | set(unsub["env"])
    # A manual run can approve a week; the week reaches the shell only through the environment
    # (an input pasted into the script would be a shell injection).
    assert set(data["on"]["workflow_dispatch"]["inputs"]) == {"approve"}
    approve = next(s for s in steps if "digest approve" in s.get("run", ""))
    assert approve["run"] == 'feedkit digest approve --week "$APPROVE_WEEK"'
    assert approve["env"] == {"APPROVE_WEEK": "${{ inputs.approve }}"}
    assert not [s for s in steps if "${{ inputs" in s.get("run", "")]
    order = [s.get("id") or s.get("name") for s in steps]
    assert order.index("restore") < order.index(approve["name"]) < order.index(send["name"])
    # The deploy job runs whenever the pages were uploaded, even if a later step failed.
    deploy = data["jobs"]["deploy"]
    assert deploy["if"] == "${{ !cancelled() && needs.update.outputs.pages != '' }}"


def test_every_scheduled_run_calls_the_send_step() -> None:
    """`digest send` decides whether the digest is due (tests/test_schedule.py), so the send step
    has no schedule condition and the one cron runs every hour: a Monday 08:00 run that GitHub
    delays or drops is caught up by the next one."""
    data = load(WORKFLOW)
    crons = [entry["cron"] for entry in data["on"]["schedule"]]
    assert crons == ["17 * * * *"]
    send = next(s for job in data["jobs"].values() for s in job["steps"]
                if "digest send" in s.get("run", ""))
    assert "schedule" not in send["if"] and "--week" not in send["run"]


def test_repository_workflow_is_the_scaffold_with_a_local_install() -> None:
    ours = REPO_WORKFLOW.read_text(encoding="utf-8").splitlines()
    theirs = WORKFLOW.read_text(encoding="utf-8").splitlines()
    differing = [(a.strip(), b.strip()) for a, b in zip(ours, theirs, strict=True) if a != b]
    assert differing == [
        ("cache-dependency-path: pyproject.toml", "cache-dependency-path: requirements.txt"),
        ("run: pip install .          # this repository is feedkit itself and its sample site",
         "run: pip install -r requirements.txt"),
        ('run: pip install ".[postgres]"',
         'run: pip install "$(python -m feedkit.install --extra postgres)"'),
        # the announce job installs feedkit the same way (WebSub, issue 28)
        ("cache-dependency-path: pyproject.toml", "cache-dependency-path: requirements.txt"),
        ("run: pip install .          # this repository is feedkit itself and its sample site",
         "run: pip install -r requirements.txt"),
    ]


def test_the_shared_store_variant_is_chosen_by_the_secret_alone() -> None:
    """One workflow for both stores: the FEEDKIT_STORE_URL secret, mapped to the job's
    environment (a secret cannot be read in `if:` directly), picks the shared store. Then the
    driver is installed, the store is not rebuilt from text, and nothing is committed."""
    data = load(WORKFLOW)
    job = data["jobs"]["update"]
    assert job["env"] == {"FEEDKIT_STORE_URL": "${{ secrets.FEEDKIT_STORE_URL }}"}
    steps = job["steps"]
    names = [s.get("name", "") for s in steps]
    install = steps[names.index("Install feedkit")]
    driver = next(s for s in steps if "postgres" in s.get("run", ""))
    restore = next(s for s in steps if s.get("id") == "restore")
    assert names.index("Install feedkit") < steps.index(driver) < steps.index(restore)
    assert driver["if"] == "${{ env.FEEDKIT_STORE_URL != '' }}"
    # The same pinned feedkit as requirements.txt, with its [postgres] extra written into the
    # one requirement (pip 23 cannot join two; tests/test_release.py runs it with that pip):
    # the extra's driver, never another feedkit-city from the index.
    assert driver["run"] == 'pip install "$(python -m feedkit.install --extra postgres)"'
    assert install["run"] == "pip install -r requirements.txt"
    # The restore script leaves before touching any text file when the URL is set.
    script = restore["run"].splitlines()
    assert script[0] == 'if [ -n "$FEEDKIT_STORE_URL" ]; then'
    shared = script[:script.index("fi") + 1]
    assert "  exit 0" in shared and not [line for line in shared if "import" in line]
    assert script.index("fi") < next(i for i, line in enumerate(script)
                                     if line.startswith("feedkit import"))
    # Every git command is in the save step, which a shared store skips.
    gits = [s for s in steps if "git " in s.get("run", "")]
    assert [s["name"] for s in gits] == ["Save the store as text"]
    assert "env.FEEDKIT_STORE_URL == ''" in gits[0]["if"]
    # No step passes the URL on by hand: it comes from the job's environment only.
    assert not [s for s in steps if "FEEDKIT_STORE_URL" in (s.get("env") or {})]
