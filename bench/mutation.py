"""Mutation testing with mutmut 3 over the code whose mistakes cost users most.

Not part of .ci/run: every mutant runs the tests that cover its function, which takes minutes.
Run it from the repo root (mutmut works in ./mutants, a git-ignored copy of the tree):

    pip install -e ".[test,mutation]"
    python bench/mutation.py                 # every group
    python bench/mutation.py slugs dates     # some groups (see GROUPS below)
    python bench/mutation.py --jobs 4        # parallel test runs (default 2)
    python bench/mutation.py --report        # only print the scores of the last runs
    python bench/mutation.py --again claims  # only the mutants the last run left alive

It prints each group's score (caught / mutants tested; a mutant that makes the tests hang counts
as caught; a mutant that only changes the case of SQL is equivalent, so it is listed but left out
of the score, which is also given counting it) and lists every mutant left alive;
``mutmut show NAME`` shows one. Which files mutmut mutates and which test files it may pick
from are in pyproject.toml ``[tool.mutmut]``; the groups below pick the functions.
"""

from __future__ import annotations

import argparse
import ast
import fnmatch
import importlib.util
import io
import os
import re
import subprocess
import sys
import time
import tokenize
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

# Group -> mutant name patterns. mutmut names a mutant ``module.x_function__mutmut_N``, or
# ``module.xǁClassǁmethod__mutmut_N`` for a method.
GROUPS: dict[str, list[str]] = {
    # Category slugs: the public URL of every category feed.
    "slugs": ["feedkit.text.slugs.*"],
    # The output writer: atomic replace, file mode, failed writes, safe paths.
    "writer": ["feedkit.site.output.x_write_atomic__*",
               "feedkit.site.output.x__write_atomic__*",
               "feedkit.site.output.x__create_temp__*",
               "feedkit.site.output.x__write_atomic_stream__*",
               "feedkit.site.output.xǁOutputPlanǁcommit__*",
               "feedkit.site.output.x_safe_relpath__*"],
    # Fetch rules: robots.txt, Crawl-delay, per-host delay, retries and Retry-After,
    # conditional-GET validators (staged, committed, discarded when a source fails).
    "fetch": ["feedkit.ingest.fetch.xǁFetcherǁ_load_robots__*",
              "feedkit.ingest.fetch.xǁFetcherǁ_check_robots__*",
              "feedkit.ingest.fetch.xǁFetcherǁ_crawl_delay__*",
              "feedkit.ingest.fetch.xǁFetcherǁ_wait_turn__*",
              "feedkit.ingest.fetch.xǁFetcherǁ_attempts__*",
              "feedkit.ingest.fetch.x__retry_after__*",
              "feedkit.ingest.fetch.xǁHttpCacheǁ*",
              "feedkit.ingest.update.x_run_update__*"],
    # Date parsing: every date a board or feed gives, 12-hour clocks included.
    "dates": ["feedkit.ingest.normalize.x_parse_date__*",
              "feedkit.ingest.normalize.x__parse_date_text__*",
              "feedkit.ingest.normalize.x__hour12__*",
              "feedkit.ingest.normalize.x__make__*",
              "feedkit.ingest.normalize.x__dateutil__*"],
    # The digest's size budget: the HTML part as sent (CRLF, escaped personal links) must stay
    # under [digest] max_html_bytes, with room kept for each recipient's unsubscribe link.
    "budget": ["feedkit.digest.render.xǁDigestRendererǁemail__*",
               "feedkit.digest.render.xǁDigestRendererǁ_fit__*",
               "feedkit.digest.render.x_link_reserve__*",
               "feedkit.digest.compose.x_sent_size__*"],
    # The send loop and its log: each recipient once, failures retried or reported, every
    # attempt logged, the rate limit kept.
    "mail": ["feedkit.mail.send.x_deliver__*", "feedkit.mail.send.x__connection__*",
             "feedkit.mail.send.x_send_week__*", "feedkit.mail.send.xǁ_Runǁlog__*",
             "feedkit.mail.send.xǁRateLimiterǁacquire__*", "feedkit.mail.smtp.x__classify__*"],
    # The subscription endpoint: forms, signed links, CSRF, rate limits, its outbox and store
    # connections, the waitress server.
    "web": ["feedkit.web.*"],
    # The self-run list: the table's life cycle, consent, bounces (DSNs over IMAP), the CSV
    # import/export, signed tokens and personal links.
    "subscribers": ["feedkit.subscribers.*"],
    # Several senders on one store: which run sends to which reader, and a killed run's
    # readers taken over.
    "claims": ["feedkit.mail.claims.*"],
    # The editor's commands: approval and note (and their text export/import), withdraw and
    # restore; the CLI's own helpers for them (its click commands are decorated, which mutmut
    # leaves alone, so they are covered through the library functions they call).
    "editorial": ["feedkit.editorial.decisions.*", "feedkit.editorial.note.*",
                  "feedkit.editorial.withdrawals.*", "feedkit.cli.editorial.*",
                  "feedkit.cli.digest.x__when_sent__*", "feedkit.cli.digest.x__read_note__*"],
    # `feedkit store copy`: one backend to the other, every table, checked before and after.
    "copy": ["feedkit.store.copy.*"],
}


def run_mutmut(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mutmut", *args], capture_output=True,
                          text=True, env=env)


def shared_postgres():
    """One throwaway PostgreSQL cluster for the whole run (tests/pg.py), or None.

    Every mutant's test run is a new pytest session, which would otherwise start (initdb) and
    stop a cluster of its own for the tests that take the ``backend`` fixture: seconds per
    mutant. Handed to them as ``FEEDKIT_TEST_PG_URL``, each test still gets a fresh schema it
    drops. None when the environment already names a server, switches PostgreSQL off, or has
    none to start (those tests then do what they do without one)."""
    if os.environ.get("FEEDKIT_TEST_PG_URL") or os.environ.get("FEEDKIT_TEST_PG") == "off":
        return None
    sys.path.insert(0, str(REPO / "tests"))
    try:
        import pg
    except ImportError:
        return None
    bindir = pg.find_bindir()
    if bindir is None or pg._psycopg_missing():
        return None
    try:
        return pg.start_cluster(bindir)
    except pg.Unavailable as exc:
        print(f"no shared PostgreSQL for the run ({exc}); each test run starts its own",
              file=sys.stderr)
        return None


def statuses() -> dict[str, str]:
    out = run_mutmut("results", "--all", "true").stdout
    return dict(line.strip().rsplit(": ", 1) for line in out.splitlines() if ": " in line)


# Keywords that make a string literal SQL: feedkit writes them in capitals (an English message
# does not). Both SQLite and PostgreSQL read keywords and unquoted names in any case, so a mutant
# that only changes the case of such a string cannot change what the database does.
SQL_WORDS = re.compile(r"\b(SELECT|INSERT|UPDATE|DELETE|CREATE|ALTER|DROP|PRAGMA|WHERE|FROM|"
                       r"VALUES|BEGIN|COMMIT|ROLLBACK|SAVEPOINT|ON CONFLICT|ORDER BY|SET)\b")


def _strings(line: str) -> list[tuple[int, str]] | None:
    """The line's tokens as (type, text); a line that leaves a bracket open (a call that goes on
    below) gives the tokens before the end. None when it is not Python at all."""
    skip = (tokenize.NEWLINE, tokenize.NL, tokenize.INDENT, tokenize.DEDENT, tokenize.ENDMARKER,
            tokenize.COMMENT)
    tokens = []
    try:
        for t in tokenize.generate_tokens(io.StringIO(line).readline):
            if t.type not in skip:
                tokens.append((t.type, t.string))
    except tokenize.TokenError:
        return tokens or None   # "EOF in multi-line statement": the tokens so far are whole
    except (IndentationError, SyntaxError):
        return None
    return tokens


def _quoted(sql: str) -> list[str]:
    """The quoted parts of ``sql`` (values and quoted names: case-sensitive), and a lone quote."""
    return re.findall(r"'[^']*'?|\"[^\"]*\"?", sql)


def sql_case_only(diff: str) -> bool:
    """Whether a mutant's diff (``mutmut show``) only changes the case of SQL.

    Strict on purpose, so that no mutant a user could notice is counted as equivalent: exactly
    one line changed, the tokens differ only in string literals, each of those reads as SQL,
    differs only in case, and every quoted part of it is unchanged (a quoted SQL value or name
    is case-sensitive: ``status = 'active'`` is not ``status = 'ACTIVE'``)."""
    lines = [line for line in diff.splitlines()
             if line[:1] in "-+" and not line.startswith(("---", "+++"))]
    minus = [line[1:].strip() for line in lines if line[0] == "-"]
    plus = [line[1:].strip() for line in lines if line[0] == "+"]
    if len(minus) != 1 or len(plus) != 1 or minus == plus:
        return False
    before, after = _strings(minus[0]), _strings(plus[0])
    if before is None or after is None or len(before) != len(after):
        return False
    for (kind, old), (kind2, new) in zip(before, after, strict=True):
        if old == new:
            continue
        if kind != tokenize.STRING or kind2 != tokenize.STRING or old.lower() != new.lower():
            return False
        try:
            text = ast.literal_eval(old)
        except (ValueError, SyntaxError):
            return False  # an f-string: its names are Python, and Python reads case
        if not SQL_WORDS.search(text) or _quoted(text) != _quoted(ast.literal_eval(new)):
            return False
    return True


def report(groups: list[str]) -> None:
    status = statuses()
    for group in groups:
        mine = {name: s for name, s in status.items()
                if any(fnmatch.fnmatchcase(name, p) for p in GROUPS[group])}
        tested = {name: s for name, s in mine.items() if s != "not checked"}
        # A mutant that makes the tests hang (mutmut's CPU-time limit: "timeout") is caught
        # too: a CI run would fail on it. The line says how many were caught that way.
        killed = sum(s == "killed" for s in tested.values())
        hung = sum(s == "timeout" for s in tested.values())
        caught = killed + hung
        alive = sorted(name for name, s in tested.items() if s not in ("killed", "timeout"))
        # The usual mutation score leaves out equivalent mutants (no test could catch them);
        # only the one kind that can be told mechanically is left out here, and listed.
        equivalent = [name for name in alive
                      if sql_case_only(run_mutmut("show", name).stdout)]
        counted = len(tested) - len(equivalent)
        score = f"{100 * caught / counted:.1f} %" if counted else "not run"
        how = f", {hung} of them by a timeout" if hung else ""
        raw = f"; {caught}/{len(tested)} counting them" if equivalent else ""
        print(f"{group}: {caught}/{counted} caught ({score}{how}) "
              f"leaving out {len(equivalent)} SQL-case equivalents{raw}")
        for name in alive:
            kind = "equivalent (SQL case)" if name in equivalent else tested[name]
            print(f"    {kind}: {name}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("groups", nargs="*", choices=[[], *GROUPS], metavar="GROUP",
                        help=f"one of {', '.join(GROUPS)} (default: all)")
    parser.add_argument("--jobs", type=int, default=2, help="parallel test runs (default 2)")
    parser.add_argument("--report", action="store_true", help="only print the last scores")
    parser.add_argument("--again", action="store_true",
                        help="run only the mutants the last run left alive (after new tests)")
    args = parser.parse_args()
    groups = args.groups or list(GROUPS)
    if importlib.util.find_spec("mutmut") is None:
        print("mutmut is not installed: pip install -e '.[test,mutation]'", file=sys.stderr)
        return 2
    if not args.report:
        # One mutmut run for all chosen groups: its first step (running the selected tests once
        # to learn which tests cover which function) is then paid once.
        started = time.monotonic()
        patterns = [p for group in groups for p in GROUPS[group]]
        if args.again:
            # mutmut runs every mutant a pattern names again; exact names limit it to these.
            patterns = sorted(name for name, s in statuses().items()
                              if s not in ("killed", "timeout", "not checked")
                              and any(fnmatch.fnmatchcase(name, p) for p in patterns))
            if not patterns:
                report(groups)
                return 0
        cluster = shared_postgres()
        env = {**os.environ, "FEEDKIT_TEST_PG_URL": cluster.url} if cluster else None
        try:
            result = run_mutmut("run", "--max-children", str(args.jobs), *patterns, env=env)
        finally:
            if cluster is not None:
                cluster.stop()
        if result.returncode != 0 or "failed to collect stats" in result.stdout:
            print(result.stdout[-3000:] + result.stderr[-3000:], file=sys.stderr)
            return 1
        print(f"ran {', '.join(groups)} in {time.monotonic() - started:.0f} s", file=sys.stderr)
    report(groups)
    return 0


if __name__ == "__main__":
    sys.exit(main())
