"""Benchmark: `feedkit validate` over the 20,000-article site's output vs building it.

The validator is the gate the scheduled workflow runs after every build, so it must not cost
more than the build itself (issue 24: "validating the 20,000-article benchmark site's output
takes no longer than building it"). Both run as the installed `feedkit` program, back to back
in turn, on the same output folder; the report gives the median of each and their ratio, plus
how many feed files and bytes were checked, the CPU time of each, and the validator's
instruction count (`perf stat`, when available): steadier than seconds on a shared machine.

Usage: python bench/bench_validate.py [--articles 20000] [--repeat 5]
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
path = "store.db"
[[sources]]
kind = "jsonl"
path = "{data}"
[feeds]
limit = 50
[build]
out = "public"
"""
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
TARGET = 1.0  # validate / build


CPU: dict[str, list[float]] = {}  # command -> CPU seconds (user + system) of each run


def timed(cmd: list[str], cwd: Path, ok_codes: tuple[int, ...] = (0,)) -> float:
    """Wall seconds of one run; its CPU seconds go to CPU[cmd's last word]."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                          env=ENV)
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode not in ok_codes:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}): "
                         f"{proc.stderr.decode()[-2000:]}")
    CPU.setdefault(cmd[-1], []).append(after.ru_utime - before.ru_utime
                                       + after.ru_stime - before.ru_stime)
    return elapsed


def instructions(cmd: list[str], cwd: Path) -> int | None:
    """User-space instructions of one run, from `perf stat` (None where perf is missing)."""
    perf = shutil.which("perf")
    if not perf:
        return None
    proc = subprocess.run([perf, "stat", "-x,", "-e", "instructions:u", *cmd], cwd=cwd,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=ENV, text=True)
    for line in proc.stderr.splitlines():
        fields = line.split(",")
        if len(fields) > 2 and "instructions" in fields[2] and fields[0].isdigit():
            return int(fields[0])
    return None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--articles", type=int, default=20_000)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    feedkit = str(BIN / "feedkit")
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(HERE.parent / "feedkit")],
                   check=True, env=ENV)
    root = Path(tempfile.mkdtemp(prefix="feedkit-bench-validate-"))
    try:
        data = write_jsonl(root / "articles.jsonl", args.articles)
        site = root / "site"
        site.mkdir()
        (site / "config.toml").write_text(CONFIG.format(data=data.as_posix()), encoding="utf-8")
        timed([feedkit, "-q", "update"], site)

        def fresh_build() -> float:
            shutil.rmtree(site / "public", ignore_errors=True)
            subprocess.run([sys.executable, "-c", "import sqlite3,sys; "
                            "c=sqlite3.connect(sys.argv[1]); c.execute('DELETE FROM outputs'); "
                            "c.commit()", str(site / "store.db")], check=True)
            return timed([feedkit, "-q", "build"], site)

        builds, checks = [], []
        for _ in range(args.repeat):  # interleaved, so machine noise hits both alike
            builds.append(fresh_build())
            checks.append(timed([feedkit, "-q", "validate"], site))
        feeds = [p for p in (site / "public").rglob("*") if p.suffix in (".xml", ".json")]
        size = sum(p.stat().st_size for p in feeds)
        t_build, t_check = statistics.median(builds), statistics.median(checks)
        ratio = t_check / t_build
        print(f"{args.articles} articles: {len(feeds)} feed files, {size / 1e6:.1f} MB checked")
        print(f"build (cold)  {t_build:7.3f}s   (runs: {', '.join(f'{t:.2f}' for t in builds)})")
        print(f"validate      {t_check:7.3f}s   (runs: {', '.join(f'{t:.2f}' for t in checks)})")
        cpu_build, cpu_check = statistics.median(CPU["build"]), statistics.median(CPU["validate"])
        print(f"CPU time      build {cpu_build:.2f}s, validate {cpu_check:.2f}s "
              f"(ratio {cpu_check / cpu_build:.2f}; steadier than wall time on a busy machine)")
        count = instructions([feedkit, "-q", "validate"], site)
        if count:
            print(f"validate      {count / 1e9:7.2f} G instructions (perf stat)")
        flag = "ok" if ratio <= TARGET else "MISS"
        print(f"validate / build = {ratio:.2f} (target <= {TARGET:.1f}) {flag}")
        sys.exit(0 if ratio <= TARGET else 1)
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
