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
import html
import threading
import time
from collections import deque
from datetime import date
from urllib.parse import parse_qs

from feedkit.config import Config
from feedkit.errors import FeedkitError

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


def test_send_form(config: Config, labels: list[str], token: str, today: date | None,
                   action: str) -> str:
    """The form's HTML for the preview index: a week (those with news, the one ``digest send``
    sends next preselected) and an address; it posts to ``action``."""
    from feedkit.digest.week import Week, today_in

    if not labels:
        return ""
    from feedkit.text.i18n import for_config

    _ = for_config(config).gettext
    esc = html.escape
    due = Week.last_complete(today or today_in(config.tz), config.tz).label
    chosen = next((lb for lb in labels if lb <= due), labels[0])
    options = "".join(f'<option value="{esc(lb)}"{" selected" if lb == chosen else ""}>'
                      f"{esc(lb)}</option>" for lb in labels)
    legend, week_word, to_word, button = _("Test send"), _("Week"), _("Send to"), _("Send a test")
    hint = _("Sends the email exactly as a subscriber gets it, with %(mark)s before the subject, "
             "to this address only. The send log is not changed.") % {
                 "mark": _("[TEST] ").strip()}
    return (f'<form method="post" action="{esc(action)}"><fieldset><legend>{esc(legend)}</legend>'
            f'<input type="hidden" name="token" value="{esc(token)}">'
            f'<label>{esc(week_word)} <select name="week">{options}</select></label> '
            f'<label>{esc(to_word)} <input type="email" name="to" required '
            f'autocomplete="email"></label> <button type="submit">{esc(button)}</button>'
            f"<p><small>{esc(hint)}</small></p></fieldset></form>")


test_send_form.__test__ = False  # type: ignore[attr-defined]  # not a pytest test


def refusal(handler, peer_is_loopback: bool) -> str | None:
    """Why this request may not send (see the module docstring), or None if it may."""
    if not peer_is_loopback:
        return "test sends are accepted from this machine only"
    port = handler.server.port
    host = handler.headers.get("Host", "")
    if host not in {f"{name}:{port}" for name in _LOOPBACK_NAMES}:
        return "the Host header does not name this server on the loopback address"
    origin = handler.headers.get("Origin")
    if origin is not None and origin != f"http://{host}":
        return "a cross-site request (Origin)"
    fetch_site = handler.headers.get("Sec-Fetch-Site")
    if fetch_site is not None and fetch_site != "same-origin":
        return "a cross-site request (Sec-Fetch-Site)"
    ctype = handler.headers.get("Content-Type", "").split(";")[0].strip().lower()
    if ctype != "application/x-www-form-urlencoded":
        return "not a form submission"
    return None


def handle_test_send(handler, preview, peer_is_loopback: bool) -> tuple[int, str]:
    """(HTTP status, the one line to show) for ``POST /_preview/send``."""
    from datetime import UTC, datetime

    from feedkit.digest.week import Week
    from feedkit.mail.proof import send_proof

    config = preview.config

    why = refusal(handler, peer_is_loopback)
    if why:
        return (403, f"refused: {why}")
    try:
        length = int(handler.headers.get("Content-Length", ""))
    except ValueError:
        return (411, "refused: no Content-Length")
    if not 0 <= length <= MAX_BODY:
        return (413, "refused: the form is too large")
    raw = handler.rfile.read(length)
    try:
        form = parse_qs(raw.decode("utf-8"), max_num_fields=10)
    except (UnicodeDecodeError, ValueError):
        return (400, "refused: not a form")
    token = form.get("token", [""])[0]
    if not hmac.compare_digest(token.encode(), preview.form_token.encode()):
        return (403, "refused: the form is out of date (reload the preview and try again)")
    address = form.get("to", [""])[0].strip()
    wait = preview.sends.take()
    if wait:
        return (429, f"refused: at most {preview.sends.limit} test sends an hour; the next "
                     f"one in {(wait + 59) // 60} minute(s)")
    try:
        week = Week.parse(form.get("week", [""])[0], config.tz)
        with _SEND_LOCK, preview._open_store() as store:
            report = send_proof(config, store, week, address, now=datetime.now(UTC))
    except FeedkitError as exc:
        return (400 if exc.exit_code == 2 else 502, f"error: {exc}")
    return (200, report.summary())


def result_page(config: Config, text: str) -> tuple[str, str]:
    """(title, body HTML) of the page that shows a test send's outcome."""
    from feedkit.text.i18n import for_config

    _ = for_config(config).gettext
    back = html.escape(_("Back to the preview"))
    body = f'<p>{html.escape(text)}</p><p><a href="/_preview/">{back}</a></p>'
    return html.escape(_("Test send")), body
