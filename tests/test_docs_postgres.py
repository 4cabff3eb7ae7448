"""README, "A shared PostgreSQL store": its commands run as written against a real server.

The section's SQL makes the role, the database and the schema; its config block points a site
at them (only the server's address is swapped for the test cluster's); its shell lines move
the sample site from its SQLite file into PostgreSQL and out again, and back it up with
pg_dump / pg_restore. Both ways of giving the role its schema are tried: CREATE on the
database (feedkit makes the schema) and a schema an administrator made (no CREATE at all).

It creates a role and a database, so it runs only on the throwaway cluster the test run
starts, never on an outside server ($FEEDKIT_TEST_PG_URL).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pg
import pytest
from conftest import REPO, Site
from test_store_copy import pg_rows, sqlite_rows

README = (REPO / "README.md").read_text(encoding="utf-8")
SECTION = README.split("## A shared PostgreSQL store\n", 1)[1].split("\n## ", 1)[0]
README_URL = "postgresql://feedkit@db.example.org:5432/feedkit"


def blocks(kind: str) -> list[str]:
    return re.findall(rf"```{kind}\n(.*?)```", SECTION, re.S)


def sql_statements() -> list[str]:
    text = "\n".join(line.split("--")[0] for line in blocks("sql")[0].splitlines())
    return [s.strip() for s in text.split(";") if s.strip()]


def shell(block: str, cwd: Path, env: dict[str, str]) -> list[subprocess.CompletedProcess]:
    """Each line of a README shell block, run by sh in ``cwd`` (the venv's feedkit first on
    PATH, the PostgreSQL client tools after it)."""
    done = []
    for line in block.splitlines():
        command = line.split("  #", 1)[0].strip()
        if not command:
            continue
        result = subprocess.run(["sh", "-c", command], cwd=cwd, env=env, capture_output=True,
                                text=True, timeout=120)
        assert result.returncode == 0, f"{command}: {result.stdout}{result.stderr}"
        done.append(result)
    return done


def test_the_section_says_what_the_tests_run() -> None:
    assert blocks("sh")[0].strip() == 'pip install "feedkit-city[postgres]"'
    assert README_URL in blocks("toml")[0]
    assert [s.split()[0] for s in sql_statements()] == ["CREATE", "CREATE", "GRANT", "CREATE"]


def test_moving_a_site_in_and_out_as_the_readme_says(tmp_path: Path, pg_url: str) -> None:
    cluster = pg.server()
    if cluster.root is None:
        pytest.skip("creates a role and a database: only on the test run's own cluster")
    base = urlsplit(pg_url)
    server = f"{base.hostname}:{base.port}"
    role_url = README_URL.replace("db.example.org:5432", server)
    # The URL with a password, as a CI secret holds it (the test cluster trusts loopback).
    secret_url = role_url.replace("feedkit@", "feedkit:not-in-any-log@", 1)
    create_role, create_db, grant, make_schema = sql_statements()
    with pg.connect(pg_url) as admin:
        admin.execute("DROP DATABASE IF EXISTS feedkit WITH (FORCE)")
        admin.execute("DROP ROLE IF EXISTS feedkit")
        for statement in (create_role, create_db, grant):
            admin.execute(statement)
    try:
        _walk_through(tmp_path, pg_url, role_url, secret_url, make_schema, cluster)
    finally:
        with pg.connect(pg_url) as admin:
            admin.execute("DROP DATABASE IF EXISTS feedkit WITH (FORCE)")
            admin.execute("DROP ROLE IF EXISTS feedkit")


def _walk_through(tmp_path: Path, pg_url: str, role_url: str, secret_url: str,
                  make_schema: str, cluster: pg.Cluster) -> None:
    site = Site(tmp_path / "site")
    site.run("import")
    site.run("build")
    site.run("subscribers", "add", "reader@example.org")
    before = sqlite_rows(site.db)
    tools = [str(Path(sys.executable).parent)]
    if cluster.bindir is not None:
        tools.append(str(cluster.bindir))   # pg_dump / pg_restore of the server's version
    env = {k: v for k, v in os.environ.items() if not k.startswith("FEEDKIT_")}
    env |= {"PATH": os.pathsep.join([*tools, env.get("PATH", "")]),
            "FEEDKIT_CONFIG": str(site.config), "NEW_STORE_URL": secret_url}

    # In: twice, the second changing nothing; the password never shown.
    first, second = shell(blocks("sh")[1], site.root, env)
    assert "copied" in first.stdout and "0 rows changed" in second.stdout
    for result in (first, second):
        assert "not-in-any-log" not in result.stdout + result.stderr
        assert "reader@example.org" not in result.stdout + result.stderr
    assert pg_rows(pg_url.rsplit("/", 1)[0] + "/feedkit", "boryeong") == before

    # The site switched to the server, as the README's config block says.
    toml = blocks("toml")[0].replace(README_URL, role_url)
    site.edit_config(('[store]\npath = "articles.db"\n', toml))
    shutil.move(site.db, tmp_path / "old.db")   # gone: the site must now read the server
    env["FEEDKIT_STORE_URL"] = secret_url
    stats = subprocess.run(["feedkit", "stats"], cwd=site.root, env=env, capture_output=True,
                           text=True)
    assert stats.returncode == 0, stats.stderr
    assert "7" in stats.stdout and "not-in-any-log" not in stats.stdout + stats.stderr

    # Out again, to a file.
    shell(blocks("sh")[2], site.root, env)
    assert sqlite_rows(site.root / "boryeong.db") == before

    # Backup and restore: pg_dump of the schema, dropped, restored, the same rows again.
    if shutil.which("pg_dump", path=env["PATH"]) is None:
        pytest.skip("no pg_dump (Debian's postgresql-client) for the backup lines")
    dump_line, restore_line = blocks("sh")[3].strip().splitlines()
    shell(dump_line, site.root, env)
    assert (site.root / "boryeong.dump").stat().st_size > 0
    db_url = pg_url.rsplit("/", 1)[0] + "/feedkit"
    with pg.connect(db_url) as admin:
        admin.execute("DROP SCHEMA boryeong CASCADE")
    shell(restore_line, site.root, env)
    assert pg_rows(db_url, "boryeong") == before

    # The other way to give the role its schema: no CREATE on the database, a schema made by
    # an administrator (the README's last SQL line, run in the feedkit database).
    with pg.connect(pg_url) as admin:
        admin.execute("REVOKE CREATE ON DATABASE feedkit FROM feedkit")
    with pg.connect(db_url) as admin:
        admin.execute("DROP SCHEMA boryeong CASCADE")
        admin.execute(make_schema)
    env.pop("FEEDKIT_STORE_URL")
    site.edit_config((toml, '[store]\npath = "articles.db"\n'))
    shutil.move(tmp_path / "old.db", site.db)
    shell(blocks("sh")[1], site.root, env)
    assert pg_rows(db_url, "boryeong") == before
    # ...and without either, a clear one-line error naming the privilege, exit 1.
    with pg.connect(db_url) as admin:
        admin.execute("DROP SCHEMA boryeong CASCADE")
    refused = subprocess.run(["feedkit", "store", "copy", "--to", "env:NEW_STORE_URL",
                              "--schema", "boryeong"], cwd=site.root, env=env,
                             capture_output=True, text=True)
    assert refused.returncode == 1
    assert "privilege" in refused.stderr and refused.stderr.count("\n") == 1
    assert "not-in-any-log" not in refused.stderr
