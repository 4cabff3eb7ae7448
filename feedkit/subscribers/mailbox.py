"""An IMAP mailbox feedkit reads: log in, walk the messages not yet processed, mark each one.

Two mailboxes use it: the bounce mailbox (:mod:`feedkit.subscribers.bounces`, ``[bounces]``)
and the unsubscribe mailbox of list mode (:mod:`feedkit.mail.unsubscribes`,
``[unsubscribes]``). Both sections have the same keys (host, port, tls, user, password_env,
folder, processed_folder, ca_file, timeout); what each does with a message is its own.

A message is processed once: after its result is stored it gets the keyword :data:`KEYWORD`
(or moves to the section's ``processed_folder``), and the search for new messages leaves out
every message with it.
"""

from __future__ import annotations

import contextlib
import imaplib
import os
import ssl
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from feedkit.errors import ConfigError, FeedkitError

KEYWORD = "FeedkitProcessed"
"""The IMAP keyword (flag) that marks a message feedkit has read."""


def quote(mailbox: str) -> str:
    return '"' + mailbox.replace("\\", "\\\\").replace('"', '\\"') + '"'


def check(what: str, result: tuple) -> list:
    typ, data = result
    if typ != "OK":
        detail = b" ".join(d for d in data if isinstance(d, bytes)).decode("utf-8", "replace")
        raise FeedkitError(f"IMAP {what} failed: {detail or typ}")
    return data


def connect(settings, section: str, resolve: Callable[[str], Path], purpose: str
            ) -> imaplib.IMAP4:
    """Log in to ``settings.host`` (a ``[bounces]`` or ``[unsubscribes]`` section) with the
    password from ``settings.password_env``; ``purpose`` ends the error for a missing host."""
    b = settings
    if not b.host:
        raise ConfigError(f"{section} host is not set: {purpose}")
    password = os.environ.get(b.password_env, "")
    if not b.user or not password:
        raise ConfigError(f"{section} user and ${b.password_env} (the password) are needed to "
                          f"log in to the {section.strip('[]')} mailbox")
    context = ssl.create_default_context()
    if b.ca_file:
        try:
            context.load_verify_locations(cafile=str(resolve(b.ca_file)))
        except (OSError, ssl.SSLError) as exc:
            raise ConfigError(f"{section} ca_file: {exc}") from None
    where = f"IMAP {b.host}:{b.port}"
    try:
        if b.tls == "implicit":
            conn: imaplib.IMAP4 = imaplib.IMAP4_SSL(b.host, b.port, ssl_context=context,
                                                    timeout=b.timeout)
        else:
            conn = imaplib.IMAP4(b.host, b.port, timeout=b.timeout)
            if b.tls == "starttls":
                conn.starttls(ssl_context=context)
        conn.login(b.user, password)
    except imaplib.IMAP4.error as exc:
        raise FeedkitError(f"{where}: login as {b.user!r} refused: {exc}") from None
    except ssl.SSLError as exc:
        raise FeedkitError(f"{where}: TLS failed: {exc.reason or exc}") from None
    except OSError as exc:
        raise FeedkitError(f"{where}: cannot connect: {exc.strerror or exc}") from None
    return conn


@contextmanager
def session(settings, section: str, resolve: Callable[[str], Path], purpose: str
            ) -> Iterator[Folder]:
    """Logged in, ``settings.folder`` selected (``processed_folder`` created when set); logs
    out at the end. IMAP protocol errors become one-line :class:`FeedkitError`."""
    conn = connect(settings, section, resolve, purpose)
    try:
        check(f"SELECT {settings.folder}", conn.select(quote(settings.folder)))
        if settings.processed_folder:
            conn.create(quote(settings.processed_folder))   # "already exists" is fine
        caps = {c.upper() for c in check("CAPABILITY", conn.capability())[0].decode().split()}
        folder = Folder(conn, settings.processed_folder, "MOVE" in caps)
        yield folder
        folder.finish()
    except imaplib.IMAP4.error as exc:
        raise FeedkitError(f"IMAP {settings.host}:{settings.port}: {exc}") from None
    finally:
        with contextlib.suppress(imaplib.IMAP4.error, OSError):
            conn.logout()


class Folder:
    """The selected folder of a :func:`session`."""

    def __init__(self, conn: imaplib.IMAP4, processed_folder: str, can_move: bool):
        self.conn, self.processed_folder, self.can_move = conn, processed_folder, can_move

    def new(self) -> list[bytes]:
        """The UIDs of the messages not yet processed (and not deleted)."""
        data = check("SEARCH", self.conn.uid("SEARCH", None, "UNDELETED", "UNKEYWORD", KEYWORD))
        return data[0].split() if data and data[0] else []

    def fetch(self, uid: bytes, max_bytes: int = 0) -> bytes:
        """The message (its first ``max_bytes`` when given: a request needs no more)."""
        what = f"(BODY.PEEK[]<0.{max_bytes}>)" if max_bytes else "(BODY.PEEK[])"
        fetched = check("FETCH", self.conn.uid("FETCH", uid, what))
        return next((part[1] for part in fetched if isinstance(part, tuple)), b"")

    def mark(self, uid: bytes, *, move: bool) -> None:
        """Flag the message processed; with ``move``, also move it to the processed folder
        when one is set."""
        mark(self.conn, uid, self.processed_folder if move else "", self.can_move)

    def finish(self) -> None:
        if self.processed_folder and not self.can_move:
            self.conn.expunge()


def mark(conn: imaplib.IMAP4, uid: bytes, folder: str, can_move: bool) -> None:
    """Flag the message processed; also move it to ``folder`` when one is given."""
    check("STORE", conn.uid("STORE", uid, "+FLAGS", f"({KEYWORD})"))
    if not folder:
        return
    if can_move:
        check("MOVE", conn.uid("MOVE", uid, quote(folder)))
    else:
        check("COPY", conn.uid("COPY", uid, quote(folder)))
        check("STORE", conn.uid("STORE", uid, "+FLAGS", r"(\Deleted)"))
