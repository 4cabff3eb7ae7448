"""Benchmark ``feedkit web`` on SQLite vs PostgreSQL (issue 11): the store is opened once per
request (:func:`feedkit.web.app._store`, a new connection each time), so a PostgreSQL
connection's cost shows here if anywhere.

The Flask app under waitress on 127.0.0.1 (the tests' endpoint setup), an aiosmtpd server for
the confirmation emails, one sequential HTTP client; the runs alternate between the backends so
machine noise falls on both alike. Per backend:

* GET /subscribe: the form, its department counts read from the store (one connection);
* GET /preferences/<token>: a subscriber read by id (one connection);
* sign-up: GET the form and POST it (the store write happens on the outbox thread, measured
  as the time until every confirmation email reached the SMTP server).

PostgreSQL runs twice: as feedkit web does it (a connection kept per thread) and with a new
connection per request, to show what keeping it saves. The server: a throwaway cluster with
the default durability (as bench_backends.py), or ``--pg-url``; a schema is made and dropped.

Usage: python bench/bench_web_backends.py [--requests 300] [--rounds 3] [--pg-url URL]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
import uuid
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from _digest_support import korean_articles, smtp_server  # noqa: E402
from _web_support import (  # noqa: E402
    NOW,
    SECRET,
    Client,
    Clock,
    _serve_until,
    site_config,
)
from pg_server import start_durable  # noqa: E402

from feedkit.store.articles import Store  # noqa: E402
from feedkit.subscribers import repo  # noqa: E402
from feedkit.subscribers.tokens import make_token  # noqa: E402

DEPARTMENTS = ("세무과", "관광과", "세무과", "복지정책과", "세무과", "관광과", "도서관")


@contextmanager
def serving(folder: Path, store: dict, target, kwargs: dict):
    """The endpoint of tests/_web_support.py, on the store ``store`` ([store] section)."""
    from feedkit.web.app import create_app
    from feedkit.web.server import make_server

    with Store(target, **kwargs) as s, s.transaction():
        s.upsert(korean_articles(35, NOW - timedelta(days=10), categories=DEPARTMENTS))
    with smtp_server() as (handler, smtp_port):
        config = site_config(folder, smtp_port, sections={"store": store},
                             address_limit=0, client_limit=0)
        clock = Clock()
        app = create_app(config, secret=SECRET, clock=clock.monotonic, now=clock)
        server = make_server(config, host="127.0.0.1", port=0, app=app)
        stop = threading.Event()
        thread = threading.Thread(target=_serve_until, args=(server, stop), daemon=True)
        thread.start()
        try:
            yield server.effective_port, handler, app
        finally:
            stop.set()
            thread.join(5)


def run(name: str, folder: Path, store: dict, target, kwargs: dict, n: int,
        results: dict[str, list[float]], *, reuse: bool = True) -> None:
    folder.mkdir()
    with serving(folder, store, target, kwargs) as (port, smtp, app):
        if not reuse:   # every request opens its own connection (before feedkit.web.stores)
            app.extensions["feedkit"].stores.max_age = 0
        with Store(target, **kwargs) as s:
            sub, _what = repo.add(s, "reader@example.org", (), "ko", "command", "1", NOW, NOW)
        prefs = f"/preferences/{make_token(SECRET, 'preferences', sub.id)}"
        client = Client(port)
        client.get("/subscribe")   # warm: templates compiled, catalogs read
        for label, path in (("GET /subscribe", "/subscribe"), ("GET /preferences", prefs)):
            t0 = time.perf_counter()
            for _ in range(n):
                assert client.get(path).status == 200
            results.setdefault(f"{name} {label}", []).append((time.perf_counter() - t0) / n)
        t0 = time.perf_counter()
        for i in range(n):
            page = client.get("/subscribe")
            reply = client.post("/subscribe", {
                "csrf": page.form()["csrf"][0], "language": "ko", "consent": "yes",
                "address": f"new{i}@example.org", "categories": ["세무과"]})
            assert reply.status == 303
        app.extensions["feedkit"].outbox.join()
        deadline = time.monotonic() + 60
        while len(smtp.received) < n and time.monotonic() < deadline:
            time.sleep(0.01)
        assert len(smtp.received) == n
        results.setdefault(f"{name} sign-up, until every email left", []).append(
            (time.perf_counter() - t0) / n)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--requests", type=int, default=300)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--pg-url", default="")
    args = ap.parse_args()
    os.environ.pop("FEEDKIT_STORE_URL", None)
    cluster = None
    url = args.pg_url
    if not url:
        cluster = start_durable()
        url = cluster.url
    results: dict[str, list[float]] = {}
    schemas = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for r in range(args.rounds):
                folder = Path(tmp) / f"sqlite{r}"
                run("sqlite    ", folder, {"path": "articles.db"}, folder / "articles.db", {},
                    args.requests, results)
                schema = f"bench_web_{uuid.uuid4().hex[:10]}"
                schemas.append(schema)
                run("postgresql", Path(tmp) / f"pg{r}", {"url": url, "schema": schema}, url,
                    {"schema": schema}, args.requests, results)
                schema = f"bench_web_{uuid.uuid4().hex[:10]}"
                schemas.append(schema)
                run("pg, a new connection per request", Path(tmp) / f"pgnew{r}",
                    {"url": url, "schema": schema}, url, {"schema": schema}, args.requests,
                    results, reuse=False)
    finally:
        if cluster is None:
            import psycopg

            with psycopg.connect(url, autocommit=True) as conn:
                for schema in schemas:
                    conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        else:
            cluster.stop()
    print(f"{args.requests} sequential requests per run, {args.rounds} runs per backend "
          "(median of the runs)")
    for what in ("GET /subscribe", "GET /preferences", "sign-up"):
        for label, per_request in results.items():
            if what in label:
                ms = statistics.median(per_request) * 1000
                print(f"{label:<70} {ms:7.2f} ms/request  {1000 / ms:6.0f}/s")


if __name__ == "__main__":
    main()
