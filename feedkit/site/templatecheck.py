"""``feedkit check``'s look at the templates: every page and the digest render, nothing written.

A template edited in a site's own folder (``[build] templates``) fails only when it renders: a
syntax error or an unknown variable shows up in the hourly build, or worse, on the Monday the
digest is due. This renders what a build and a send render (the index page, the main feed page,
the digest email in HTML and text, and its archive page) from the store's latest articles, in
memory: the output folder and the store's build state are left alone.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from feedkit.config import Config
from feedkit.errors import EXIT_USAGE, Check, FeedkitError
from feedkit.model import Article

_SAMPLE_COUNT = 10


def template_checks(config: Config, store, now: datetime) -> list[Check]:
    """Two checks: the site's pages, and the digest (when the site mails one)."""
    return [_check("page templates", lambda: _pages(config, store, now)),
            _check("digest templates", lambda: _digest(config, store, now))]


def _check(name: str, render) -> Check:
    from jinja2 import TemplateError

    try:
        return Check(name, True, render())
    except TemplateError as exc:
        where = Path(getattr(exc, "filename", None) or getattr(exc, "name", None) or "?").name
        line = getattr(exc, "lineno", None)
        return Check(name, False, f"{where}{f':{line}' if line else ''}: "
                                  f"{type(exc).__name__}: {exc}", EXIT_USAGE)
    except FeedkitError as exc:   # the template's own error ("FILE:LINE: ..."): fix the file
        return Check(name, False, str(exc), EXIT_USAGE)


def _pages(config: Config, store, now: datetime) -> str:
    from feedkit.editorial.publication import visible_until
    from feedkit.site.build import (
        FEEDS_TEMPLATE,
        INDEX_TEMPLATE,
        _feed_sets,
        _render_feed_page,
        _render_index,
    )

    until = visible_until(config, now)
    sets = _feed_sets(config, store, until)
    formats = [f for f in ("rss", "atom", "json") if f in config.feeds.formats]
    latest = sets[0].latest(store, config.build.index_limit, until)
    _render_index(config, sets, latest, formats)
    _render_feed_page(config, sets, sets[0], formats, latest)
    return f"{INDEX_TEMPLATE} and {FEEDS_TEMPLATE} render ({len(latest)} latest article(s))"


def _digest(config: Config, store, now: datetime) -> str:
    """The last complete week's digest, or, when it had no news, one made of the latest
    articles (or of one sample article for an empty store): every part renders."""
    from feedkit.digest.compose import load_digest, make_digest
    from feedkit.digest.render import DigestRenderer
    from feedkit.digest.week import Week
    from feedkit.editorial.publication import visible_until

    week = Week.last_complete(now.date(), config.tz)
    digest = load_digest(config, store, week, visible_until(config, now))
    what = f"the digest of {week.label}"
    if digest.total == 0:
        sample = [s.article for s in store.latest(_SAMPLE_COUNT)] or [_sample(week)]
        digest = make_digest(config, week, sample)
        what = f"a digest of {len(sample)} sample article(s)"
    renderer = DigestRenderer(config)
    body = renderer.email(digest)
    body.personal("https://example.org/unsubscribe")
    renderer.subject(digest)
    renderer.web_page(digest)
    return f"{what}: email (HTML and text), subject and archive page render"


def _sample(week) -> Article:
    return Article(id="https://example.org/sample", url="https://example.org/sample",
                   title="Sample", published=week.start, updated=week.start,
                   summary="A sample article to render the templates with.")
