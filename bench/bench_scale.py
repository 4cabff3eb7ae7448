"""Scale benchmark (issue 26): does the work follow what changed, at 20k, 200k and 1M articles?

A province-wide aggregator: synthetic Korean articles over ten years in 60 departments, the
README's feeds (RSS, Atom, JSON Feed, per category) and the digest archive. Per store size:

  import            of the whole JSONL into a fresh store           time, peak memory
  cold build        everything, the archive included (~770 files)   time, peak memory
  no-op build       nothing changed                                 time, peak memory
  +100 build        import 100 new articles (last week's news), then build: the build's time
  withdraw + build  ``feedkit withdraw`` of one old article (which builds)

Targets (issue 26): +100 build and withdraw + build <= 1 s and <= 100 MB at 1M, and within
1.5x of the same at 20k; cold build <= 300 MB at 1M; import <= 100 MB at 1M. Every command is a
child process (``python -m feedkit``) and its peak is its own ``ru_maxrss`` (os.wait4). After
the incremental rounds the output is compared with a cold build of the same store into another
folder: they must be byte-identical.

``--versus`` adds the side-by-side at the first size (20k), each pair run back to back,
alternating, ``--rounds`` times (ranges reported):

  import            vs ``sqlite-utils insert`` of the same JSONL        target <= 2.0x
  feed build (cold) vs bench/bare_feedgen.py (RSS + Atom, no archive)   reported
  full build        with the archive vs Hugo's RSS build of the same    target <= 0.7x
                    articles as content pages (Debian's hugo 0.111)

``--code DIR[:LABEL]`` runs a checkout's feedkit (say, the commit before a change, from ``git
archive``); given twice or more, the codes' commands run back to back, one each in turn, so
machine noise falls on both alike. Each cell gives the ranges over the rounds of elapsed time,
CPU time (the command's and its reader's) and peak memory. Data are generated once into
``--cache`` (1M articles: 1.7 GB of JSONL, a few minutes) and reused; each code's imported
store is kept there too (``--reuse-store`` skips the import).

Usage: python bench/bench_scale.py --cache /tmp/scale [--sizes 20000,200000,1000000]
       [--rounds 2] [--versus] [--code OLD:base --code .:new] [--pg]
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
import uuid
from datetime import datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from synth import DEPARTMENTS_60, SITE_TOML, write_jsonl  # noqa: E402

# A Wednesday: the archive ends with 2025-W01, the week the new articles land in.
NOW = "2025-01-08T12:00"
NEW_FROM, NEW_TO = datetime(2025, 1, 1), datetime(2025, 1, 8, 11)
NEW_IDS = 50_000_000          # the new articles' numbers (above any size's own)
CONFIG = SITE_TOML + """\
description = "벤치마크 광역 새소식"
language = "ko"
timezone = "Asia/Seoul"
author = "벤치마크"
[store]
{store}
[feeds]
limit = 50
formats = {formats}
per_category = true
[build]
out = "{out}"
[digest]
archive = {archive}
subject = "{{title}} · {{week_label}}"
from = "소식 <news@example.org>"
to = ["subscribers@lists.example.org"]
"""
ENV = {k: v for k, v in os.environ.items()
       if k not in ("PYTHONDONTWRITEBYTECODE", "FEEDKIT_STORE_URL", "FEEDKIT_NOW")}


class Code:
    """Which feedkit runs: this checkout, or another one's tree (``--code``)."""

    def __init__(self, path: Path | None, label: str):
        self.path, self.label = path, label
        self.env = dict(ENV, FEEDKIT_NOW=NOW)
        if path is not None:
            self.env["PYTHONPATH"] = str(path)
        root = path or HERE.parent
        subprocess.run([sys.executable, "-m", "compileall", "-q", str(root / "feedkit")],
                       check=True, env=self.env)

    def cmd(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "feedkit", "-q", *args]


class Run(tuple):
    """(seconds, CPU seconds, peak resident MB) of one command: its CPU time includes the
    processes it waited for (an import's reader), its peak is the largest one's."""

    elapsed = property(lambda self: self[0])
    cpu = property(lambda self: self[1])
    peak = property(lambda self: self[2])


def measure(cmd: list[str], cwd: Path, env: dict[str, str]) -> Run:
    """One child process, timed; stops the benchmark if it fails."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    assert proc.stderr is not None
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} (in {cwd}) failed: {err.decode()[-2000:]}")
    return Run((elapsed, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024))


def data(cache: Path, n: int) -> Path:
    """The ``n``-article JSONL, generated once (60 departments, ten years)."""
    path = cache / f"articles-{n}.jsonl"
    if not path.exists():
        print(f"generating {n} articles into {path} ...", flush=True)
        tmp = path.with_suffix(".tmp")
        write_jsonl(tmp, n, seed=26, departments=DEPARTMENTS_60)
        tmp.rename(path)
    return path


def new_articles(folder: Path, round_: int) -> Path:
    """100 articles no store has, dated in the week before NOW (the news of the day)."""
    return write_jsonl(folder / f"new-{round_}.jsonl", 100, seed=1000 + round_,
                       first=NEW_IDS + 100 * round_, start=NEW_FROM, end=NEW_TO,
                       departments=DEPARTMENTS_60)


def article_id(i: int) -> str:
    return f"https://www.brcn.go.kr/news/view.do?nttId={100000 + i}"


class Site:
    """A site folder whose store is a SQLite file, or a schema on a PostgreSQL server."""

    def __init__(self, folder: Path, pg_url: str = "", archive: bool = True,
                 formats: tuple[str, ...] = ("rss", "atom", "json"), db: Path | None = None):
        self.folder, self.pg_url = folder, pg_url
        folder.mkdir(parents=True, exist_ok=True)
        self.db = db or folder / "store.db"
        self.schema = f"scale_{uuid.uuid4().hex[:8]}" if pg_url else ""
        store = (f'url = "{pg_url}"\nschema = "{self.schema}"' if pg_url
                 else f'path = "{self.db.as_posix()}"')
        (folder / "config.toml").write_text(CONFIG.format(
            store=store, out=(folder / "public").as_posix(), archive=str(archive).lower(),
            formats=json.dumps(list(formats))), encoding="utf-8")

    def sql(self, statement: str) -> None:
        if self.pg_url:
            import psycopg

            with psycopg.connect(self.pg_url, autocommit=True) as conn:
                conn.execute(f"SET search_path TO {self.schema}")
                conn.execute(statement)
        else:
            with sqlite3.connect(self.db) as conn:
                conn.execute(statement)
            conn.close()

    def reset_output(self, out: str = "public") -> None:
        """As if never built: no output folder, no record of earlier outputs, no digest weeks
        kept (in a store that keeps them)."""
        shutil.rmtree(self.folder / out, ignore_errors=True)
        self.sql("DELETE FROM outputs")
        for statement in ("DELETE FROM archive_weeks", "DELETE FROM changed_hours",
                          "DELETE FROM meta WHERE key = 'archive_weeks'"):
            with contextlib.suppress(Exception):   # an older feedkit's store has no such table
                self.sql(statement)

    def drop_store(self) -> None:
        if self.pg_url:
            import psycopg

            with psycopg.connect(self.pg_url, autocommit=True) as conn:
                conn.execute(f"DROP SCHEMA IF EXISTS {self.schema} CASCADE")
        else:
            for p in self.db.parent.glob(self.db.name + "*"):
                p.unlink()


def tree_hash(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def span(values: list[float], unit: str = "s") -> str:
    lo, hi = min(values), max(values)
    fmt = "{:.0f}" if unit == "MB" else "{:.2f}"
    text = fmt.format(lo) if fmt.format(lo) == fmt.format(hi) else \
        f"{fmt.format(lo)}–{fmt.format(hi)}"
    return f"{text} {unit}"


def cell(runs: list[Run]) -> str:
    """"1.10–1.30 s (cpu 0.90–0.95 s), 40 MB": ranges over the rounds."""
    return (f"{span([r.elapsed for r in runs])} (cpu {span([r.cpu for r in runs])}), "
            f"{span([r.peak for r in runs], 'MB')}")


def scale(code: Code, n: int, args: argparse.Namespace, work: Path, row: dict[str, str]):
    """One store size for ``code``: fills ``row`` (the table's column), yielding after each
    command so that several codes' commands can run back to back (see main)."""
    site = Site(work / f"{code.label}-{n}", args.pg_url)
    cache_store = args.cache / f"store-{n}-{code.label}.db"
    if args.reuse_store and cache_store.exists() and not args.pg_url:
        shutil.copy(cache_store, site.db)
    else:
        runs = []
        for _ in range(args.import_rounds):
            site.drop_store()
            runs.append(measure(code.cmd("import", str(data(args.cache, n))), site.folder,
                                code.env))
            yield
        row["import"] = cell(runs)
        if not args.pg_url:
            shutil.copy(site.db, cache_store)
    build = code.cmd("build")
    runs = []
    for _ in range(args.cold_rounds):
        site.reset_output()
        runs.append(measure(build, site.folder, code.env))
        yield
    row["cold build"] = cell(runs)
    if args.hashes:
        listing = tree_hash(site.folder / "public")
        (args.hashes / f"cold-{n}-{code.label}.txt").write_text(
            "".join(f"{h}  {rel}\n" for rel, h in listing.items()), encoding="utf-8")
    runs = []
    for _ in range(args.rounds):
        runs.append(measure(build, site.folder, code.env))
        yield
    row["no-op build"] = cell(runs)
    runs, imports = [], []
    for r in range(args.rounds):
        imports.append(measure(code.cmd("import", str(new_articles(site.folder, r))),
                               site.folder, code.env))
        runs.append(measure(build, site.folder, code.env))
        yield
    row["+100 build"] = cell(runs) + f" (its import {span([i.elapsed for i in imports])})"
    runs = []
    for r in range(args.rounds):
        victim = article_id((n * 37 // 100 + 7919 * r) % n)
        runs.append(measure(code.cmd("withdraw", victim, "--reason", "bench"), site.folder,
                            code.env))   # withdraw builds
        yield
    row["withdraw + build"] = cell(runs)
    # The incremental output must be what a cold build of the same store makes.
    incremental = tree_hash(site.folder / "public")
    shutil.move(site.folder / "public", site.folder / "public-incremental")
    site.reset_output()
    measure(build, site.folder, code.env)
    cold = tree_hash(site.folder / "public")
    differ = sorted(k for k in set(cold) | set(incremental) if cold.get(k) != incremental.get(k))
    row["incremental = cold"] = "yes" if not differ else f"NO: {len(differ)} differ: {differ[:5]}"
    site.drop_store()
    shutil.rmtree(site.folder, ignore_errors=True)


def back_to_back(steps: list) -> None:
    """Advance each generator one command at a time, in turn, until all are done."""
    live = list(steps)
    while live:
        for step in list(live):
            try:
                next(step)
            except StopIteration:
                live.remove(step)


# -- side by side at 20k ---------------------------------------------------------------------

HUGO_CONFIG = """\
baseURL = "https://example.github.io/bench/"
languageCode = "ko"
title = "벤치마크 광역 새소식"
timeZone = "Asia/Seoul"
rssLimit = 50
disableKinds = ["sitemap", "robotsTXT", "404"]
[taxonomies]
category = "categories"
[outputs]
home = ["RSS"]
section = ["RSS"]
taxonomy = ["RSS"]
term = ["RSS"]
[markup.goldmark.renderer]
unsafe = true
[[cascade]]
[cascade._build]
render = "link"
list = "always"
[cascade._target]
kind = "page"
"""


def hugo_site(root: Path, jsonl: Path) -> Path:
    """The same articles as Hugo content pages (front matter + the HTML body), rendered to
    RSS only (home, sections, categories): what Hugo does for feeds alone."""
    site = root / "hugo"
    posts = site / "content" / "posts"
    posts.mkdir(parents=True)
    (site / "config.toml").write_text(HUGO_CONFIG, encoding="utf-8")
    with jsonl.open(encoding="utf-8") as fh:
        for i, line in enumerate(fh):
            a = json.loads(line)
            date = a["published"].replace(" ", "T") + "+09:00"
            front = {"title": a["title"], "date": date, "categories": [a["category"]],
                     "summary": a["summary"], "author": a["author"]}
            (posts / f"{i}.md").write_text(
                json.dumps(front, ensure_ascii=False) + "\n\n" + a["content_html"] + "\n",
                encoding="utf-8")
    return site


def versus(code: Code, n: int, args: argparse.Namespace, work: Path) -> list[str]:
    jsonl = data(args.cache, n)
    root = work / f"versus-{code.label}"
    root.mkdir()
    feeds = Site(root / "feeds", archive=False, formats=("rss", "atom"))
    full = Site(root / "full", archive=True, db=feeds.db)
    bare_db = root / "bare.db"
    sqlite_utils = Path(sys.executable).parent / "sqlite-utils"
    hugo = shutil.which("hugo")
    hugo_dir = hugo_site(root, jsonl) if hugo else None
    pairs = {"import / sqlite-utils insert": ("import", "sqlite-utils insert"),
             "feed build / bare feedgen": ("feed build", "bare feedgen"),
             "full build with archive / hugo feeds": ("full build with archive", "hugo feeds")}
    runs: dict[str, list[Run]] = {name: [] for pair in pairs.values() for name in pair}
    for _ in range(args.rounds):
        feeds.drop_store()
        runs["import"].append(measure(code.cmd("import", str(jsonl)), feeds.folder, code.env))
        for p in root.glob("bare.db*"):
            p.unlink()
        runs["sqlite-utils insert"].append(measure(
            [str(sqlite_utils), "insert", str(bare_db), "articles", str(jsonl), "--nl",
             "--pk", "id"], root, ENV))
    subprocess.run([str(sqlite_utils), "create-index", str(bare_db), "articles", "published"],
                   check=True, env=ENV, stdout=subprocess.DEVNULL)
    subprocess.run([str(sqlite_utils), "create-index", str(bare_db), "articles", "category",
                    "published"], check=True, env=ENV, stdout=subprocess.DEVNULL)
    for _ in range(args.rounds):
        feeds.reset_output()
        runs["feed build"].append(measure(code.cmd("build"), feeds.folder, code.env))
        shutil.rmtree(root / "bare-out", ignore_errors=True)
        runs["bare feedgen"].append(measure([sys.executable, str(HERE / "bare_feedgen.py"),
                                             str(bare_db), str(root / "bare-out")], root, ENV))
        full.reset_output()
        runs["full build with archive"].append(measure(code.cmd("build"), full.folder,
                                                       code.env))
        if hugo_dir is not None:
            shutil.rmtree(hugo_dir / "public", ignore_errors=True)
            shutil.rmtree(hugo_dir / "resources", ignore_errors=True)
            runs["hugo feeds"].append(measure([hugo, "--quiet", "-s", str(hugo_dir)], root,
                                              ENV))
    lines = [f"  {name}: {cell(values)}" for name, values in runs.items() if values]
    targets = {"import / sqlite-utils insert": 2.0, "full build with archive / hugo feeds": 0.7}
    for name, (ours, theirs) in pairs.items():
        if not runs[theirs]:
            lines.append(f"  {name}: (no hugo on PATH: apt-get install hugo)")
            continue
        by_time = [a.elapsed / b.elapsed for a, b in zip(runs[ours], runs[theirs], strict=True)]
        by_cpu = [a.cpu / b.cpu for a, b in zip(runs[ours], runs[theirs], strict=True)]
        target = targets.get(name)
        verdict = "" if target is None else \
            f" (target <= {target}x: {'ok' if max(by_time) <= target else 'MISS'})"
        lines.append(f"  {name}: {span(by_time, 'x')} by time, {span(by_cpu, 'x')} by CPU"
                     f"{verdict}")
    shutil.rmtree(root, ignore_errors=True)
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cache", type=Path, required=True,
                    help="folder for the generated articles and imported stores (reused)")
    ap.add_argument("--sizes", default="20000,200000,1000000")
    ap.add_argument("--rounds", type=int, default=2, help="incremental and side-by-side rounds")
    ap.add_argument("--cold-rounds", type=int, default=1)
    ap.add_argument("--import-rounds", type=int, default=1)
    ap.add_argument("--reuse-store", action="store_true",
                    help="take the imported store from --cache (skip the import)")
    ap.add_argument("--versus", action="store_true",
                    help="also sqlite-utils, bare feedgen and hugo side by side (first size)")
    ap.add_argument("--only-versus", action="store_true")
    ap.add_argument("--code", action="append", default=[], metavar="DIR[:LABEL]",
                    help="a checkout's tree to measure (repeat to compare: their commands "
                         "run back to back); default this checkout, labelled 'this'")
    ap.add_argument("--hashes", type=Path, help="write each cold build's sha256 listing here")
    ap.add_argument("--pg", action="store_true", help="the store on a durable PostgreSQL")
    ap.add_argument("--pg-url", default="", help="the store on this PostgreSQL server")
    args = ap.parse_args()
    args.cache.mkdir(parents=True, exist_ok=True)
    if args.hashes:
        args.hashes.mkdir(parents=True, exist_ok=True)
    if args.pg and not args.pg_url:
        from pg_server import start_durable

        args.pg_url = start_durable().url
    codes = []
    for spec in args.code or [""]:
        folder, _, label = spec.partition(":")
        codes.append(Code(Path(folder).resolve() if folder else None,
                          label or (Path(folder).name if folder else "this")))
    sizes = [int(s) for s in args.sizes.split(",")]
    work = args.cache / f"work-{os.getpid()}"
    work.mkdir()
    try:
        for code in codes:
            print(f"feedkit {code.label}: {code.path or HERE.parent}", flush=True)
        print(f"store: {'PostgreSQL' if args.pg_url else 'SQLite'}; now {NOW}", flush=True)
        if args.versus or args.only_versus:
            for code in codes:
                print(f"side by side at {sizes[0]} ({code.label}):", flush=True)
                for line in versus(code, sizes[0], args, work):
                    print(line, flush=True)
        if args.only_versus:
            return
        rows: dict[tuple[str, int], dict[str, str]] = {}
        for n in sizes:
            for code in codes:
                rows[code.label, n] = {}
            back_to_back([scale(code, n, args, work, rows[code.label, n]) for code in codes])
            for code in codes:
                print(f"{code.label} {n}: " + "; ".join(
                    f"{k} {v}" for k, v in rows[code.label, n].items()), flush=True)
        for code in codes:
            names = list(rows[code.label, sizes[0]])
            print(f"\n| {code.label} | " + " | ".join(f"{n:,}" for n in sizes) + " |")
            print("|---" * (len(sizes) + 1) + "|")
            for name in names:
                print(f"| {name} | " + " | ".join(rows[code.label, n].get(name, "")
                                                for n in sizes) + " |")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
