"""Sending the digest over SMTP, with a send log so nobody gets it twice and nobody is lost.

The send log (table ``send_log``: week, recipient, Message-ID, status, attempts, error, time)
is written *before* each hand-over (status ``sending``) and right after it (``sent``,
``deferred`` for a temporary failure, ``failed`` for a permanent one), each write committed at
once. A re-run of the same week sends to every recipient whose status is not ``sent``.

The one window no client can close: the server has accepted a message and the run dies before
the log says ``sent``. Such a recipient is still ``sending`` and gets the message again on the
re-run — at-least-once, because "never lost" must win over "never twice" for a city's notices.
The copy carries the same Message-ID, which lets mail systems that de-duplicate drop it.

Temporary failures (4xx replies, disconnects, timeouts) are retried with exponential backoff on a
fresh connection; permanent ones (5xx) are recorded and reported, and the batch goes on. One
connection serves the whole batch.
"""

from __future__ import annotations

import contextlib
import csv
import io
import os
import re
import smtplib
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import parseaddr
from pathlib import Path

from feedkit.config import Config, SmtpConfig
from feedkit.errors import ConfigError, FeedkitError
from feedkit.progress import Progress

PASSWORD_ENV = "FEEDKIT_SMTP_PASSWORD"
# Deliberately loose: the server is the judge of an address; this only catches what is clearly
# not one (typos, a name without an address, stray commas or spaces).
_ADDRESS_RE = re.compile(r"^[^\s@<>(),;:\"\[\]]+@[^\s@<>(),;:\"\[\]]+\.[^\s@<>(),;:\"\[\].]+$")


# ---------------------------------------------------------------------------------------------
# Recipients


def clean_address(value: str) -> str | None:
    """``Name <a@b.kr>`` or ``a@b.kr`` → ``a@b.kr``; None when it is not an address."""
    value = value.strip()
    if not value:
        return None
    _name, addr = parseaddr(value)
    addr = addr.strip()
    if not addr or not _ADDRESS_RE.match(addr):
        return None
    return addr


@dataclass
class RecipientList:
    addresses: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def load_recipients(config: Config) -> RecipientList:
    """``[digest] to`` plus ``[digest] recipients_file``: valid, de-duplicated (case-blind),
    in order; every bad entry becomes one "WHERE: reason" line and is skipped."""
    result = RecipientList()
    seen: set[str] = set()

    def add(value: str, where: str) -> None:
        addr = clean_address(value)
        if addr is None:
            result.problems.append(f"{where}: not an email address: {value.strip()!r}, skipped")
            return
        if addr.lower() not in seen:
            seen.add(addr.lower())
            result.addresses.append(addr)

    for i, value in enumerate(config.digest.to, 1):
        add(value, f"{config.path.name}: [digest] to #{i}")
    if config.digest.recipients_file:
        path = config.resolve(config.digest.recipients_file)
        for where, value in _read_recipients_file(path):
            add(value, where)
    return result


def _read_recipients_file(path: Path) -> list[tuple[str, str]]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ConfigError(f"{path}: recipients file not found ([digest] recipients_file)"
                           ) from None
    except UnicodeDecodeError as exc:
        raise FeedkitError(f"{path}: recipients file is not UTF-8 ({exc.reason})") from None
    except OSError as exc:
        raise FeedkitError(f"{path}: cannot read recipients file: {exc.strerror}") from None
    lines = text.splitlines()
    first = next((ln for ln in lines if ln.strip() and not ln.lstrip().startswith("#")), "")
    header = [h.strip().lower() for h in next(csv.reader([first]))] if first else []
    out: list[tuple[str, str]] = []
    if "," in first and "email" in header:
        column = header.index("email")
        reader = csv.reader(io.StringIO(text))
        for row in reader:
            line = reader.line_num
            if not row or row[0].lstrip().startswith("#") or [c.strip().lower()
                                                             for c in row] == header:
                continue
            value = row[column] if column < len(row) else ""
            out.append((f"{path.name}:{line}", value))
        return out
    for line, raw in enumerate(lines, 1):
        value = raw.strip()
        if value and not value.startswith("#"):
            out.append((f"{path.name}:{line}", value))
    return out


# ---------------------------------------------------------------------------------------------
# SMTP


class TemporaryFailure(Exception):
    """Worth another try: a 4xx reply, a dropped connection, a timeout."""


class ConnectFailure(TemporaryFailure):
    """The server cannot be reached at all: retrying per recipient would only multiply waits."""


class PermanentFailure(Exception):
    """Not worth another try in this run: a 5xx reply."""


def _classify(exc: Exception) -> Exception:
    """Map smtplib's exceptions onto temporary / permanent, with a one-line reason."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        code, msg = next(iter(exc.recipients.values()))
    elif isinstance(exc, smtplib.SMTPResponseException):
        code, msg = exc.smtp_code, exc.smtp_error
    elif isinstance(exc, smtplib.SMTPServerDisconnected | OSError | smtplib.SMTPException):
        return TemporaryFailure(f"{type(exc).__name__}: {exc}".rstrip(": "))
    else:  # pragma: no cover - callers only pass the types above
        raise exc
    text = msg.decode("utf-8", "replace") if isinstance(msg, bytes) else str(msg)
    reason = f"{code} {text}".strip()
    return PermanentFailure(reason) if 500 <= code < 600 else TemporaryFailure(reason)


class SmtpSession:
    """One SMTP connection for a batch; reconnects after the server drops it."""

    def __init__(self, settings: SmtpConfig):
        self.settings = settings
        self.password = os.environ.get(PASSWORD_ENV, "")
        if settings.username and not self.password:
            raise ConfigError(f"[smtp] username is set but ${PASSWORD_ENV} is empty")
        self.conn: smtplib.SMTP | None = None

    @property
    def where(self) -> str:
        return f"{self.settings.host}:{self.settings.port}"

    def connect(self) -> None:
        s = self.settings
        mode = s.tls_mode
        context = ssl.create_default_context()
        try:
            if mode == "implicit":
                conn: smtplib.SMTP = smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout,
                                                      context=context)
            else:
                conn = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
            conn.ehlo()
            if mode == "starttls":
                if not conn.has_extn("starttls"):
                    conn.close()
                    raise FeedkitError(f"SMTP {self.where}: the server does not offer STARTTLS "
                                       "(set [smtp] tls = \"none\" only for a local relay)")
                conn.starttls(context=context)
                conn.ehlo()
            if s.username:
                conn.login(s.username, self.password)
        except smtplib.SMTPAuthenticationError as exc:
            raise FeedkitError(f"SMTP {self.where}: login as {s.username!r} refused: "
                               f"{exc.smtp_code} {exc.smtp_error.decode('utf-8', 'replace')}"
                               ) from None
        except smtplib.SMTPNotSupportedError as exc:
            raise FeedkitError(f"SMTP {self.where}: {exc} (login needs AUTH; over a plain "
                               "connection most servers offer it only after STARTTLS)") from None
        except ssl.SSLError as exc:
            raise FeedkitError(f"SMTP {self.where}: TLS failed: {exc.reason or exc}") from None
        except (smtplib.SMTPException, OSError) as exc:
            raise _classify(exc) from None
        self.conn = conn

    def send(self, from_addr: str, to_addr: str, data: bytes) -> None:
        if self.conn is None:
            try:
                self.connect()
            except TemporaryFailure as exc:
                raise ConnectFailure(f"cannot reach SMTP server {self.where}: {exc}") from None
        assert self.conn is not None
        try:
            self.conn.sendmail(from_addr, [to_addr], data)
        except (smtplib.SMTPException, OSError) as exc:
            failure = _classify(exc)
            if isinstance(failure, TemporaryFailure):
                # A 421 or a dropped link leaves the session in an unknown state: the retry
                # starts on a fresh connection.
                self.drop()
            raise failure from None

    def drop(self) -> None:
        if self.conn is not None:
            with contextlib.suppress(OSError):
                self.conn.close()
            self.conn = None

    def close(self) -> None:
        if self.conn is not None:
            with contextlib.suppress(smtplib.SMTPException, OSError):
                self.conn.quit()
            self.drop()


# ---------------------------------------------------------------------------------------------
# Sending a week


@dataclass
class SendReport:
    week: str
    recipients: int = 0
    sent: list[str] = field(default_factory=list)
    already: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)     # permanent (5xx)
    deferred: list[tuple[str, str]] = field(default_factory=list)   # temporary, retries used up
    problems: list[str] = field(default_factory=list)               # bad addresses, skipped
    planned: list[tuple[str, str]] = field(default_factory=list)    # dry run: (rcpt, msg id)
    empty: bool = False
    shown: int = 0
    total: int = 0

    @property
    def ok(self) -> bool:
        return not self.failed and not self.deferred

    def summary(self) -> str:
        if self.planned:
            return (f"{self.week}: dry run, would send to {len(self.planned)} of "
                    f"{self.recipients} recipient(s) ({self.already} already sent); nothing sent")
        return (f"{self.week}: {len(self.sent)} sent, {self.already} already sent, "
                f"{len(self.failed)} failed, {len(self.deferred)} deferred")


def send_week(config: Config, store, week, *, now: datetime, dry_run: bool = False,
              sleep: Callable[[float], None] = time.sleep,
              echo: Callable[[str], None] | None = None,
              progress: Progress | None = None) -> SendReport:
    """Send ``week``'s digest to every recipient not yet sent to; see the module docstring."""
    from feedkit.digest import (
        DigestRenderer,
        build_message,
        link_reserve,
        load_digest,
        message_bytes,
        message_id,
        sender,
        shown_unsubscribe,
        unsubscribe_urls,
    )

    report = SendReport(week.label)
    frm = sender(config)
    recipients = load_recipients(config)
    report.problems = recipients.problems
    report.recipients = len(recipients.addresses)
    if not recipients.addresses:
        raise ConfigError("no recipients: set [digest] to or [digest] recipients_file")
    from feedkit.publication import visible_until

    digest = load_digest(config, store, week, visible_until(config, now))
    report.total = digest.total
    if digest.total == 0:
        report.empty = True
        return report

    log = store.send_log(week.label)
    pending = [a for a in recipients.addresses
               if (rec := log.get(a.lower())) is None or rec.status != "sent"]
    report.already = report.recipients - len(pending)
    if not pending:
        return report

    templates = config.digest.unsubscribe
    # Keep the size budget for the longest unsubscribe link among those we send to.
    reserve = link_reserve(shown_unsubscribe(unsubscribe_urls(templates, a)) for a in pending)
    renderer = DigestRenderer(config)
    body = renderer.email(digest, reserve=reserve)
    report.shown = body.shown
    subject = renderer.subject(digest)

    if dry_run:
        for addr in pending:
            report.planned.append((addr, message_id(config, week, addr, frm.domain)))
        return report

    session = SmtpSession(config.smtp)
    retries, delay = config.smtp.retries, config.smtp.retry_delay
    if progress is not None:
        progress.total = len(pending)
    try:
        for addr in pending:
            if progress is not None:
                progress.advance()
            key = addr.lower()
            msg = build_message(config, digest, body, subject, addr, now)
            mid = msg["Message-ID"]
            data = message_bytes(msg)
            for attempt in range(retries + 1):
                store.record_send(week.label, key, mid, "sending", attempt=True)
                try:
                    session.send(frm.addr_spec, addr, data)
                except PermanentFailure as exc:
                    store.record_send(week.label, key, mid, "failed", str(exc))
                    report.failed.append((addr, str(exc)))
                    break
                except TemporaryFailure as exc:
                    if attempt < retries:
                        if echo:
                            echo(f"{addr}: {exc}; retrying")
                        sleep(delay * (2 ** attempt))
                        continue
                    store.record_send(week.label, key, mid, "deferred", str(exc))
                    report.deferred.append((addr, str(exc)))
                    if isinstance(exc, ConnectFailure):
                        left = len(pending) - len(report.sent) - len(report.failed)
                        raise FeedkitError(
                            f"{exc}; {len(report.sent)} sent, {left} not sent "
                            "(run 'feedkit digest send' again to continue)") from None
                else:
                    store.record_send(week.label, key, mid, "sent")
                    report.sent.append(addr)
                    if echo:
                        echo(f"sent to {addr}")
                break
    finally:
        session.close()
    return report
