"""Compare `feedkit validate` with the real W3C Feed Validator, file by file.

The W3C validator (github.com/w3c/feedvalidator) cannot be a dependency, but a developer can run
it locally as a yardstick: check out its source, give it a Python with its three packages
(``lxml html5lib rdflib``), and this script runs both validators over the same files and lists,
per W3C message code, where only one of them reports something (a code and its special cases
count as the same, as ``feedkit.validate.kind_of`` says). Info notes are left out: the W3C
service does not show them and feedkit does not report them.

  python -m venv /tmp/w3c-venv && /tmp/w3c-venv/bin/pip install lxml html5lib rdflib
  git clone https://github.com/w3c/feedvalidator /tmp/feedvalidator
  python bench/w3c_compare.py --w3c /tmp/feedvalidator --python /tmp/w3c-venv/bin/python \\
      ../shared/w3c-feedvalidator/testcases            # the suite (atom, rss, rss20 cases)
  python bench/w3c_compare.py ... --base https://example.github.io/news/ public/   # a site

Feeds are addressed as the suite's runner addresses them (``http://www.feedvalidator.org/`` +
path), or ``--base`` + the path inside the folder for a built site.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

# Runs under the W3C validator's Python: reads "path<TAB>address" lines, prints JSON lines.
_RUNNER = r"""
import json, sys
sys.path.insert(0, sys.argv[1])
import feedvalidator
from feedvalidator import logging as L
for line in sys.stdin:
    path, base = line.rstrip("\n").split("\t")
    try:
        events = feedvalidator.validateString(open(path, "rb").read(), fallback="UTF-8",
                                              base=base)["loggedEvents"]
        codes = sorted({e.__class__.__name__ for e in events
                        if isinstance(e, (L.Error, L.Warning))})
    except Exception as exc:
        codes = ["(crash: %s)" % exc.__class__.__name__]
    print(json.dumps([path, codes]), flush=True)
"""


def files(root: Path) -> list[Path]:
    if (root / "atom").is_dir() and (root / "rss20").is_dir():  # the suite: as its runner
        return sorted(p for fmt in ("atom", "rss", "rss20") for p in (root / fmt).glob("*/*.xml"))
    return sorted(root.rglob("*.xml"))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("folder", type=Path)
    ap.add_argument("--w3c", type=Path, required=True, help="a feedvalidator checkout")
    ap.add_argument("--python", default=sys.executable, help="a Python with lxml, html5lib, "
                    "rdflib")
    ap.add_argument("--base", help="the public address of FOLDER (default: the suite's)")
    args = ap.parse_args()
    from feedkit.validate import kind_of, validate_feed

    root = args.folder.resolve()
    paths = files(root)
    if args.base:
        address = {p: args.base.rstrip("/") + "/" + p.relative_to(root).as_posix() for p in paths}
    else:
        address = {p: "http://www.feedvalidator.org/testcases/" + p.relative_to(root).as_posix()
                   for p in paths}
    lines = "".join(f"{p}\t{address[p]}\n" for p in paths)
    out = subprocess.run([args.python, "-c", _RUNNER, str(args.w3c / "src")], input=lines,
                         capture_output=True, text=True, check=True).stdout
    only_fk: Counter[str] = Counter()
    only_w3c: Counter[str] = Counter()
    where: dict[str, list[str]] = {}
    agree = 0
    for line in out.splitlines():
        path, w3c = json.loads(line)
        p = Path(path)
        ours = {x.code for x in validate_feed(p.read_bytes(), p.name, address[p])}
        rel = p.relative_to(root).as_posix()
        same = True
        for code in ours:
            if not any(kind_of(code, w) or kind_of(w, code) for w in w3c):
                only_fk[code] += 1
                where.setdefault("fk " + code, []).append(rel)
                same = False
        for code in w3c:
            if not any(kind_of(c, code) or kind_of(code, c) for c in ours):
                only_w3c[code] += 1
                where.setdefault("w3c " + code, []).append(rel)
                same = False
        agree += same
    print(f"{len(paths)} files; both validators report the same codes for {agree}")
    for title, counts, key in (("only feedkit reports", only_fk, "fk "),
                               ("only the W3C validator reports", only_w3c, "w3c ")):
        print(f"\n{title}:")
        for code, n in counts.most_common():
            print(f"  {code:32} {n:4}  e.g. {', '.join(where[key + code][:2])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
