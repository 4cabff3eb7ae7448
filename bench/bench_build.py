"""Benchmark for the foundation: import, build, no-op rebuild, store size, memory, --help.

Runs feedkit and its yardsticks side by side in one process tree, so machine noise affects
both alike, and reports ratios against the targets:

  import          vs `sqlite-utils insert` of the same JSONL          target <= 2.5x
  build (cold)    vs bare feedgen script writing the same RSS + Atom  target <= 1.5x
  no-op rebuild   vs that bare feedgen script                         target <= 0.5x
  build 100k      vs build 20k (cost follows output, not store size)  target <= 1.3x
  peak memory     of any feedkit run                                  target <= 300 MB
  feedkit --help                                                      target <= 0.3 s

Usage: python bench/bench_build.py [--articles 20000] [--big 100000] [--repeat 3]
Needs the bench extra: pip install -e ".[bench]"
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from synth import SITE_TOML, write_jsonl  # noqa: E402

BIN = Path(sys.executable).parent
CONFIG = SITE_TOML + """\
author = "보령시"
[store]
path = "{db}"
[feeds]
limit = 50
formats = ["rss", "atom"]
[build]
out = "{out}"
[digest]
archive = {archive}
"""


# Measure as installed software runs: with byte-code caches (some shells export
# PYTHONDONTWRITEBYTECODE, which would recompile feedkit's modules on every start).
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def run(cmd: list[str], cwd: Path) -> tuple[float, float]:
    """(seconds, peak RSS in MB of this child)."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            env=ENV)
    _, err = proc.communicate()
    status = proc.returncode
    elapsed = time.perf_counter() - start
    if status != 0:
        raise SystemExit(f"{' '.join(cmd)} failed: {err.decode()[-2000:]}")
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return elapsed, peak


def median_of(repeat: int, setup, cmd: list[str], cwd: Path) -> float:
    times = []
    for _ in range(repeat):
        setup()
        times.append(run(cmd, cwd)[0])
    return statistics.median(times)


def site(root: Path, name: str, archive: bool = False, db: Path | None = None) -> Path:
    """A site folder. The feed comparisons run without the digest archive (the yardstick
    writes feeds only); the full build, archive included, is measured on its own."""
    folder = root / name
    folder.mkdir()
    (folder / "config.toml").write_text(
        CONFIG.format(db=(db or folder / "store.db").as_posix(),
                      out=(folder / "public").as_posix(), archive=str(archive).lower()),
        encoding="utf-8")
    return folder


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--articles", type=int, default=20_000)
    ap.add_argument("--big", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    feedkit = str(BIN / "feedkit")
    sqlite_utils = str(BIN / "sqlite-utils")
    if not Path(sqlite_utils).exists():
        raise SystemExit("sqlite-utils is missing: pip install -e '.[bench]'")
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(HERE.parent / "feedkit"),
                    str(HERE)], check=True, env=ENV)
    root = Path(tempfile.mkdtemp(prefix="feedkit-bench-"))
    try:
        data = write_jsonl(root / "articles.jsonl", args.articles)
        big = write_jsonl(root / "big.jsonl", args.big, seed=7)
        size_kb = data.stat().st_size / args.articles / 1024
        print(f"{args.articles} articles, {size_kb:.2f} KB each; big store {args.big}")
        results = []

        # -- import vs sqlite-utils insert ------------------------------------------------
        s = site(root, "fk")
        bare_db = root / "bare.db"

        def fresh_fk() -> None:
            for p in s.glob("store.db*"):
                p.unlink()

        def fresh_bare() -> None:
            for p in root.glob("bare.db*"):
                p.unlink()

        t_import = median_of(args.repeat, fresh_fk, [feedkit, "-q", "import", str(data)], s)
        t_insert = median_of(args.repeat, fresh_bare, [sqlite_utils, "insert", str(bare_db),
                             "articles", str(data), "--nl", "--pk", "id"], root)
        results.append(("import vs sqlite-utils insert", t_import, t_insert, 2.5))
        subprocess.run([sqlite_utils, "create-index", str(bare_db), "articles", "published"],
                       check=True)
        subprocess.run([sqlite_utils, "create-index", str(bare_db), "articles", "category",
                        "published"], check=True)

        # -- cold build vs bare feedgen -----------------------------------------------------
        def fresh_out() -> None:
            shutil.rmtree(s / "public", ignore_errors=True)
            subprocess.run([sys.executable, "-c", "import sqlite3,sys; "
                            "c=sqlite3.connect(sys.argv[1]); c.execute('DELETE FROM outputs'); "
                            "c.commit()", str(s / "store.db")], check=True)

        def fresh_bare_out() -> None:
            shutil.rmtree(root / "bare-out", ignore_errors=True)

        bare_cmd = [sys.executable, str(HERE / "bare_feedgen.py"), str(bare_db),
                    str(root / "bare-out")]
        t_build = median_of(args.repeat, fresh_out, [feedkit, "-q", "build"], s)
        t_bare = median_of(args.repeat, fresh_bare_out, bare_cmd, root)
        results.append(("build (cold) vs bare feedgen", t_build, t_bare, 1.5))
        t_noop = median_of(args.repeat, lambda: None, [feedkit, "-q", "build"], s)
        results.append(("no-op rebuild vs bare feedgen", t_noop, t_bare, 0.5))

        # -- the whole build as users run it: feeds + index + ~520-week digest archive --------
        full = site(root, "full", archive=True, db=s / "store.db")

        def fresh_full() -> None:
            shutil.rmtree(full / "public", ignore_errors=True)

        t_full = median_of(args.repeat, fresh_full, [feedkit, "-q", "build"], full)
        t_full_noop = median_of(args.repeat, lambda: None, [feedkit, "-q", "build"], full)

        # -- 100k store: cost must follow what is written ----------------------------------
        b = site(root, "big")
        run([feedkit, "-q", "import", str(big)], b)

        def fresh_big_out() -> None:
            shutil.rmtree(b / "public", ignore_errors=True)
            subprocess.run([sys.executable, "-c", "import sqlite3,sys; "
                            "c=sqlite3.connect(sys.argv[1]); c.execute('DELETE FROM outputs'); "
                            "c.commit()", str(b / "store.db")], check=True)

        t_big = median_of(args.repeat, fresh_big_out, [feedkit, "-q", "build"], b)
        results.append((f"build {args.big // 1000}k vs {args.articles // 1000}k store", t_big,
                        t_build, 1.3))
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024

        # -- --help --------------------------------------------------------------------------
        t_help = median_of(5, lambda: None, [feedkit, "--help"], root)

        print(f"\n{'measure':38} {'feedkit':>9} {'yardstick':>10} {'ratio':>6} {'target':>7}")
        ok = True
        for name, ours, theirs, target in results:
            ratio = ours / theirs
            ok &= ratio <= target
            flag = "ok" if ratio <= target else "MISS"
            print(f"{name:38} {ours:8.3f}s {theirs:9.3f}s {ratio:6.2f} {target:6.2f}x {flag}")
        print(f"{'full build with digest archive (cold)':38} {t_full:8.3f}s {'':>10} {'':>6} "
              f"{20:6.1f}s {'ok' if t_full <= 20 else 'MISS'}")
        print(f"{'full build with digest archive (no-op)':38} {t_full_noop:8.3f}s {'':>10} "
              f"{'':>6} {1:6.1f}s {'ok' if t_full_noop <= 1 else 'MISS'}")
        print(f"{'feedkit --help':38} {t_help:8.3f}s {'':>10} {'':>6} {0.3:6.2f}s "
              f"{'ok' if t_help <= 0.3 else 'MISS'}")
        print(f"{'peak memory (largest child process)':38} {peak:7.0f}MB {'':>10} {'':>6} "
              f"{300:5d}MB {'ok' if peak <= 300 else 'MISS'}")
        ok &= t_help <= 0.3 and peak <= 300
        sys.exit(0 if ok else 1)
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
