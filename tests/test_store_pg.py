"""What only a PostgreSQL store can get wrong, against the test run's real server (tests/pg.py):
a server that is not there, a role that may not create the site's schema, several processes
creating one store at once, sites sharing a database in their own schemas, and the password,
which lives only in ``$FEEDKIT_STORE_URL`` and never shows in any output.

(The SQLite file's own failures, an empty or damaged file, permissions, a lock, are in
test_store.py, test_cli.py and test_hostile_errors.py; what both backends share runs on both
through the ``backend`` fixture.)"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pg
import pytest
from conftest import SAMPLE, Site

from feedkit.store.articles import SCHEMA_VERSION

REPO = Path(__file__).resolve().parents[1]
PASSWORD = "Tr0ub4dor-s3cret"


def with_password(url: str, password: str = PASSWORD, port: int | None = None) -> str:
    """``url`` with a password (and another port): the trust-auth test server ignores it."""
    parts = urlsplit(url)
    netloc = f"{parts.username}:{password}@{parts.hostname}:{port or parts.port}"
    return urlunsplit(parts._replace(netloc=netloc))


def dead_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def assert_one_line(result, *, code: int, says: str) -> str:
    """The CLI failed with ``code`` and one ``feedkit: error:`` line naming the problem."""
    assert result.exit_code == code, result.output + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("feedkit: error: "), result.stderr
    assert says in lines[0], lines[0]
    assert "Traceback" not in result.output + result.stderr
    return lines[0]


@pytest.fixture
def pg_site(site: Site, pg_schema) -> Site:
    """A site whose store is the test's own schema on the session's server."""
    return site.use(pg.Backend("postgresql", site.root, pg_schema))


# -- the server is not there, or will not let the role in --------------------------------------


def test_a_server_that_is_not_running_is_one_line_exit_1_without_the_password(
        site: Site, monkeypatch, pg_url) -> None:
    port = dead_port()
    url = with_password(pg_url, port=port)
    monkeypatch.setenv("FEEDKIT_STORE_URL", url)
    site.edit_config(('[store]\npath = "articles.db"\n', '[store]\nschema = "city"\n'))
    for command in (["import"], ["build"], ["stats"], ["subscribers", "count"]):
        result = site.run(*command, ok=False)
        line = assert_one_line(result, code=1, says="cannot connect to the article store")
        assert f"127.0.0.1:{port}" in line and "(schema city)" in line
        assert "check that the server runs" in line
        assert PASSWORD not in result.output + result.stderr
        assert ":***@" in line     # the URL is shown, its password replaced
    assert not site.db.exists() and not site.out.exists()


def test_a_password_in_config_is_a_config_error_and_in_the_environment_it_works(
        site: Site, pg_schema, monkeypatch) -> None:
    url, schema = pg_schema
    site.edit_config(('[store]\npath = "articles.db"\n',
                      f'[store]\nurl = "{with_password(url)}"\nschema = "{schema}"\n'))
    result = site.run("import", ok=False)
    line = assert_one_line(result, code=2, says="[store] url: contains a password")
    assert PASSWORD not in line
    assert pg.Backend("postgresql", site.root, pg_schema).tables() == set()   # nothing made

    # The same URL from the environment (a CI secret): every command works, none shows it.
    site.edit_config((f'url = "{with_password(url)}"\n', ""))
    monkeypatch.setenv("FEEDKIT_STORE_URL", with_password(url))
    outputs = []
    for command in (["import"], ["build"], ["stats"], ["stats", "--json"],
                    ["subscribers", "add", "kim@example.org"], ["subscribers", "count"],
                    ["export", "--out", str(site.root / "export.jsonl")],
                    ["validate"], ["withdraw", "nope", "--reason", "x"]):
        result = site.run(*command, ok=command[0] != "withdraw")
        outputs.append(result.output + result.stderr)
    assert "no article with this id or URL" in outputs[-1]
    assert not any(PASSWORD in text for text in outputs)
    files = [p for p in site.root.rglob("*") if p.is_file() and p != site.config]
    assert len(files) > 5 and not any(PASSWORD.encode() in p.read_bytes() for p in files)
    backend = pg.Backend("postgresql", site.root, pg_schema)
    assert backend.scalar("SELECT count(*) FROM articles") == 7
    assert not site.db.exists()


@pytest.mark.parametrize("password", ["se/cret%ZZ", "abc#def%ZZ", "p%ZZass"])
def test_a_malformed_url_in_the_environment_never_shows_its_password(
        site: Site, monkeypatch, pg_url, password) -> None:
    """A password with an unescaped / or # breaks the URL apart, a bad %-escape makes libpq
    quote the value back: the message must still hold no piece of it."""
    monkeypatch.setenv("FEEDKIT_STORE_URL", with_password(pg_url, password))
    result = site.run("import", ok=False)
    assert result.exit_code in (1, 2), result.output + result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    text = result.output + result.stderr
    for piece in {password, *password.replace("%ZZ", "/").replace("#", "/").split("/")}:
        if len(piece) >= 3:
            assert piece not in text, (piece, text)


def test_a_role_that_may_not_create_the_schema_gets_the_advice(site: Site, pg_url) -> None:
    """A role with only CONNECT (the default for a new role) cannot make the site's schema:
    one line says what to grant, exit 1; granted CREATE, the same command works."""
    role = f"feedkit_nocreate_{uuid.uuid4().hex[:8]}"
    schema = f"site_{uuid.uuid4().hex[:8]}"
    parts = urlsplit(pg_url)
    with pg.connect(pg_url) as admin:
        try:
            admin.execute(f'CREATE ROLE "{role}" LOGIN')
        except Exception as exc:   # an outside server may not let the test make roles
            pytest.skip(f"cannot create a test role on this server: {exc}")
        try:
            role_url = urlunsplit(parts._replace(
                netloc=f"{role}@{parts.hostname}:{parts.port}"))
            site.edit_config(('[store]\npath = "articles.db"\n',
                              f'[store]\nurl = "{role_url}"\nschema = "{schema}"\n'))
            result = site.run("import", ok=False)
            line = assert_one_line(result, code=1, says="cannot open the article store")
            assert "permission denied" in line
            assert "grant it CREATE on the database" in line
            assert admin.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s",
                                 (schema,)).fetchone() is None
            database = parts.path.lstrip("/")
            admin.execute(f'GRANT CREATE ON DATABASE "{database}" TO "{role}"')
            assert "7 inserted" in site.run("import").output
            assert pg.pg_rows(pg_url, schema, "SELECT count(*) FROM articles") == [(7,)]
        finally:
            admin.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
            admin.execute(f'DROP OWNED BY "{role}"')
            admin.execute(f'DROP ROLE "{role}"')


def test_a_store_schema_newer_than_feedkit_is_refused_by_the_cli(pg_site: Site) -> None:
    backend = pg_site.backend
    backend.execute(f'CREATE SCHEMA "{backend.schema}"')
    backend.execute("CREATE TABLE feedkit_schema (version integer NOT NULL)")
    backend.execute("INSERT INTO feedkit_schema VALUES (?)", SCHEMA_VERSION + 1)
    result = pg_site.run("import", ok=False)
    line = assert_one_line(result, code=1, says=f"schema version {SCHEMA_VERSION + 1} is newer")
    assert f"(schema {backend.schema})" in line and "upgrade feedkit" in line
    assert backend.tables() == {"feedkit_schema"}


# -- several processes, several sites ------------------------------------------------------------

RACE = """
import os, sys, time
from pathlib import Path
from feedkit.store.articles import Store
go = Path(sys.argv[3])
(go.parent / f"ready-{os.getpid()}").touch()
while not go.exists():
    time.sleep(0.001)
with Store(sys.argv[1], schema=sys.argv[2]) as store:
    print(store.schema_version)
"""


def test_processes_creating_one_new_store_at_once_all_succeed(pg_schema, tmp_path) -> None:
    """Four processes open a schema that does not exist yet, released at the same instant:
    each gets the migrated store (one made it, the others waited for it), none an error."""
    url, schema = pg_schema
    gate = tmp_path / "gate"
    gate.mkdir()
    go = gate / "go"
    procs = [subprocess.Popen([sys.executable, "-c", RACE, url, schema, str(go)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              cwd=REPO) for _ in range(4)]
    deadline = time.monotonic() + 60
    while len(list(gate.glob("ready-*"))) < len(procs) and time.monotonic() < deadline:
        time.sleep(0.01)   # every interpreter has imported feedkit and waits at the gate
    go.touch()
    results = [(p.wait(timeout=120), p.stdout.read(), p.stderr.read()) for p in procs]
    for p in procs:
        p.stdout.close()
        p.stderr.close()
    assert [(code, out.strip()) for code, out, _ in results] == \
        [(0, str(SCHEMA_VERSION))] * 4, [err for _, _, err in results if err]
    backend = pg.Backend("postgresql", tmp_path, pg_schema)
    assert backend.rows("SELECT version FROM feedkit_schema") == [(SCHEMA_VERSION,)]
    assert {"articles", "subscribers", "withdrawn"} <= backend.tables()


def test_sites_in_one_database_do_not_see_each_other(tmp_path, pg_url) -> None:
    """Two cities on one server, each in its own schema: articles, subscribers, the send log and
    the built sites stay apart, and the same article id lives in both independently."""
    with pg.fresh_schema(pg_url) as a_schema, pg.fresh_schema(pg_url) as b_schema:
        a = Site(tmp_path / "a").use(pg.Backend("postgresql", tmp_path / "a", a_schema))
        b = Site(tmp_path / "b").use(pg.Backend("postgresql", tmp_path / "b", b_schema))
        other = tmp_path / "other.jsonl"
        other.write_text(json.dumps({"title": "서천군 소식", "url": "https://seocheon.example/1",
                                     "published": "2024-06-11"}, ensure_ascii=False) + "\n",
                         encoding="utf-8")
        a.run("import")
        b.run("import", str(other))
        a.run("subscribers", "add", "kim@example.org")
        assert a.scalar("SELECT count(*) FROM articles") == 7
        assert b.rows("SELECT title FROM articles") == [("서천군 소식",)]
        assert b.scalar("SELECT count(*) FROM subscribers") == 0
        assert b.run("subscribers", "count", "--json").output.count('"active": 0') == 1
        a.run("build")
        b.run("build")
        a_feed = (a.out / "feed.xml").read_text(encoding="utf-8")
        b_feed = (b.out / "feed.xml").read_text(encoding="utf-8")
        assert "서천군 소식" in b_feed and "서천군 소식" not in a_feed
        assert "보령" in a_feed and "보령" not in b_feed.replace("보령시 새소식", "")
        # The same sample in b: its own copy, inserted, not "unchanged" by a's rows.
        assert "7 inserted" in b.run("import", str(SAMPLE)).output
        b.run("withdraw", json.loads(SAMPLE.read_text(encoding="utf-8").splitlines()[0])["id"],
              "--reason", "b만", "--no-build")
        assert a.scalar("SELECT count(*) FROM withdrawn") == 0
        assert a.scalar("SELECT count(*) FROM articles") == 7
        # No table leaked into the server's default schema.
        assert pg.pg_rows(pg_url, None, "SELECT table_name FROM information_schema.tables "
                          "WHERE table_schema = 'public'") == []


def test_the_store_url_from_the_environment_wins_over_the_config(
        pg_site: Site, monkeypatch, pg_url) -> None:
    """$FEEDKIT_STORE_URL (the CI secret) is the store even when config names another."""
    pg_site.edit_config(("[store]\n", f'[store]\n# {os.devnull}\n'))
    monkeypatch.setenv("FEEDKIT_STORE_URL", with_password(pg_url, port=dead_port()))
    result = pg_site.run("import", ok=False)
    assert_one_line(result, code=1, says="cannot connect")
    monkeypatch.setenv("FEEDKIT_STORE_URL", pg_url)
    pg_site.run("import")
    assert pg_site.scalar("SELECT count(*) FROM articles") == 7


HOLDER = """
import sys, time
from feedkit.store.articles import Store
with Store(sys.argv[1], schema=sys.argv[2]) as store, store.transaction():
    store.set_meta("holder", "x")
    print("locked", flush=True)
    time.sleep(60)
"""


def test_a_writer_holding_the_store_beyond_the_busy_timeout_is_one_line(pg_site: Site) -> None:
    """PostgreSQL's counterpart of SQLite's locked file: another feedkit process in a write
    transaction on this site's schema; past [store] busy_timeout the command gives up with one
    line saying so, exit 1, and writes nothing."""
    backend = pg_site.backend
    pg_site.run("import")
    pg_site.edit_config(("[store]\n", "[store]\nbusy_timeout = 0.5\n"))
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, backend.url, backend.schema],
                              stdout=subprocess.PIPE, text=True, cwd=REPO)
    other = pg_site.root / "one.jsonl"
    other.write_text(json.dumps({"title": "새 소식", "url": "https://a.example/new",
                               "published": "2024-06-11"}, ensure_ascii=False) + "\n",
                   encoding="utf-8")
    try:
        assert holder.stdout.readline().strip() == "locked"
        started = time.monotonic()
        result = pg_site.run("import", str(other), ok=False)
        elapsed = time.monotonic() - started
    finally:
        holder.kill()
        holder.wait()
        holder.stdout.close()
    line = assert_one_line(result, code=1, says="another feedkit process is writing")
    assert f"(schema {backend.schema})" in line
    assert elapsed < 20   # gave up after the configured 0.5 s, not the default 30 s
    assert backend.scalar("SELECT count(*) FROM articles WHERE url = ?",
                          "https://a.example/new") == 0
    assert backend.scalar("SELECT count(*) FROM meta WHERE key = 'holder'") == 0  # killed
    assert "1 inserted" in pg_site.run("import", str(other)).output


def test_a_schema_holding_another_applications_tables_is_left_alone(pg_site: Site) -> None:
    """PostgreSQL's counterpart of "a file that is not a store": the configured schema has an
    ``articles`` table of some other program and no feedkit version. One line, exit 1, and
    the other program's table and rows are exactly as they were."""
    backend = pg_site.backend
    backend.execute(f'CREATE SCHEMA "{backend.schema}"')
    backend.execute("CREATE TABLE articles (id integer PRIMARY KEY, body text)")
    backend.execute("INSERT INTO articles VALUES (1, '남의 데이터')")
    result = pg_site.run("import", ok=False)
    line = assert_one_line(result, code=1, says=f"(schema {backend.schema})")
    assert '"articles" already exists' in line
    assert backend.tables() == {"articles"}
    assert backend.rows("SELECT id, body FROM articles") == [(1, "남의 데이터")]


def test_connections_creating_one_schema_at_once_all_get_it(pg_url) -> None:
    """The first step of the above, made to race harder: six connections released together
    into a schema that is not there, many times over. (CREATE SCHEMA IF NOT EXISTS alone lets
    the loser fail on the catalog's unique index.)"""
    import threading

    from feedkit.store.postgres import PgDatabase

    failures: list[str] = []
    names = []
    try:
        for _round in range(25):
            names.append(pg.new_schema_name())
            barrier = threading.Barrier(6)

            def open_it(name=names[-1], barrier=barrier) -> None:
                barrier.wait()
                try:
                    PgDatabase(pg_url, name).close()
                except Exception as exc:   # collected, shown by the assert below
                    failures.append(str(exc))

            threads = [threading.Thread(target=open_it) for _ in range(6)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(60)
        assert failures == []
    finally:
        for name in names:
            pg.drop_schema(pg_url, name)
