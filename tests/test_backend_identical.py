"""The same news gives the same bytes on SQLite and on PostgreSQL (issue 11, done-when).

Each case builds one site twice, once per backend, with the same commands (import, export, a
withdrawn article, an editor's note, build with the digest archive, a second build and an
update that must change nothing, the digest render of one week as .eml, HTML, text and web
page) and compares every file of both output folders byte for byte, and what the commands
printed. The cases: the
bundled sample with the repository's config.toml, the 255 real-world records (when present),
and records made to catch ordering that differs between the databases (equal publication
times broken by ids that differ only in case, Korean and emoji ids and categories of equal
size, one instant written with two offsets).

PostgreSQL runs them in a database whose default collation is Korean (ICU ``ko-KR``), as a
server set up in Korea would have: ordering there puts "_", emoji and Hangul before Latin
letters and ignores case first, so only the store's own ``COLLATE "C"`` columns can give
SQLite's byte order. Without ICU in the server, the session's database is used.
"""

from __future__ import annotations

import json
import shutil
import uuid
from pathlib import Path

import pg
import pytest
from click.testing import CliRunner
from realworld import real_world_dir

from feedkit.cli import cli

REPO = Path(__file__).resolve().parents[1]


def tie_records(path: Path) -> Path:
    """Records whose order only a byte-wise collation settles the same way everywhere."""
    ids = ["A", "a", "B", "b", "Z", "_", "가", "나", "é", "e", "😀", "Ω", "0", "9", "~"]
    categories = ["alpha", "Alpha", "가나", "Zeta", "zeta", "😀 행사", "éclair", "E"]
    rows = []
    for n, ident in enumerate(ids):
        for week in range(3):
            day = 9 + 7 * week           # three Mondays of December 2024 (weeks 50-52)
            stamp = (f"2024-12-{day:02d}T01:00:00+09:00" if n % 2 else
                     f"2024-12-{day - 1:02d}T16:00:00Z")   # the same instant, other offset
            rows.append({
                "id": f"https://www.brcn.go.kr/news/{ident}/{week}",
                "url": f"https://www.brcn.go.kr/news/{ident}/{week}",
                "title": f"{ident} 소식 {week}",
                "summary": f"{ident} 요약",
                "published": stamp,
                "category": categories[n % len(categories)],
            })
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows),
                    encoding="utf-8")
    return path


CASES = [
    pytest.param("sample", "2024-12-31T12:00", "2024-W51", id="sample"),
    pytest.param("real-world", "2025-12-31T12:00", "2025-W49", id="real-world",
                 marks=pytest.mark.real_world),
    pytest.param("ties", "2024-12-31T12:00", "2024-W51", id="ties"),
]


def make_site(root: Path, store_lines: str) -> Path:
    root.mkdir(parents=True)
    text = (REPO / "config.toml").read_text(encoding="utf-8")
    assert '[store]\npath = "articles.db"\n' in text
    (root / "config.toml").write_text(
        text.replace('[store]\npath = "articles.db"\n', store_lines), encoding="utf-8")
    shutil.copytree(REPO / "data", root / "data")
    return root


def build(root: Path, case: str, now: str, week: str, tmp: Path) -> list[str]:
    """Run the case's commands in ``root``; what they printed (folder names taken out)."""
    env = {"FEEDKIT_NOW": now, "FEEDKIT_STORE_URL": None}
    log: list[str] = []

    def run(*args: str) -> None:
        result = CliRunner().invoke(cli, ["--config", str(root / "config.toml"), *args],
                                    env=env)
        assert result.exit_code in (0, 3), f"feedkit {args}: {result.output}{result.stderr}"
        text = f"$ {' '.join(args)} -> {result.exit_code}\n{result.stdout}{result.stderr}"
        log.append(text.replace(str(root), "<site>").replace(str(tmp), "<tmp>"))

    if case == "sample":
        run("import")
    elif case == "real-world":
        run("import", str(real_world_dir() / "real_korean_news.jsonl"))
    else:
        run("import", str(tie_records(tmp / "ties.jsonl")))
    # The export (store order: by id) is compared too; one article from the middle of it is
    # withdrawn (the withdrawn table, and feeds without it), and the week gets a note.
    run("export")
    lines = log[-1].splitlines()[1:]
    run("withdraw", json.loads(lines[len(lines) // 2])["id"], "--reason", "정정", "--no-build")
    run("digest", "note", "--week", week, "이번 주 **알림**: [안내](https://www.brcn.go.kr/)")
    run("build")
    run("build")    # nothing changed: the skip-unchanged path
    run("update")   # the config's file source read again, then a build: all unchanged
    out = root / "digest-out"
    out.mkdir()
    run("digest", "render", "--week", week, "--eml", str(out / "week.eml"),
        "--html", str(out / "week.html"), "--text", str(out / "week.txt"),
        "--web", str(out / "web.html"))
    return log


def files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes()
            for folder in ("public", "digest-out")
            for p in sorted((root / folder).rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def korean_db(pg_url: str) -> str:
    """A database whose default collation is ICU ko-KR (dropped afterwards); the session's
    own database when the server cannot make one."""
    import psycopg

    name = f"feedkit_test_ko_{uuid.uuid4().hex[:8]}"
    try:
        with pg.connect(pg_url) as conn:
            conn.execute(f"CREATE DATABASE {name} TEMPLATE template0 ENCODING 'UTF8' "
                         "LOCALE_PROVIDER icu ICU_LOCALE 'ko-KR' LOCALE 'C.UTF-8'")
    except psycopg.Error:
        yield pg_url
        return
    url = pg_url.rsplit("/", 1)[0] + "/" + name
    yield url
    with pg.connect(pg_url) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def test_the_korean_database_orders_text_unlike_bytes(korean_db: str, pg_url: str) -> None:
    if korean_db == pg_url:
        pytest.skip("the server cannot make an ICU ko-KR database (built without ICU?)")
    words = ["a", "B", "가", "Z", "_", "😀"]
    values = ", ".join(f"('{w}')" for w in words)
    with pg.connect(korean_db) as conn:
        ordered = [r[0] for r in conn.execute(f"SELECT x FROM (VALUES {values}) v(x) ORDER BY x")]
    assert ordered != sorted(words)   # sorted(): code points, i.e. UTF-8 bytes, as SQLite


@pytest.mark.parametrize("case, now, week", CASES)
def test_both_backends_build_byte_identical_output(case: str, now: str, week: str,
                                                   tmp_path: Path, korean_db: str) -> None:
    url, schema = korean_db, pg.new_schema_name()
    lite = make_site(tmp_path / "sqlite", '[store]\npath = "articles.db"\n')
    post = make_site(tmp_path / "postgresql", f'[store]\nurl = "{url}"\nschema = "{schema}"\n')
    lite_log = build(lite, case, now, week, tmp_path)
    post_log = build(post, case, now, week, tmp_path)
    assert post_log == lite_log
    a, b = files(lite), files(post)
    assert sorted(b) == sorted(a)
    assert len(a) > 10 and any(name.startswith("public/digest/") for name in a)
    assert all(a[name] for name in ("digest-out/week.eml", "digest-out/week.html",
                                    "digest-out/week.txt", "digest-out/web.html"))
    differing = [name for name in a if a[name] != b[name]]
    assert differing == []
    # The store on PostgreSQL really was used (not a SQLite file beside the config).
    assert not (post / "articles.db").exists() and (lite / "articles.db").exists()
