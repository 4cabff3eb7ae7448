"""Benchmark: peak memory of ``feedkit export --out`` as the store grows (issue 14, item 7).

Each export runs in its own child process (a small Python wrapper that runs the command and
prints its children's peak RSS from ``resource.getrusage``), so one measurement never carries
another's peak. The same store is exported twice per size: once to a new file, once more onto
that file (the "unchanged" path, which must not hold the old file in memory either).

``--pythonpath DIR`` measures another feedkit tree (e.g. an older commit unpacked with
``git archive COMMIT | tar -x -C DIR``) against the same stores, for a before/after figure.

Usage: python bench/bench_export.py [--sizes 50000 200000] [--pythonpath OLD_TREE]
Target: the peak at 200k within 1.2x of the peak at 50k (flat), and far below the export size.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from synth import write_jsonl  # noqa: E402

CONFIG = """\
[site]
title = "벤치마크"
url = "https://www.brcn.go.kr/"
feed_url = "https://example.github.io/bench/"

[store]
path = "articles.db"
"""

WRAPPER = (
    "import resource, subprocess, sys, time; t = time.perf_counter(); "
    "rc = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL).returncode; "
    "print(rc, time.perf_counter() - t, "
    "resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)"
)


def measure(cmd: list[str], env: dict[str, str], cwd: Path) -> tuple[float, float]:
    """(seconds, peak RSS in MiB) of ``cmd`` run in a fresh child. ``cwd`` is outside any
    feedkit tree: ``python -m`` would otherwise import the tree in the current folder."""
    out = subprocess.run([sys.executable, "-c", WRAPPER, *cmd], env=env, check=True,
                         capture_output=True, text=True, cwd=cwd).stdout.split()
    if out[0] != "0":
        raise SystemExit(f"{' '.join(cmd)} failed with exit code {out[0]}")
    return float(out[1]), float(out[2])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[50_000, 200_000])
    parser.add_argument("--pythonpath", action="append", default=[],
                        help="another feedkit tree to measure too (repeatable)")
    args = parser.parse_args()
    repo = str(HERE.parent)
    trees = [("this tree", repo), *((p, p) for p in args.pythonpath)]
    with tempfile.TemporaryDirectory(prefix="feedkit-bench-export-") as tmp:
        root = Path(tmp)
        print(f"{'tree':<28} {'articles':>9} {'export MB':>10} {'new s':>7} {'new MiB':>8} "
              f"{'same s':>7} {'same MiB':>9}")
        for size in args.sizes:
            folder = root / str(size)
            folder.mkdir()
            (folder / "config.toml").write_text(CONFIG, encoding="utf-8")
            data = write_jsonl(folder / "in.jsonl", size)
            env = {**os.environ, "PYTHONPATH": repo}
            base = [sys.executable, "-m", "feedkit", "--config", str(folder / "config.toml"),
                    "-q"]
            t = time.perf_counter()
            subprocess.run([*base, "import", str(data)], env=env, check=True, cwd=folder)
            print(f"  (import of {size:,} articles: {time.perf_counter() - t:.1f} s)")
            for label, path in trees:
                env = {**os.environ, "PYTHONPATH": path}
                out = folder / f"export-{abs(hash(label))}.jsonl"
                new_s, new_mib = measure([*base, "export", "--out", str(out)], env, folder)
                same_s, same_mib = measure([*base, "export", "--out", str(out)], env, folder)
                mb = out.stat().st_size / 1e6
                print(f"{label[-28:]:<28} {size:>9,} {mb:>10.0f} {new_s:>7.1f} {new_mib:>8.0f} "
                      f"{same_s:>7.1f} {same_mib:>9.0f}")


if __name__ == "__main__":
    main()
