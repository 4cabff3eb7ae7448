"""The digest's web archive in the build: one page per completed week, an index and a feed,
each planned as a unit of :class:`feedkit.site.output.OutputPlan`.
"""

from __future__ import annotations

import html as html_lib
from datetime import date, datetime

from feedkit.config import Config
from feedkit.digest.compose import Digest, load_digest
from feedkit.digest.render import (
    CSS_FILE,
    HTML_TEMPLATE,
    INDEX_TEMPLATE,
    NOTE_CSS_FILE,
    DigestRenderer,
    digest_templates_dir,
    safe_url,
)
from feedkit.digest.week import Week, current_week
from feedkit.model import Article
from feedkit.subscribers.links import site_subscribe_url
from feedkit.text.dates import is_korean
from feedkit.text.i18n import for_config

ARCHIVE_DIR = "digest"


def week_rows(config: Config, store, until: int | None = None
              ) -> dict[str, list[tuple[str, str, int, str]]]:
    """``{week label: [(id, hash, published_ts, title), ...]}``, newest week first, newest
    article first inside a week; from one light query (no article bodies). Articles published
    after ``until`` are not there yet (:mod:`feedkit.editorial.publication`)."""
    from feedkit.editorial.categories import category_map

    tz = config.tz
    weeks: dict[str, list[tuple[str, str, int, str]]] = {}
    day_label: dict[date, str] = {}
    cmap = category_map(config)
    hidden = [c.name for c in store.categories() if not cmap.in_digest(c.name)] if cmap else []
    for row in store.article_keys(until, hidden):
        day = datetime.fromtimestamp(row[2], tz).date()
        label = day_label.get(day)
        if label is None:
            label = day_label[day] = Week.containing(day, tz).label
        weeks.setdefault(label, []).append(row)
    return {k: weeks[k] for k in sorted(weeks, reverse=True)}


def plan_archive(config: Config, store, plan) -> None:
    """Add the archive to a build: one page per completed week that has articles, the index,
    the feed.

    Completed weeks only, like the email: a page and a digest-feed item for the week in
    progress would change all week under its readers. A week joins the archive with the first
    build after its Monday 00:00 ends it (site timezone); the same store, config and day give
    the same bytes. Articles held back as future-dated (``plan.until``) lie in weeks that have
    not ended, so they stay out as well.

    Each page is an :meth:`OutputPlan.unit` whose fingerprint covers the week's articles (ids
    and content hashes), its neighbours (the prev/next links), the templates and the config, so
    a build after an import re-renders only the weeks whose articles changed.
    """
    from feedkit.site.output import code_stamp, fingerprint
    from feedkit.text.templating import templates_digest

    user_dir = digest_templates_dir(config)
    from feedkit.editorial.categories import category_map

    base = fingerprint(code_stamp(), for_config(config).stamp(), config.site, config.digest,
                       config.feeds.category_slugs, category_map(config),
                       config.feeds.stylesheet, config.feeds.websub_hubs,
                       site_subscribe_url(config),
                       templates_digest([HTML_TEMPLATE, CSS_FILE, NOTE_CSS_FILE, INDEX_TEMPLATE],
                                        user_dir))
    # Nothing in the store changed since the last build, nor the code, config or templates:
    # the whole archive is as it was (if its files are), without reading 20,000 rows to see.
    from feedkit.editorial.publication import build_time

    this_week = current_week(config, build_time(plan.now))
    # the newest second the archive shows: the end of last week, and never past plan.until
    until = int(this_week.start.timestamp()) - 1
    if plan.until is not None:
        until = min(until, plan.until)
    from feedkit.editorial.decisions import notes as week_notes

    notes = week_notes(store)   # editor's notes: a few rows; a changed one re-renders its week
    if plan.reuse_group(ARCHIVE_DIR, fingerprint(base, store.generation, plan.held_back,
                                                 this_week.label, sorted(notes.items()))):
        return
    weeks = week_rows(config, store, until)
    if not weeks:
        return
    labels = list(weeks)
    lazy: dict[str, DigestRenderer] = {}

    def renderer() -> DigestRenderer:
        if "r" not in lazy:
            lazy["r"] = DigestRenderer(config)
        return lazy["r"]

    tz, lang = config.tz, for_config(config)
    for i, label in enumerate(labels):
        older = labels[i + 1] if i + 1 < len(labels) else None
        newer = labels[i - 1] if i > 0 else None
        rows = weeks[label]
        print_ = fingerprint(base, label, older, newer, [(r[0], r[1]) for r in rows],
                             notes.get(label, ""))
        rel = f"{ARCHIVE_DIR}/{label}.html"

        def render_week(label=label, older=older, newer=newer, rel=rel) -> dict[str, bytes]:
            week = Week.parse(label, tz)
            nav = {
                "prev": older and {"url": f"{older}.html",
                                   "label": Week.parse(older, tz).name(lang, year=True)},
                "next": newer and {"url": f"{newer}.html",
                                   "label": Week.parse(newer, tz).name(lang, year=True)},
            }
            digest = load_digest(config, store, week, until)
            return {rel: renderer().web_page(digest, nav).encode("utf-8")}

        plan.unit([rel], print_, render_week)

    index_rel = f"{ARCHIVE_DIR}/index.html"
    index_print = fingerprint(base, templates_digest([INDEX_TEMPLATE], user_dir),
                              [(k, len(v), [r[3] for r in v[:3]]) for k, v in weeks.items()])
    plan.unit([index_rel], index_print,
              lambda: {index_rel: _render_archive_index(config, weeks).encode("utf-8")})

    feed_rel = f"{ARCHIVE_DIR}/feed.xml"
    recent = labels[:config.digest.feed_limit]
    feed_print = fingerprint(base, "feed", [(k, [(r[0], r[1]) for r in weeks[k]])
                                            for k in recent])
    plan.unit([feed_rel], feed_print,
              lambda: {feed_rel: _render_archive_feed(config, store, recent, renderer(),
                                                      until)})


def _render_archive_index(config: Config, weeks: dict[str, list]) -> str:
    from markupsafe import Markup

    from feedkit.editorial.branding import brand_of, page_css
    from feedkit.editorial.licenses import page_context
    from feedkit.text.templating import render

    tz, language = config.tz, config.site.language
    lang = for_config(config)
    years: dict[int, list[dict]] = {}
    for label, rows in weeks.items():
        week = Week.parse(label, tz)
        years.setdefault(week.year, []).append({
            "label": label,
            "url": f"{label}.html",
            "range": week.title(lang),
            "count": len(rows),
            "headlines": [r[3] for r in rows[:3]],
        })
    title = DigestRenderer.title_for(config)
    return render(INDEX_TEMPLATE, digest_templates_dir(config), i18n_language=lang,
                  site=config.site, title=title,
                  years=list(years.items()), ko=is_korean(language), language=language,
                  subscribe_url=site_subscribe_url(config),
                  total=sum(len(v) for v in weeks.values()),
                  brand=(brand := brand_of(config)), brand_css=Markup(page_css(brand)),
                  **page_context(config, for_config(config)))


def _render_archive_feed(config: Config, store, labels: list[str],
                         renderer: DigestRenderer, until: int | None = None) -> bytes:
    """RSS 2.0 of the latest digests, through the same generator as the site's feeds (so the
    same validity guarantees): one item per week, linking its web page, listing its headlines."""
    from feedkit.site.feeds import FeedMeta, feed_extras, render_rss

    site, tz, language = config.site, config.tz, config.site.language
    lang = for_config(config)
    items = []
    for label in labels:
        week = Week.parse(label, tz)
        digest = load_digest(config, store, week, until)
        articles = digest.articles()
        url = renderer.web_url(week)
        newest = max(a.published for a in articles)
        items.append(Article(
            id=url, url=url, title=f"{renderer.title()} · {week.title(lang, year=True)}",
            published=newest, updated=max([newest, *(a.updated for a in articles)]),
            summary=" · ".join(a.title for a in articles[:5]),
            content_html=_headlines_html(digest, language),
            author=config.author,
        ))
    meta = FeedMeta(
        title=renderer.title(),
        description=lang.gettext("%(title)s weekly digest") % {"title": site.title},
        site_url=f"{site.feed_url}{ARCHIVE_DIR}/index.html",
        base_url=f"{site.feed_url}{ARCHIVE_DIR}/",
        language=language,
        author=config.author,
        email=site.email,
        stylesheet="../feed.xsl" if config.feeds.stylesheet else "",
        full_content=True,
        **feed_extras(config),
    )
    return render_rss(meta, items, "feed.xml")


def _headlines_html(digest: Digest, language: str) -> str:
    """A digest as a feed entry: its sections and headlines as links (escaped here, since this
    bypasses the autoescaping templates)."""
    esc = html_lib.escape
    parts = []
    for s in digest.sections:
        parts.append(f"<h3>{esc(s.title)} ({len(s.articles)})</h3><ul>")
        for a in s.articles:
            url = safe_url(a.url)
            title = esc(a.title)
            link = f'<a href="{esc(url)}">{title}</a>' if url else title
            parts.append(f"<li>{link}</li>")
        parts.append("</ul>")
    return "".join(parts)
