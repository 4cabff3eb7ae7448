"""Asynchronous bounces: delivery status notifications (RFC 3464) read from an IMAP mailbox.

A relay usually accepts a message and only later finds that the mailbox is gone; it then sends
a DSN (``multipart/report; report-type=delivery-status``) to the envelope sender. ``feedkit
subscribers bounces`` logs in to the mailbox those land in (``[bounces]``, the password from an
environment variable), parses each new message with the standard library's ``email`` package
and applies it:

* a *hard* bounce (``Action: failed`` with a ``5.x.x`` status) counts against the reader, as a
  permanent failure at send time does (:func:`feedkit.subscribers.repo.record_bounce`), but only
  when the report **proves it is about a digest this store sent to that reader**: it must carry
  the original message's headers, and their Message-ID must be the one the send log holds for
  that reader's key in that week (status ``sent``, or ``sending``: handed over, outcome unknown).
  Anyone can mail the bounce address a made-up report; without this check one report naming
  several readers unsubscribed them all. The Message-ID is per (site, week, reader key), made
  from the keyed hash of the address (:func:`feedkit.mail.message.message_id`), so only the
  reader and the servers that carried their copy know it. Each (week, reader) counts at most
  once, ever (table ``bounce_reports``, which also holds the refusals at send time): a report
  sent again, or a copy of it, is not counted again, even after the reader's count has started
  again. Such reports are why an accepted message does not start the count again at once
  (:func:`feedkit.subscribers.repo.forgive_bounces`): the relay that accepted it may report it
  a day later;
* a *soft* one (``delayed``, or a ``4.x.x`` status) counts nothing: the relay is still trying;
* anything else (an auto-reply, spam, a report that proves nothing) changes nothing and is
  counted in the summary.

Why the send log's Message-ID and not a signed per-reader bounce address (VERP): it needs
nothing from the relay or the mailbox, while VERP needs a relay that keeps the envelope sender
(several hosted relays replace it) and a mailbox that takes ``bounces+TAG@`` addresses; and the
proof is as strong where the send log is private, which it is wherever there are subscribers
(their store is never committed).

Each processed message is flagged with :data:`~feedkit.subscribers.mailbox.KEYWORD` (or moved
to ``[bounces] processed_folder``) after its result is committed, so a re-run does not even read
it again.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from email import message_from_bytes
from email.message import Message
from email.parser import BytesHeaderParser
from email.policy import compat32
from typing import TYPE_CHECKING

from feedkit.errors import ConfigError
from feedkit.subscribers.mailbox import session

if TYPE_CHECKING:
    from feedkit.config import Config

_STATUS = re.compile(r"^\s*([245])\.(\d{1,3})\.(\d{1,3})")
RETURNED = ("message/rfc822", "message/global", "text/rfc822-headers", "message/global-headers")
"""The parts a DSN returns the original message (or its headers) in (RFC 3464, RFC 6533)."""
_WEEK = re.compile(r"^<digest\.(\d{4}-W\d{2})\.[0-9a-f]{24}@[^<>\s]+>$")


@dataclass(frozen=True)
class Notice:
    """One recipient's block in a DSN."""

    recipient: str
    action: str      # failed, delayed, delivered, relayed, expanded
    status: str      # 5.1.1
    diagnostic: str
    week: str        # the digest week of the original message, "" if not one of ours
    message_id: str = ""   # the original message's Message-ID, "" when the report has none
    original_recipient: str = ""   # Original-Recipient (as sent), when given

    @property
    def hard(self) -> bool:
        return self.action == "failed" and self.status.startswith("5.")

    @property
    def addresses(self) -> tuple[str, ...]:
        """The spellings of the reader this block is about: as sent, then as delivered."""
        return tuple(dict.fromkeys(a for a in (self.original_recipient, self.recipient) if a))


def _address(value: str) -> str:
    """``rfc822; kim@example.org`` → ``kim@example.org``."""
    kind, _, addr = value.partition(";")
    addr = addr if _ else kind
    return addr.strip().strip("<>").strip()


def parse_dsn(raw: bytes) -> list[Notice]:
    """The per-recipient notices of a DSN; [] for a message that is not one."""
    msg = message_from_bytes(raw, policy=compat32)
    if msg.get_content_type() != "multipart/report":
        return []
    status_part: Message | None = None
    original: Message | None = None
    for part in msg.walk():
        ctype = part.get_content_type()
        if ctype == "message/delivery-status" and status_part is None:
            status_part = part
        elif ctype in RETURNED and original is None:
            # Python's parser makes a message of every message/* part (message/global-headers
            # too, RFC 6533: what an SMTPUTF8 relay returns); text/rfc822-headers stays text.
            payload = part.get_payload()
            if isinstance(payload, list):
                original = payload[0] if payload else None
            else:
                body = part.get_payload(decode=True) or b""
                original = BytesHeaderParser(policy=compat32).parsebytes(body)
    if status_part is None:
        return []
    blocks = status_part.get_payload()
    if not isinstance(blocks, list):
        return []
    week = mid = ""
    if original is not None:
        mid = "".join(str(original.get("Message-ID", "")).split())
        found = _WEEK.match(mid)
        week = found.group(1) if found else ""
    notices = []
    for block in blocks[1:]:   # the first block is about the message, the rest per recipient
        original_rcpt = _address(str(block.get("Original-Recipient", "")))
        recipient = _address(str(block.get("Final-Recipient", ""))) or original_rcpt
        action = str(block.get("Action", "")).strip().lower()
        status = _STATUS.match(str(block.get("Status", "")))
        if not recipient or not action:
            continue
        notices.append(Notice(recipient, action, ".".join(status.groups()) if status else "",
                              " ".join(str(block.get("Diagnostic-Code", "")).split()), week,
                              mid, original_rcpt))
    return notices


@dataclass
class BounceReport:
    messages: int = 0        # new messages looked at
    hard: int = 0            # hard bounces counted against a reader
    soft: int = 0            # temporary ones, not counted
    unknown: int = 0         # about a digest sent to an address no longer on the list
    ignored: int = 0         # hard, but not about a digest this store sent to that reader
    repeated: int = 0        # about a digest and reader already counted (a report sent again)
    other: int = 0           # not a delivery status notification
    bounced: list[int] = field(default_factory=list)   # readers marked bounced now

    def summary(self) -> str:
        marked = f", {len(self.bounced)} marked bounced" if self.bounced else ""
        return (f"{self.messages} new message(s): {self.hard} hard bounce(s) counted, "
                f"{self.soft} soft (not counted), {self.unknown} for addresses not on the "
                f"list, {self.ignored} ignored (not about a digest this store sent to that "
                f"reader), {self.repeated} already counted, {self.other} not a delivery "
                f"report{marked}")


def apply_notices(store, notices: list[Notice], report: BounceReport, *, limit: int,
                  now: datetime, secret: bytes) -> None:
    """Count the hard bounces among ``notices`` that prove to be about a digest this store sent
    to that reader (see the module docstring) against them, each (week, reader) once ever; one
    transaction. ``secret`` is the send-log key."""
    from feedkit.privacy import scrub
    from feedkit.subscribers import repo

    with store.transaction():
        for n in notices:
            if not n.hard:
                if n.action in ("failed", "delayed"):
                    report.soft += 1
                continue
            proven = _proven(store, n, secret)
            if proven is None:
                report.ignored += 1
                continue
            address, key = proven
            if not repo.count_report(store, n.week, key, n.message_id, now):
                report.repeated += 1
                continue
            sub = repo.find(store, address)
            if sub is None:
                report.unknown += 1
                continue
            was = sub.status
            reason = f"{n.status} {n.diagnostic}".strip()
            for spelling in n.addresses:
                reason = scrub(reason, spelling)
            after = repo.record_bounce(store, sub.id, now, limit=limit, week=n.week,
                                       reason=reason)
            report.hard += 1
            if after is not None and after.status == "bounced" and was != "bounced":
                report.bounced.append(after.id)


def _proven(store, notice: Notice, secret: bytes) -> tuple[str, str] | None:
    """(the reader's address, their send-log key) when ``notice`` is about the digest the send
    log says was handed over to that reader with the report's Message-ID; else None."""
    from feedkit.privacy import recipient_key
    from feedkit.subscribers import repo

    if not notice.week or not notice.message_id:
        return None     # no original message, or not one of our digests' Message-IDs
    for address in notice.addresses:
        key = recipient_key(address, secret)
        if repo.sent_message(store, notice.week, key) == notice.message_id:
            return address, key
    return None


PURPOSE = "'subscribers bounces' reads delivery reports from that IMAP mailbox"


def process_mailbox(config, store, *, now: datetime) -> BounceReport:
    """Read every message of ``[bounces] folder`` not yet processed, apply the DSNs, and mark
    each one processed (keyword, or a move to ``processed_folder``) once its result is stored."""

    from feedkit.privacy import send_secret

    b = config.bounces
    limit = bounce_limit(config)
    secret = send_secret()   # the send log's key: reports are checked against it
    report = BounceReport()
    with session(b, "[bounces]", config.resolve, PURPOSE) as folder:
        for uid in folder.new():
            raw = folder.fetch(uid)
            report.messages += 1
            notices = parse_dsn(raw)
            if notices:
                apply_notices(store, notices, report, limit=limit, now=now, secret=secret)
            else:
                report.other += 1
            folder.mark(uid, move=bool(notices))
    return report


def bounce_limit(config: Config) -> int:
    limit = config.bounces.max_consecutive
    if limit < 1:
        raise ConfigError("[bounces] max_consecutive must be at least 1")
    return limit
