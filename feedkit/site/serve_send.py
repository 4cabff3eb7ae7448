"""The test send of ``feedkit serve``: a form on ``/_preview/`` that POSTs to
``/_preview/send``, which mails one week's digest to one address through
:func:`feedkit.mail.proof.send_proof` (the same function as ``digest send --to``).

It is the preview's only action with an effect outside the browser (a message leaves through
the city's relay, with its SMTP login), so a request must pass every one of these checks, each
against a different attack:

* **POST only**, ``application/x-www-form-urlencoded``, a small body: a link, an image or a
  prefetch can never send.
* **The client is on this machine** (a loopback peer address): ``serve --host 0.0.0.0`` shares
  the preview with the network, not the relay.
* **A secret form token**, made fresh each time the server starts and compared in constant
  time: another web page open in the editor's browser can make the browser POST here, but it
  cannot read the token off our page (the same-origin policy), so its forged form fails.
* **The Host header names the loopback server** (``127.0.0.1:PORT``, ``localhost:PORT``,
  ``[::1]:PORT``): DNS rebinding (a hostile name re-pointed at 127.0.0.1) would make our page
  "same origin" to the attacker and hand it the token; its requests still carry its own name in
  Host, and are refused.
* **Origin, and Sec-Fetch-Site, when the browser sends them, say same-origin**: a second,
  independent refusal of cross-site POSTs in every current browser.
* **The preview's cookie** (:mod:`feedkit.site.serve_auth`): only whoever opened the address
  ``feedkit serve`` printed, not every user of the machine, gets the form at all.
* **At most** :data:`SENDS_PER_HOUR` **test sends an hour**: a stolen session, or a script
  gone wrong, cannot turn the preview into a way to mail the relay's quota away.

A test send never writes the send log (see :mod:`feedkit.mail.proof`).
"""

from __future__ import annotations

import hmac
import threading
import time
from collections import deque
from dataclasses import dataclass
from urllib.parse import parse_qs

from feedkit.errors import FeedkitError
from feedkit.mail.proof import ProofReport

MAX_BODY = 4096
_LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")
_SEND_LOCK = threading.Lock()   # one test at a time: a double click sends one, then the other
SENDS_PER_HOUR = 10
"""An editor checks a week in a few sends; more in an hour is not checking."""


class SendRate:
    """The test sends of one server in the last hour (a sliding window)."""

    def __init__(self, limit: int = SENDS_PER_HOUR, window: float = 3600.0,
                 clock=time.monotonic):
        self.limit, self.window, self.clock = limit, window, clock
        self._times: deque[float] = deque()
        self._lock = threading.Lock()

    def take(self) -> int:
        """0 if a send may go now (and count it), else the seconds until one may."""
        now = self.clock()
        with self._lock:
            while self._times and self._times[0] <= now - self.window:
                self._times.popleft()
            if len(self._times) >= self.limit:
                return max(1, int(self._times[0] + self.window - now + 0.999))
            self._times.append(now)
            return 0


def N_(message: str) -> str:
    """Marks a reason for the catalogs (pybabel extracts ``N_``); it is translated where the
    staff page shows it, in the site's language."""
    return message


@dataclass(frozen=True)
class TestSendOutcome:
    """What a ``POST /_preview/send`` did, for the staff page (``templates/preview.html.j2``)
    to say in the site's language. ``kind``: ``sent``, ``empty`` (no articles that week),
    ``refused`` (``why``: an English reason marked with :func:`N_`), ``invalid`` (not an
    address) or ``failed`` (``detail``: feedkit's own one-line error)."""

    __test__ = False   # not a pytest test class

    status: int
    kind: str
    why: str = ""
    detail: str = ""
    report: ProofReport | None = None

    def context(self) -> dict[str, object]:
        """The template's ``outcome``: the report's fields, or (no send) the address given."""
        r = self.report
        sent = ({"week": r.week, "address": r.address, "subject": r.subject, "shown": r.shown,
                 "total": r.total, "who": r.who} if r is not None else
                {"week": "", "address": self.detail, "subject": "", "shown": 0, "total": 0,
                 "who": ""})
        return {"kind": self.kind, "why": self.why, "detail": self.detail, **sent}


def form_context(labels: list[str], due: str, token: str, action: str) -> dict | None:
    """The test-send form's fields for the preview index: the weeks with news, the one
    ``digest send`` sends next (``due``) chosen, else the latest before it; None without
    news."""
    if not labels:
        return None
    chosen = next((lb for lb in labels if lb <= due), labels[0])
    return {"labels": labels, "chosen": chosen, "token": token, "action": action}


def refusal(handler, peer_is_loopback: bool) -> str | None:
    """Why this request may not send (see the module docstring), or None if it may."""
    if not peer_is_loopback:
        return N_("test sends are accepted from this machine only")
    port = handler.server.port
    host = handler.headers.get("Host", "")
    if host not in {f"{name}:{port}" for name in _LOOPBACK_NAMES}:
        return N_("the Host header does not name this server on the loopback address")
    origin = handler.headers.get("Origin")
    if origin is not None and origin != f"http://{host}":
        return N_("a cross-site request (Origin)")
    fetch_site = handler.headers.get("Sec-Fetch-Site")
    if fetch_site is not None and fetch_site != "same-origin":
        return N_("a cross-site request (Sec-Fetch-Site)")
    ctype = handler.headers.get("Content-Type", "").split(";")[0].strip().lower()
    if ctype != "application/x-www-form-urlencoded":
        return N_("not a form submission")
    return None


def handle_test_send(handler, preview, peer_is_loopback: bool) -> TestSendOutcome:
    """What ``POST /_preview/send`` did (its HTTP status, and what to say)."""
    from datetime import UTC, datetime

    from feedkit.digest.week import Week
    from feedkit.mail.proof import send_proof
    from feedkit.privacy import clean_address

    config = preview.config

    why = refusal(handler, peer_is_loopback)
    if why:
        return TestSendOutcome(403, "refused", why)
    try:
        length = int(handler.headers.get("Content-Length", ""))
    except ValueError:
        return TestSendOutcome(411, "refused", N_("no Content-Length"))
    if not 0 <= length <= MAX_BODY:
        return TestSendOutcome(413, "refused", N_("the form is too large"))
    raw = handler.rfile.read(length)
    try:
        form = parse_qs(raw.decode("utf-8"), max_num_fields=10)
    except (UnicodeDecodeError, ValueError):
        return TestSendOutcome(400, "refused", N_("not a form"))
    token = form.get("token", [""])[0]
    if not hmac.compare_digest(token.encode(), preview.form_token.encode()):
        return TestSendOutcome(403, "refused", N_("the form is out of date (reload the preview "
                                                  "and try again)"))
    address = form.get("to", [""])[0].strip()
    if clean_address(address) is None:
        return TestSendOutcome(400, "invalid", detail=address)
    if preview.sends.take():
        return TestSendOutcome(429, "refused", N_("at most 10 test sends an hour: try again "
                                                  "later"))
    try:
        week = Week.parse(form.get("week", [""])[0], config.tz)
        with _SEND_LOCK, preview._open_store() as store:
            report = send_proof(config, store, week, address, now=datetime.now(UTC))
    except FeedkitError as exc:
        return TestSendOutcome(400 if exc.exit_code == 2 else 502, "failed", detail=str(exc))
    return TestSendOutcome(200, "empty" if report.empty else "sent", report=report)
