"""A test send: one week's digest to one address, exactly as a reader gets it, marked as a test,
and outside the send log.

Why not :func:`feedkit.mail.send.send_week` with a list of one: everything there is about the
send log (who already has the week). A test must never write it: an editor who tests with their
own address, which is also on the list, would otherwise be "already sent" on Monday and miss the
real digest, and a test run would count against ``[smtp] max_per_day``.

What is the same as the real message: the rendering (the same size budget, with room kept for
the longest unsubscribe link of the list when the list can be read here), the personal
unsubscribe links filled in for this address, every header and the MIME structure
(:class:`feedkit.mail.message.MessageFactory`), the DKIM signature when configured, and the SMTP
path. What differs, on purpose:

* the subject starts with a test mark ("[TEST] ", in Korean "[테스트] "), so nobody mistakes
  it for the issue itself;
* the Message-ID is new for every test: the real message's ID is fixed per (week, reader), and
  a mail system that de-duplicates by Message-ID (Gmail does) would drop Monday's real digest
  as a copy of the test the editor received on Friday.
"""

from __future__ import annotations

import contextlib
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from feedkit.config import Config
from feedkit.errors import FeedkitError, UsageError


def test_mark(config: Config) -> str:
    """The subject prefix of a test send, in the site's language."""
    from feedkit.i18n import for_config

    # TRANSLATORS: put before the subject of a test send of the digest (keep the space).
    return for_config(config).gettext("[TEST] ")


test_mark.__test__ = False  # type: ignore[attr-defined]  # not a pytest test, despite its name


@dataclass
class ProofReport:
    """What a test send did; ``empty`` when the week has no articles (nothing was sent)."""

    week: str
    address: str
    subject: str = ""
    message_id: str = ""
    shown: int = 0
    total: int = 0
    empty: bool = False

    def summary(self) -> str:
        if self.empty:
            return f"{self.week}: no articles published that week; no test sent"
        capped = f" ({self.total - self.shown} left to the web view)" if self.shown < self.total \
            else ""
        return (f"{self.week}: test sent to {self.address}: \"{self.subject}\", {self.shown} "
                f"article(s){capped}; the send log is unchanged")


def _list_links(config: Config, address: str) -> list[str]:
    """The footer link of every reader the real send would reach, and of ``address``: the
    size budget keeps room for the longest, as the real send does, so the test shows the same
    number of articles. The list is read only if it can be (a test from an editor's laptop
    usually has no $FEEDKIT_RECIPIENTS); anything it cannot read is left out."""
    from feedkit.digest.render import shown_unsubscribe
    from feedkit.mail.message import unsubscribe_urls
    from feedkit.mail.recipients import load_recipients

    templates = config.digest.unsubscribe
    addresses = [address]
    with contextlib.suppress(FeedkitError):
        addresses += load_recipients(config).addresses
    links = []
    for a in addresses:
        try:
            links.append(shown_unsubscribe(unsubscribe_urls(templates, a)))
        except FeedkitError:
            if a == address:
                raise   # this reader's own link cannot be made ({token} without its secret)
    return links


def send_proof(config: Config, store, week, address: str, *, now: datetime,
               sleep: Callable[[float], None] = time.sleep) -> ProofReport:
    """Send ``week``'s digest to ``address`` only, as a test (see the module docstring).

    Raises :class:`UsageError` for an address that is not one, :class:`FeedkitError` when the
    server cannot be reached or refuses the message (after ``[smtp] retries`` for a temporary
    failure). Never reads or writes the send log.
    """
    from feedkit.config import check_placeholders
    from feedkit.digest.compose import load_digest
    from feedkit.digest.render import DigestRenderer, link_reserve
    from feedkit.mail.message import MessageFactory, sender
    from feedkit.mail.recipients import clean_address
    from feedkit.mail.send import DkimSigner, _ca_file
    from feedkit.mail.smtp import PermanentFailure, SmtpSession, TemporaryFailure
    from feedkit.publication import visible_until

    check_placeholders(config)   # what the real send refuses, the test says first
    addr = clean_address(address)
    if addr is None:
        raise UsageError(f"--to: {address!r} is not an email address")
    report = ProofReport(week.label, addr)
    frm = sender(config)
    signer = DkimSigner.from_config(config)
    digest = load_digest(config, store, week, visible_until(config, now))
    report.total = digest.total
    if digest.total == 0:
        report.empty = True
        return report

    renderer = DigestRenderer(config)
    body = renderer.email(digest, reserve=link_reserve(_list_links(config, addr)))
    report.shown = body.shown
    report.subject = test_mark(config) + renderer.subject(digest)
    factory = MessageFactory(config, digest, body, report.subject, now)
    # A Message-ID no real send will ever use (see the module docstring).
    mid, data = factory.message(addr, "test:" + secrets.token_hex(12))
    report.message_id = mid
    if signer is not None:
        data = signer.sign(data)

    session = SmtpSession(config.smtp, _ca_file(config))
    try:
        for attempt in range(config.smtp.retries + 1):
            try:
                session.send(frm.addr_spec, addr, data)
                return report
            except PermanentFailure as exc:
                raise FeedkitError(f"{week.label}: test send to {addr} refused: {exc}") from None
            except TemporaryFailure as exc:
                if attempt == config.smtp.retries:
                    raise FeedkitError(f"{week.label}: test send to {addr} failed: {exc}"
                                       ) from None
                sleep(config.smtp.retry_delay * (2 ** attempt))
    finally:
        session.close()
    raise AssertionError("unreachable")  # pragma: no cover
