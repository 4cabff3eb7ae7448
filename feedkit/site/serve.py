"""``feedkit serve``: the built folder on 127.0.0.1, plus a live preview of the weekly digest.

Why it is shaped like this:

* **Standard library only.** ``http.server`` (a ``ThreadingHTTPServer`` and a
  ``SimpleHTTPRequestHandler`` rooted with ``directory=``) is enough for a local look; a web
  framework would be a dependency for one command nobody runs in production.
* **Content types match the host the folder is deployed to** (GitHub Pages): ``.xml`` as
  ``application/xml`` and ``.json`` as ``application/json``, both UTF-8. Browsers display these
  (and apply ``feed.xsl``), where ``application/rss+xml`` or ``application/feed+json`` often
  makes them offer a download instead, which is not what a local look is for.
* **Previews are rendered on every request** from the store and the templates on disk, through
  :mod:`feedkit.digest`'s own functions, so editing a template and reloading shows the change,
  and what the preview shows is what ``digest render`` / ``digest send`` produce.
* **Nothing outside the output folder is reachable**: ``translate_path`` already drops ``..``
  after percent-decoding; a realpath check on top also stops symlinks leading out of it.
* **Creating the server is separate from running it** (:func:`make_server` vs :func:`serve`), so
  tests bind port 0 and run the real server in a thread.
* **A test send from the preview** (``POST /_preview/send``, the form on ``/_preview/``) is the
  one thing that acts rather than shows, so it is guarded (see :mod:`feedkit.site.serve_send`).
* **The preview opens only through the address the server printed** (a secret key that sets an
  HttpOnly cookie, as Jupyter does: :mod:`feedkit.site.serve_auth`): another user of the
  machine can reach 127.0.0.1 too, and must not get the test-send form.
"""

from __future__ import annotations

import ipaddress
import os
import posixpath
import re
import secrets
import socket
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from functools import partial
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

from feedkit.config import Config
from feedkit.errors import FeedkitError
from feedkit.site.serve_auth import PreviewKey, without_token
from feedkit.site.serve_send import SendRate

PREVIEW_PREFIX = "/_preview/"
SEND_PATH = "/_preview/send"    # POST only: the test send (feedkit.site.serve_send)
# /_preview/digest, /_preview/digest.txt, /_preview/digest/2024-W24(.html|.txt)
_DIGEST_ROUTE = re.compile(
    r"^/_preview/digest(?:/(?P<week>\d{4}-W\d{2}))?(?P<ext>\.html|\.txt)?$")

# What a browser needs to show each built file (see the module docstring for why not the
# feed-specific types). Anything else falls back to the mimetypes module.
CONTENT_TYPES = {
    ".html": "text/html",
    ".htm": "text/html",
    ".xml": "application/xml",
    ".xsl": "text/xsl",
    ".json": "application/json",
    ".css": "text/css",
    ".js": "text/javascript",
    ".txt": "text/plain",
    ".svg": "image/svg+xml",
}
_TEXTUAL = ("text/", "application/xml", "application/json", "image/svg+xml")

Log = Callable[[str], None]


def with_charset(ctype: str) -> str:
    """Every text file feedkit writes is UTF-8; say so, or a browser guesses (badly, for Korean)."""
    return f"{ctype}; charset=utf-8" if ctype.startswith(_TEXTUAL) else ctype


def is_loopback(host: str) -> bool:
    """True if ``host`` is only reachable from this machine (127.0.0.0/8, ::1, localhost)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def url_for(host: str, port: int, path: str = "/") -> str:
    """The URL to print: a wildcard address is opened in a browser as the loopback one."""
    host = host.strip("[]")
    if host in ("", "0.0.0.0"):
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}{path}"


# ---------------------------------------------------------------------------------------------
# The digest preview


@dataclass
class Reply:
    status: int
    content_type: str
    body: bytes


@dataclass
class Preview:
    """Renders the digest preview pages; holds no state but the config, a pinned "today" and
    the secret the test-send form carries (:mod:`feedkit.site.serve_send`)."""

    config: Config
    today: date | None = None   # None: the real date in the site's timezone, read per request
    form_token: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    key: PreviewKey = field(default_factory=PreviewKey)         # who may open the preview
    sends: SendRate = field(default_factory=SendRate)           # test sends per hour

    def now(self):
        """The moment the preview works at: the pinned day's last minute (as ``--today`` is for
        the digest commands), else the clock, read per request."""
        from feedkit.mail.schedule import pinned_now

        return pinned_now(None, self.today, self.config.tz)

    def current_week(self):
        """The week under way: its digest is next week's business."""
        from feedkit.digest.week import Week

        return Week.containing(self.now().date(), self.config.tz)

    def due_week(self):
        """The week ``digest send`` sends next (last week's): what an editor checks, approves
        and test-sends on Monday, so ``/_preview/digest`` without a week shows it."""
        from feedkit.digest.week import Week

        return Week.last_complete(self.now().date(), self.config.tz)

    def handle(self, path: str) -> Reply | None:
        """The reply for a ``/_preview/...`` path, or None if there is no such page."""
        from feedkit.digest.week import Week
        from feedkit.text.i18n import refresh

        refresh()   # an edited catalog shows in the next preview, like an edited digest.css

        if path in ("/_preview", PREVIEW_PREFIX):
            return self._index()
        m = _DIGEST_ROUTE.match(path)
        if not m:
            return None
        text = m["ext"] == ".txt"
        label = m["week"]
        try:
            week = Week.parse(label, self.config.tz) if label else self.due_week()
        except FeedkitError:
            return None    # 2024-W60: no such page
        return self._week(week, text)

    # -- pages -------------------------------------------------------------------------------

    def _open_store(self):
        from feedkit.store.backends import open_store

        # One connection per request: the server is threaded and sqlite3 connections are not
        # shared across threads; opening one is cheap next to rendering a digest.
        return open_store(self.config)

    def _week(self, week, text: bool) -> Reply:
        from feedkit.digest.compose import load_digest
        from feedkit.digest.render import DigestRenderer
        from feedkit.editorial.publication import build_time, visible_until
        from feedkit.mail.message import preview_unsubscribe
        from feedkit.site.weeks import week_counts

        config = self.config
        until = visible_until(config, build_time())  # a preview shows what a build would
        with self._open_store() as store:
            dg = load_digest(config, store, week, until)
            weeks = week_counts(config, store, until) if dg.total == 0 else {}
        if dg.total == 0:
            return self._empty(week, list(weeks), text)
        renderer = DigestRenderer(config)     # per request: picks up an edited digest.css
        body = renderer.email(dg)
        page_html, page_text = body.personal(preview_unsubscribe(config, strict=False))
        if text:
            return Reply(200, "text/plain", page_text.encode("utf-8"))
        return Reply(200, "text/html", page_html.encode("utf-8"))

    def _empty(self, week, labels: list[str], text: bool) -> Reply:
        """A week without articles: say so, and point at the latest week that has some (not
        after this one, when there is one), since an empty digest is never sent."""
        from feedkit.text.i18n import for_config

        lang = for_config(self.config)
        earlier = [lb for lb in labels if lb <= week.label]
        target = earlier[0] if earlier else (labels[0] if labels else "")
        days = week.range_text(lang)
        if text:
            head = lang.gettext("%(week)s: no articles were published that week, so there is "
                                "no digest.") % {"week": f"{week.label} ({days})"}
            line = (f"{lang.gettext('Latest week with news')}: {PREVIEW_PREFIX}digest/{target}"
                    if target else lang.gettext("The store is empty (run feedkit import)"))
            return Reply(200, "text/plain", f"{head}\n{line}\n".encode())
        return self.page("empty", week={"label": week.label, "days": days}, latest=target)

    def _index(self) -> Reply:
        """The week that is due first (its state: approval, when it is sent), then this week so
        far, the test-send form, and every week that has news, newest first."""
        from feedkit.digest.week import Week
        from feedkit.mail.schedule import next_digest
        from feedkit.site.serve_send import form_context
        from feedkit.site.weeks import week_counts
        from feedkit.text.dates import format_date
        from feedkit.text.i18n import for_config

        config = self.config
        lang = for_config(config)
        with self._open_store() as store:
            weeks = week_counts(config, store)
            due = next_digest(config, store, self.now())
        current = self.current_week()
        rows = [{"label": label, "days": Week.parse(label, config.tz).range_text(lang),
                 "count": count} for label, count in weeks.items()]
        at = f"{format_date(due.due.at, lang)} {due.due.at:%H:%M}"
        return self.page(
            "index",
            due={"label": due.week.label, "days": due.week.range_text(lang),
                 "articles": due.articles, "state": due.state, "is_due": due.due.is_due,
                 "at": at, "sent": due.sent},
            this_week={"label": current.label, "days": current.range_text(lang)},
            weeks=rows,
            form=form_context(list(weeks), due.week.label, self.form_token, SEND_PATH))

    def page(self, page: str, **context) -> Reply:
        """A staff page (``templates/preview.html.j2``) in the site's language, in the layout
        of the list's pages (:mod:`feedkit.site.pages`)."""
        from feedkit.site.pages import render_page

        html_text = render_page(self.config, "preview.html.j2", self.config.site.language,
                                page=page, prefix=PREVIEW_PREFIX, **context)
        return Reply(200, "text/html", html_text.encode("utf-8"))


# ---------------------------------------------------------------------------------------------
# HTTP


class Handler(SimpleHTTPRequestHandler):
    """Static files from the output folder, and ``/_preview/...`` rendered from the store."""

    server: PreviewServer
    server_version = "feedkit"
    sys_version = ""
    _live = False     # True while answering a preview (which sends its own Cache-Control)

    def do_GET(self) -> None:
        if not self._preview(head=False):
            super().do_GET()

    def do_HEAD(self) -> None:
        if not self._preview(head=True):
            super().do_HEAD()

    def do_POST(self) -> None:
        from feedkit.site.serve_send import handle_test_send

        if unquote(urlsplit(self.path).path) != SEND_PATH:
            self.send_error(HTTPStatus.METHOD_NOT_ALLOWED, "Only the test send takes a POST")
            return
        preview = self.server.preview
        if not self._let_in():
            return
        outcome = handle_test_send(self, preview, is_loopback(self.client_address[0]))
        reply = preview.page("result", outcome=outcome.context())
        self._reply(Reply(outcome.status, reply.content_type, reply.body))

    def _reply(self, reply: Reply, *, head: bool = False) -> None:
        self._live = True
        self.send_response(reply.status)
        self.send_header("Content-Type", with_charset(reply.content_type))
        self.send_header("Content-Length", str(len(reply.body)))
        self.send_header("Cache-Control", "no-store")   # rendered live: never reuse
        self.end_headers()
        if not head:
            self.wfile.write(reply.body)

    def _let_in(self) -> bool:
        """Whether the request holds the preview's cookie; if not, a 403 page is sent (see
        :mod:`feedkit.site.serve_auth`)."""
        preview = self.server.preview
        if preview.key.allows(self.headers.get("Cookie"), self.server.port):
            return True
        page = preview.page("locked")
        self._reply(Reply(403, page.content_type, page.body))
        return False

    def _preview(self, *, head: bool) -> bool:
        path = unquote(urlsplit(self.path).path)
        if not (path == "/_preview" or path.startswith(PREVIEW_PREFIX)):
            return False
        preview = self.server.preview
        back = preview.key.login(self.path)
        if back is not None:   # the printed address: set the cookie, drop the key from the URL
            self._live = True
            self.send_response(HTTPStatus.SEE_OTHER)
            self.send_header("Set-Cookie", preview.key.set_cookie(self.server.port))
            self.send_header("Location", back)
            self.send_header("Content-Length", "0")
            self.send_header("Cache-Control", "no-store")
            self.send_header("Referrer-Policy", "no-referrer")
            self.end_headers()
            return True
        if not self._let_in():
            return True
        try:
            reply = self.server.preview.handle(path)
        except FeedkitError as exc:   # e.g. a template error while editing: show it
            reply = Reply(500, "text/plain", f"feedkit: error: {exc}\n".encode())
        except Exception as exc:      # a bug: keep the traceback, on the server's terminal
            traceback.print_exc()
            reply = Reply(500, "text/plain",
                          f"feedkit: internal error: {type(exc).__name__}: {exc}\n".encode())
        if reply is None:
            self.send_error(HTTPStatus.NOT_FOUND, "No such preview page")
            return True
        self._reply(reply, head=head)
        return True

    def send_head(self):
        # translate_path has already removed "..", "%2e%2e" and friends; this also refuses a
        # symlink inside the folder that points out of it, whether it is the file asked for or
        # the index.html the base class would serve for a directory (public/x/index.html ->
        # /etc/passwd), or a directory on the way.
        path = self.translate_path(self.path)
        candidates = [path]
        if os.path.isdir(path):
            candidates += [p for p in (os.path.join(path, "index.html"),
                                       os.path.join(path, "index.htm")) if os.path.lexists(p)]
        if not all(self._inside(p) for p in candidates):
            self.send_error(HTTPStatus.NOT_FOUND, "File not found")
            return None
        return super().send_head()

    def _inside(self, path: str) -> bool:
        target = os.path.realpath(path)
        root = self.server.root
        return target == root or target.startswith(root + os.sep)

    def guess_type(self, path) -> str:
        ext = posixpath.splitext(str(path))[1].lower()
        return with_charset(CONTENT_TYPES.get(ext) or super().guess_type(path))

    def end_headers(self) -> None:
        if not self._live:
            self.send_header("Cache-Control", "no-cache")   # a rebuild shows on reload
        super().end_headers()

    def log_message(self, format: str, *args) -> None:
        if self.server.log is not None:
            self.server.log(f"{self.address_string()} {without_token(format % args)}")


class PreviewServer(ThreadingHTTPServer):
    """A threaded HTTP server rooted at the output folder, carrying the preview renderer."""

    daemon_threads = True          # an open keep-alive connection must not delay Ctrl-C
    allow_reuse_port = False       # never share a port with a server that is already running

    def __init__(self, address: tuple[str, int], root: Path, preview: Preview,
                 log: Log | None = None):
        self.root = os.path.realpath(root)
        self.preview = preview
        self.log = log
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, partial(Handler, directory=self.root))

    @property
    def port(self) -> int:
        return self.server_address[1]

    @property
    def host(self) -> str:
        return self.server_address[0]

    def url(self, path: str = "/") -> str:
        return url_for(self.host, self.port, path)


def make_server(config: Config, *, host: str = "127.0.0.1", port: int = 8000,
                out_dir: Path | None = None, today: date | None = None,
                log: Log | None = None) -> PreviewServer:
    """Bind (but do not start) a server for the built folder; port 0 picks a free port."""
    root = out_dir or config.out_dir
    if not root.is_dir():
        raise FeedkitError(f"{root}: no such folder (run 'feedkit build' first)")
    host = host.strip("[]")
    try:
        return PreviewServer((host, port), root, Preview(config, today), log)
    except OSError as exc:
        why = exc.strerror or str(exc)
        hint = " (is another server running? try --port)" if port else ""
        raise FeedkitError(f"{url_for(host, port)}: cannot listen: {why}{hint}") from None


def preview_lines(server: PreviewServer) -> list[str]:
    """What ``serve`` prints under its address: first the digest that is due (last week's:
    the one an editor checks, approves and test-sends on Monday) and where it stands, then
    this week so far, then the index of every week."""
    from feedkit.mail.schedule import next_digest

    preview = server.preview
    config = preview.config
    with preview._open_store() as store:
        due = next_digest(config, store, preview.now())
    week, current = due.week, preview.current_week()
    when = ("the next 'feedkit digest send' sends it" if due.due.is_due else
            f"'feedkit digest send' sends it from {due.due.at:%Y-%m-%d %H:%M} "
            f"({config.site.timezone})")
    state = {
        "empty": "no articles, so nothing is sent",
        "waiting": f"waiting for approval (run 'feedkit digest approve --week {week.label}' "
                   "once it is checked)",
        "approved": f"approved; {when}",
        "scheduled": when,
    }[due.state]
    count = f"{due.articles} article(s), " if due.articles else ""
    sent = f"; {due.sent} reader(s) already have it" if due.sent else ""
    return [
        f"Next digest, week {week.label} ({week.range_text(config.site.language)}): "
        f"{count}{state}{sent}",
        f"  preview (open this address first: it holds this session's key): "
        f"{preview.key.address(server.url(PREVIEW_PREFIX + 'digest'))} · plain text: "
        f"{server.url(PREVIEW_PREFIX + 'digest.txt')}",
        f"This week so far ({current.label}): "
        f"{server.url(f'{PREVIEW_PREFIX}digest/{current.label}')}",
        f"All weeks and a test send: {server.url(PREVIEW_PREFIX)}",
    ]


def serve(config: Config, *, host: str = "127.0.0.1", port: int = 8000, build: bool = True,
          today: date | None = None, info: Log = print, warn: Log = print,
          log: Log | None = None) -> None:
    """Build (unless ``build=False``), then serve until Ctrl-C, which returns normally."""
    if build:
        from feedkit.site.build import build as build_site
        from feedkit.store.backends import open_store

        with open_store(config) as store:
            report = build_site(config, store)
        info(report.summary(config.out_dir))
    if not is_loopback(host):
        warn(f"warning: {host} is not a loopback address: anyone who can reach this machine "
             "can read the site and its digest previews")
    server = make_server(config, host=host, port=port, today=today, log=log)
    try:
        info(f"Serving {config.out_dir} at {server.url()}")
        for line in preview_lines(server):
            info(line)
        info("Press Ctrl-C to stop.")
        server.serve_forever()
    except KeyboardInterrupt:
        info("Stopped.")
    finally:
        server.server_close()
