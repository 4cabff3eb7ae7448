"""The web endpoint's own emails (the double opt-in confirmation, and the note to someone who
is already subscribed), composed here and sent from one background thread through the same
:class:`feedkit.mail.smtp.SmtpSession` as the digest.

Why a background thread: the form must answer the same, and as fast, whether or not the address
is known (no enumeration by timing either: so the store write of a subscribe request, an insert
for a new address and nothing for an active one, happens here too), and a slow or unreachable
SMTP server must not hold a web request open.

Why the store: a confirmation someone asked for must reach them even when the relay is slow or
down, or the server is restarted meanwhile. Each email is kept in the store's ``web_outbox``
(:mod:`feedkit.store.web_outbox`) before it is handed over, and only deleted once the relay took
it (or refused it for good, or its link expired). One the relay did not take is tried again
later (1, 2, 4 ... minutes, at most hourly), by this process or, after a restart, the next one;
a stopping server works through its queue first (up to 20 s, see feedkit.web.server) and leaves
the rest in the store. Two processes on one store never send one email twice (a row is claimed
first).
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
    """The emails waiting for the relay (kept in the store) and the one thread that sends them,
    started on first use."""

    def __init__(self, config: Config, *, stores=None, sleep=time.sleep,
                 clock: Callable[[], float] = time.time, poll: float = 30.0):
        self.config = config
        self.stores = stores          # feedkit.web.stores.StoreSource; None: memory only
        self.sleep = sleep
        self.clock = clock            # Unix seconds: when a kept email is due
        self.poll = poll              # seconds between looks at the kept emails when idle
        self.queue: queue.Queue = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self.sent = 0
        self.failed = 0               # refused for good, or could not be made
        self.deferred = 0             # attempts the relay did not take: kept for a later try

    def start(self) -> None:
        """Start the sending thread (if it is not running): it also sends what an earlier
        process left in the store."""
        with self._lock:
            if self._stopping.is_set():
                return
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, daemon=True,
                                                name="feedkit-web-outbox")
                self._thread.start()

    def put(self, item: Outgoing | Callable[[], Outgoing | None]) -> None:
        """Queue a message, or a job that makes one (run on the outbox's thread)."""
        self.start()
        self.queue.put(item)

    def wake(self) -> None:
        """Look at the kept emails now rather than at the next poll."""
        self.start()
        self.queue.put(None)

    def join(self) -> None:
        """Wait until every queued job was done and its email handed over or kept (tests,
        shutdown)."""
        self.queue.join()

    def drain(self, seconds: float) -> int:
        """Wait at most ``seconds`` for the queue to empty (a stopping server); returns how many
        jobs were still left."""
        deadline = time.monotonic() + seconds
        while self.queue.unfinished_tasks and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.queue.unfinished_tasks

    def stop(self, seconds: float = 5.0) -> None:
        """End the thread once it is done with what it is doing (a stopping server, after
        :meth:`drain`); what is still waiting stays in the store."""
        self._stopping.set()
        thread = self._thread
        if thread is not None and thread.is_alive():
            self.queue.put(None)
            thread.join(seconds)

    def waiting(self) -> int:
        """Emails kept in the store for a later try (0 without a store)."""
        from feedkit.store.web_outbox import waiting

        if self.stores is None:
            return 0
        store = self.stores.acquire()
        try:
            return waiting(store)
        finally:
            self.stores.release(store)

    # -- the thread ---------------------------------------------------------------------------

    def _run(self) -> None:
        session = None
        first = True   # a look at once: what an earlier run left waiting goes out at start
        while not self._stopping.is_set() or not self.queue.empty():
            item, queued = None, False
            if not first:
                try:
                    item = self.queue.get(timeout=self.poll)
                    queued = True
                except queue.Empty:
                    pass
            first = False
            try:
                memory = self._accept(item) if item is not None else []
                session = self._pass(session, memory)
            except Exception as exc:   # a config error, a store that is gone: log, go on
                from feedkit.privacy import scrub

                self.failed += 1
                log.error("subscription email not completed: %s: %s", type(exc).__name__,
                          scrub(str(exc), getattr(item, "to", "")))
                if session is not None:
                    session.drop()
                session = None
            finally:
                if queued:
                    self.queue.task_done()
                if session is not None and self.queue.empty():
                    session.close()
                    session = None
        if self.stores is not None:
            self.stores.discard()   # this thread's kept PostgreSQL connection

    def _accept(self, item) -> list[Outgoing]:
        """Run a job and keep its email in the store; what could not be kept (no store, or
        it failed) comes back, to be tried once from memory."""
        from feedkit.errors import FeedkitError
        from feedkit.store.web_outbox import keep
        from feedkit.subscribers.tokens import CONFIRM_MAX_AGE

        message = item() if callable(item) else item
        if message is None:
            return []
        if self.stores is not None:
            now = self.clock()
            try:
                store = self.stores.acquire()
                try:
                    keep(store, message.to, message.who, message.data, now=now,
                         expires=now + CONFIRM_MAX_AGE)
                    return []
                finally:
                    self.stores.release(store)
            except (FeedkitError, UnicodeDecodeError) as exc:
                log.error("subscription email to %s could not be kept in the store (%s): "
                          "sending it once now", message.who, type(exc).__name__)
        return [message]

    def _pass(self, session, memory: list[Outgoing]):
        """Send what is due: the kept emails this process claims, then ``memory``. Returns the
        SMTP session (open, for the next item) or None."""
        from feedkit.store import web_outbox

        claimed = []
        store = None
        if self.stores is not None:
            store = self.stores.acquire()
        try:
            if store is not None:
                claimed = web_outbox.claim_due(store, self.clock())
            down = False
            for row in claimed:
                if down:   # the relay did not answer: the rest wait, not counted as tries
                    web_outbox.later(store, row.id, attempts=row.attempts,
                                     next_try=self.clock() + _backoff(row.attempts))
                    continue
                session = session or self._session()
                outcome = self._deliver(session, Outgoing(row.recipient, row.data, row.who))
                if outcome == "later":
                    web_outbox.later(store, row.id, attempts=row.attempts + 1,
                                     next_try=self.clock() + _backoff(row.attempts))
                    log.warning("subscription email to %s kept for a later try (in %d min)",
                                row.who, _backoff(row.attempts) // 60)
                    down = True
                else:
                    web_outbox.done(store, row.id)
            for message in memory:
                session = session or self._session()
                if self._deliver(session, message) == "later":
                    log.error("subscription email to %s not sent and not kept", message.who)
        finally:
            if store is not None:
                self.stores.release(store)
        return session

    def _session(self):
        from feedkit.mail.smtp import SmtpSession

        ca = self.config.smtp.ca_file
        return SmtpSession(self.config.smtp, self.config.resolve(ca) if ca else None)

    def _deliver(self, session, item: Outgoing) -> str:
        """Hand one email over, with the quick retries of ``[smtp]``: "sent", "refused" (for
        good) or "later" (the relay did not take it now)."""
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
                return "refused"
            except TemporaryFailure as exc:
                if attempt == self.config.smtp.retries:
                    self.deferred += 1
                    log.warning("subscription email to %s not sent after %d tries: %s",
                                item.who, attempt + 1, scrub(str(exc), item.to))
                    session.drop()
                    return "later"
                self.sleep(delay * (2 ** attempt))
            else:
                self.sent += 1
                log.info("subscription email to %s sent", item.who)
                return "sent"
        return "later"   # pragma: no cover - the loop always returns


def _backoff(attempts: int) -> int:
    """Seconds until the next try of an email the relay did not take ``attempts + 1`` times:
    1, 2, 4 ... minutes, at most an hour."""
    return min(60 * 2 ** attempts, 3600)
