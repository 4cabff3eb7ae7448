"""A real PostgreSQL for the tests: one throwaway cluster per test session, or an existing server.

The store runs on SQLite or PostgreSQL (issue 11), and the PostgreSQL half is tested against a
real server, never a mock. The first test that asks for one starts a cluster with Debian's
``postgresql`` binaries (``initdb``/``pg_ctl``/``postgres``, on PATH or in
``/usr/lib/postgresql/<version>/bin``, newest first) in a temporary folder: trust login on
127.0.0.1 only, a free port, the socket inside that folder, durability off (it is thrown away),
``max_connections = 200`` for the concurrency tests' many processes. It is stopped
(``pg_ctl stop -m immediate``) and deleted when the session ends, failing or not.

initdb and postgres refuse to run as root (CI runs as root): then the folder belongs to the
``postgres`` user that Debian's package creates, and the binaries run through ``runuser``.

Environment:
  ``FEEDKIT_TEST_PG_URL``  use this server instead (e.g. a CI service container); each test
                           works in a fresh schema it drops afterwards.
  ``FEEDKIT_TEST_PG=off``      skip every PostgreSQL case (to see how the suite runs without).
  ``FEEDKIT_TEST_PG=require``  fail instead of skip when no server can be had (a CI that
                               installed PostgreSQL and must not silently lose half the tests).

Without binaries, without psycopg, or when the server does not start, every PostgreSQL case
skips and says why (for a failed start, the end of the server's log).

Writing a test for both backends:
  ``backend``        fixture, params sqlite/postgresql: the test runs twice.
                     ``backend.open_store()`` is a ``feedkit.store.articles.Store`` on it;
                     ``backend.configure(site)`` points a site's config.toml at it;
                     ``backend.env()`` is the environment for a subprocess;
                     ``with backend.another(folder) as other:`` a second empty store there.
  ``backend_site``   the conftest ``site`` fixture on ``backend`` (``site.use(backend)``):
                     ``site.run(...)`` runs the CLI against it (the store comes from config
                     ``[store] url/schema``), ``site.rows(sql, *params)`` / ``site.scalar(...)``
                     read it, ``site.store()`` opens it (``site.is_pg`` tells which).
  ``built_backend_site``  ``backend_site`` after ``feedkit import`` and ``feedkit build``.
  Reading the store independently of feedkit (what a test asserts on must not come from the
  code under test): ``backend.rows(sql, *params)`` -> list of tuples, ``backend.scalar(...)`` ->
  the first column of the first row (None when there is none), ``backend.execute(...)`` for a
  test's own writes (e.g. tampering with the schema version), ``backend.tables()``. They use
  the database's own client: sqlite3 on the file, psycopg with ``search_path`` set to the
  test's schema. Write the SQL once with ``?`` placeholders; for psycopg this module turns them
  into ``%s`` itself (:func:`pg_placeholders`), never with feedkit's translator, so a bug there
  cannot hide in both the code and its test. Keep the SQL portable (no PRAGMA, no sqlite_master:
  use ``backend.tables()`` / ``backend.columns(table)``; ``backend.integrity_error`` is the
  client's constraint error); ``backend.client()`` gives the raw connection for more.
  Integers come back as int on both; ``sum()`` over a PostgreSQL
  BIGINT is a Decimal (equal to the int).
"""

from __future__ import annotations

import atexit
import os
import pwd
import re
import shutil
import socket
import sqlite3
import subprocess
import tempfile
import time
import uuid
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import pytest

BINARIES = ("initdb", "pg_ctl", "postgres")
START_TIMEOUT = 60  # seconds; a start normally takes 1-3 s, more only on a starved machine
SERVER_SETTINGS = {
    "listen_addresses": "'127.0.0.1'",
    # Throwaway data: nothing needs to survive a crash, so skip the disk flushes.
    "fsync": "off",
    "full_page_writes": "off",
    "synchronous_commit": "off",
    "wal_level": "minimal",
    "max_wal_senders": "0",
    # The concurrency tests run several feedkit processes with several connections each.
    "max_connections": "200",
    # Small: several test sessions (one per helper or CI job) may share a machine.
    "shared_buffers": "32MB",
    "log_min_messages": "warning",
}


class Unavailable(Exception):
    """No PostgreSQL for this session; the message is the skip reason."""


def _mode() -> str:
    return os.environ.get("FEEDKIT_TEST_PG", "").strip().lower()


def required() -> bool:
    return _mode() == "require"


def _version_key(path: Path) -> tuple[int, ...]:
    """`/usr/lib/postgresql/15/bin` -> (15,); newest first when sorted in reverse."""
    return tuple(int(n) for n in re.findall(r"\d+", path.parent.name)) or (0,)


def find_bindir(search_path: str | None = None,
                lib_root: Path = Path("/usr/lib/postgresql")) -> Path | None:
    """The folder holding initdb, pg_ctl and postgres together: where ``pg_ctl`` on PATH really
    lives (Debian puts symlinks, if any, elsewhere), else ``lib_root/<version>/bin``, newest
    version first. None when there is none."""
    candidates: list[Path] = []
    found = shutil.which("pg_ctl", path=search_path)
    if found:
        candidates += [Path(os.path.realpath(found)).parent, Path(found).parent]
    candidates += sorted(lib_root.glob("*/bin"), key=_version_key, reverse=True)
    for folder in candidates:
        if all(os.access(folder / name, os.X_OK) for name in BINARIES):
            return folder
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _tail(path: Path, lines: int = 8) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return "(no server log)"
    return " | ".join(line for line in text.strip().splitlines()[-lines:]) or "(empty log)"


def connect(url: str, **kwargs):
    """A psycopg connection in autocommit mode (tests' own SQL, DDL included)."""
    import psycopg

    return psycopg.connect(url, autocommit=True, connect_timeout=10, **kwargs)


def _psycopg_missing() -> str | None:
    try:
        import psycopg  # noqa: F401
    except ImportError as exc:
        return f"PostgreSQL tests need psycopg (pip install -e '.[postgres]'): {exc}"
    return None


@dataclass
class Cluster:
    """A running throwaway cluster (``root`` is None for an outside server)."""

    url: str
    root: Path | None = None
    bindir: Path | None = None
    as_user: str | None = None
    stopped: bool = False

    @property
    def data(self) -> Path:
        assert self.root is not None
        return self.root / "data"

    def stop(self) -> None:
        """Stop at once (``-m immediate``: no checkpoint, nothing is kept) and delete the folder.
        Safe to call twice (the session fixture and the atexit hook both call it)."""
        if self.stopped or self.root is None:
            self.stopped = True
            return
        self.stopped = True
        if (self.data / "postmaster.pid").exists():
            try:
                done = _run(self, [self.bindir / "pg_ctl", "stop", "-D", self.data, "-m",
                                   "immediate", "-w", "-t", "30"], timeout=40)
                if done.returncode != 0:
                    _kill_postmaster(self.data)
            except (OSError, subprocess.SubprocessError):
                _kill_postmaster(self.data)
        shutil.rmtree(self.root, ignore_errors=True)


def _kill_postmaster(data: Path) -> None:
    """Last resort when pg_ctl cannot stop it: SIGQUIT is the postmaster's immediate shutdown."""
    import signal

    try:
        pid = int((data / "postmaster.pid").read_text().split()[0])
        os.kill(pid, signal.SIGQUIT)
    except (OSError, ValueError, IndexError):
        pass


def _sbin(name: str) -> str | None:
    return shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin:/usr/bin:/bin")


def _run(cluster: Cluster, argv: list, timeout: float) -> subprocess.CompletedProcess:
    """Run a PostgreSQL binary, as the ``postgres`` user when we are root."""
    cmd = [str(a) for a in argv]
    if cluster.as_user:
        runuser = _sbin("runuser")
        if runuser:
            cmd = [runuser, "-u", cluster.as_user, "--", *cmd]
        else:
            cmd = [_sbin("setpriv") or "setpriv", f"--reuid={cluster.as_user}",
                   f"--regid={cluster.as_user}", "--init-groups", *cmd]
    env = {**os.environ, "LC_ALL": "C.UTF-8", "LANG": "C.UTF-8"}
    env.pop("PGDATA", None)
    # cwd inside our folder: the postgres user may not be allowed into the caller's folder.
    return subprocess.run(cmd, cwd=cluster.root, env=env, capture_output=True, text=True,
                          timeout=timeout, check=False)


OWNER = "owner.pid"  # the test process that started a cluster, for reap_stale


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def reap_stale(bindir: Path, as_user: str | None, parent: Path) -> list[Path]:
    """Stop and delete the clusters of test runs that were killed (SIGKILL, a lost terminal)
    before their finalizers ran: a folder ``feedkit-pg-*`` whose owner process is gone.
    Clusters of runs still going (other worktrees, CI jobs) are left alone."""
    reaped = []
    for root in parent.glob("feedkit-pg-*"):
        try:
            pid = int((root / OWNER).read_text())
        except (OSError, ValueError):
            continue  # not ours, or still being made
        if not _alive(pid):
            Cluster(url="", root=root, bindir=bindir, as_user=as_user).stop()
            reaped.append(root)
    return reaped


def start_cluster(bindir: Path, settings: dict[str, str] | None = None,
                  parent: Path | None = None) -> Cluster:
    """initdb + pg_ctl start on a free loopback port, in a new folder under ``parent`` (the
    temp folder); ``settings`` add to or override SERVER_SETTINGS. Raises Unavailable with
    the end of the server's log, the folder deleted."""
    as_user = None
    if os.geteuid() == 0:
        try:
            owner = pwd.getpwnam("postgres")
        except KeyError:
            raise Unavailable("running as root and there is no 'postgres' user to run "
                              "PostgreSQL as (apt-get install postgresql creates it)") from None
        if not (_sbin("runuser") or _sbin("setpriv")):
            raise Unavailable("running as root and neither runuser nor setpriv is there to "
                              "run PostgreSQL as the 'postgres' user")
        as_user = owner.pw_name
    reap_stale(bindir, as_user, Path(parent or tempfile.gettempdir()))
    root = Path(tempfile.mkdtemp(prefix="feedkit-pg-", dir=parent))
    (root / OWNER).write_text(str(os.getpid()))
    cluster = Cluster(url="", root=root, bindir=bindir, as_user=as_user)
    atexit.register(cluster.stop)  # also after an interrupted run; stop() is idempotent
    try:
        (root / "run").mkdir()
        if as_user:
            for folder in (root, root / "run"):
                os.chown(folder, owner.pw_uid, owner.pw_gid)
        done = _run(cluster, [bindir / "initdb", "-D", root / "data", "-U", "postgres",
                              "--auth=trust", "--encoding=UTF8", "--locale=C.UTF-8",
                              "--no-sync"], timeout=120)
        if done.returncode != 0:
            lines = (done.stderr or done.stdout).strip().splitlines()[-6:]
            raise Unavailable(f"initdb ({bindir}) failed: {' | '.join(lines)}")
        log = root / "server.log"
        for _attempt in range(3):  # another process may take the free port before we do
            port = _free_port()
            conf_lines = {**SERVER_SETTINGS, **(settings or {}), "port": str(port),
                          "unix_socket_directories": f"'{root / 'run'}'"}
            with open(root / "data" / "postgresql.conf", "a", encoding="utf-8") as conf:
                conf.write("\n# feedkit tests\n")
                conf.writelines(f"{k} = {v}\n" for k, v in conf_lines.items())
            done = _run(cluster, [bindir / "pg_ctl", "start", "-D", root / "data", "-l", log,
                                  "-w", "-t", str(START_TIMEOUT)], timeout=START_TIMEOUT + 10)
            if done.returncode == 0:
                break
            if "could not bind" not in _tail(log, 30) and "in use" not in _tail(log, 30):
                break
        if done.returncode != 0:
            raise Unavailable(f"PostgreSQL did not start ({bindir}/pg_ctl exited "
                              f"{done.returncode}); server log: {_tail(log)}")
        cluster.url = f"postgresql://postgres@127.0.0.1:{port}/postgres"
        _wait_ready(cluster.url, log)
        return cluster
    except subprocess.TimeoutExpired as exc:
        cluster.stop()
        raise Unavailable(f"PostgreSQL start timed out: {exc.cmd[-1]!s}; "
                          f"server log: {_tail(root / 'server.log')}") from None
    except BaseException:
        cluster.stop()
        raise


def _wait_ready(url: str, log: Path | None, timeout: float = START_TIMEOUT) -> None:
    """Connect until the server answers (pg_ctl -w has waited already; this also proves the
    TCP listener and the trust login work)."""
    import psycopg

    deadline = time.monotonic() + timeout
    while True:
        try:
            with connect(url) as conn:
                conn.execute("SELECT 1")
            return
        except psycopg.OperationalError as exc:
            if time.monotonic() > deadline:
                where = f"; server log: {_tail(log)}" if log else ""
                raise Unavailable(f"PostgreSQL at {_safe(url)} does not answer: "
                                  f"{str(exc).strip()}{where}") from None
            time.sleep(0.1)


def _safe(url: str) -> str:
    """The URL without its password (the outside server's URL may carry one)."""
    return re.sub(r"(://[^:/@]*):[^@/]*@", r"\1:***@", url)


_state: dict[str, object] = {}


def server() -> Cluster:
    """This session's server: started (or connected to) on first call, remembered after,
    failures too (every PostgreSQL test skips with the same reason, and no retry per test)."""
    if "failure" in _state:
        raise Unavailable(str(_state["failure"]))
    if "cluster" not in _state:
        try:
            _state["cluster"] = _get_server()
        except Unavailable as exc:
            _state["failure"] = str(exc)
            raise
    return _state["cluster"]  # type: ignore[return-value]


def _get_server() -> Cluster:
    if _mode() == "off":
        raise Unavailable("PostgreSQL tests switched off (FEEDKIT_TEST_PG=off)")
    missing = _psycopg_missing()
    if missing:
        raise Unavailable(missing)
    outside = os.environ.get("FEEDKIT_TEST_PG_URL")
    if outside:
        _wait_ready(outside, None, timeout=10)
        return Cluster(url=outside)
    bindir = find_bindir()
    if bindir is None:
        raise Unavailable("no PostgreSQL server binaries (initdb, pg_ctl, postgres) on PATH or "
                          "in /usr/lib/postgresql/*/bin: apt-get install postgresql, or set "
                          "FEEDKIT_TEST_PG_URL")
    return start_cluster(bindir)


def stop_server() -> None:
    cluster = _state.pop("cluster", None)
    if isinstance(cluster, Cluster):
        cluster.stop()


# --- fixtures (registered in conftest.py) ---------------------------------------------------

@pytest.fixture(scope="session")
def pg_url() -> str:
    """The base URL of this session's PostgreSQL (superuser ``postgres``, database
    ``postgres``); skips the test, saying why, when there is none."""
    try:
        cluster = server()
    except Unavailable as exc:
        if required():
            pytest.fail(f"FEEDKIT_TEST_PG=require: {exc}", pytrace=False)
        pytest.skip(f"no PostgreSQL: {exc}")
    yield cluster.url
    stop_server()


class PgSchema(NamedTuple):
    """A server URL and a schema name no other test uses (``url, schema = pg_schema``)."""

    url: str
    schema: str


def new_schema_name() -> str:
    # Lower case letters and digits only: no quoting needed anywhere, and recognisable on a
    # shared outside server.
    return f"feedkit_test_{uuid.uuid4().hex[:12]}"


def drop_schema(url: str, schema: str) -> None:
    """DROP SCHEMA … CASCADE; a connection a test forgot to close may hold locks on it, so
    wait only briefly and leave it (the cluster is thrown away) rather than hang the run."""
    import psycopg

    try:
        with connect(url) as conn:
            conn.execute("SET lock_timeout = '10s'")
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    except psycopg.Error as exc:
        import warnings

        warnings.warn(f"could not drop test schema {schema}: {exc}", stacklevel=2)


@contextmanager
def fresh_schema(url: str):
    """A schema name no one uses yet (not created), dropped with CASCADE on leaving."""
    name = new_schema_name()
    try:
        yield PgSchema(url, name)
    finally:
        drop_schema(url, name)


@pytest.fixture
def pg_schema(pg_url: str) -> PgSchema:
    """A fresh schema name on the session's server (not created: the store creates its schema
    when missing); dropped with CASCADE after the test. A test needing a second one:
    ``with pg.fresh_schema(pg_url) as other:``."""
    with fresh_schema(pg_url) as schema:
        yield schema


def _toml_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


class Backend:
    """One store backend for a parametrised test: where the store lives, as config lines,
    environment and a ``Store(...)`` target.

    SQLite: ``articles.db`` in the test's tmp_path (the ``site`` fixture's store file).
    PostgreSQL: the session's server and a fresh schema (``.url``, ``.schema``)."""

    def __init__(self, name: str, tmp_path: Path, pg: PgSchema | None = None):
        self.name = name
        self.path = tmp_path / "articles.db"
        self.url = pg.url if pg else None
        self.schema = pg.schema if pg else None

    def __repr__(self) -> str:
        return f"Backend({self.name!r})"

    @property
    def is_pg(self) -> bool:
        return self.name == "postgresql"

    def store_lines(self, *, with_url: bool = True) -> str:
        """The ``[store]`` section for a site's config.toml. ``with_url=False`` leaves the URL
        out for a run that takes it from ``$FEEDKIT_STORE_URL`` (see :meth:`env`)."""
        if not self.is_pg:
            return '[store]\npath = "articles.db"\n'
        url = f"url = {_toml_string(self.url)}\n" if with_url else ""
        return f"[store]\n{url}schema = {_toml_string(self.schema)}\n"

    def configure(self, site) -> None:
        """Point a ``Site`` (conftest) at this backend: its ``[store]`` section replaced."""
        site.edit_config(('[store]\npath = "articles.db"\n', self.store_lines()))

    def env(self, base: dict[str, str] | None = None) -> dict[str, str]:
        """A whole environment for a feedkit subprocess (``base`` or os.environ): PostgreSQL
        sets ``FEEDKIT_STORE_URL``; SQLite removes any, so an outer one cannot redirect it."""
        env = dict(os.environ if base is None else base)
        if self.is_pg:
            env["FEEDKIT_STORE_URL"] = self.url
        else:
            env.pop("FEEDKIT_STORE_URL", None)
        return env

    def target(self) -> str | Path:
        """What ``Store(...)`` takes: the SQLite file, or the PostgreSQL URL (the schema goes
        as ``Store(target, **backend.store_kwargs())``)."""
        return self.url if self.is_pg else self.path

    def store_kwargs(self) -> dict[str, str]:
        return {"schema": self.schema} if self.is_pg else {}

    def open_store(self, **kwargs):
        """``feedkit.store.articles.Store`` on this backend."""
        from feedkit.store.articles import Store

        return Store(self.target(), **self.store_kwargs(), **kwargs)

    @contextmanager
    def another(self, root: Path):
        """A second, empty store on the same backend (a "fresh" site to import into): SQLite
        ``root/articles.db``, PostgreSQL a new schema on the same server, dropped on leaving.
        ``Site(root).use(other)`` puts a site on it."""
        root.mkdir(parents=True, exist_ok=True)
        if not self.is_pg:
            yield Backend("sqlite", root)
            return
        with fresh_schema(self.url) as other:
            yield Backend("postgresql", root, other)

    # -- reading (and tampering with) the store independently of feedkit -------------------

    @contextmanager
    def client(self):
        """A connection of the database's own client, for a test that needs one session for
        several statements (e.g. ``SET enable_seqscan = off`` before an ``EXPLAIN``): sqlite3
        on the file, or psycopg in autocommit with ``search_path`` set to the schema. SQL on
        it is the client's own dialect (``%s`` placeholders for psycopg)."""
        if self.is_pg:
            from psycopg import sql as pgsql

            with connect(self.url) as conn:
                conn.execute(pgsql.SQL("SET search_path TO {}").format(
                    pgsql.Identifier(self.schema)))
                yield conn
        else:
            with closing(sqlite3.connect(self.path, isolation_level=None)) as db:
                yield db

    def rows(self, sql: str, *params) -> list[tuple]:
        """Every row of ``sql`` (``?`` placeholders), read with the database's own client."""
        if self.is_pg:
            return pg_rows(self.url, self.schema, sql, params)
        return sqlite_rows(self.path, sql, params)

    def scalar(self, sql: str, *params):
        """The first column of the first row, or None when there is no row."""
        found = self.rows(sql, *params)
        return found[0][0] if found else None

    def execute(self, sql: str, *params) -> None:
        """A test's own write (committed at once), e.g. to damage or age the store."""
        if self.is_pg:
            pg_rows(self.url, self.schema, sql, params, fetch=False)
        else:
            sqlite_rows(self.path, sql, params, fetch=False)

    @property
    def integrity_error(self) -> type[Exception]:
        """What the client raises when a write breaks a constraint (CHECK, UNIQUE, NOT NULL)."""
        if self.is_pg:
            import psycopg

            return psycopg.IntegrityError
        return sqlite3.IntegrityError

    def columns(self, table: str) -> set[str]:
        """The column names of one of the store's tables."""
        if self.is_pg:
            return {r[0] for r in pg_rows(
                self.url, None, "SELECT column_name FROM information_schema.columns "
                "WHERE table_schema = ? AND table_name = ?", (self.schema, table))}
        return {r[1] for r in sqlite_rows(self.path, f'PRAGMA table_info("{table}")', ())}

    def tables(self) -> set[str]:
        """The names of the store's tables (SQLite: in the file; PostgreSQL: in the schema)."""
        if self.is_pg:
            return {r[0] for r in pg_rows(
                self.url, None, "SELECT table_name FROM information_schema.tables "
                "WHERE table_schema = ?", (self.schema,))}
        return {r[0] for r in sqlite_rows(
            self.path, "SELECT name FROM sqlite_master WHERE type = 'table'", ())}


def pg_placeholders(sql: str) -> str:
    """``?`` -> ``%s`` and ``%`` -> ``%%`` outside quoted strings and names (psycopg's
    placeholder style); the tests' own, deliberately not feedkit.store.postgres.translate."""
    out, quote = [], ""
    for ch in sql:
        if ch == "%":
            out.append("%%")
            continue
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch == "?":
            out.append("%s")
            continue
        out.append(ch)
    return "".join(out)


def pg_rows(url: str, schema: str | None, sql: str, params=(), *, fetch: bool = True):
    """Run one statement with psycopg in ``schema`` (None: the server's default search path)."""
    from psycopg import sql as pgsql

    with connect(url) as conn:
        if schema:
            conn.execute(pgsql.SQL("SET search_path TO {}").format(pgsql.Identifier(schema)))
        # Without parameters psycopg sends the text as it is (no %% to undo).
        cur = (conn.execute(pg_placeholders(sql), tuple(params)) if params
               else conn.execute(sql))
        return [tuple(r) for r in cur.fetchall()] if fetch else None


def sqlite_rows(path: Path, sql: str, params=(), *, fetch: bool = True):
    """Run one statement with sqlite3 on the store file (which must exist: never create it)."""
    if not Path(path).is_file():
        raise FileNotFoundError(f"no SQLite store at {path}")
    with closing(sqlite3.connect(path)) as db, db:
        cur = db.execute(sql, tuple(params))
        return cur.fetchall() if fetch else None


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request, tmp_path: Path) -> Backend:
    """Each test using it runs twice: on SQLite and on PostgreSQL (skipped, saying why, when
    there is no PostgreSQL)."""
    if request.param == "postgresql":
        return Backend("postgresql", tmp_path, request.getfixturevalue("pg_schema"))
    return Backend("sqlite", tmp_path)


@pytest.fixture
def backend_site(site, backend: Backend):
    """The conftest ``site`` with its store on ``backend``: runs once on SQLite, once on
    PostgreSQL; ``site.rows``/``site.scalar`` read the store there."""
    return site.use(backend)


@pytest.fixture
def built_backend_site(backend_site):
    """``backend_site`` after ``feedkit import`` and ``feedkit build``."""
    backend_site.run("import")
    backend_site.run("build")
    return backend_site
