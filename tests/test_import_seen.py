"""Duplicate ids in one import, caught in a few bytes per record (feedkit.ingest.seen)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from conftest import Site

from feedkit.ingest.seen import SeenIds


def test_a_repeated_id_names_where_it_was_first_taken() -> None:
    seen = SeenIds()
    places = ["a.jsonl:1", "a.jsonl:2", "b.csv:10", "https://x.example/list item 3", "feed",
              "a.jsonl:007", "c.jsonl:4294967296"]
    for i, where in enumerate(places):
        assert seen.take(f"https://a.example/{i}", where) is None
    for i, where in enumerate(places):
        assert seen.take(f"https://a.example/{i}", "later.jsonl:99") == where
    assert seen.take("https://a.example/new", "later.jsonl:100") is None
    assert len(seen) == len(places) + 1


def test_many_ids_grow_the_table_and_are_all_found() -> None:
    seen = SeenIds()
    n = 50_000
    for i in range(n):
        assert seen.take(f"아이디-{i}", f"big.jsonl:{i + 1}") is None
    for i in range(0, n, 997):
        assert seen.take(f"아이디-{i}", "again.jsonl:1") == f"big.jsonl:{i + 1}"
    assert seen.take("아이디-x", "again.jsonl:2") is None


def test_an_import_with_duplicates_names_both_lines(site: Site, tmp_path: Path) -> None:
    first = tmp_path / "one.jsonl"
    second = tmp_path / "two.jsonl"
    rows = [{"title": f"소식 {i}", "url": f"https://a.example/{i}", "published": "2024-06-11"}
            for i in range(5)]
    first.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows),
                     encoding="utf-8")
    second.write_text("\n" + json.dumps(rows[3], ensure_ascii=False) + "\n", encoding="utf-8")
    result = site.run("import", str(first), str(second), ok=False)
    assert result.exit_code == 3
    assert (f"{second}:2: duplicate id 'https://a.example/3' (first at {first}:4; kept that "
            "one)") in result.stderr
    assert "5 inserted" in result.stdout


def test_import_memory_does_not_hold_every_id(tmp_path: Path) -> None:
    """200,000 distinct ids taken: the table costs about 30 bytes each (6 MB), where the ids
    and places as strings cost ~200 bytes each (40 MB)."""
    code = (
        "import resource, sys\n"
        "from feedkit.ingest.seen import SeenIds\n"
        "seen = SeenIds()\n"
        "before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "for i in range(200_000):\n"
        "    seen.take(f'https://www.brcn.go.kr/news/view.do?nttId={i}', f'big.jsonl:{i + 1}')\n"
        "print((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024)\n")
    grown = float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                 check=True).stdout)
    assert grown < 15, f"{grown:.1f} MB for 200,000 ids"
