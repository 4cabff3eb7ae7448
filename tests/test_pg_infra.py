"""The PostgreSQL test infrastructure itself (tests/pg.py): the throwaway server answers, each
test's schema is its own, the cluster sorts like SQLite, and without a server the PostgreSQL
cases skip saying why instead of erroring."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

import pg
import pytest

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "data" / "boryeong.jsonl"


def _own_cluster(pg_url: str) -> None:
    """Skip for an outside server ($FEEDKIT_TEST_PG_URL): its settings are its own."""
    if os.environ.get("FEEDKIT_TEST_PG_URL"):
        pytest.skip("checks the cluster tests/pg.py starts, not an outside server")


def test_server_answers_select_version(pg_url):
    with pg.connect(pg_url) as conn:
        version = conn.execute("SELECT version()").fetchone()[0]
        number = conn.info.server_version  # psycopg's own reading of the server
    assert version.startswith("PostgreSQL "), version
    assert number >= 120000 and version.split()[1].startswith(str(number // 10000))


def test_cluster_is_loopback_only_with_room_for_the_concurrency_tests(pg_url):
    _own_cluster(pg_url)
    with pg.connect(pg_url) as conn:
        shown = {name: conn.execute(f"SHOW {name}").fetchone()[0]
                 for name in ("listen_addresses", "max_connections", "fsync", "server_encoding")}
    assert shown == {"listen_addresses": "127.0.0.1", "max_connections": "200", "fsync": "off",
                     "server_encoding": "UTF8"}
    assert pg_url.startswith("postgresql://postgres@127.0.0.1:")


def test_cluster_collation_sorts_bytes_like_sqlite(pg_url):
    """'B' (0x42) before 'a' (0x61), Hangul (0xEA…) after ASCII: the order SQLite's BINARY
    collation gives, so ORDER BY on either backend builds the same files."""
    _own_cluster(pg_url)
    with pg.connect(pg_url) as conn:
        rows = conn.execute("SELECT x FROM (VALUES ('a'), ('가'), ('B'), ('Z'), ('b')) v(x) "
                            "ORDER BY x").fetchall()
    assert [r[0] for r in rows] == ["B", "Z", "a", "b", "가"]


def test_schemas_are_distinct_and_do_not_see_each_other(pg_url, pg_schema):
    import psycopg

    url, schema = pg_schema
    assert url == pg_url
    with pg.fresh_schema(pg_url) as other, pg.connect(pg_url) as conn:
        assert other.schema != schema
        conn.execute(f"CREATE SCHEMA {schema}")
        conn.execute(f"CREATE SCHEMA {other.schema}")
        conn.execute(f"CREATE TABLE {schema}.articles (id int)")
        conn.execute(f"INSERT INTO {schema}.articles VALUES (1)")
        conn.execute(f"SET search_path TO {other.schema}")
        assert conn.execute("SELECT to_regclass('articles')").fetchone()[0] is None
        with pytest.raises(psycopg.errors.UndefinedTable):
            conn.execute("SELECT * FROM articles")
        conn.execute(f"SET search_path TO {schema}")
        assert conn.execute("SELECT id FROM articles").fetchall() == [(1,)]
    # Leaving fresh_schema dropped the other one, table-less or not; pg_schema's own is next.
    with pg.connect(pg_url) as conn:
        names = {r[0] for r in conn.execute("SELECT nspname FROM pg_namespace")}
    assert schema in names and other.schema not in names


def test_fresh_schema_drops_its_tables_with_it(pg_url):
    with pg.fresh_schema(pg_url) as s, pg.connect(pg_url) as conn:
        conn.execute(f"CREATE SCHEMA {s.schema}")
        conn.execute(f"CREATE TABLE {s.schema}.t (x text)")
    with pg.connect(pg_url) as conn:
        assert conn.execute("SELECT to_regclass(%s)", (f"{s.schema}.t",)).fetchone()[0] is None
        assert conn.execute("SELECT count(*) FROM pg_namespace WHERE nspname = %s",
                            (s.schema,)).fetchone()[0] == 0


def test_backend_describes_where_the_store_lives(backend, tmp_path):
    config = tomllib.loads(backend.store_lines())["store"]
    if backend.name == "sqlite":
        assert config == {"path": "articles.db"}
        assert backend.target() == tmp_path / "articles.db"
        assert backend.store_kwargs() == {}
        assert "FEEDKIT_STORE_URL" not in backend.env({"FEEDKIT_STORE_URL": "postgresql://x"})
    else:
        assert config == {"url": backend.url, "schema": backend.schema}
        assert tomllib.loads(backend.store_lines(with_url=False))["store"] == {
            "schema": backend.schema}
        assert backend.target() == backend.url and backend.url.startswith("postgresql://")
        assert backend.store_kwargs() == {"schema": backend.schema}
        assert backend.env({"PATH": "/bin"}) == {"PATH": "/bin", "FEEDKIT_STORE_URL": backend.url}
        with pg.connect(backend.target()) as conn:  # the URL works as given
            assert conn.execute("SELECT current_user").fetchone()[0] == "postgres"


def test_backend_rows_reads_with_the_databases_own_client(backend):
    """Rows written by sqlite3 / psycopg directly come back through ``backend.rows``, ``?``
    placeholders on both, Korean text intact, from the backend's own file or schema."""
    create = "CREATE TABLE articles (id integer, title text)"
    insert = [(1, "보령 머드축제"), (2, "Boryeong")]
    if backend.name == "sqlite":
        import sqlite3

        with sqlite3.connect(backend.path) as db:
            db.execute(create)
            db.executemany("INSERT INTO articles VALUES (?, ?)", insert)
        db.close()
    else:
        with pg.connect(backend.url) as conn:
            conn.execute(f"CREATE SCHEMA {backend.schema}")
            conn.execute(f"SET search_path TO {backend.schema}")
            conn.execute(create)
            conn.cursor().executemany("INSERT INTO articles VALUES (%s, %s)", insert)
    assert backend.rows("SELECT id, title FROM articles WHERE id >= ? ORDER BY id", 1) == insert
    assert backend.rows("SELECT title FROM articles WHERE id = ?", 2) == [("Boryeong",)]


def test_backend_configures_a_site(backend, site):
    backend.configure(site)
    config = tomllib.loads(site.config.read_text(encoding="utf-8"))
    assert config["store"] == tomllib.loads(backend.store_lines())["store"]
    assert config["site"]["title"] == "보령시 새소식"  # the rest untouched


def test_backend_site_imports_into_its_own_store(backend, site):
    """End to end with feedkit's own store: a site pointed at the backend imports the sample
    there (counted by the database's own client against the file's own line count), and
    ``open_store`` opens that same store."""
    backend.configure(site)
    site.run("import")
    sample = [line for line in SAMPLE.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert backend.rows("SELECT count(*) FROM articles") == [(len(sample),)]
    assert site.db.exists() == (backend.name == "sqlite")
    with backend.open_store() as store:
        assert store.dialect == backend.name
        assert store.db.execute("SELECT count(*) FROM articles").fetchone()[0] == len(sample)


def _bin_folder(root: Path, with_postgres: bool = True) -> Path:
    root.mkdir(parents=True)
    for name in pg.BINARIES if with_postgres else pg.BINARIES[:2]:
        (root / name).write_text("#!/bin/sh\n")
        (root / name).chmod(0o755)
    return root


def test_discovery_takes_the_newest_complete_debian_version(tmp_path):
    lib = tmp_path / "lib"
    _bin_folder(lib / "9.6" / "bin")
    _bin_folder(lib / "13" / "bin")
    _bin_folder(lib / "15" / "bin")
    _bin_folder(lib / "16" / "bin", with_postgres=False)  # half-installed: not usable
    assert pg.find_bindir(search_path=str(tmp_path / "empty"), lib_root=lib) == lib / "15/bin"
    assert pg.find_bindir(search_path=str(tmp_path / "empty"), lib_root=tmp_path / "no") is None


def test_discovery_follows_a_symlinked_pg_ctl_on_path(tmp_path):
    """Like this machine's /usr/local/bin/pg_ctl -> /usr/lib/postgresql/15/bin/pg_ctl."""
    real = _bin_folder(tmp_path / "pg" / "bin")
    path = tmp_path / "path"
    path.mkdir()
    (path / "pg_ctl").symlink_to(real / "pg_ctl")
    assert pg.find_bindir(search_path=str(path), lib_root=tmp_path / "no") == real


def test_an_outside_server_is_used_as_given_and_never_stopped(pg_url, monkeypatch):
    """$FEEDKIT_TEST_PG_URL (here: this session's own server standing in for a CI service
    container): no cluster is started, and the session's end leaves that server running."""
    monkeypatch.setenv("FEEDKIT_TEST_PG_URL", pg_url)
    monkeypatch.delenv("FEEDKIT_TEST_PG", raising=False)
    monkeypatch.setattr(pg, "find_bindir", lambda: pytest.fail("looked for binaries"))
    outside = pg._get_server()
    assert outside.url == pg_url and outside.root is None
    outside.stop()
    pg._wait_ready(pg_url, None, timeout=5)  # still answers


def test_without_binaries_the_reason_says_what_to_install(monkeypatch):
    monkeypatch.delenv("FEEDKIT_TEST_PG_URL", raising=False)
    monkeypatch.delenv("FEEDKIT_TEST_PG", raising=False)
    monkeypatch.setattr(pg, "find_bindir", lambda: None)
    with pytest.raises(pg.Unavailable, match=r"apt-get install postgresql.*FEEDKIT_TEST_PG_URL"):
        pg._get_server()


def test_without_psycopg_the_reason_names_the_extra(monkeypatch):
    monkeypatch.delenv("FEEDKIT_TEST_PG", raising=False)
    monkeypatch.setitem(sys.modules, "psycopg", None)  # what `import psycopg` meets when absent
    with pytest.raises(pg.Unavailable, match=r"need psycopg \(pip install -e '\.\[postgres\]'\)"):
        pg._get_server()


def test_a_failed_start_is_unavailable_with_the_log_and_leaves_nothing(pg_url):
    """A server that refuses its settings: the reason carries the log's own words, and the
    folder is gone. (Needs the binaries, so it runs where pg_url did not skip.)"""
    _own_cluster(pg_url)
    bindir = pg.find_bindir()
    parent = Path(tempfile.mkdtemp(prefix="feedkit-pg-test-"))
    parent.chmod(0o755)  # the postgres user (when root) must reach its folder inside
    try:
        with pytest.raises(pg.Unavailable) as failed:
            pg.start_cluster(bindir, settings={"shared_buffers": "'lots'"}, parent=parent)
        assert "did not start" in str(failed.value)
        assert "shared_buffers" in str(failed.value)  # from the server log
        assert list(parent.iterdir()) == []
    finally:
        parent.rmdir()


def test_a_killed_runs_cluster_is_stopped_and_deleted_by_the_next(pg_url):
    """A run killed with SIGKILL leaves its cluster running; the next start finds the folder
    whose owner process is gone, stops that server and deletes it, and leaves live ones."""
    _own_cluster(pg_url)
    bindir = pg.find_bindir()
    parent = Path(tempfile.mkdtemp(prefix="feedkit-pg-test-"))
    parent.chmod(0o755)
    live = parent / "feedkit-pg-live"  # a run still going: its owner is this process
    live.mkdir()
    (live / pg.OWNER).write_text(str(os.getpid()))
    orphan = None
    try:
        orphan = pg.start_cluster(bindir, parent=parent)
        dead = subprocess.Popen(["true"])
        dead.wait()  # its pid now names no process
        (orphan.root / pg.OWNER).write_text(str(dead.pid))
        reaped = pg.reap_stale(bindir, orphan.as_user, parent)
        assert reaped == [orphan.root] and not orphan.root.exists()
        with pytest.raises(pg.Unavailable, match="does not answer"):
            pg._wait_ready(orphan.url, None, timeout=0)
        assert (live / pg.OWNER).exists()
    finally:
        if orphan is not None:
            orphan.stop()
        shutil.rmtree(parent, ignore_errors=True)


def test_switched_off_the_postgresql_cases_skip_and_say_why(tmp_path):
    """A whole pytest run with FEEDKIT_TEST_PG=off: the PostgreSQL half skips (no error), the
    SQLite half runs, and the summary names the reason."""
    env = {**os.environ, "FEEDKIT_TEST_PG": "off"}
    env.pop("FEEDKIT_TEST_PG_URL", None)
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-k",
         "select_version or backend_describes", "tests/test_pg_infra.py"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 passed, 2 skipped" in done.stdout, done.stdout
    assert "SKIPPED" in done.stdout
    assert "no PostgreSQL: PostgreSQL tests switched off (FEEDKIT_TEST_PG=off)" in done.stdout
    assert "2 PostgreSQL tests skipped" in done.stdout


def test_an_outside_servers_password_stays_out_of_the_skip_reason(monkeypatch):
    """A CI secret in $FEEDKIT_TEST_PG_URL must not reach the test report."""
    monkeypatch.delenv("FEEDKIT_TEST_PG", raising=False)
    with pytest.raises(pg.Unavailable) as failed:
        pg._wait_ready("postgresql://ci:s3cret@127.0.0.1:1/feedkit", None, timeout=0)
    assert "s3cret" not in str(failed.value)
    assert "postgresql://ci:***@127.0.0.1:1/feedkit does not answer" in str(failed.value)
