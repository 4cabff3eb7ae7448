"""Sending the digest over SMTP, with a send log so nobody gets it twice and nobody is lost.

The send log (table ``send_log``: week, reader key, Message-ID, status, attempts, error, time)
is written *before* each hand-over (status ``sending``) and right after it (``sent``,
``deferred`` for a temporary failure, ``failed`` for a permanent one), each write committed at
once. A re-run of the same week sends to every reader whose status is not ``sent``. Readers are
keyed by an HMAC of their address (:mod:`feedkit.privacy`), never by the address.

The one window no client can close: the server has accepted a message and the run dies before
the log says ``sent``. Such a reader is still ``sending`` and gets the message again on the
re-run — at-least-once, because "never lost" must win over "never twice" for a city's notices.
With N connections at most N readers can be in that window at once. The copy carries the same
Message-ID, which lets mail systems that de-duplicate drop it.

Several runs may send the same week at once (on one SQLite file, or many machines on one
PostgreSQL store): each reader is *claimed* by exactly one run before it is handed over, and a
killed run's claims are taken over by the next run (:mod:`feedkit.mail.claims`).

Speed: the week is rendered once; each reader's message is the shared bytes with a few headers
and the personal unsubscribe link substituted (:class:`feedkit.mail.message.MessageFactory`).
``[smtp] connections`` connections send at once, each in its own thread with its own
:class:`SmtpSession`, claiming the next small batch of readers from one queue; the store (the
claims and the log writes) is used under one lock.
``[smtp] max_per_second`` spaces hand-overs evenly over all connections; ``max_per_day`` holds
the rest of the list for the next run.

Temporary failures (4xx replies, disconnects, timeouts) are retried with exponential backoff on a
fresh connection; permanent ones (5xx, an address the server cannot take) are recorded and
reported, and the list goes on. A server that cannot be reached at all stops the run.
"""

from __future__ import annotations

import os
import queue
import threading
import time
from collections.abc import Callable, Mapping
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from feedkit.config import Config
from feedkit.errors import ConfigError, FeedkitError
from feedkit.mail.recipients import load_recipients
from feedkit.mail.smtp import ConnectFailure, PermanentFailure, SmtpSession, TemporaryFailure
from feedkit.progress import Progress


@dataclass
class SendReport:
    """What a run did. Addresses are here for the caller's ``-v`` output and for tests; the
    normal output names readers only by :func:`feedkit.privacy.short_key`."""

    week: str
    recipients: int = 0
    sent: list[str] = field(default_factory=list)
    already: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)     # permanent (5xx)
    deferred: list[tuple[str, str]] = field(default_factory=list)   # temporary, retries used up
    held: int = 0                                                   # over the daily limit
    others: int = 0                     # sent, or being sent, by another run at the same time
    skipped: list[tuple[str, str]] = field(default_factory=list)    # left the list meanwhile
    unsubscribed: list[str] = field(default_factory=list)           # on the unsubscribe list
    problems: list[str] = field(default_factory=list)               # bad entries, skipped
    rejected: list[tuple[str, str]] = field(default_factory=list)   # (where, bad entry): -v only
    warnings: list[str] = field(default_factory=list)
    planned: list[tuple[str, str]] = field(default_factory=list)    # dry run: (rcpt, msg id)
    keys: dict[str, str] = field(default_factory=dict)              # address -> send-log key
    empty: bool = False
    waiting: bool = False                                           # require_approval, not yet
    dry_run: bool = False
    shown: int = 0
    total: int = 0

    @property
    def ok(self) -> bool:
        return not self.failed and not self.deferred

    def summary(self) -> str:
        left = (f", {len(self.unsubscribed)} unsubscribed (not sent)" if self.unsubscribed
                else "")
        if self.dry_run:
            return (f"{self.week}: dry run, would send to {len(self.planned)} of "
                    f"{self.recipients} recipient(s) ({self.already} already sent{left}); "
                    "nothing sent")
        held = f", {self.held} held for [smtp] max_per_day" if self.held else ""
        others = (f", {self.others} sent or being sent by another run at the same time"
                  if self.others else "")
        return (f"{self.week}: {len(self.sent)} sent, {self.already} already sent, "
                f"{len(self.failed)} failed, {len(self.deferred)} deferred{held}{others}{left}")

    def name(self, address: str, *, verbose: bool) -> str:
        """How output names one reader: the address only when asked for (``-v``)."""
        from feedkit.privacy import short_key

        key = short_key(self.keys[address]) if address in self.keys else "#?"
        return f"{address} ({key})" if verbose else f"recipient {key}"


class RateLimiter:
    """At most ``per_second`` hand-overs per second over all connections, evenly spaced (a
    relay that allows 10 a second usually means "one every 100 ms", not bursts of ten)."""

    def __init__(self, per_second: float, *, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep):
        self.interval = 1.0 / per_second
        self.clock, self.sleep = clock, sleep
        self.lock = threading.Lock()
        self.next_slot: float | None = None

    def acquire(self) -> None:
        with self.lock:
            now = self.clock()
            slot = now if self.next_slot is None else max(now, self.next_slot)
            self.next_slot = slot + self.interval
        if slot > now:
            self.sleep(slot - now)


class DkimSigner:
    """DKIM-signs each message (RFC 6376, rsa-sha256, relaxed/simple) with dkimpy, for relays
    that do not sign: Gmail and Yahoo want authenticated mail from bulk senders."""

    KEY_ENV = "FEEDKIT_DKIM_KEY"
    # What a receiver must see unchanged; List-Unsubscribe-Post too, for one-click (RFC 8058).
    HEADERS = (b"from", b"to", b"reply-to", b"subject", b"date", b"message-id", b"list-id",
               b"list-unsubscribe", b"list-unsubscribe-post", b"mime-version", b"content-type")

    def __init__(self, selector: str, domain: str, key: bytes):
        self.selector, self.domain, self.key = selector.encode(), domain.encode(), key

    @classmethod
    def from_config(cls, config: Config, environ: Mapping[str, str] | None = None
                    ) -> DkimSigner | None:
        smtp = config.smtp
        if not smtp.dkim_selector:
            return None
        environ = os.environ if environ is None else environ
        if environ.get(cls.KEY_ENV, "").strip():
            key, where = environ[cls.KEY_ENV].encode(), f"${cls.KEY_ENV}"
        elif smtp.dkim_key_file:
            path = config.resolve(smtp.dkim_key_file)
            try:
                key, where = path.read_bytes(), str(path)
            except OSError as exc:
                raise ConfigError(f"{path}: [smtp] dkim_key_file: cannot read: "
                                  f"{exc.strerror}") from None
        else:
            raise ConfigError(f"[smtp] dkim_selector is set but neither ${cls.KEY_ENV} nor "
                              "[smtp] dkim_key_file gives the private key")
        try:
            import dkim  # noqa: F401
        except ImportError:
            raise ConfigError("[smtp] dkim_selector needs dkimpy: pip install "
                              "'feedkit-city[dkim]' (or dkimpy)") from None
        signer = cls(smtp.dkim_selector, smtp.dkim_domain, key)
        try:
            signer.sign(b"From: a@b\r\nSubject: key check\r\n\r\nx\r\n")
        except Exception as exc:  # dkimpy raises several kinds for a bad key
            raise ConfigError(f"{where}: not a usable DKIM private key (PEM RSA or Ed25519): "
                              f"{type(exc).__name__}: {exc}") from None
        return signer

    def sign(self, data: bytes) -> bytes:
        import dkim

        include = [h for h in self.HEADERS if _has_header(data, h)]
        return dkim.sign(data, self.selector, self.domain, self.key,
                         include_headers=include) + data


def _has_header(data: bytes, name: bytes) -> bool:
    head = data.split(b"\r\n\r\n", 1)[0].lower()
    return head.startswith(name + b":") or b"\r\n" + name + b":" in head


@dataclass
class _Run:
    """One week's send, shared by its connections. The store, the report and the progress
    are touched only under ``lock``; each connection has its own :class:`SmtpSession`."""

    week: str
    store: object
    report: SendReport
    build: Callable[[str, str], tuple[str, bytes]]
    sender: str
    retries: int
    delay: float
    sleep: Callable[[float], None]
    echo: Callable[[str], None] | None
    progress: Progress | None
    limiter: RateLimiter | None
    # Of claimed readers, those not to send to after all, with why (a subscriber who left).
    gone: Callable[[list[str]], Mapping[str, str]] | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)
    stop: threading.Event = field(default_factory=threading.Event)
    fatal: list[BaseException] = field(default_factory=list)
    claimant: object = None                      # feedkit.mail.claims.Claimant
    pending: list[str] = field(default_factory=list)
    batch: int = 1
    batches: queue.SimpleQueue = field(default_factory=queue.SimpleQueue)
    mine: set[str] = field(default_factory=set)          # claimed by this run
    elsewhere: set[str] = field(default_factory=set)     # claimed, but another run sent them
    lost: set[str] = field(default_factory=set)          # another run had claimed them

    def others(self) -> int:
        """Readers of this run's list that another run sent to or is sending to."""
        return len(self.lost - self.mine) + len(self.elsewhere)

    def log(self, key: str, mid: str, status: str, error: str = "", *,
            attempt: bool = False) -> None:
        with self.lock:
            self.store.record_send(self.week, key, mid, status, error, attempt=attempt)

    def say(self, line: str) -> None:
        if self.echo:
            with self.lock:
                self.echo(line)

    def queue(self, addresses: list[str]) -> None:
        for start in range(0, len(addresses), self.batch):
            self.batches.put(addresses[start:start + self.batch])

    def next_batch(self) -> list[str]:
        """The next readers for one connection, claimed for this run; [] when none are left
        (or the run stops)."""
        with self.lock:
            while not self.stop.is_set():
                try:
                    batch = self.batches.get_nowait()
                except queue.Empty:
                    if not self._sweep():
                        return []
                    continue
                got = self._claim(batch)
                if got:
                    return got
            return []

    def _claim(self, batch: list[str]) -> list[str]:
        keys = self.report.keys
        by_key = {keys[a]: a for a in batch}
        mine, sent = self.claimant.claim(list(by_key))
        self.mine.update(by_key[k] for k in (*mine, *sent))
        self.elsewhere.update(by_key[k] for k in sent)
        self.lost.update(a for a in batch if a not in self.mine)
        got = set(mine)
        ready = [a for a in batch if keys[a] in got]
        if ready and self.gone is not None:
            # Read again now that they are ours: a subscriber who left after the run started
            # (the web endpoint's one-click unsubscribe) is not sent to.
            gone = self.gone(ready)
            for addr in (a for a in ready if a in gone):
                self.store.record_send(self.week, keys[addr], "", "skipped", gone[addr])
                self.report.skipped.append((addr, gone[addr]))
            ready = [a for a in ready if a not in gone]
        return ready

    def _sweep(self) -> bool:
        """The list is gone through. Readers another run had claimed may be free again if
        that run is gone (killed): free them, and go through those once more."""
        left = [a for a in self.pending if a not in self.mine]
        if not left or not self.claimant.reap():
            return False
        self.queue(left)
        return True


def deliver(run: _Run, session: SmtpSession, addr: str) -> None:
    """One reader, start to end. The log says ``sending`` (committed) before each hand-over and
    the outcome right after it; a temporary failure is retried with exponential backoff; a
    permanent one is recorded; a server that cannot be reached stops the whole run."""
    from feedkit.privacy import scrub

    key = run.report.keys[addr]
    mid, data = run.build(addr, key)
    for attempt in range(run.retries + 1):
        if run.limiter is not None:
            run.limiter.acquire()
        run.log(key, mid, "sending", attempt=True)
        try:
            session.send(run.sender, addr, data)
        except PermanentFailure as exc:
            why = scrub(str(exc), addr)
            run.log(key, mid, "failed", why)
            with run.lock:
                run.report.failed.append((addr, why))
            return
        except TemporaryFailure as exc:
            why = scrub(str(exc), addr)
            if attempt < run.retries:
                run.say(f"{addr}: {why}; retrying")
                run.sleep(run.delay * (2 ** attempt))
                continue
            run.log(key, mid, "deferred", why)
            with run.lock:
                run.report.deferred.append((addr, why))
            if isinstance(exc, ConnectFailure):
                run.fatal.append(FeedkitError(why))
                run.stop.set()
            return
        else:
            run.log(key, mid, "sent")
            with run.lock:
                run.report.sent.append(addr)
                if run.progress is not None:
                    run.progress.advance()
            run.say(f"sent to {addr}")
            return


def _connection(run: _Run, session: SmtpSession) -> None:
    """One connection's loop: claim the next batch and send to it, until none are left or the
    run stops (claimed readers not reached are freed when the run ends)."""
    try:
        while not run.stop.is_set():
            batch = run.next_batch()
            if not batch:
                return
            for addr in batch:
                if run.stop.is_set():
                    return
                deliver(run, session, addr)
    except BaseException as exc:  # a store error, a bug: stop the others, re-raise in main
        run.fatal.append(exc)
        run.stop.set()
    finally:
        session.close()


def send_week(config: Config, store, week, *, now: datetime, dry_run: bool = False,
              sleep: Callable[[float], None] = time.sleep,
              echo: Callable[[str], None] | None = None,
              progress: Progress | None = None,
              connections: int | None = None,
              max_per_second: float | None = None) -> SendReport:
    """Send ``week``'s digest to every recipient not yet sent to; see the module docstring.

    ``echo`` gets per-recipient detail lines, which name addresses: give it the ``-v`` output.
    ``connections`` and ``max_per_second`` override ``[smtp]`` for one run.
    """
    from feedkit.digest.compose import load_digest
    from feedkit.digest.render import DigestRenderer, link_reserve, shown_unsubscribe
    from feedkit.mail.message import MessageFactory, message_id, sender, unsubscribe_urls
    from feedkit.privacy import send_secret

    report = SendReport(week.label, dry_run=dry_run)
    frm = sender(config)
    secret = send_secret()   # before anything: without it the log cannot be read or written
    signer = DkimSigner.from_config(config)
    recipients = load_recipients(config)
    report.problems, report.rejected = recipients.problems, recipients.rejected
    report.warnings = recipients.warnings
    report.recipients = len(recipients.addresses)
    if not recipients.addresses:
        raise ConfigError("no recipients: set [digest] to, recipients_env or recipients_file")
    from feedkit.editorial.publication import visible_until

    digest = load_digest(config, store, week, visible_until(config, now))
    report.total = digest.total
    if digest.total == 0:
        report.empty = True
        return report
    if stop_for_approval(config, store, week, report, dry_run):
        return report

    pending = not_yet_sent(store, week, report, recipients.addresses, secret)
    pending = hold_for_daily_limit(config, store, report, pending)
    if not pending:
        return report

    templates = config.digest.unsubscribe
    # Keep the size budget for the longest unsubscribe link among those we send to.
    reserve = link_reserve(shown_unsubscribe(unsubscribe_urls(templates, a)) for a in pending)
    renderer = DigestRenderer(config)
    body = renderer.email(digest, reserve=reserve)
    report.shown = body.shown
    factory = MessageFactory(config, digest, body, renderer.subject(digest), now)

    if dry_run:
        for addr in pending:
            report.planned.append(
                (addr, message_id(config, week, addr, frm.domain, key=report.keys[addr])))
        return report

    def build(addr: str, key: str) -> tuple[str, bytes]:
        mid, data = factory.message(addr, key)
        return mid, (signer.sign(data) if signer else data)

    return deliver_all(config, store, report, pending, build, sleep=sleep, echo=echo,
                       progress=progress, connections=connections,
                       max_per_second=max_per_second)


def stop_for_approval(config: Config, store, week, report: SendReport, dry_run: bool) -> bool:
    """With ``[digest] require_approval``, note in ``report`` whether ``week`` still waits for
    an editor; True when this run must send nothing (a dry run goes on to say who would get
    it). One rule for the list and for personal digests."""
    if not config.digest.require_approval:
        return False
    from feedkit.editorial.decisions import is_approved

    report.waiting = not is_approved(store, week.label)
    return report.waiting and not dry_run


def not_yet_sent(store, week, report: SendReport, addresses, secret: bytes) -> list[str]:
    """``addresses`` (in their order) whose send log entry for ``week`` is not "sent" and who
    are not on the unsubscribe list (:mod:`feedkit.store.unsubscribed_table`: never mailed
    again, whatever the list still says); fills ``report.keys`` (each address's keyed hash),
    ``report.already`` and ``report.unsubscribed``."""
    from feedkit.privacy import recipient_key
    from feedkit.store.unsubscribed_table import suppressed

    report.keys = {a: recipient_key(a, secret) for a in addresses}
    log = store.send_log(week.label)
    gone = suppressed(store)
    report.unsubscribed = [a for a in addresses if report.keys[a] in gone]
    staying = [a for a in addresses if report.keys[a] not in gone]
    pending = [a for a in staying
               if (rec := log.get(report.keys[a])) is None or rec.status != "sent"]
    report.already = len(staying) - len(pending)
    return pending


def hold_for_daily_limit(config: Config, store, report: SendReport, pending: list[str]
                         ) -> list[str]:
    """The first of ``pending`` that ``[smtp] max_per_day`` still allows in the last 24 hours;
    the rest are counted in ``report.held`` and wait for the next run."""
    if not config.smtp.max_per_day or not pending:
        return pending
    from datetime import UTC, timedelta

    left = config.smtp.max_per_day - store.sent_since(datetime.now(UTC) - timedelta(days=1))
    report.held = max(0, len(pending) - max(0, left))
    return pending[:max(0, left)]


def deliver_all(config: Config, store, report: SendReport, pending: list[str],
                build: Callable[[str, str], tuple[str, bytes]], *,
                sleep: Callable[[float], None] = time.sleep,
                echo: Callable[[str], None] | None = None, progress: Progress | None = None,
                connections: int | None = None,
                max_per_second: float | None = None,
                gone: Callable[[list[str]], Mapping[str, str]] | None = None) -> SendReport:
    """Hand ``build(address, key)``'s message to each of ``pending`` over ``[smtp]
    connections`` connections, with the send log, claims, retries and rate limit of the module
    docstring; ``report.keys`` must hold each address's send-log key. ``gone(addresses)`` names
    (with why) those of a claimed batch not to send to after all. The list mode and the
    personal digests (:mod:`feedkit.mail.personal`) both send through here."""
    from feedkit.mail.claims import BATCH, Claimant
    from feedkit.mail.message import sender

    rate = config.smtp.max_per_second if max_per_second is None else max_per_second
    run = _Run(report.week, store, report, build, sender(config).addr_spec, config.smtp.retries,
               config.smtp.retry_delay, sleep, echo, progress,
               RateLimiter(rate, sleep=sleep) if rate > 0 else None, gone)
    width = max(1, min(connections or config.smtp.connections, len(pending)))
    # Small batches for a short list, so that every connection gets some of it.
    run.batch = max(1, min(BATCH, len(pending) // (width * 4)))
    run.pending = pending
    if progress is not None:
        progress.total = len(pending)
    run.claimant = claimant = Claimant(store, report.week)
    try:
        claimant.reap()   # a killed run's readers: this run sends to them
        run.queue(pending)
        _connections(run, [SmtpSession(config.smtp, _ca_file(config)) for _ in range(width)])
    except BaseException:
        with suppress(Exception):   # the first error is the one to report
            claimant.finish()
        raise
    claimant.finish()
    report.others = run.others()
    if run.fatal:
        first = run.fatal[0]
        if isinstance(first, FeedkitError) and report.deferred:
            left = (len(pending) - len(report.sent) - len(report.failed) - len(report.skipped)
                    - report.others)
            raise FeedkitError(f"{first}; {len(report.sent)} sent, {left} not sent "
                               "(run 'feedkit digest send' again to continue)") from None
        raise first
    return report


def _connections(run: _Run, sessions: list[SmtpSession]) -> None:
    """Run each session's loop, in threads when there are several; Ctrl-C stops them all."""
    if len(sessions) == 1:
        _connection(run, sessions[0])
        return
    threads = [threading.Thread(target=_connection, args=(run, s), daemon=True,
                                name=f"feedkit-smtp-{i}") for i, s in enumerate(sessions)]
    for t in threads:
        t.start()
    try:
        for t in threads:
            while t.is_alive():
                t.join(0.2)
    except BaseException:
        run.stop.set()   # Ctrl-C: each connection finishes the message it is handing over
        for t in threads:
            t.join()
        raise


def _ca_file(config: Config) -> Path | None:
    return config.resolve(config.smtp.ca_file) if config.smtp.ca_file else None
