"""One SMTP connection: TLS modes, login from the environment, and the failure classes
(temporary, connection, permanent) the sender retries or records.
"""

from __future__ import annotations

import contextlib
import os
import smtplib
import ssl
from pathlib import Path

from feedkit.config import SmtpConfig
from feedkit.errors import ConfigError, FeedkitError

PASSWORD_ENV = "FEEDKIT_SMTP_PASSWORD"


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


class _QuickData:
    """smtplib's DATA without its dot-stuffing pass when there is nothing to stuff.

    smtplib runs a regular expression over every message to double a leading "." on each line
    (RFC 5321 §4.5.2): a third of the client's own work per message. feedkit's messages are
    headers and base64, where no line starts with "."; one search proves it, and any message
    where it fails takes smtplib's path unchanged.
    """

    def data(self, msg):
        if (isinstance(msg, bytes) and msg.endswith(b"\r\n") and not msg.startswith(b".")
                and b"\n." not in msg):
            self.putcmd("data")
            code, reply = self.getreply()
            if code != 354:
                raise smtplib.SMTPDataError(code, reply)
            self.send(msg + b".\r\n")
            return self.getreply()
        return super().data(msg)


class _SMTP(_QuickData, smtplib.SMTP):
    pass


class _SMTP_SSL(_QuickData, smtplib.SMTP_SSL):
    pass


def envelope_address(address: str) -> tuple[str, bool]:
    """The address as ``RCPT TO`` carries it, and whether that needs SMTPUTF8.

    An internationalised domain goes out in its IDNA (``xn--``) form, which every server takes;
    only a non-ASCII local part (``사용자@...``) needs the server's SMTPUTF8. Raises
    :class:`PermanentFailure` for a domain IDNA cannot encode.
    """
    from feedkit.privacy import ascii_domain

    local, _at, domain = address.rpartition("@")
    ascii_dom = ascii_domain(domain)
    if ascii_dom is None:
        raise PermanentFailure("the domain has no valid IDNA (xn--) form")
    return f"{local}@{ascii_dom}", not local.isascii()


MISSING_PASSWORD = f"[smtp] username is set but ${PASSWORD_ENV} is empty"


def tls_context(ca_file: Path | None) -> ssl.SSLContext:
    """The system's trusted CAs, plus ``[smtp] ca_file`` for a relay with a private CA."""
    context = ssl.create_default_context()
    if ca_file is not None:
        try:
            context.load_verify_locations(cafile=str(ca_file))
        except FileNotFoundError:
            raise ConfigError(f"{ca_file}: [smtp] ca_file not found") from None
        except (ssl.SSLError, OSError) as exc:
            raise ConfigError(f"{ca_file}: [smtp] ca_file is not a PEM certificate "
                              f"file: {getattr(exc, 'reason', None) or exc}") from None
    return context


class SmtpSession:
    """One SMTP connection for a batch; reconnects after the server drops it."""

    def __init__(self, settings: SmtpConfig, ca_file: Path | None = None):
        self.settings = settings
        self.ca_file = ca_file
        self.password = os.environ.get(PASSWORD_ENV, "")
        if settings.username and not self.password:
            raise ConfigError(MISSING_PASSWORD)
        self.conn: smtplib.SMTP | None = None
        # Built now, so a bad ca_file stops the run before anyone's log entry is written.
        self.context = tls_context(ca_file) if settings.tls_mode != "none" else None

    @property
    def where(self) -> str:
        return f"{self.settings.host}:{self.settings.port}"

    def connect(self) -> None:
        s = self.settings
        mode = s.tls_mode
        context = self.context
        try:
            if mode == "implicit":
                conn: smtplib.SMTP = _SMTP_SSL(s.host, s.port, timeout=s.timeout,
                                               context=context)
            else:
                conn = _SMTP(s.host, s.port, timeout=s.timeout)
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
        """Hand one message over. Whatever goes wrong with this one recipient comes out as
        :class:`PermanentFailure` or :class:`TemporaryFailure`, never as another exception:
        one reader's address must not stop the list."""
        rcpt, needs_utf8 = envelope_address(to_addr)
        if self.conn is None:
            try:
                self.connect()
            except TemporaryFailure as exc:
                raise ConnectFailure(f"cannot reach SMTP server {self.where}: {exc}") from None
        assert self.conn is not None
        options: list[str] = []
        if needs_utf8:
            if not self.conn.has_extn("smtputf8"):
                raise PermanentFailure("the address needs SMTPUTF8 (a non-ASCII local part), "
                                       "which the server does not offer")
            options = ["SMTPUTF8"]
        try:
            self.conn.sendmail(from_addr, [rcpt], data, mail_options=options)
        except (smtplib.SMTPException, OSError) as exc:
            failure = _classify(exc)
            if isinstance(failure, TemporaryFailure):
                # A 421 or a dropped link leaves the session in an unknown state: the retry
                # starts on a fresh connection.
                self.drop()
            raise failure from None
        except (UnicodeError, ValueError) as exc:
            # The session may be half-way through a transaction: start the next clean.
            self.drop()
            raise PermanentFailure(f"cannot be sent: {type(exc).__name__}: {exc}") from None

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
