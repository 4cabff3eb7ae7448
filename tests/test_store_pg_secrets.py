"""Issue 22 item 9: every form in which libpq reads a password is refused in config.toml and
masked wherever a store is named, and a site's store never goes into a system schema.

``[store] url = "postgresql://…?password=S3cret"`` was accepted, and the password printed by
``stats``, errors and ``store copy``. libpq reads a password from the URL's ``user:PASSWORD@``,
from a query parameter (``?password=``, its key percent-decoded: ``?pass%77ord=``; also the TLS
key's ``?sslpassword=``) and from the keyword form (``host=… password=…``). Against the test
run's real server (trust login: any password is accepted, so the masked URL still works).
"""

from __future__ import annotations

import json

import pg
import pytest
from conftest import Site

from feedkit.store.urls import has_password, redact

PASSWORD = "S3cret-Tr0ub4dor"


def with_param(url: str, param: str) -> str:
    return url + ("&" if "?" in url else "?") + param


def dead_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("url", [
    f"postgresql://u:{PASSWORD}@h/db",
    f"postgresql://u@h/db?password={PASSWORD}",
    f"postgresql://u@h/db?sslmode=require&password={PASSWORD}&connect_timeout=5",
    f"postgresql://u@h/db?pass%77ord={PASSWORD}",
    f"postgresql://u@h/db?sslpassword={PASSWORD}",
    f"host=h user=u password={PASSWORD} dbname=db",
    f"host=h password = '{PASSWORD} with spaces' dbname=db",
])
def test_every_password_form_is_found_and_masked(url: str) -> None:
    assert has_password(url)
    assert PASSWORD not in redact(url) and "***" in redact(url)


def test_urls_without_a_password_are_left_as_they_are() -> None:
    for url in ("postgresql://u@h:5432/db", "postgresql://u@h/db?sslmode=require&passfile=/x",
                "host=h user=u dbname=db"):
        assert not has_password(url) and redact(url) == url


@pytest.mark.parametrize("url", [
    f"postgresql://feedkit@127.0.0.1/city?password={PASSWORD}",
    f"postgresql://feedkit@127.0.0.1/city?pass%77ord={PASSWORD}",
    f"postgresql://feedkit@127.0.0.1/city?sslpassword={PASSWORD}",
    f"host=127.0.0.1 dbname=city password={PASSWORD}",
])
def test_a_password_parameter_in_config_is_refused(site: Site, url: str) -> None:
    site.edit_config(('[store]\npath = "articles.db"\n', f'[store]\nurl = "{url}"\n'))
    result = site.run("import", ok=False)
    assert result.exit_code == 2, result.output + result.stderr
    assert "[store] url: contains a password" in result.stderr
    assert PASSWORD not in result.output + result.stderr
    assert not site.db.exists()


def test_a_query_password_from_the_environment_works_and_never_shows(
        site: Site, pg_schema, monkeypatch) -> None:
    url, schema = pg_schema
    secret_url = with_param(url, f"password={PASSWORD}")
    site.edit_config(('[store]\npath = "articles.db"\n', f'[store]\nschema = "{schema}"\n'))
    monkeypatch.setenv("FEEDKIT_STORE_URL", secret_url)
    outputs = []
    for command in (["import"], ["build"], ["stats"], ["stats", "--json"],
                    ["store", "copy", "--to", str(site.root / "copy.db"), "-v"]):
        result = site.run(*command)
        outputs.append(result.output + result.stderr)
    assert "***" in outputs[2] and json.loads(outputs[3])   # the store is named, masked
    assert not any(PASSWORD in text for text in outputs), outputs
    files = [p for p in site.root.rglob("*") if p.is_file() and p != site.config]
    assert not any(PASSWORD.encode() in p.read_bytes() for p in files)
    assert pg.Backend("postgresql", site.root, pg_schema).scalar(
        "SELECT count(*) FROM articles") == 7
    # A store copy to a URL holding a query password is refused on the command line ...
    result = site.run("store", "copy", "--to", secret_url, "--schema", "elsewhere", ok=False)
    assert result.exit_code == 2 and "holds a password" in result.stderr
    assert PASSWORD not in result.output + result.stderr
    # ... and works through env:NAME, masked.
    monkeypatch.setenv("COPY_TO", secret_url)
    with pg.fresh_schema(pg_schema.url.split("?")[0]) as other:
        result = site.run("store", "copy", "--to", "env:COPY_TO", "--schema", other.schema,
                          "-v")
    assert PASSWORD not in result.output + result.stderr and "***" in result.output


def test_a_server_not_running_names_the_url_without_its_query_password(
        site: Site, monkeypatch, pg_url) -> None:
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(pg_url)
    dead = urlunsplit(parts._replace(netloc=f"{parts.username}@127.0.0.1:{dead_port()}"))
    monkeypatch.setenv("FEEDKIT_STORE_URL", with_param(dead, f"password={PASSWORD}"))
    for command in (["stats"], ["import"], ["subscribers", "count"]):
        result = site.run(*command, ok=False)
        assert result.exit_code == 1, result.output + result.stderr
        assert "cannot connect to the article store" in result.stderr
        assert "password=***" in result.stderr
        assert PASSWORD not in result.output + result.stderr


@pytest.mark.parametrize("schema", ["pg_catalog", "pg_toast", "pg_anything",
                                    "information_schema"])
def test_a_system_schema_is_refused(site: Site, pg_url, monkeypatch, schema: str) -> None:
    monkeypatch.setenv("FEEDKIT_STORE_URL", pg_url)
    site.edit_config(('[store]\npath = "articles.db"\n', f'[store]\nschema = "{schema}"\n'))
    result = site.run("import", ok=False)
    assert result.exit_code == 2 and "system schema" in result.stderr
    result = site.run("store", "copy", "--to", str(site.root / "x.db"), "--schema", schema,
                      ok=False)
    assert result.exit_code == 2 and "system schema" in result.stderr


def test_a_search_path_pointing_at_the_catalogs_is_refused(site: Site, pg_url,
                                                           monkeypatch) -> None:
    """No [store] schema, and the URL's options (or the role's setting) make pg_catalog the
    connection's schema: feedkit would create its tables among the catalogs."""
    monkeypatch.setenv("FEEDKIT_STORE_URL",
                       with_param(pg_url, "options=-csearch_path%3Dpg_catalog"))
    result = site.run("import", ok=False)
    assert result.exit_code == 1 and "system schema" in result.stderr
    with pg.connect(pg_url) as conn:
        assert conn.execute("SELECT count(*) FROM pg_catalog.pg_class WHERE relname = "
                            "'articles' AND relnamespace = 'pg_catalog'::regnamespace"
                            ).fetchone()[0] == 0
