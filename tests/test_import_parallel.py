"""A large import reads and normalises in a second process (feedkit.ingest.pipeline): what it
stores and reports is exactly what the one-process import gives, errors included."""

from __future__ import annotations

import json
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from test_import import write_hostile

from feedkit.errors import FeedkitError
from feedkit.ingest.importer import FileSpec, import_files
from feedkit.store.articles import Store

SEOUL = ZoneInfo("Asia/Seoul")


def _files(tmp_path: Path) -> list[FileSpec]:
    hostile = write_hostile(tmp_path / "hostile.jsonl")
    many = tmp_path / "many.jsonl"
    rows = [{"title": f"소식 {i}", "url": f"https://a.example/n/{i}",
             "published": f"2024-06-{1 + i % 28:02d} 09:00", "department": "세무과",
             "content_html": f"<p>본문 {i} <a href='/f/{i}.hwp'>첨부</a></p>", "odd": i}
            for i in range(700)]
    rows[500] = dict(rows[3], title="다시")                        # a duplicate id
    rows[600] = dict(rows[7], withdrawn={"at": "2024-07-01T00:00:00+00:00",
                                         "reason": "정정"})       # withdrawn, but a duplicate
    rows.append({"title": "철회", "url": "https://a.example/w", "published": "2024-06-02",
                 "withdrawn": {"at": "2024-07-01T00:00:00+00:00", "reason": "법적 요청"}})
    rows.append({"title": "잘못", "url": "https://a.example/w2", "published": "2024-06-02",
                 "withdrawn": {"at": "어제", "reason": "x"}})
    many.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows),
                    encoding="utf-8")
    csv = tmp_path / "more.csv"
    csv.write_text("title,url,published\n표,https://a.example/1,2024-06-11\n"
                   "표2,https://a.example/c2,2024-06-12\n", encoding="utf-8")
    return [FileSpec(hostile), FileSpec(many, default_category="기본"), FileSpec(csv)]


def _rows(store: Store) -> list[tuple]:
    return store.db.execute("SELECT id, title, category, hash FROM articles UNION ALL "
                            "SELECT id, title, category, hash FROM withdrawn ORDER BY 1"
                            ).fetchall()


def test_the_second_process_gives_the_same_import(tmp_path: Path) -> None:
    specs = _files(tmp_path)
    results = []
    for parallel in (False, True):
        with Store(tmp_path / f"store-{parallel}.db") as store:
            report = import_files(store, specs, SEOUL, parallel=parallel)
            results.append((report.rejected, report.warnings, report.counts, report.withdrawn,
                            _rows(store)))
    one, two = results
    assert one == two
    rejected = one[0]
    many = str(tmp_path / "many.jsonl")
    assert f"{many}:501: duplicate id 'https://a.example/n/3' (first at {many}:4; kept that " \
           "one)" in rejected
    assert any(r.startswith(f"{many}:601: duplicate id") for r in rejected)
    assert any(r.startswith(f"{many}:702: withdrawn") for r in rejected)
    assert one[3] == 1
    assert f"{many}: ignored unknown fields: odd" in one[1]


def test_a_file_that_breaks_half_way_imports_nothing_either_way(tmp_path: Path) -> None:
    good = tmp_path / "good.jsonl"
    good.write_text(json.dumps({"title": "좋음", "url": "https://a.example/g",
                                "published": "2024-06-11"}) + "\n", encoding="utf-8")
    broken = tmp_path / "broken.json"
    broken.write_text('[{"title": "a", "url": "https://a.example/b", "published": "2024-06-11"},'
                      '\n{"title": ', encoding="utf-8")
    messages = []
    for parallel in (False, True):
        with Store(tmp_path / f"store-{parallel}.db") as store:
            with pytest.raises(FeedkitError) as caught:
                import_files(store, [FileSpec(good), FileSpec(broken)], SEOUL,
                             parallel=parallel)
            assert store.count() == 0
            messages.append(str(caught.value))
    assert messages[0] == messages[1] and str(broken) in messages[0]
