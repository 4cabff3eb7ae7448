"""`feedkit import`: the sample, re-imports, hostile input, every file format; each test on
SQLite and on PostgreSQL, the store read back with sqlite3 / psycopg."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from conftest import SAMPLE, Site

from feedkit.store.articles import SCHEMA_VERSION


@pytest.fixture
def site(site: Site, backend) -> Site:
    """The conftest site, on SQLite and on PostgreSQL."""
    return site.use(backend)


def sample_records() -> list[dict]:
    return [json.loads(line) for line in SAMPLE.read_text(encoding="utf-8").splitlines()]


def test_import_without_arguments_loads_the_configured_sample(site: Site) -> None:
    result = site.run("import")
    records = sample_records()
    assert f"{len(records)} inserted, 0 updated, 0 unchanged, 0 rejected" in result.output
    stored = dict(site.rows("SELECT id, title FROM articles"))
    assert stored == {r["id"]: r["title"] for r in records}
    if site.is_pg:
        assert site.rows("SELECT version FROM feedkit_schema") == [(SCHEMA_VERSION,)]
        assert not site.db.exists()
    else:
        assert site.rows("PRAGMA user_version") == [(SCHEMA_VERSION,)]
        assert site.rows("PRAGMA journal_mode") == [("wal",)]


def test_reimport_is_unchanged_and_writes_nothing(site: Site) -> None:
    site.run("import")
    before = site.rows("SELECT id, hash, first_seen, last_changed FROM articles ORDER BY id")
    result = site.run("import")
    assert "0 inserted, 0 updated, 7 unchanged" in result.output
    assert site.rows("SELECT id, hash, first_seen, last_changed FROM articles ORDER BY id") \
        == before


def test_changed_record_is_updated_and_keeps_first_seen(site: Site, tmp_path: Path) -> None:
    site.run("import")
    records = sample_records()
    first_seen = dict(site.rows("SELECT id, first_seen FROM articles"))
    records[0]["title"] = "고친 제목"
    changed = tmp_path / "changed.jsonl"
    changed.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in records),
                       encoding="utf-8")
    result = site.run("import", str(changed))
    assert "0 inserted, 1 updated, 6 unchanged, 0 rejected" in result.output
    rows = dict(site.rows("SELECT id, title FROM articles"))
    assert rows[records[0]["id"]] == "고친 제목"
    assert dict(site.rows("SELECT id, first_seen FROM articles")) == first_seen


HOSTILE_LINES = [
    # 1: fine, but with a BOM in front of the file, control characters and a script
    '{"title": "정상\\u0000 제목\\u0007", "url": "https://a.example/1", "published": "2024-06-11",'
    ' "content_html": "<p onmouseover=\\"x()\\">본문<script>alert(1)</script>'
    '<a href=\\"/rel\\">상대</a><a href=\\"javascript:alert(2)\\">js</a></p>"}',
    # 2: broken JSON
    '{"title": "깨진 줄", "url": ',
    # 3: no title
    '{"url": "https://a.example/3", "published": "2024-06-11"}',
    # 4: impossible date
    '{"title": "날짜 오류", "url": "https://a.example/4", "published": "2024-02-30"}',
    # 5: missing date
    '{"title": "날짜 없음", "url": "https://a.example/5"}',
    # 6: relative URL
    '{"title": "상대 주소", "url": "/news/6", "published": "2024-06-11"}',
    # 7: duplicate of line 1
    '{"title": "중복", "url": "https://a.example/1", "published": "2024-06-12"}',
    # 8: a very long title and an iframe
    '{"title": "' + "아주 긴 제목 " * 400 + '", "url": "https://a.example/8",'
    ' "published": "2024.06.12 09:00", "content_html": "<iframe src=\\"https://evil.example\\">'
    '</iframe><img src=\\"x.png\\" onerror=\\"alert(1)\\">"}',
    # 9: not an object
    '["an", "array"]',
    # 10: javascript URL as the article URL
    '{"title": "나쁜 링크", "url": "javascript:alert(1)", "published": "2024-06-11"}',
    # 11: fine, CRLF line ending handled by the reader, unknown field warned about
    '{"title": "마지막", "url": "https://a.example/11", "published": "2024년 6월 13일",'
    ' "views": 12}\r',
]


def write_hostile(path: Path) -> Path:
    path.write_bytes(b"\xef\xbb\xbf" + "\n".join(HOSTILE_LINES).encode("utf-8") + b"\n")
    return path


def test_hostile_records_are_reported_by_line_and_good_ones_import(site: Site,
                                                                   tmp_path: Path) -> None:
    bad = write_hostile(tmp_path / "hostile.jsonl")
    result = site.run("import", str(bad), ok=False)
    assert result.exit_code == 3  # partly done: the good records were imported
    assert "Traceback" not in result.output
    assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit)
    err = result.stderr
    expected = {2: "broken JSON", 3: "missing title", 4: "impossible date", 5: "missing date",
                6: "not an absolute http(s) URL", 7: "duplicate id", 9: "expected a JSON object",
                10: "not an absolute http(s) URL"}
    for line, reason in expected.items():
        assert any(row.startswith(f"{bad}:{line}: ") and reason in row
                   for row in err.splitlines()), (line, reason, err)
    assert "ignored unknown fields: views" in err
    assert "3 inserted, 0 updated, 0 unchanged, 8 rejected" in result.stdout

    rows = {r[0]: r for r in site.rows("SELECT url, title, content_html FROM articles")}
    assert set(rows) == {"https://a.example/1", "https://a.example/8", "https://a.example/11"}
    assert rows["https://a.example/1"][1] == "정상 제목"
    body = rows["https://a.example/1"][2]
    assert "script" not in body and "onmouseover" not in body and "javascript:" not in body
    assert 'href="https://a.example/rel"' in body
    long_title, long_body = rows["https://a.example/8"][1:]
    assert len(long_title) <= 300
    assert "iframe" not in long_body and "onerror" not in long_body
    assert 'src="https://a.example/x.png"' in long_body

    # And nothing unsafe reaches any output (the feed pages' own copy-button script aside: one
    # exact tag loading the bundled copy.js, which is not among the files read here).
    site.run("build")
    own_script = re.compile(r'<script src="(?:\.\./)*copy\.js" defer></script>')
    for path in site.out.rglob("*"):
        if path.is_file() and path.suffix in (".xml", ".json", ".html"):
            text = own_script.sub("", path.read_text(encoding="utf-8"), count=1)
            for bad_text in ("<script", "&lt;script", "onerror", "onmouseover", "javascript:",
                             "<iframe", "&lt;iframe", "\x00", "\x07"):
                assert bad_text not in text, (path, bad_text)


def test_csv_with_bom_crlf_and_quoted_newlines(site: Site, tmp_path: Path) -> None:
    csv_path = tmp_path / "news.csv"
    csv_path.write_bytes(
        b"\xef\xbb\xbf" + (
            "title,url,published,summary,category,tags\r\n"
            '"보령 머드축제, 개막",https://a.example/c1,2024-07-19,'
            '"첫 줄\r\n둘째 줄",관광과,"축제;여름"\r\n'
            "제목 없음 행,,2024-07-20,,,\r\n"
            "세 번째,https://a.example/c3,2024/07/21 10:00,,,\r\n"
        ).encode())
    result = site.run("import", str(csv_path), ok=False)
    assert result.exit_code == 3
    assert f"{csv_path}:4: missing URL" in result.stderr  # record 2 starts on line 4
    rows = {r[0]: r[1:] for r in site.rows(
        "SELECT url, title, summary, category, tags FROM articles")}
    assert rows["https://a.example/c1"] == ("보령 머드축제, 개막", "첫 줄 둘째 줄", "관광과",
                                            '["축제", "여름"]')
    assert "https://a.example/c3" in rows


def test_json_array_errors_carry_line_numbers(site: Site, tmp_path: Path) -> None:
    path = tmp_path / "news.json"
    path.write_text(
        '[\n  {"title": "하나", "url": "https://a.example/j1", "published": "2024-06-11"},\n'
        '  {"title": "둘", "url": "https://a.example/j2"},\n'
        '  {"title": "셋", "url": "https://a.example/j3", "published": "2024-06-12"}\n]\n',
        encoding="utf-8")
    result = site.run("import", str(path), ok=False)
    assert f"{path}:3: missing date" in result.stderr
    assert "2 inserted" in result.stdout


def test_unreadable_files_fail_with_one_line(site: Site, tmp_path: Path) -> None:
    missing = site.run("import", str(tmp_path / "nope.jsonl"), ok=False)
    assert missing.exit_code == 1
    assert missing.stderr.strip() == f"feedkit: error: {tmp_path / 'nope.jsonl'}: no such file"
    latin = tmp_path / "latin.csv"
    latin.write_bytes("title,url,published\n\xe9t\xe9,https://a.example/x,2024-01-01\n"
                      .encode("latin-1"))
    result = site.run("import", str(latin), ok=False)
    assert result.exit_code == 1
    assert f"{latin}:2: not valid UTF-8" in result.stderr
    assert "Traceback" not in result.output
    unknown = tmp_path / "news.xml"
    unknown.write_text("<rss/>", encoding="utf-8")
    assert "unknown file type" in site.run("import", str(unknown), ok=False).stderr


def test_import_is_one_transaction(site: Site, tmp_path: Path) -> None:
    """A file that cannot be read stops the import before anything is written."""
    good = tmp_path / "good.jsonl"
    good.write_text('{"title": "t", "url": "https://a.example/t", "published": "2024-01-01"}\n',
                    encoding="utf-8")
    result = site.run("import", str(good), str(tmp_path / "missing.jsonl"), ok=False)
    assert result.exit_code == 1
    assert site.rows("SELECT count(*) FROM articles") == [(0,)]
