"""``feedkit web`` on a shared PostgreSQL store (issue 11): the real process, the real server.

The endpoint opens the store once per request through :func:`feedkit.store.backends.open_store`;
with ``$FEEDKIT_STORE_URL`` that is PostgreSQL. A reader subscribes with the form, confirms with the
link from the email (caught by aiosmtpd), chooses departments on the preferences page and
leaves with a mail provider's one-click POST; after each step the row is read with psycopg, not
with feedkit.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time

from _digest_support import smtp_server
from _web_support import SECRET, WEB_URL, Client, links_in, path_of
from conftest import REPO, Site

from feedkit.subscribers.tokens import make_token

ADDRESS = "jung.minseo@example.org"


def _row(pg_schema) -> tuple | None:
    import psycopg

    with psycopg.connect(pg_schema.url, autocommit=True) as conn:
        conn.execute(f'SET search_path TO "{pg_schema.schema}"')
        return conn.execute(
            "SELECT id, status, categories, confirmed_at, left_via, consent_via "
            "FROM subscribers WHERE address = %s", (ADDRESS,)).fetchone()


def _key(pg_schema) -> str:
    """The reader's link key, read with psycopg."""
    import psycopg

    with psycopg.connect(pg_schema.url, autocommit=True) as conn:
        conn.execute(f'SET search_path TO "{pg_schema.schema}"')
        return conn.execute("SELECT link_key FROM subscribers WHERE address = %s",
                            (ADDRESS,)).fetchone()[0]


def _wait(condition, what: str, timeout: float = 15.0):
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value or time.monotonic() > deadline:
            assert value, f"timed out waiting for {what}"
            return value
        time.sleep(0.05)


def test_feedkit_web_subscribes_confirms_chooses_and_unsubscribes_on_postgresql(tmp_path,
                                                                                 pg_schema):
    with smtp_server() as (smtp, smtp_port):
        extra = (f'\n[digest]\nfrom = "보령시 소식 <news@example.org>"\n'
                 f'\n[smtp]\nhost = "127.0.0.1"\nport = {smtp_port}\ntls = "none"\n'
                 f'retries = 0\n\n[web]\nurl = "{WEB_URL}"\n')
        site = Site(tmp_path, extra=extra)
        site.edit_config(('[store]\npath = "articles.db"\n',
                          f'[store]\nschema = "{pg_schema.schema}"\n'))
        env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONUNBUFFERED": "1",
               "FEEDKIT_SECRET": SECRET, "FEEDKIT_STORE_URL": pg_schema.url}
        done = subprocess.run([sys.executable, "-m", "feedkit", "--config", str(site.config),
                               "import"], capture_output=True, text=True, env=env, timeout=120)
        assert done.returncode == 0, done.stdout + done.stderr

        proc = subprocess.Popen(
            [sys.executable, "-m", "feedkit", "--config", str(site.config), "web", "--port", "0"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        try:
            port = None
            for line in proc.stdout:
                m = re.search(r"http://127\.0\.0\.1:(\d+)/subscribe", line)
                if m:
                    port = int(m.group(1))
                    break
            assert port, proc.stderr.read()
            client = Client(port)

            # The form offers the departments of the articles on PostgreSQL.
            page = client.get("/subscribe")
            assert page.status == 200
            offered = re.findall(r'name="categories" value="([^"]+)"', page.body)
            assert len(offered) >= 2, page.body
            assert client.subscribe(ADDRESS, [offered[0]]).status == 303
            _wait(lambda: smtp.received, "the confirmation email")
            sid, status, categories, confirmed, _left, via = _wait(
                lambda: _row(pg_schema), "the subscriber row")
            assert (status, json.loads(categories), confirmed, via) == (
                "pending", [offered[0]], "", "form")

            # Confirm with the emailed link: the GET shows a button, only the POST confirms.
            [mail] = smtp.received
            assert mail.rcpt == [ADDRESS]
            link = next(u for u in links_in(mail.message.get_content()) if "/confirm/" in u)
            assert client.get(path_of(link)).status == 200
            assert _row(pg_schema)[1] == "pending"
            confirmed_page = client.post(path_of(link))
            assert confirmed_page.status == 200
            row = _row(pg_schema)
            assert row[1] == "active" and row[3] != ""

            # Choose two departments on the preferences page the success page links to.
            prefs = next(u for u in re.findall(r'https://news\.example\.org/list/[^"\s<]+',
                                               confirmed_page.body) if "/preferences/" in u)
            chosen = sorted(offered[:2])   # one more than at subscribing
            saved = client.post(path_of(prefs), {"action": "save", "categories": chosen})
            assert saved.status == 200
            assert json.loads(_row(pg_schema)[2]) == chosen

            # Leave with a mail provider's one-click POST (RFC 8058): no cookie, no form.
            provider = Client(port)
            path = f"/unsubscribe/{make_token(SECRET, 'unsubscribe', sid, key=_key(pg_schema))}"
            left = provider.request("POST", path, "List-Unsubscribe=One-Click")
            assert left.status == 200 and "Location" not in left.headers
            _sid, status, _categories, _confirmed, left_via, _via = _row(pg_schema)
            assert (status, left_via) == ("unsubscribed", "one-click")

            proc.send_signal(signal.SIGTERM)
            out, err = proc.communicate(timeout=15)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
    assert proc.returncode == 0, err
    assert not (tmp_path / "articles.db").exists()      # no SQLite store on the side
    assert ADDRESS not in out + err and "jung.minseo" not in out + err
    assert "Traceback" not in err


# -- connections: kept per thread on PostgreSQL, one per request on SQLite ---------------------


def _app(folder, store_section: dict, articles_target, **store_kwargs):
    """The endpoint app (no server: Flask's test client calls it in this thread) on a store
    holding the tests' 35 Korean articles."""
    from datetime import timedelta

    from _digest_support import korean_articles
    from _web_support import NOW, Clock, site_config

    from feedkit.store.articles import Store
    from feedkit.web.app import create_app

    with Store(articles_target, **store_kwargs) as store, store.transaction():
        store.upsert(korean_articles(35, NOW - timedelta(days=10)))
    config = site_config(folder, 2525, sections={"store": store_section})
    clock = Clock()
    return create_app(config, secret=SECRET, clock=clock.monotonic, now=clock)


def _backends(url: str) -> set[int]:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        return {r[0] for r in conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE application_name = 'feedkit'")}


def test_on_postgresql_a_thread_keeps_its_connection_and_replaces_a_dead_or_old_one(
        tmp_path, pg_schema):
    from feedkit.web.stores import MAX_AGE, StoreSource

    url, schema = pg_schema
    app = _app(tmp_path, {"url": url, "schema": schema}, url, schema=schema)
    state = app.extensions["feedkit"]
    now = [0.0]
    state.stores = StoreSource(state.config, clock=lambda: now[0])
    client = app.test_client()
    before = _backends(url)
    for _ in range(20):
        assert client.get("/subscribe").status_code == 200
    assert state.stores.opened == 1
    [kept] = _backends(url) - before                     # one server connection, still open
    # The server drops it (a restart, an idle timeout): the next request opens a new one.
    import psycopg

    with psycopg.connect(url, autocommit=True) as admin:
        assert admin.execute("SELECT pg_terminate_backend(%s)", (kept,)).fetchone()[0]
    assert client.get("/subscribe").status_code == 200
    assert state.stores.opened == 2
    [second] = _backends(url) - before
    assert second != kept
    # Older than MAX_AGE: replaced, and the old one closed on the server too.
    now[0] += MAX_AGE + 1
    assert client.get("/subscribe").status_code == 200
    assert state.stores.opened == 3
    [third] = _backends(url) - before
    assert third != second
    state.stores.discard()
    assert _backends(url) - before == set()


def test_a_kept_connection_never_carries_a_transaction_into_the_next_request(
        tmp_path, pg_schema):
    from feedkit.web.stores import StoreSource

    url, schema = pg_schema
    app = _app(tmp_path, {"url": url, "schema": schema}, url, schema=schema)
    stores = StoreSource(app.extensions["feedkit"].config)
    store = stores.acquire()
    store.db.execute("BEGIN IMMEDIATE")                   # a request failed mid-write
    store.db.execute("INSERT INTO meta (key, value) VALUES ('half', 'done')")
    stores.release(store)
    again = stores.acquire()
    assert again is store and not again.db.in_transaction
    assert again.get_meta("half") is None                 # rolled back, not committed later
    stores.discard()


def test_on_sqlite_every_request_opens_and_closes_its_own(tmp_path):
    app = _app(tmp_path, {"path": "articles.db"}, tmp_path / "articles.db")
    state = app.extensions["feedkit"]
    client = app.test_client()
    for _ in range(3):
        assert client.get("/subscribe").status_code == 200
    assert state.stores.opened == 3 and not state.stores.shared
