"""The subscribe endpoint as a Flask application: form, double opt-in, one-click unsubscribe,
preferences.

Rules every route keeps:

* **A GET changes nothing.** Mail scanners (Outlook Safe Links, antivirus gateways) fetch every
  link in a message; a token link's GET only shows a page with one button, and the POST acts.
* **No enumeration.** POST /subscribe answers with the same redirect to the same page whether the
  address is new, pending, active, unsubscribed, over its rate limit or caught by the honeypot;
  the emails go out from a background thread, so the answer takes as long in every case.
* **No address in a log line**, and none in any page: pages show no address at all.
* ``[web] url`` is the only base of the links in emails: a link never takes its host from the
  request (a forged ``Host`` header must not send someone's confirmation link elsewhere).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from flask import Flask, Response, g, redirect, request, url_for

import feedkit.web.csrf as csrf
from feedkit.config import Config
from feedkit.errors import ConfigError, FeedkitError
from feedkit.web.limits import DAY, HOUR, SlidingWindow, client_network, mailbox_of
from feedkit.web.outbox import Outbox, Outgoing, compose
from feedkit.web.pages import Department, departments, offered_languages, render_page
from feedkit.web.stores import StoreSource

log = logging.getLogger("feedkit.web")

ONE_CLICK = ("List-Unsubscribe", "One-Click")
"""RFC 8058's POST body, ``List-Unsubscribe=One-Click``."""
HONEYPOT = "website"


@dataclass
class WebState:
    """What every request of one app shares."""

    config: Config
    secret: str
    outbox: Outbox
    per_address: SlidingWindow     # per mailbox (limits.mailbox_of), keyed hash
    per_client: SlidingWindow      # per client network (limits.client_network)
    overall: SlidingWindow         # confirmation emails per hour, one key
    languages: tuple[str, ...]
    stores: StoreSource
    now: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    clock: Callable[[], float] = time.monotonic
    # Origins a form post may come from besides [web] url's: the address the server itself
    # listens on (feedkit.web.server), for a look before the proxy is set up. Never the Host
    # header: that is the sender's to choose (DNS rebinding).
    local_origins: set[str] = field(default_factory=set)
    swept: float | None = None      # when the last housekeeping ran (clock seconds)
    sweeping: threading.Lock = field(default_factory=threading.Lock)


def create_app(config: Config | None = None, *, secret: str | None = None,
               clock: Callable[[], float] | None = None,
               now: Callable[[], datetime] | None = None) -> Flask:
    """The WSGI application. With no arguments it loads the config the CLI would
    (``$FEEDKIT_CONFIG`` or ``./config.toml``) and the secret from ``$FEEDKIT_SECRET``, and
    starts the outbox's thread (confirmations kept from an earlier run go out), so any WSGI
    server can serve it: ``waitress-serve --call feedkit.web:create_app``.

    ``clock`` (monotonic seconds, for the rate limits) and ``now`` (the time stamped on
    subscriber records) are for tests."""
    from werkzeug.middleware.proxy_fix import ProxyFix

    from feedkit.config import load_config
    from feedkit.subscribers.tokens import env_secret

    loaded = config is None   # the production path of another WSGI server (see above)
    config = config if config is not None else load_config()
    if not config.web.url:
        raise ConfigError("[web] url is not set: the confirmation and unsubscribe links need "
                          "the public https address of this endpoint")
    secret = secret if secret is not None else env_secret()
    kwargs = {"clock": clock} if clock is not None else {}
    stores = StoreSource(config)
    state = WebState(
        config=config, secret=secret, outbox=Outbox(config, stores=stores),
        per_address=SlidingWindow(config.web.address_limit, DAY, **kwargs),
        per_client=SlidingWindow(config.web.client_limit, HOUR, **kwargs),
        overall=SlidingWindow(config.web.emails_per_hour, HOUR, **kwargs),
        languages=offered_languages(config), stores=stores,
    )
    state.outbox.clock = lambda: state.now().timestamp()   # when a kept email is due
    if loaded:
        state.outbox.start()   # sends what an earlier run left waiting for the relay
    if now is not None:
        state.now = now
    if clock is not None:
        state.clock = clock

    app = Flask("feedkit.web")
    app.extensions["feedkit"] = state
    # Form posts are small: a few departments and an address. Refuse anything big unread.
    app.config["MAX_CONTENT_LENGTH"] = 64 * 1024
    app.config["MAX_FORM_MEMORY_SIZE"] = 64 * 1024
    hops = config.web.proxy_hops
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops,
                                x_prefix=hops)  # type: ignore[method-assign]
    _routes(app, state)
    return app


# -- helpers shared by the routes ---------------------------------------------------------------


def _store(state: WebState):
    """The request's store, opened on first use and handed back at teardown: a new SQLite
    connection per request, or this thread's kept PostgreSQL one (:mod:`feedkit.web.stores`)."""
    if "feedkit_store" not in g:
        g.feedkit_store = state.stores.acquire()
    return g.feedkit_store


def _language(state: WebState, fallback: str | None = None) -> str:
    """``?lang=`` or the form's ``language`` if offered, else ``fallback`` (a subscriber's own)
    if offered, else the site's."""
    for asked in (request.args.get("lang"), request.form.get("language"), fallback):
        if asked in state.languages:
            return asked
    return state.languages[0]


def _page(state: WebState, name: str, language: str, status: int = 200, **context) -> Response:
    html = render_page(state.config, name, language, languages=state.languages,
                       subscribe_link=url_for("subscribe", lang=language), **context)
    return Response(html, status=status, content_type="text/html; charset=utf-8")


def _client(state: WebState) -> str:
    """The client's network, as the per-client limit counts it (/24 or /64)."""
    return client_network(request.remote_addr or "unknown")


def _address_key(state: WebState, address: str) -> str:
    from feedkit.privacy import recipient_key

    return recipient_key(address, state.secret.encode("utf-8"))


def _busy(state: WebState, window: SlidingWindow, key: str, language: str,
          reason: str) -> Response:
    resp = _page(state, "busy.html.j2", language, status=429, reason=reason)
    resp.headers["Retry-After"] = str(window.retry_after(key))
    return resp


def _subscriber(state: WebState, purpose: str, token: str):
    """(subscriber id, Subscriber or None, issue time or None) for a token, or None for a bad
    token. The token must be signed with the link key of the row it names (an erased or
    re-made subscription's links are dead; see :mod:`feedkit.subscribers.tokens`). Expiry is
    checked against ``state.now``, the same clock that stamps the records."""
    from feedkit.subscribers import repo
    from feedkit.subscribers.tokens import BadToken, read_token_issued, token_subject

    named = token_subject(state.secret, purpose, token)
    sub = repo.get(_store(state), named) if named is not None else None
    try:
        sid, issued = read_token_issued(state.secret, purpose, token,
                                        key=sub.link_key if sub is not None else "",
                                        now=int(state.now().timestamp()))
    except BadToken:
        return None
    return sid, sub if sub is not None and sub.id == sid else None, issued


def _bad_link(state: WebState, language: str) -> Response:
    # One page for forged, damaged, wrong-purpose and expired links: a prober learns nothing.
    return _page(state, "bad_link.html.j2", language, status=400)


def _chosen(state: WebState, known: list[Department]) -> tuple[str, ...]:
    """The departments ticked in the form that exist (a forged name is dropped)."""
    names = {d.name for d in known}
    return tuple(c for c in request.form.getlist("categories") if c in names)


# -- the routes ---------------------------------------------------------------------------------


def _routes(app: Flask, state: WebState) -> None:
    config = state.config

    @app.before_request
    def _housekeeping() -> None:
        _sweep(state)

    @app.teardown_appcontext
    def _close(_exc) -> None:
        store = g.pop("feedkit_store", None)
        if store is not None:
            state.stores.release(store)

    @app.after_request
    def _headers(resp: Response) -> Response:
        resp.headers["Cache-Control"] = "no-store"
        # Token URLs must not leak to other sites; not "no-referrer", which makes browsers send
        # "Origin: null" with the form's POST (Fetch standard) and so fail the origin check.
        resp.headers["Referrer-Policy"] = "same-origin"
        resp.headers["X-Content-Type-Options"] = "nosniff"
        resp.headers["X-Robots-Tag"] = "noindex"
        resp.headers["Content-Security-Policy"] = (
            "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data: https:; "
            "form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
        return resp

    @app.errorhandler(404)
    @app.errorhandler(405)
    def _no_such_page(exc):
        # In the pages' own layout and language (Werkzeug's default page has no landmarks)
        return _page(state, "not_found.html.j2", _language(state), status=exc.code)

    @app.errorhandler(FeedkitError)
    def _store_trouble(exc: FeedkitError):
        log.error("%s", exc)   # store messages name files and keys, never a reader
        return _page(state, "error.html.j2", _language(state), status=503)

    @app.get("/")
    def home():
        return redirect(url_for("subscribe", **request.args), code=302)

    @app.get("/subscribe")
    def subscribe() -> Response:
        return _form(state, _language(state))

    @app.post("/subscribe")
    def subscribe_post() -> Response:
        from feedkit.subscribers import repo

        language = _language(state)
        client = _client(state)
        if not state.per_client.hit(client):
            return _busy(state, state.per_client, client, language, "network")
        allowed = {csrf.origin_of(config.web.url), *state.local_origins}
        if not (csrf.same_origin(request.headers.get("Origin"), allowed)
                and csrf.valid(state.secret, request.cookies.get(csrf.COOKIE),
                               request.form.get(csrf.FIELD))):
            return _form(state, language, error="expired", status=400)
        done = redirect(url_for("sent", lang=language), code=303)
        if request.form.get(HONEYPOT, ""):
            return done   # a bot filled the field people cannot see: same answer, nothing done
        address = request.form.get("address", "").strip()
        known = departments(_store(state), config, state.now())
        chosen = _chosen(state, known)
        if request.form.get("consent") != "yes":
            return _form(state, language, error="consent", status=400, address=address,
                         chosen=chosen)
        try:
            clean = repo.clean(address)[0]
        except repo.InvalidAddress:
            return _form(state, language, error="address", status=400, address=address,
                         chosen=chosen)
        key = _address_key(state, clean)
        if not state.per_address.hit(_address_key(state, mailbox_of(clean))):
            log.info("subscribe request for %s over the per-mailbox limit", _short(key))
            return done
        if not state.overall.hit("all"):
            log.warning("subscribe request for %s over [web] emails_per_hour", _short(key))
            return _busy(state, state.overall, "all", language, "everyone")
        # The store write and the email happen off this thread: a new address costs an insert
        # and a known one does not, and the answer must not take longer for either.
        state.outbox.put(SubscribeRequest(state, address, chosen, language, _short(key),
                                          state.now()))
        return done

    @app.get("/subscribe/sent")
    def sent() -> Response:
        return _page(state, "sent.html.j2", _language(state))

    @app.route("/confirm/<token>", methods=["GET", "POST"])
    def confirm(token: str) -> Response:
        from feedkit.subscribers import repo

        found = _subscriber(state, "confirm", token)
        if found is None or found[1] is None:
            return _bad_link(state, _language(state))
        sid, sub, issued = found
        language = _language(state, sub.language)
        asked = int(datetime.fromisoformat(sub.consent_at).timestamp())
        if sub.status not in ("pending", "active") or issued is None or issued < asked:
            # Left or bounced since, or the link of an earlier request: a new request (after
            # leaving, say) is confirmed only by the link sent for it.
            return _bad_link(state, language)
        if request.method != "POST":   # GET and HEAD (Flask answers HEAD with the GET view)
            return _page(state, "confirm.html.j2", language, done=sub.status == "active")
        sub = repo.confirm(_store(state), sid, state.now())
        log.info("subscriber %d confirmed", sid)
        return _page(state, "confirm.html.j2", language, done=True,
                     preferences=_links(state, sub)["preferences"])

    @app.route("/unsubscribe/<token>", methods=["GET", "POST"])
    def unsubscribe(token: str) -> Response:
        from feedkit.subscribers import repo

        found = _subscriber(state, "unsubscribe", token)
        if found is None:
            return _bad_link(state, _language(state))
        sid, sub, _issued = found
        language = _language(state, sub.language if sub else None)
        if sub is None or sub.status == "unsubscribed":
            # Left already (or erased on request): no button that pretends to do something,
            # but the answer a reader who clicks the link a second time is looking for.
            return _page(state, "unsubscribe.html.j2", language, done=True, already=True)
        if request.method != "POST":
            return _page(state, "unsubscribe.html.j2", language, done=False, already=False)
        # RFC 8058: the mail provider POSTs List-Unsubscribe=One-Click, with no cookie and no
        # CSRF token; the signed token in the path is the whole authority, as for the button.
        from_page = request.form.get("from") == "page"
        via = "link" if from_page else "one-click"
        repo.unsubscribe(_store(state), sid, state.now(), via)
        log.info("subscriber %d unsubscribed (%s)", sid, via)
        return _page(state, "unsubscribe.html.j2", language, done=True, already=False)

    @app.route("/preferences/<token>", methods=["GET", "POST"])
    def preferences(token: str) -> Response:
        from feedkit.subscribers import repo

        found = _subscriber(state, "preferences", token)
        if found is None:
            return _bad_link(state, _language(state))
        sid, sub, _issued = found
        language = _language(state, sub.language if sub else None)
        if sub is None or sub.status in ("unsubscribed", "bounced"):
            return _page(state, "preferences.html.j2", language, member=False)
        store = _store(state)
        known = departments(store, config, state.now())
        saved = False
        if request.method == "POST":
            if request.form.get("action") == "leave":
                repo.unsubscribe(store, sid, state.now(), "preferences")
                log.info("subscriber %d unsubscribed (preferences)", sid)
                return _page(state, "unsubscribe.html.j2", language, done=True, already=False)
            before = sub.categories
            sub = repo.set_categories(store, sid, _chosen(state, known), state.now())
            saved = True
            if sub.categories != before:   # one line per change, as for joining and leaving
                chose = (f"{len(sub.categories)} department(s)" if sub.categories
                         else "every department")
                log.info("subscriber %d changed preferences: %s", sid, chose)
        chosen = set(sub.categories)
        return _page(state, "preferences.html.j2", language, member=True, saved=saved,
                     departments=[d.ticked(d.name in chosen) for d in known],
                     everything=not chosen)


def _sweep(state: WebState) -> None:
    """Once an hour (on the first request after it): delete the requests never confirmed whose
    link has expired (the privacy notice promises it). Cheap: one indexed DELETE."""
    from feedkit.subscribers import repo
    from feedkit.subscribers.tokens import CONFIRM_MAX_AGE

    at = state.clock()
    with state.sweeping:
        if state.swept is not None and at - state.swept < HOUR:
            return
        state.swept = at
    gone = repo.purge_pending(_store(state), state.now() - timedelta(seconds=CONFIRM_MAX_AGE))
    if gone:
        log.info("%d unconfirmed request(s) deleted: their link had expired", gone)


def _short(key: str) -> str:
    from feedkit.privacy import short_key

    return short_key(key)


def _links(state: WebState, sub) -> dict[str, str]:
    from feedkit.subscribers.links import personal_urls

    return personal_urls(state.config.web.url, state.secret, sub.id, sub.link_key)


def _form(state: WebState, language: str, *, error: str = "", status: int = 200,
          address: str = "", chosen: tuple[str, ...] = ()) -> Response:
    """The subscribe form, with a fresh CSRF field for the browser's nonce cookie."""
    from feedkit.subscribers.tokens import CONFIRM_MAX_AGE

    nonce = csrf.nonce_from(request.cookies.get(csrf.COOKIE))
    known = departments(_store(state), state.config, state.now())
    resp = _page(state, "subscribe.html.j2", language, status=status, error=error,
                 address=address, csrf_field=csrf.field_for(state.secret, nonce),
                 confirm_days=CONFIRM_MAX_AGE // DAY,
                 departments=[d.ticked(d.name in chosen) for d in known],
                 action=url_for("subscribe_post"))
    if request.cookies.get(csrf.COOKIE) != nonce:
        resp.set_cookie(csrf.COOKIE, nonce, max_age=csrf.MAX_AGE, httponly=True,
                        samesite="Lax", secure=request.is_secure,
                        path=request.script_root or "/")
    return resp


@dataclass(frozen=True)
class SubscribeRequest:
    """A checked form post, carried out by the outbox's thread: record the request (new,
    pending again, or left as it is for an active reader) and make its email."""

    state: WebState
    address: str
    chosen: tuple[str, ...]
    language: str
    who: str            # an address-free name for log lines
    now: datetime

    def __call__(self) -> Outgoing:
        from feedkit.subscribers import repo

        config = self.state.config
        store = self.state.stores.acquire()   # the outbox thread's own, kept on PostgreSQL
        try:
            sub, confirm = repo.request(store, self.address, self.chosen, self.language,
                                        "form", config.web.consent_version, self.now)
        finally:
            self.state.stores.release(store)
        return _mail_for(self.state, sub, confirm, self.who, self.now)


def _mail_for(state: WebState, sub, confirm: bool, who: str, now: datetime) -> Outgoing:
    """The confirmation email for a new or returning reader; for one who is already active, a
    note with their preferences link (the form answered the same either way)."""
    from feedkit.subscribers.links import confirm_url
    from feedkit.subscribers.tokens import CONFIRM_MAX_AGE

    config = state.config
    if confirm:
        link = confirm_url(config.web.url, state.secret, sub.id, key=sub.link_key,
                           now=int(now.timestamp()))
        name = "email_confirm.txt.j2"
    else:
        name, link = "email_already.txt.j2", _links(state, sub)["preferences"]
    subject, text = render_email(config, name, sub.language, link=link,
                                 days=CONFIRM_MAX_AGE // DAY)
    return Outgoing(sub.address, compose(config, sub.address, subject, text, now), who)


def render_email(config: Config, name: str, language: str, **context) -> tuple[str, str]:
    """(subject, body) of one of the endpoint's emails: the template's first line is the
    subject, the rest after one empty line the body."""
    text = render_page(config, name, language, **context)
    subject, _sep, body = text.partition("\n\n")
    return subject.strip(), body
