"""``feedkit web``: the Flask app served by waitress, a production WSGI server in pure Python
(threads in one process, so the in-memory rate limits see every request)."""

from __future__ import annotations

import logging
from collections.abc import Callable

from feedkit.config import Config
from feedkit.errors import FeedkitError, UsageError

Log = Callable[[str], None]
DRAIN_SECONDS = 20.0
"""How long a stopping server waits for queued subscription requests (systemd waits 90 s);
their emails not yet taken by the relay stay in the store (feedkit.web.outbox)."""


def quiet_logging() -> None:
    """Warnings and errors only, to stderr, with no request detail: waitress writes no access
    log at all (it has none built in), Flask's own logger only reports failures, and feedkit's
    lines name readers by number or keyed hash. Addresses never reach a log line."""
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    for name in ("feedkit.web", "waitress", "feedkit.web.app"):
        logger = logging.getLogger(name)
        logger.setLevel(logging.WARNING)
        if not logger.handlers:
            logger.addHandler(handler)
        logger.propagate = False


def start_warnings(config: Config, host: str) -> list[str]:
    """What an operator must hear before the endpoint starts, each a line starting
    ``warning:``; the same checks ``feedkit serve`` makes for its own address."""
    from urllib.parse import urlsplit

    from feedkit.site.serve import is_loopback

    lines = []
    if urlsplit(config.web.url).scheme != "https":
        lines.append(
            f"warning: [web] url {config.web.url} is not https: every link in the emails (to "
            "confirm, unsubscribe, change departments) travels unencrypted, and mail providers "
            "show their one-click unsubscribe only for an https link, so the digests carry no "
            "List-Unsubscribe-Post header; put the endpoint behind an HTTPS reverse proxy and "
            "set its https address")
    if not is_loopback(host):
        proxied = (" and [web] proxy_hops trusts X-Forwarded-* headers they can forge"
                   if config.web.proxy_hops else "")
        lines.append(
            f"warning: {host} is not a loopback address: anyone who can reach this machine can "
            f"use the endpoint directly, over plain HTTP and around the reverse proxy{proxied}; "
            "keep --host 127.0.0.1 behind the proxy")
    return lines


def make_server(app, *, host: str, port: int, threads: int = 4):
    """Bind a waitress server for ``app`` (made by :func:`feedkit.web.app.create_app`; not
    started: call ``.run()``); port 0 picks a free port."""
    from waitress import create_server

    try:
        # Proxy headers are left to the app's ProxyFix ([web] proxy_hops), so the app behaves
        # the same under any WSGI server; waitress neither trusts nor strips them.
        server = create_server(app, host=host.strip("[]"), port=port, threads=threads,
                               ident="feedkit", clear_untrusted_proxy_headers=False)
    except OSError as exc:
        raise FeedkitError(f"{host}:{port}: cannot listen: {exc.strerror or exc} "
                           "(is another server running? try --port)") from None
    except ValueError:
        # waitress resolves the host first and says only "Invalid host/port specified."
        raise UsageError(f"--host: {host!r} is not an address of this machine (e.g. "
                         "127.0.0.1, the loopback address behind the reverse proxy)") from None
    # A form opened at the address the server listens on may post back to it (the CSRF origin
    # check otherwise allows only [web] url's origin, never one taken from the Host header).
    bare = host.strip("[]")
    shown = f"[{bare}]" if ":" in bare else bare
    app.extensions["feedkit"].local_origins.add(f"http://{shown}:{server.effective_port}")
    return server


def serve(config: Config, *, host: str, port: int, info: Log = print,
          warn: Log = print) -> None:
    """Serve until Ctrl-C (or SIGTERM from systemd), which return normally. Once the address
    is bound (a host that is no address of this machine is one error line, nothing more), the
    :func:`start_warnings` come first."""
    import signal

    from feedkit.web.app import create_app

    app = create_app(config)
    server = make_server(app, host=host, port=port)
    for line in start_warnings(config, host):
        warn(line)
    outbox = app.extensions["feedkit"].outbox
    outbox.start()   # confirmations an earlier run kept for the relay go out now

    def stop(_signum, _frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    where = f"http://{host}:{server.effective_port}/subscribe"
    try:
        # Inside the try: a SIGTERM right after the line (systemd stopping a unit just
        # started) is a normal stop, not "interrupted".
        info(f"Subscribe endpoint at {where} (public address: {config.web.url.rstrip('/')}/"
             "subscribe); Ctrl-C stops.")
        server.run()   # waitress returns (it catches KeyboardInterrupt) once stopped
    except KeyboardInterrupt:
        pass
    finally:
        server.close()
    left = outbox.drain(DRAIN_SECONDS)
    outbox.stop()
    if left:
        logging.getLogger("feedkit.web").warning(
            "%d subscription request(s) not handled before stopping", left)
    try:
        kept = outbox.waiting()
    except FeedkitError:
        kept = 0
    if kept:
        info(f"{kept} confirmation email(s) wait in the store for the relay; the next "
             "'feedkit web' sends them.")
    info("Stopped.")
