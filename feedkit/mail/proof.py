"""A test send: one week's digest to one address, exactly as a reader gets it, marked as a test,
and outside the send log.

Why not :func:`feedkit.mail.send.send_week` with a list of one: everything there is about the
send log (who already has the week). A test must never write it: an editor who tests with their
own address, which is also on the list, would otherwise be "already sent" on Monday and miss the
real digest, and a test run would count against ``[smtp] max_per_day``.

In subscriber mode (``[digest] audience = "subscribers"``) an address that is a subscriber gets
their own edition: the departments they chose and their own links (see
:func:`_subscriber_edition`); any other address gets every department.

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
from dataclasses import dataclass, field
from datetime import datetime

from feedkit.config import Config
from feedkit.errors import FeedkitError, UsageError


def test_mark(config: Config) -> str:
    """The subject prefix of a test send, in the site's language."""
    from feedkit.text.i18n import for_config

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
    who: str = ""          # subscriber mode: whose edition this is

    def summary(self) -> str:
        if self.empty:
            return f"{self.week}: no articles published that week; no test sent"
        capped = f" ({self.total - self.shown} left to the web view)" if self.shown < self.total \
            else ""
        who = f" ({self.who})" if self.who else ""
        return (f"{self.week}: test sent to {self.address}{who}: \"{self.subject}\", "
                f"{self.shown} article(s){capped}; the send log is unchanged")


@dataclass
class _Edition:
    """What the real send would give this address: its digest, its own links (None: the list
    mode's ``[digest] unsubscribe`` links, made by the factory), and the footer links the size
    budget keeps room for."""

    digest: object
    urls: list[str] | None = None
    preferences: str = ""
    reserve: list[str] = field(default_factory=list)
    who: str = ""          # said in the summary in subscriber mode


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


def _list_edition(config: Config, store, week, address: str, until: int | None) -> _Edition:
    from feedkit.digest.compose import load_digest

    return _Edition(load_digest(config, store, week, until), reserve=_list_links(config, address))


def _subscriber_edition(config: Config, store, week, address: str, until: int | None
                        ) -> _Edition:
    """``[digest] audience = "subscribers"``: a subscriber gets the departments they chose and
    their own signed links, as :func:`feedkit.mail.personal.send_subscribers` makes
    them; an address that is no subscriber gets what a reader who chose nothing gets (every
    department), with the ``[digest] unsubscribe`` links, since it has no links of its own."""
    from dataclasses import replace

    from feedkit.digest.compose import make_digest, week_articles
    from feedkit.digest.render import shown_unsubscribe
    from feedkit.editorial.decisions import note
    from feedkit.mail.personal import ALL, _links_for, _names_of, editions_for, web_url
    from feedkit.subscribers import repo

    names = _names_of(config)
    articles = [a for a in week_articles(store, week, until) if names(a.category)]
    present = set().union(*(names(a.category) for a in articles)) if articles else set()
    reader = repo.find(store, address)
    editors_note = note(store, week.label)
    if reader is None:
        return _Edition(replace(make_digest(config, week, articles), note=editors_note),
                        reserve=_list_links(config, address),
                        who="not a subscriber: every department")
    editions, nothing = editions_for([reader], present)
    status = "" if reader.status == "active" else f", {reader.status}: the real send skips them"
    if nothing:
        chosen = ", ".join(reader.categories)
        raise FeedkitError(f"{week.label}: nothing to test: {address} is a subscriber of "
                           f"{chosen}, which had no news that week (the real send gives them "
                           f"no digest){status}")
    (key,) = editions
    chosen_articles = articles if key is ALL else [a for a in articles
                                                   if names(a.category) & key]
    secret = ""
    if web_url(config):
        from feedkit.subscribers.tokens import env_secret

        secret = env_secret()
    links = _links_for(config, secret, reader)
    reserve = [shown_unsubscribe(links.urls)] + ([links.preferences] if links.preferences
                                                 else [])
    what = "every department" if key is ALL else ", ".join(sorted(key))
    return _Edition(replace(make_digest(config, week, chosen_articles), note=editors_note),
                    urls=links.urls, preferences=links.preferences, reserve=reserve,
                    who=f"subscriber #{reader.id}: {what}{status}")


def send_proof(config: Config, store, week, address: str, *, now: datetime,
               sleep: Callable[[float], None] = time.sleep) -> ProofReport:
    """Send ``week``'s digest to ``address`` only, as a test (see the module docstring).

    Raises :class:`UsageError` for an address that is not one, :class:`FeedkitError` when the
    server cannot be reached or refuses the message (after ``[smtp] retries`` for a temporary
    failure). Never reads or writes the send log.
    """
    from feedkit.config import check_placeholders
    from feedkit.digest.render import PREFERENCES_PLACEHOLDER, DigestRenderer, link_reserve
    from feedkit.editorial.publication import visible_until
    from feedkit.mail.message import MessageFactory, sender
    from feedkit.mail.send import DkimSigner, _ca_file
    from feedkit.mail.smtp import PermanentFailure, SmtpSession, TemporaryFailure
    from feedkit.privacy import clean_address

    check_placeholders(config)   # what the real send refuses, the test says first
    addr = clean_address(address)
    if addr is None:
        raise UsageError(f"--to: {address!r} is not an email address")
    report = ProofReport(week.label, addr)
    frm = sender(config)
    signer = DkimSigner.from_config(config)
    until = visible_until(config, now)
    if config.digest.audience == "subscribers":
        edition = _subscriber_edition(config, store, week, addr, until)
    else:
        edition = _list_edition(config, store, week, addr, until)
    digest = edition.digest
    report.who = edition.who
    report.total = digest.total
    if digest.total == 0:
        report.empty = True
        return report

    renderer = DigestRenderer(config)
    body = renderer.email(digest, reserve=link_reserve(edition.reserve),
                          preferences=bool(edition.preferences))
    report.shown = body.shown
    report.subject = test_mark(config) + renderer.subject(digest)
    factory = MessageFactory(config, digest, body, report.subject, now)
    # A Message-ID no real send will ever use (see the module docstring).
    extra = {PREFERENCES_PLACEHOLDER: edition.preferences} if edition.preferences else None
    mid, data = factory.message(addr, "test:" + secrets.token_hex(12), urls=edition.urls,
                                extra=extra)
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
