"""Saving the store's text files to the site's git repository from a CI run, surviving a push
that landed during the run.

The scheduled workflow commits its text files (:mod:`feedkit.site.textstate`) and pushes. A
plain ``git push`` is rejected when anything was pushed since the run checked out (the editor's
Monday commit of ``data/editorial.jsonl``), and the run's send log was lost with it: the next
run mailed every reader again. :func:`save_state` instead, on a rejected push, fetches the
remote's branch, merges its files with the run's own by feedkit's rules
(:func:`feedkit.site.textstate.merge_text`, against the commit the run started from), puts the
merged files on top of the remote's commit (everything else the remote changed is kept as it
is) and pushes again, a bounded number of times with a growing pause. History stays linear:
no merge commits.

If it still cannot save (a protected branch, lost credentials, pushes that never stop), it
fails loudly: the error says what failed, how many readers this run marked sent that the
repository does not know of (the next run would mail them again), and what to do; the
unsaved send-log rows (keyed hashes only) are given so a person can commit them by hand.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from feedkit.errors import FeedkitError
from feedkit.site.output import write_atomic
from feedkit.site.textstate import TextState, merge_text, sent_keys


@dataclass
class SaveReport:
    pushed: str = ""            # the commit pushed ("" when there was nothing to save)
    attempts: int = 0           # pushes tried
    merged: list[str] = field(default_factory=list)   # remote commits merged in

    def summary(self) -> str:
        if not self.pushed:
            return "nothing to save: the text files are as committed"
        merged = (f" after merging {len(self.merged)} newer remote commit(s) "
                  f"({', '.join(c[:10] for c in self.merged)})" if self.merged else "")
        return f"saved and pushed {self.pushed[:10]}{merged}"


class SaveError(FeedkitError):
    """The store could not be saved; ``unsaved`` holds the send-log lines at risk."""

    def __init__(self, message: str, unsaved: list[str]):
        super().__init__(message)
        self.unsaved = unsaved


class Git:
    """``git`` in one folder; a failure is a :class:`FeedkitError` with git's own words."""

    def __init__(self, cwd: Path):
        self.cwd = cwd
        self.binary = shutil.which("git")
        if self.binary is None:
            raise FeedkitError("git is not installed: the text files cannot be committed")

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        done = subprocess.run([self.binary, *args], cwd=self.cwd, capture_output=True,
                              text=True, timeout=300)
        if check and done.returncode != 0:
            raise FeedkitError(f"git {args[0]} failed: {_last_words(done)}")
        return done

    def out(self, *args: str) -> str:
        return self.run(*args).stdout.strip()

    def show(self, commit: str, path: str) -> str:
        """The file at ``commit`` ("" when it did not exist there)."""
        done = self.run("show", f"{commit}:{path}", check=False)
        return done.stdout if done.returncode == 0 else ""


def _last_words(done: subprocess.CompletedProcess) -> str:
    """What git said, on one line: the remote's own words and git's verdict, without the
    "To <url>" and hint lines."""
    lines = [ln.strip() for ln in (done.stderr or done.stdout).splitlines() if ln.strip()]
    said = [ln for ln in lines if not ln.startswith(("To ", "hint:"))]
    return " / ".join(said[-5:]) or f"exit {done.returncode}"


def upstream(git: Git) -> tuple[str, str]:
    """(remote, branch) the checkout pushes to: its upstream, else ``origin`` and the current
    branch."""
    done = git.run("rev-parse", "--abbrev-ref", "--symbolic-full-name", "@{u}", check=False)
    if done.returncode == 0 and "/" in done.stdout.strip():
        remote, _, branch = done.stdout.strip().partition("/")
        return remote, branch
    branch = git.run("symbolic-ref", "--short", "-q", "HEAD", check=False).stdout.strip()
    if not branch:
        raise FeedkitError("the checkout is not on a branch (a detached HEAD): there is no "
                           "branch to push the store to")
    return "origin", branch


def save_state(cwd: Path, files: TextState, export: Callable[[], None], *,
               absorb: Callable[[], None] | None = None,
               attempts: int = 5, delay: float = 2.0, message: str = "feedkit: update store",
               sleep: Callable[[float], None] = time.sleep) -> SaveReport:
    """Export (``export()`` writes ``files`` from the store), commit and push ``files``; on a
    rejected push merge the remote's newer files and try again, at most ``attempts`` pushes.
    After a merge ``absorb()`` imports the merged files into the store, so that the store knows
    what the remote added (a later export must not drop it). Raises :class:`SaveError` when it
    cannot save."""
    git = Git(cwd)
    top = Path(git.out("rev-parse", "--show-toplevel"))
    rels = [(kind, path.resolve().relative_to(top.resolve()).as_posix())
            for kind, path in files.files()]
    remote, branch = upstream(git)
    base = git.out("rev-parse", "HEAD")
    export()
    report = SaveReport()
    last_error = ""
    for attempt in range(1, attempts + 1):
        git.run("add", "--", *(rel for _kind, rel in rels))
        if git.run("diff", "--cached", "--quiet", check=False).returncode != 0:
            git.run("commit", "-q", "-m", message)
        head = git.out("rev-parse", "HEAD")
        if head == base:      # nothing new: as committed (or the remote already has it all)
            report.pushed = head if report.merged else ""
            return report
        report.attempts = attempt
        pushed = git.run("push", "-q", remote, f"HEAD:refs/heads/{branch}", check=False)
        if pushed.returncode == 0:
            report.pushed = head
            return report
        last_error = _last_words(pushed)
        fetched = git.run("fetch", "-q", remote, branch, check=False)
        if fetched.returncode != 0:
            last_error += f"; and git fetch failed: {_last_words(fetched)}"
            break
        theirs = git.out("rev-parse", "FETCH_HEAD")
        if theirs == base:
            break          # the remote has not moved: not a race, pushing again will not help
        merged = {rel: merge_text(kind, git.show(base, rel), _read(top / rel),
                                  git.show(theirs, rel), rel) for kind, rel in rels}
        git.run("reset", "-q", "--hard", theirs)   # the remote's commit, all of it
        for rel, text in merged.items():
            write_atomic(top / rel, text.encode("utf-8"))
        if absorb is not None:
            absorb()
        report.merged.append(theirs)
        base = theirs
        if attempt < attempts:
            sleep(delay * attempt)
    raise _failure(git, top, rels, base, report, last_error, remote, branch)


def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8") if path.exists() else ""


def _failure(git: Git, top: Path, rels: list[tuple[str, str]], remote_head: str,
             report: SaveReport, error: str, remote: str, branch: str) -> SaveError:
    """What could not be saved, what it risks and what to do about it."""
    log = next((rel for kind, rel in rels if kind == "send-log"), None)
    unsaved: list[str] = []
    if log is not None:
        saved = sent_keys(git.show(remote_head, log))
        mine = _read(top / log)
        keys = sent_keys(mine) - saved
        unsaved = [line for line in mine.splitlines()
                   if line.strip() and _row_key(line) in keys]
    risk = (f" {len(unsaved)} reader(s) this run sent to are not in the committed send log: "
            "the next run would mail them again." if unsaved else "")
    return SaveError(
        f"could not save the store to {remote}/{branch} after {report.attempts} push(es): "
        f"{error}.{risk}\n"
        "What to do: disable the workflow (Actions > feedkit > ... > Disable workflow) so no "
        "run sends before this is fixed; fix what git says above (a protected branch must let "
        "the workflow push; the token needs contents: write); "
        + ("then add the send-log lines printed below to data/send-log.jsonl, commit and push; "
           if unsaved else "")
        + "then enable the workflow again.", unsaved)


def _row_key(line: str) -> tuple[str, str]:
    import json

    record = json.loads(line)
    return str(record["week"]), str(record["recipient"])
