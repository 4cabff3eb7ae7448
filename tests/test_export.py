"""`feedkit export`: sorted JSON Lines that round-trip through import with nothing lost, from
and into a SQLite or a PostgreSQL store (the CLI tests run on both)."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pg
import pytest
from conftest import Site
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from feedkit.ingest.importer import FileSpec, import_files
from feedkit.site.export import export_bytes
from feedkit.store.articles import Store


@pytest.fixture
def built_site(built_backend_site: Site) -> Site:
    """The sample imported and built, on SQLite and on PostgreSQL."""
    return built_backend_site


def test_export_import_export_is_byte_identical(built_site: Site, tmp_path: Path) -> None:
    first = tmp_path / "first.jsonl"
    built_site.run("export", "--out", str(first))
    with built_site.backend.another(tmp_path / "other") as fresh:
        other = Site(tmp_path / "other").use(fresh)
        other.run("import", str(first))
        second = tmp_path / "second.jsonl"
        other.run("export", "--out", str(second))
        assert first.read_bytes() == second.read_bytes()
        lines = first.read_text(encoding="utf-8").splitlines()
        ids = [json.loads(line)["id"] for line in lines]
        assert ids == sorted(ids)
        # Every stored column that makes up an article comes back the same.
        cols = "id, url, title, summary, content_html, published, updated, author, category, " \
               "tags, image, hash"
        assert built_site.rows(f"SELECT {cols} FROM articles ORDER BY id") == \
            other.rows(f"SELECT {cols} FROM articles ORDER BY id")


def test_export_to_stdout_and_unchanged_file(built_site: Site, tmp_path: Path) -> None:
    out = built_site.run("export")
    assert len(out.stdout.splitlines()) == 7
    target = tmp_path / "store.jsonl"
    built_site.run("export", "--out", str(target))
    mtime = target.stat().st_mtime_ns
    again = built_site.run("export", "--out", str(target))
    assert "(unchanged)" in again.output
    assert target.stat().st_mtime_ns == mtime


# Arbitrary characters mixed with fragments that look like markup and entities.
text = st.lists(st.one_of(st.characters(blacklist_categories=("Cs",)), st.sampled_from(
    ["<b>", "</b>", "&amp;", "&lt;", "&gt;", "&", "<", ">", "<?", "<!--", "더보기", "...", "…",
     "\u00a0", "\u200b", " "])), max_size=15).map("".join)
record = st.fixed_dictionaries(
    {"title": text.filter(lambda t: t.strip()), "url": st.sampled_from(
        [f"https://a.example/{i}" for i in range(30)]),
     "published": st.datetimes(min_value=datetime(2000, 1, 1),
                               max_value=datetime(2030, 1, 1)).map(lambda d: d.isoformat())},
    optional={"summary": text, "content_html": text.map(lambda t: f"<p>{t}</p>"),
              "category": text, "tags": st.lists(text, max_size=3), "author": text},
)


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(record, max_size=12, unique_by=lambda r: r["url"]))
def test_round_trip_holds_for_arbitrary_records(records: list[dict]) -> None:
    tz = ZoneInfo("Asia/Seoul")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        src = root / "in.jsonl"
        src.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
        with Store(root / "a.db") as a:
            import_files(a, [FileSpec(src)], tz)
            first = export_bytes(a)
        (root / "out.jsonl").write_bytes(first)
        with Store(root / "b.db") as b:
            report = import_files(b, [FileSpec(root / "out.jsonl")], tz)
            assert report.rejected == []
            assert export_bytes(b) == first


def test_round_trip_holds_for_arbitrary_records_on_postgresql(pg_url: str) -> None:
    """The same property through PostgreSQL (text that SQLite and PostgreSQL might store
    differently: controls, NUL, astral characters, entities). Fewer examples than on SQLite
    above: two schemas serve every example, emptied in between."""
    tz = ZoneInfo("Asia/Seoul")
    empty = "DELETE FROM articles; DELETE FROM withdrawn; DELETE FROM meta"
    with pg.fresh_schema(pg_url) as a_schema, pg.fresh_schema(pg_url) as b_schema, \
            tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)

        @settings(deadline=None, max_examples=30,
                  suppress_health_check=[HealthCheck.too_slow])
        @given(st.lists(record, max_size=12, unique_by=lambda r: r["url"]))
        def check(records: list[dict]) -> None:
            src = root / "in.jsonl"
            src.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
            with Store(pg_url, schema=a_schema.schema) as a:
                pg.pg_rows(pg_url, a_schema.schema, empty, fetch=False)
                import_files(a, [FileSpec(src)], tz)
                first = export_bytes(a)
            (root / "out.jsonl").write_bytes(first)
            with Store(pg_url, schema=b_schema.schema) as b:
                pg.pg_rows(pg_url, b_schema.schema, empty, fetch=False)
                report = import_files(b, [FileSpec(root / "out.jsonl")], tz)
                assert report.rejected == []
                assert export_bytes(b) == first

        check()


def _log_key(address: str, secret: str) -> str:
    """The send-log key, computed here without feedkit (HMAC-SHA256, see feedkit.privacy)."""
    import hashlib
    import hmac

    msg = b"feedkit send-log v1\n" + address.lower().encode()
    return "hmac-sha256:" + hmac.new(secret.encode(), msg, hashlib.sha256).hexdigest()


def test_send_log_survives_export_and_import(built_site: Site, tmp_path: Path,
                                             monkeypatch) -> None:
    """The CI workflow rebuilds the store each run; who got which digest must survive it, and
    the exported file (committed to the site repository) names nobody."""
    secret = "export-test-secret-0123456789"
    monkeypatch.setenv("FEEDKIT_SECRET", secret)
    ka, kb = _log_key("a@example.org", secret), _log_key("b@example.org", secret)
    insert = ("INSERT INTO send_log (week, recipient, message_id, status, attempts, error, "
              "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)")
    # rows as an older feedkit wrote them: addresses in clear, one in the error text too
    for row in [("2024-W24", "a@example.org", "<m1@example.org>", "sent", 1, "",
                 "2024-06-17T00:00"),
                ("2024-W24", "b@example.org", "<m2@example.org>", "failed", 3,
                 "550 <B@example.org>: no", "x")]:
        built_site.backend.execute(insert, *row)
    store_file, log_file = tmp_path / "store.jsonl", tmp_path / "send-log.jsonl"
    built_site.run("export", "--out", str(store_file), "--send-log", str(log_file))
    exported = log_file.read_text(encoding="utf-8")
    assert "example.org>: no" not in exported and "@example.org\"" not in exported
    assert "a@example.org" not in exported and "b@example.org" not in exported.lower()
    assert ka in exported and kb in exported and "550 <recipient>: no" in exported
    with built_site.backend.another(tmp_path / "fresh") as other:
        fresh = Site(tmp_path / "fresh").use(other)
        # A fresh store that already marked b as sent keeps "sent" (never downgraded).
        fresh.run("import", str(store_file))
        other.execute(insert, "2024-W24", kb, "<m2@example.org>", "sent", 4, "", "y")
        fresh.run("import", "--send-log", str(log_file), str(store_file))
        rows = dict((r[0], r[1]) for r in fresh.rows(
            "SELECT recipient, status FROM send_log WHERE week = '2024-W24'"))
        assert rows == {ka: "sent", kb: "sent"}
        again = tmp_path / "again.jsonl"
        built_site.run("export", "--send-log", str(again))
        assert again.read_bytes() == log_file.read_bytes()
        # exporting a log that is all keys needs no secret
        monkeypatch.delenv("FEEDKIT_SECRET")
        fresh.run("export", "--send-log", str(tmp_path / "keys-only.jsonl"))


@pytest.mark.parametrize(("field", "value", "problem"), [
    ("error", "550 x\u0000y", "error holds a NUL character"),
    ("attempts", "1", "attempts must be a whole number"),
    ("week", 24, "week must be a string"),
])
def test_a_send_log_record_either_backend_cannot_hold_is_refused_by_line(
        backend_site: Site, tmp_path: Path, field, value, problem) -> None:
    """The same refusal on both backends (PostgreSQL cannot store a NUL in text at all; SQLite
    would take it, and the store could then never move to PostgreSQL), naming the line, and
    nothing of the file imported."""
    good = {"week": "2024-W24", "recipient": "hmac-sha256:" + "a" * 64,
            "message_id": "<m1@example.org>", "status": "sent", "attempts": 1, "error": "",
            "updated_at": "2024-06-17T00:00:00+00:00"}
    log = tmp_path / "send-log.jsonl"
    log.write_text(json.dumps(good) + "\n" + json.dumps({**good, "recipient": "hmac-sha256:"
                                                          + "b" * 64, field: value}) + "\n",
                   encoding="utf-8")
    result = backend_site.run("import", "--send-log", str(log), ok=False)
    assert result.exit_code == 1
    assert result.stderr.strip() == \
        f"feedkit: error: {log}:2: not a send-log record ({problem})"
    assert backend_site.rows("SELECT count(*) FROM send_log") == [(0,)]


# -- streaming (issue 14, item 7) ---------------------------------------------------------------


def _store_with(tmp_path: Path, count: int, body_chars: int = 2000) -> Path:
    src = tmp_path / f"in-{count}.jsonl"
    with src.open("w", encoding="utf-8") as fh:
        for i in range(count):
            fh.write(json.dumps({"title": f"기사 {i}", "url": f"https://a.example/{i:06d}",
                                 "published": "2025-01-02T09:00:00+09:00",
                                 "content_html": f"<p>{'보령 ' * (body_chars // 3)}{i}</p>"},
                                ensure_ascii=False) + "\n")
    db = tmp_path / f"s-{count}.db"
    with Store(db) as store:
        import_files(store, [FileSpec(src)], ZoneInfo("Asia/Seoul"))
    return db


def test_export_streams_with_memory_far_below_its_size(tmp_path: Path) -> None:
    """Peak Python memory while exporting 3,000 articles (about 17 MB of JSON Lines) stays a
    small fraction of the output: it is written as it is read, never held whole."""
    import tracemalloc

    from feedkit.site.export import export_chunks
    from feedkit.site.output import write_atomic_stream

    db = _store_with(tmp_path, 3000)
    target = tmp_path / "out.jsonl"
    with Store(db) as store:
        tracemalloc.start()
        try:
            assert write_atomic_stream(target, export_chunks(store)) is True
            _size, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        expected = export_bytes(store)
    assert target.read_bytes() == expected
    assert len(expected) > 15_000_000
    assert peak < len(expected) / 10, f"peak {peak:,} bytes for {len(expected):,} exported"


STREAM_EXPORT = """
import sys
from pathlib import Path
from feedkit.site.export import export_chunks
from feedkit.site.output import write_atomic_stream
from feedkit.store.articles import Store

def kib(field):   # this process's own figures (ru_maxrss would start from the parent's peak)
    with open("/proc/self/status") as fh:
        return next(int(line.split()[1]) for line in fh if line.startswith(field + ":"))

with Store(sys.argv[1], schema=sys.argv[2]) as store:
    before = kib("VmRSS")
    write_atomic_stream(Path(sys.argv[3]), export_chunks(store))
print(before, kib("VmHWM"))
"""


def test_export_streams_from_postgresql_too(pg_schema, tmp_path: Path) -> None:
    """16,000 articles (about 85 MB of JSON Lines) exported from PostgreSQL: the process grows
    by far less than the file. libpq memory is invisible to tracemalloc, so this measures the
    resident size of a child process (a plain query would hold the whole result first)."""
    if not Path("/proc/self/status").exists():
        pytest.skip("measures resident memory through /proc/self/status (Linux)")
    url, schema = pg_schema
    with Store(url, schema=schema):
        pass
    pg.pg_rows(url, schema, """
        INSERT INTO articles (id, url, title, summary, content_html, published, published_ts,
            updated, updated_ts, author, category, tags, image, hash, first_seen, last_changed)
        SELECT 'https://a.example/' || lpad(i::text, 6, '0'),
               'https://a.example/' || lpad(i::text, 6, '0'), '기사 ' || i, '',
               '<p>' || repeat('보령 ', 700) || i || '</p>', '2025-01-02T09:00:00+09:00',
               1735776000, '2025-01-02T09:00:00+09:00', 1735776000, '', '', '[]', '',
               md5(i::text), 'x', 'x'
        FROM generate_series(1, 16000) AS i""", fetch=False)
    target = tmp_path / "out.jsonl"
    done = subprocess.run([sys.executable, "-c", STREAM_EXPORT, url, schema, str(target)],
                          capture_output=True, text=True, timeout=300, check=True)
    before, peak = map(int, done.stdout.split())
    size = target.stat().st_size
    with target.open(encoding="utf-8") as fh:
        assert sum(1 for _ in fh) == 16000
    assert size > 80_000_000
    assert (peak - before) * 1024 < size / 4, \
        f"grew {(peak - before) // 1024} MiB exporting {size // 2**20} MiB"


def test_streamed_export_replaces_only_a_different_file(tmp_path: Path) -> None:
    from feedkit.site.export import export_chunks
    from feedkit.site.output import write_atomic_stream

    db = _store_with(tmp_path, 1200, body_chars=30)
    target = tmp_path / "out.jsonl"
    with Store(db) as store:
        expected = export_bytes(store)
        # Same bytes: untouched. A prefix, a longer file, one byte changed: replaced.
        for old in (expected, expected[:-100], expected + b"{}\n",
                    expected[:5000] + b"X" + expected[5001:], b""):
            target.write_bytes(old)
            mtime = target.stat().st_mtime_ns
            changed = write_atomic_stream(target, export_chunks(store))
            assert changed is (old != expected)
            assert target.read_bytes() == expected
            if not changed:
                assert target.stat().st_mtime_ns == mtime
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def test_an_export_that_fails_half_way_leaves_the_old_file(tmp_path: Path) -> None:
    folder = tmp_path / "exports"
    folder.mkdir()
    target = folder / "store.jsonl"
    target.write_bytes(b"previous export\n")

    def failing():
        yield b'{"id": "1"}\n'
        raise OSError(28, "No space left on device")

    from feedkit.errors import FeedkitError
    from feedkit.site.output import write_atomic_stream

    try:
        write_atomic_stream(target, failing())
    except FeedkitError as exc:
        assert "No space left on device: the disk is full" in str(exc)
    else:
        raise AssertionError("no error")
    assert target.read_bytes() == b"previous export\n"
    assert [p.name for p in folder.iterdir()] == ["store.jsonl"]
