"""List mode's unsubscribe mailbox: requests mailed to the ``mailto:`` unsubscribe address,
read over IMAP, put the reader on the store's unsubscribe list.

In list mode the readers are a secret (``$FEEDKIT_RECIPIENTS``) that feedkit cannot edit and
no web endpoint may exist to take a one-click POST. What every mail client can do is mail the
``mailto:`` address of ``List-Unsubscribe``. ``feedkit digest unsubscribes`` logs in to that
mailbox (``[unsubscribes]``), and for each new message that proves which reader sent it puts
that reader's keyed hash (:func:`feedkit.privacy.recipient_key`, never the address) on the
unsubscribe list (:mod:`feedkit.store.unsubscribed_table`); ``digest send`` skips everyone on
it. The city still removes the address from the secret (README, "Leaving the list").

The mailbox is hostile input: anyone can mail it, with any ``From``. What proves a request is
the reader's unsubscribe token, an HMAC of their address keyed by
``$FEEDKIT_UNSUBSCRIBE_SECRET`` that only their own copy of the digest carries: the
``mailto:`` link is ``mailto:leave@…?subject=unsubscribe%20{token}``, so the message a mail
client sends from it has the token in its subject (or, pasted, in its body). ``From``,
``Reply-To`` and every other header are never trusted. A message counts only when it carries
exactly one token of a reader on the current list; auto-replies and delivery reports
(``Auto-Submitted``, ``multipart/report``) are never requests. Everything else (a reader who
wrote "please stop" by hand, spam, a forged request) is flagged as read, left in the mailbox for
a person, and counted in the summary. Only the first 64 KiB of a message are read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from email import message_from_bytes
from email.policy import default as default_policy

from feedkit.config import Config
from feedkit.errors import EXIT_FAILURE, Check, ConfigError, FeedkitError

MAX_BYTES = 64 * 1024
_TOKEN = re.compile(r"(?<![0-9A-Za-z])[0-9a-f]{32}(?![0-9A-Za-z])")
PURPOSE = "'digest unsubscribes' reads the unsubscribe requests from that IMAP mailbox"


@dataclass
class UnsubscribeReport:
    messages: int = 0        # new messages looked at
    unsubscribed: int = 0    # readers put on the unsubscribe list now
    already: int = 0         # requests of readers already on it
    unproven: int = 0        # no token of a reader on the list: left for a person
    automatic: int = 0       # auto-replies and delivery reports: not requests

    def summary(self) -> str:
        return (f"{self.messages} new message(s): {self.unsubscribed} reader(s) unsubscribed, "
                f"{self.already} already unsubscribed, {self.unproven} without a valid "
                f"unsubscribe token (left in the mailbox for a person), {self.automatic} "
                "automatic (auto-replies, delivery reports)")


def token_links(config: Config) -> list[str]:
    """The ``[digest] unsubscribe`` mailto: links that carry ``{token}``: the only requests
    this command can act on."""
    return [u for u in config.digest.unsubscribe if u.startswith("mailto:") and "{token}" in u]


def candidates(config: Config, store) -> list[str]:
    """Whose request can be recognised: the list (list mode), or the active subscribers."""
    if config.digest.audience == "subscribers":
        from feedkit.subscribers import repo

        return [s.address for s in repo.active(store)]
    from feedkit.mail.recipients import load_recipients

    return load_recipients(config).addresses


def token_map(addresses: list[str]) -> dict[str, str]:
    """Each reader's unsubscribe token → the reader (what their ``mailto:`` link carries)."""
    from feedkit.mail.message import unsubscribe_token

    return {unsubscribe_token(a): a for a in addresses}


def is_automatic(msg) -> bool:
    """An auto-reply or a delivery report (RFC 3834 ``Auto-Submitted``, RFC 3464), not a
    person's request, whatever it quotes."""
    auto = str(msg.get("Auto-Submitted", "no")).strip().lower()
    return (not auto.startswith("no") or msg.get_content_type() == "multipart/report"
            or msg.get("X-Autoreply") is not None or msg.get("X-Autorespond") is not None)


def requester(raw: bytes, tokens: dict[str, str]) -> tuple[str | None, str]:
    """(the reader, "request") for a message that proves one; (None, "automatic" |
    "unproven") otherwise. The subject is read first (where a mail client puts the mailto:
    link's subject), then the text of the message; exactly one reader's token must be found."""
    msg = message_from_bytes(raw, policy=default_policy)
    if is_automatic(msg):
        return None, "automatic"
    try:
        subject = str(msg.get("Subject", ""))
    except (ValueError, TypeError):
        subject = ""
    found = {t for t in _TOKEN.findall(subject.lower()) if t in tokens}
    if not found:
        found = {t for t in _TOKEN.findall(_text_of(msg).lower()) if t in tokens}
    if len(found) != 1:
        return None, "unproven"
    return tokens[found.pop()], "request"


def _text_of(msg) -> str:
    """The message's text parts, decoded as far as they go (a broken part is skipped)."""
    parts = []
    for part in msg.walk():
        if part.get_content_maintype() != "text":
            continue
        try:
            parts.append(part.get_content())
        except (LookupError, ValueError, TypeError, AssertionError):
            continue
    return "\n".join(p for p in parts if isinstance(p, str))


def process_unsubscribes(config: Config, store, *, now: datetime) -> UnsubscribeReport:
    """Read every new message of ``[unsubscribes] folder`` and act on the proven requests; each
    message is flagged (requests also moved to ``processed_folder``) once its result is
    stored, so a re-run never reads it again."""
    from datetime import UTC

    from feedkit.privacy import recipient_key, send_secret
    from feedkit.store.unsubscribed_table import suppress
    from feedkit.subscribers.mailbox import session

    u = config.unsubscribes
    if not token_links(config):
        raise ConfigError("[digest] unsubscribe has no mailto: link with {token} (e.g. "
                          "\"mailto:leave@example.org?subject=unsubscribe%20{token}\"): without "
                          "it no request can prove which reader sent it")
    secret = send_secret()
    tokens = token_map(candidates(config, store))
    stamp = now.astimezone(UTC).isoformat(timespec="seconds")
    report = UnsubscribeReport()
    with session(u, "[unsubscribes]", config.resolve, PURPOSE) as folder:
        for uid in folder.new():
            raw = folder.fetch(uid, MAX_BYTES)
            report.messages += 1
            reader, kind = requester(raw, tokens)
            if reader is None:
                setattr(report, kind, getattr(report, kind) + 1)
            else:
                with store.transaction():
                    new = suppress(store, recipient_key(reader, secret), stamp)
                if new:
                    report.unsubscribed += 1
                else:
                    report.already += 1
            folder.mark(uid, move=reader is not None)
    return report


def mailbox_check(config: Config) -> Check:
    """``feedkit check``'s line for ``[unsubscribes]``: the login and the folder, and that a
    request can be proven at all (a mailto: link with {token})."""
    from feedkit.subscribers.mailbox import session

    name = "unsubscribe mailbox"
    u = config.unsubscribes
    if not u.host:
        return Check(name, None, "no [unsubscribes] mailbox (readers leave through the "
                                 "mailto: address by hand, or through 'feedkit web')")
    if not token_links(config):
        return Check(name, False, "[digest] unsubscribe has no mailto: link with {token}: no "
                                  "request could prove which reader sent it")
    try:
        with session(u, "[unsubscribes]", config.resolve, PURPOSE) as folder:
            waiting = len(folder.new())
    except ConfigError as exc:
        return Check(name, False, str(exc))
    except FeedkitError as exc:
        return Check(name, False, str(exc), EXIT_FAILURE)
    return Check(name, True, f"IMAP {u.host}:{u.port}: login as {u.user!r} and {u.folder} "
                             f"accepted; {waiting} new message(s) waiting")
