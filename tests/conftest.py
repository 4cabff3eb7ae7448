"""Shared fixtures: a throw-away site (config + store + output folder) per test."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pg
import pytest
from click.testing import CliRunner
from hypothesis import settings
from pg import (  # noqa: F401  (fixtures: tests/pg.py)
    backend,
    backend_site,
    built_backend_site,
    pg_schema,
    pg_url,
)
from realworld import missing_reason, real_world_dir

from feedkit.cli import cli

REPO = Path(__file__).resolve().parents[1]

# HYPOTHESIS_PROFILE=thorough runs the property tests with many more examples (before a release).
settings.register_profile("thorough", max_examples=2000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

# Keep the compiled-template cache out of the user's home folder during tests.
os.environ.setdefault("XDG_CACHE_HOME", tempfile.mkdtemp(prefix="feedkit-test-cache-"))
SAMPLE = REPO / "data" / "boryeong.jsonl"


@pytest.fixture(scope="session", autouse=True)
def _caches_of_this_run_only():
    """Mutation testing (bench/mutation.py, mutmut) runs each mutant's tests in a process
    forked from one that already ran them on the original code. That process's functools
    caches (a category's slug, a date's words) and the on-disk caches under
    ``$XDG_CACHE_HOME`` would answer for the mutant, which would then seem to survive. Under
    mutmut each session therefore starts with empty caches and a cache folder of its own.

    A test that runs ``python -m feedkit`` (``feedkit web``, a second sender) in a process of its
    own would import the installed feedkit, not mutmut's mutated copy, and the mutant would
    survive whatever that process does: ``PYTHONPATH`` names the copy this session imported,
    and the inherited ``MUTANT_UNDER_TEST`` switches the same mutant on there. Not while mutmut
    only records which tests call what ("stats", "fail"): the copy would then try to record
    too, and cannot outside mutmut's own folder."""
    mutant = os.environ.get("MUTANT_UNDER_TEST")
    if mutant:
        import functools
        import gc

        import feedkit

        if mutant not in ("stats", "fail"):
            copy = str(Path(feedkit.__file__).resolve().parents[1])
            os.environ["PYTHONPATH"] = os.pathsep.join(
                [copy, *filter(None, [os.environ.get("PYTHONPATH")])])

        os.environ["XDG_CACHE_HOME"] = tempfile.mkdtemp(prefix="feedkit-mutant-cache-")
        for obj in gc.get_objects():
            if isinstance(obj, functools._lru_cache_wrapper):
                obj.cache_clear()
    yield
# A developer's own shared store must never receive test data: every test's store is the one
# its config (or the `backend` fixture) names. PostgreSQL tests use $FEEDKIT_TEST_PG_URL.
os.environ.pop("FEEDKIT_STORE_URL", None)


def pytest_collection_modifyitems(config, items) -> None:
    """Tests marked ``real_world`` skip, each by name, when the real-world data is absent."""
    if real_world_dir() is not None:
        return
    reason = missing_reason()
    for item in items:
        if item.get_closest_marker("real_world"):
            item.add_marker(pytest.mark.skip(reason=f"{item.name}: {reason}"))


def _skip_reason(report) -> str:
    longrepr = report.longrepr
    return longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    """Say once, plainly, which tests did not run for want of the real-world data; on GitHub
    Actions also list every skipped test and why in the job's summary page."""
    skipped = terminalreporter.stats.get("skipped", [])
    real = [r for r in skipped if "needs the real-world data" in _skip_reason(r)]
    if real:
        terminalreporter.write_sep("-", f"{len(real)} real-world tests skipped")
        terminalreporter.write_line(missing_reason())
        for r in real:
            terminalreporter.write_line(f"  {r.nodeid}")
    no_pg = [r for r in skipped if "no PostgreSQL: " in _skip_reason(r)]
    if no_pg:
        terminalreporter.write_sep("-", f"{len(no_pg)} PostgreSQL tests skipped")
        terminalreporter.write_line(_skip_reason(no_pg[0]).split("no PostgreSQL: ", 1)[1])
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary:
        lines = [f"### {len(skipped)} tests skipped", ""]
        lines += [f"- `{r.nodeid}`: {_skip_reason(r).removeprefix('Skipped: ')}"
                  for r in skipped]
        with open(summary, "a", encoding="utf-8") as fh:
            fh.write("\n".join(lines if skipped else ["### No test skipped"]) + "\n")


SITE_CONFIG = """\
[site]
title = "보령시 새소식"
url = "https://www.brcn.go.kr/"
feed_url = "https://news.example.org/boryeong/"
language = "ko"
timezone = "Asia/Seoul"

[store]
path = "articles.db"

[[sources]]
kind = "jsonl"
path = "{sample}"

[feeds]
limit = {limit}

[build]
out = "public"
"""


class Site:
    """A config file in a temporary folder, plus helpers to run the CLI against it."""

    def __init__(self, root: Path, limit: int = 50, extra: str = ""):
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        self.config = root / "config.toml"
        self.config.write_text(
            SITE_CONFIG.format(sample=SAMPLE.as_posix(), limit=limit) + extra, encoding="utf-8")
        self.db = root / "articles.db"
        self.out = root / "public"

    def edit_config(self, *pairs: tuple[str, str]) -> None:
        """Replace text in config.toml; each ``old`` must be there (a typo fails loudly)."""
        text = self.config.read_text(encoding="utf-8")
        for old, new in pairs:
            assert old in text, old
            text = text.replace(old, new)
        self.config.write_text(text, encoding="utf-8")

    def run(self, *args: str, ok: bool = True):
        result = CliRunner().invoke(cli, ["--config", str(self.config), *args])
        if ok and result.exit_code != 0:
            raise AssertionError(
                f"feedkit {' '.join(args)} exited {result.exit_code}:\n{result.output}"
                f"{result.stderr if result.stderr_bytes else ''}") from result.exception
        return result

    backend: pg.Backend | None = None   # set by use(): the store is on this backend

    def use(self, chosen: pg.Backend) -> Site:
        """Put this site's store on the backend ``chosen`` (its config's ``[store]`` section):
        CLI runs then use it, and :meth:`rows` / :meth:`scalar` / :meth:`store` read it."""
        chosen.configure(self)
        self.backend = chosen
        return self

    @property
    def is_pg(self) -> bool:
        return self.backend is not None and self.backend.is_pg

    def rows(self, sql: str, *params) -> list[tuple]:
        """Rows of the site's store, read with sqlite3 / psycopg, not with feedkit (tests/pg.py)."""
        if self.is_pg:
            return self.backend.rows(sql, *params)
        return pg.sqlite_rows(self.db, sql, params)

    def scalar(self, sql: str, *params):
        found = self.rows(sql, *params)
        return found[0][0] if found else None

    def store(self, **kwargs):
        """feedkit's Store on this site's store (a context manager)."""
        from feedkit.store.articles import Store

        if self.is_pg:
            return self.backend.open_store(**kwargs)
        return Store(self.db, **kwargs)


@pytest.fixture
def site(tmp_path: Path) -> Site:
    return Site(tmp_path)



@pytest.fixture
def built_site(site: Site) -> Site:
    site.run("import")
    site.run("build")
    return site
