"""Personal digests: ``digest send`` with ``[digest] audience = "subscribers"``.

Each active subscriber gets the week's news of the departments they chose (none chosen: all of
it); one whose departments had no news that week gets nothing. Readers are grouped by what
their digest would actually hold (the chosen departments that had news), and each group's
digest is rendered and inlined once (an *edition*), so 10,000 readers over 50 choices cost 50
renders, not 10,000. Per reader there is only what :class:`feedkit.mail.message.MessageFactory`
does for the list mode: substitute the personal links (unsubscribe and preferences, signed
tokens from :mod:`feedkit.subscribers.links` when ``[web] url`` is set) into the shared bytes,
with ``List-Unsubscribe`` and ``List-Unsubscribe-Post: List-Unsubscribe=One-Click``.

Delivery is the list mode's own (:func:`feedkit.mail.send.deliver_all`): the same send log
(keyed hashes, written before and after each hand-over, a re-run sends only to who has not got
the week), connections, rate limits and retries. After the run the results count toward each
reader's bounces (:mod:`feedkit.subscribers.repo`): a permanent failure is one more in a row;
an accepted message is no proof of delivery (a relay may report a dead mailbox days later), so
the count starts again only at a later send, once a digest was accepted and no report came back
about it (:func:`feedkit.subscribers.repo.forgive_bounces`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime

from feedkit.config import Config
from feedkit.mail.send import SendReport
from feedkit.progress import Progress
from feedkit.subscribers.model import Subscriber

ALL = None
"""The edition key of readers who chose no department: every section."""


@dataclass
class SubscriberReport(SendReport):
    """A subscriber-mode run: the list mode's report plus what only this mode knows."""

    nothing_for: int = 0          # active readers whose departments had no news this week
    editions: int = 0             # distinct digests rendered
    bounced: list[int] = field(default_factory=list)   # readers marked bounced by this run

    def summary(self) -> str:
        base = super().summary()
        extra = []
        if self.editions:
            extra.append(f"{self.editions} edition(s) rendered")
        if self.nothing_for:
            extra.append(f"{self.nothing_for} reader(s) with no news in their departments")
        if self.bounced:
            extra.append(f"{len(self.bounced)} marked bounced")
        if self.skipped:
            extra.append(f"{len(self.skipped)} left the list during the run (not sent)")
        return base + ("; " + ", ".join(extra) if extra else "")


@dataclass
class Edition:
    """One distinct digest: the departments it holds (``ALL``: every one) and its readers."""

    departments: frozenset[str] | None
    readers: list[Subscriber] = field(default_factory=list)


def editions_for(readers: list[Subscriber], present: set[str]
                 ) -> tuple[dict[frozenset[str] | None, Edition], int]:
    """Group ``readers`` by what their digest would hold this week (their chosen departments
    that had news, ``present``); returns the editions and how many readers get nothing."""
    out: dict[frozenset[str] | None, Edition] = {}
    nothing = 0
    for s in readers:
        key: frozenset[str] | None = ALL
        if s.categories:
            key = frozenset(s.categories) & present
            if not key:
                nothing += 1
                continue
        out.setdefault(key, Edition(key)).readers.append(s)
    return out, nothing


def _names_of(config: Config) -> Callable[[str], frozenset[str]]:
    """What a reader may have chosen to get an article of a department: the department's own
    name and the name ``[categories] names`` shows it under (the form may offer either); an
    empty set for a department ``[categories]`` leaves out of the digest."""
    from feedkit.editorial.categories import category_map

    cmap = category_map(config)
    if not cmap:
        return lambda department: frozenset({department})

    def names(department: str) -> frozenset[str]:
        if not cmap.in_digest(department):
            return frozenset()
        return frozenset({department, cmap.shown(department)})

    return names


def web_url(config: Config) -> str:
    """``[web] url`` (the subscription endpoint), or "" when there is none."""
    return config.web.url


@dataclass
class _Links:
    """A reader's personal links: the List-Unsubscribe URLs (the shown one first) and the
    preferences page ("" without ``[web] url``)."""

    urls: list[str]
    preferences: str


def _links_for(config: Config, secret: str, reader: Subscriber) -> _Links:
    from feedkit.mail.message import unsubscribe_urls
    from feedkit.subscribers.links import personal_urls

    base = web_url(config)
    templates = config.digest.unsubscribe
    if not base:
        return _Links(unsubscribe_urls(templates, reader.address), "")
    mine = personal_urls(base, secret, reader.id, reader.link_key)
    mailto = [u for u in unsubscribe_urls([t for t in templates if t.startswith("mailto:")],
                                          reader.address)]
    return _Links([mine["unsubscribe"], *mailto], mine["preferences"])


def send_subscribers(config: Config, store, week, *, now: datetime, dry_run: bool = False,
                     sleep: Callable[[float], None] = time.sleep,
                     echo: Callable[[str], None] | None = None,
                     progress: Progress | None = None,
                     connections: int | None = None,
                     max_per_second: float | None = None) -> SubscriberReport:
    """Send ``week``'s personal digests to every active subscriber not yet sent to; see the
    module docstring. Arguments as :func:`feedkit.mail.send.send_week`."""
    from feedkit.digest.compose import make_digest, week_articles
    from feedkit.digest.render import (
        PREFERENCES_PLACEHOLDER,
        DigestRenderer,
        link_reserve,
        shown_unsubscribe,
    )
    from feedkit.editorial.decisions import note
    from feedkit.editorial.publication import visible_until
    from feedkit.mail.message import MessageFactory, message_id, sender
    from feedkit.mail.send import (
        DkimSigner,
        deliver_all,
        hold_for_daily_limit,
        not_yet_sent,
        stop_for_approval,
    )
    from feedkit.privacy import send_secret
    from feedkit.subscribers import repo

    report = SubscriberReport(week.label, dry_run=dry_run)
    frm = sender(config)
    secret = send_secret()   # before anything: without it the log cannot be read or written
    signer = DkimSigner.from_config(config)
    readers = repo.active(store)
    report.recipients = len(readers)
    if not readers:
        # Not an error (a new list starts empty), but the usual cause in CI is a store rebuilt
        # from the text export, which never holds subscribers: say so instead of a quiet 0.
        report.warnings.append(
            "warning: [digest] audience = \"subscribers\" but the store has no active "
            "subscriber, so nobody gets this digest (the text export never holds subscribers: "
            "a store rebuilt from it in CI has none; see the README, \"How a city runs it\")")
    names = _names_of(config)
    articles = [a for a in week_articles(store, week, visible_until(config, now))
                if names(a.category)]   # [categories] may leave some out of the digest
    report.total = len(articles)
    if not articles:
        report.empty = True
        return report
    if stop_for_approval(config, store, week, report, dry_run):
        return report
    present = set().union(*(names(a.category) for a in articles))
    editions, report.nothing_for = editions_for(readers, present)
    by_address = {s.address: s for e in editions.values() for s in e.readers}
    pending = sorted(not_yet_sent(store, week, report, by_address, secret),
                     key=lambda a: by_address[a].id)
    pending = hold_for_daily_limit(config, store, report, pending)
    if not pending:
        return report

    base = web_url(config)
    if base:
        from feedkit.subscribers.tokens import env_secret

        token_secret = env_secret()
    else:
        token_secret = ""
    links: dict[str, _Links] = {}   # filled edition by edition, in render()
    todo = set(pending)
    # The editions this run needs (one whose readers all have the week is not rendered), each
    # with its readers, in the order they are rendered and sent.
    plan = [(key, mine) for key, edition in editions.items()
            if (mine := [s.address for s in edition.readers if s.address in todo])]
    report.editions = len(plan)
    edition_of = {a: key for key, mine in plan for a in mine}
    renderer = DigestRenderer(config)
    editors_note = note(store, week.label)   # the editor's note goes to every edition

    def render(key: frozenset[str] | None, mine: list[str]) -> MessageFactory:
        # The readers' signed links first (two HMACs each: worth doing off the sending
        # thread), then the edition, with room for the longest of them.
        for a in mine:
            links[a] = _links_for(config, token_secret, by_address[a])
        chosen = articles if key is ALL else [a for a in articles if names(a.category) & key]
        digest = replace(make_digest(config, week, chosen), note=editors_note)
        shown = [shown_unsubscribe(links[a].urls) for a in mine]
        shown += [links[a].preferences for a in mine if links[a].preferences]
        body = renderer.email(digest, reserve=link_reserve(shown), preferences=bool(base))
        report.shown = max(report.shown, body.shown)
        return MessageFactory(config, digest, body, renderer.subject(digest), now)

    if dry_run:
        for key, mine in plan:
            render(key, mine)   # what the digests would hold (report.shown)
        for addr in pending:
            report.planned.append(
                (addr, message_id(config, week, addr, frm.domain, key=report.keys[addr])))
        return report

    factories = _Editions(plan, render)
    pending = [a for _key, mine in plan for a in mine]   # edition by edition

    def build(addr: str, key: str) -> tuple[str, bytes]:
        factory = factories.get(edition_of[addr])   # waits for the edition and its links
        mine = links[addr]
        extra: Mapping[str, str] = ({PREFERENCES_PLACEHOLDER: mine.preferences}
                                    if mine.preferences else {})
        mid, data = factory.message(addr, key, urls=mine.urls, extra=extra)
        return mid, (signer.sign(data) if signer else data)

    def gone(addresses: list[str]) -> dict[str, str]:
        # Read once a batch is claimed: who unsubscribed (or bounced) since the run started.
        ids = {by_address[a].id: a for a in addresses}
        marks = ", ".join("?" * len(ids))
        now_status = dict(store.db.execute(
            f"SELECT id, status FROM subscribers WHERE id IN ({marks})", list(ids)))
        return {a: now_status.get(sid, "erased") for sid, a in ids.items()
                if now_status.get(sid) != "active"}

    try:
        deliver_all(config, store, report, pending, build, sleep=sleep, echo=echo,
                    progress=progress, connections=connections, max_per_second=max_per_second,
                    gone=gone)
    finally:
        count_bounces(config, store, report, by_address, week.label, now)
    return report


class _Editions:
    """Renders the editions (and their readers' links) one after another in a background
    thread while the first ones are already being sent: the connections spend their time
    waiting for the server (which frees the interpreter), so 50 renders cost little of the wall
    time. :meth:`get` waits for an edition; a rendering error is raised there, in the
    connection that needs it, and stops the run before that reader's log entry is written."""

    def __init__(self, plan, render: Callable[..., object]):
        import threading

        self.ready = {key: threading.Event() for key, _ in plan}
        self.done: dict = {}
        self.error: list[BaseException] = []
        self.thread = threading.Thread(target=self._run, args=(plan, render), daemon=True,
                                       name="feedkit-editions")
        self.thread.start()

    def _run(self, plan, render) -> None:
        for key, mine in plan:
            try:
                self.done[key] = render(key, mine)
            except BaseException as exc:   # raised again in get(), in the sending thread
                self.error.append(exc)
                for event in self.ready.values():
                    event.set()
                return
            self.ready[key].set()

    def get(self, key):
        self.ready[key].wait()
        if key not in self.done:
            raise self.error[0]
        return self.done[key]


def count_bounces(config: Config, store, report: SubscriberReport,
                  by_address: Mapping[str, Subscriber], week: str, now: datetime) -> None:
    """Apply a run's results to the readers' bounce counts (one transaction).

    First the readers of this week whose last counted failure was followed by an accepted
    digest that no report came back about are forgiven (their count starts again,
    :func:`feedkit.subscribers.repo.forgive_bounces`); this run's acceptances forgive nothing
    yet, since a relay may still report them. Then each permanent failure counts, once per
    (week, reader) however often the week is re-run. A run in which the server refused every
    one of several readers permanently counts nothing: that is the relay refusing (a wrong
    sender, a blocked IP), not every address gone at once."""
    from feedkit.subscribers import repo
    from feedkit.subscribers.bounces import bounce_limit

    limit = bounce_limit(config)
    with store.transaction():
        repo.forgive_bounces(store, {s.id: report.keys[a] for a, s in by_address.items()},
                             week, now)
        if len(report.failed) > 1 and not report.sent:
            report.warnings.append(
                f"every reader was refused ({len(report.failed)}): no bounce counted, since "
                "that is the server refusing, not the addresses; check [smtp] and [digest] "
                "from")
            return
        for addr, why in report.failed:
            if not repo.count_report(store, week, report.keys[addr], "", now):
                continue   # this week's failure was counted already (a re-run)
            sub = repo.record_bounce(store, by_address[addr].id, now, limit=limit, week=week,
                                     reason=why)
            if sub is not None and sub.status == "bounced":   # only active ones were sent to
                report.bounced.append(sub.id)
