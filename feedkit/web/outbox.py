"""The web endpoint's own emails (the double opt-in confirmation, and the note to someone who
is already subscribed), composed here and sent from one background thread through the same
:class:`feedkit.mail.smtp.SmtpSession` as the digest.

Why a background thread: the form must answer the same, and as fast, whether or not the address
is known (no enumeration by timing either: so the store write of a subscribe request, an insert
for a new address and nothing for an active one, happens here too), and a slow or unreachable
SMTP server must not hold a web request open. The queue is in memory: a stopping server first
works through it (up to 20 s, see feedkit.web.server); what a crash loses, the person simply
asks for again.
Nothing here logs an address: log lines name a reader by :func:`feedkit.privacy.short_key`.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from feedkit.config import Config

log = logging.getLogger("feedkit.web")


@dataclass(frozen=True)
class Outgoing:
    to: str
    data: bytes
    who: str   # an address-free name for log lines


def compose(config: Config, to: str, subject: str, text: str, now: datetime) -> bytes:
    """One plain-text UTF-8 message from ``[digest] from`` to ``to``, signed with DKIM when
    ``[smtp] dkim_selector`` is set. No List-Unsubscribe: it is not list mail, it is the answer
    to a request the reader just made."""
    from feedkit.digest.compose import MESSAGE_POLICY
    from feedkit.mail.message import header_address, message_bytes, sender
    from feedkit.mail.send import DkimSigner

    frm = sender(config)
    msg = EmailMessage(policy=MESSAGE_POLICY)
    msg["From"] = frm
    msg["To"] = header_address(to)
    if config.digest.reply_to:
        msg["Reply-To"] = config.digest.reply_to
    msg["Subject"] = subject
    msg["Date"] = format_datetime(now.astimezone(config.tz))
    msg["Message-ID"] = make_msgid(idstring="subscribe", domain=frm.domain)
    msg["Auto-Submitted"] = "auto-replied"
    msg.set_content(text, subtype="plain", charset="utf-8", cte="base64")
    data = message_bytes(msg)
    signer = DkimSigner.from_config(config)
    return signer.sign(data) if signer else data


class Outbox:
    """A queue of messages and the one thread that sends them, started on first use."""

    def __init__(self, config: Config, *, sleep=time.sleep):
        self.config = config
        self.sleep = sleep
        self.queue: queue.Queue = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.sent = 0
        self.failed = 0

    def put(self, item: Outgoing | Callable[[], Outgoing | None]) -> None:
        """Queue a message, or a job that makes one (run on the outbox's thread)."""
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, daemon=True,
                                                name="feedkit-web-outbox")
                self._thread.start()
        self.queue.put(item)

    def join(self) -> None:
        """Wait until every queued job and message was done or given up (tests, shutdown)."""
        self.queue.join()

    def drain(self, seconds: float) -> int:
        """Wait at most ``seconds`` for the queue to empty (a stopping server); returns how many
        jobs were still left (lost: those people ask again)."""
        deadline = time.monotonic() + seconds
        while self.queue.unfinished_tasks and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.queue.unfinished_tasks

    def _run(self) -> None:
        from feedkit.mail.smtp import SmtpSession

        session = None
        while True:
            try:
                item = self.queue.get(timeout=30 if session is not None else None)
            except queue.Empty:   # idle: do not keep a connection the server will time out
                session.close()   # type: ignore[union-attr]
                session = None
                continue
            who = getattr(item, "who", "?")
            try:
                message = item() if callable(item) else item
                if message is not None:
                    if session is None:
                        ca = self.config.smtp.ca_file
                        session = SmtpSession(self.config.smtp,
                                              self.config.resolve(ca) if ca else None)
                    self._deliver(session, message)
            except Exception as exc:   # a config error, a bug: log it, keep the thread alive
                from feedkit.privacy import scrub

                self.failed += 1
                log.error("subscription request of %s not completed: %s: %s", who,
                          type(exc).__name__, scrub(str(exc), getattr(item, "to", "")))
                if session is not None:
                    session.drop()
                session = None
            finally:
                self.queue.task_done()
                if session is not None and self.queue.empty():
                    session.close()
                    session = None

    def _deliver(self, session, item: Outgoing) -> None:
        from feedkit.mail.message import sender
        from feedkit.mail.smtp import PermanentFailure, TemporaryFailure
        from feedkit.privacy import scrub

        frm = sender(self.config).addr_spec
        delay = self.config.smtp.retry_delay
        for attempt in range(self.config.smtp.retries + 1):
            try:
                session.send(frm, item.to, item.data)
            except PermanentFailure as exc:
                self.failed += 1
                log.warning("subscription email to %s refused: %s", item.who,
                            scrub(str(exc), item.to))
                return
            except TemporaryFailure as exc:
                if attempt == self.config.smtp.retries:
                    self.failed += 1
                    log.warning("subscription email to %s not sent after %d tries: %s",
                                item.who, attempt + 1, scrub(str(exc), item.to))
                    return
                self.sleep(delay * (2 ** attempt))
            else:
                self.sent += 1
                log.info("subscription email to %s sent", item.who)
                return
