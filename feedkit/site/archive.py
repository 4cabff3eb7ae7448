"""The digest's web archive in the build: one page per completed week, an index and a feed,
each planned as a unit of :class:`feedkit.site.output.OutputPlan`.
"""

from __future__ import annotations

import html as html_lib
import json
from datetime import datetime

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
from feedkit.site.weeks import WeekSummary
from feedkit.subscribers.links import site_subscribe_url
from feedkit.text.dates import is_korean
from feedkit.text.i18n import for_config

ARCHIVE_DIR = "digest"


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
    from feedkit.site.weeks import archive_weeks

    # the weeks that ended before this one (an article held back is in this week or later)
    weeks = [w for w in archive_weeks(config, store, base)
             if Week.parse(w.label, config.tz).start < this_week.start]
    if not weeks:
        return
    lazy: dict[str, DigestRenderer] = {}

    def renderer() -> DigestRenderer:
        if "r" not in lazy:
            lazy["r"] = DigestRenderer(config)
        return lazy["r"]

    tz, lang = config.tz, for_config(config)
    recent = weeks[:config.digest.feed_limit]
    recent_labels = {w.label for w in recent}
    made: dict[str, str] = {}   # digest-feed items made while rendering their weeks' pages
    for i, summary in enumerate(weeks):
        label = summary.label
        older = weeks[i + 1].label if i + 1 < len(weeks) else None
        newer = weeks[i - 1].label if i > 0 else None
        print_ = fingerprint(base, label, older, newer, summary.digest, notes.get(label, ""))
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
            if label in recent_labels:   # the digest feed will want its item: make it now
                made[label] = _feed_item(digest, config.site.language)
            return {rel: renderer().web_page(digest, nav).encode("utf-8")}

        plan.unit([rel], print_, render_week)

    index_rel = f"{ARCHIVE_DIR}/index.html"
    index_print = fingerprint(base, templates_digest([INDEX_TEMPLATE], user_dir),
                              [(w.label, w.count, list(w.headlines)) for w in weeks])
    plan.unit([index_rel], index_print,
              lambda: {index_rel: _render_archive_index(config, weeks).encode("utf-8")})

    feed_rel = f"{ARCHIVE_DIR}/feed.xml"
    feed_print = fingerprint(base, "feed", [(w.label, w.digest) for w in recent])
    plan.unit([feed_rel], feed_print,
              lambda: {feed_rel: _render_archive_feed(config, store, recent, renderer(),
                                                      until, made)})


def _render_archive_index(config: Config, weeks: list[WeekSummary]) -> str:
    from markupsafe import Markup

    from feedkit.editorial.branding import brand_of, page_css
    from feedkit.editorial.licenses import page_context
    from feedkit.text.templating import render

    tz, language = config.tz, config.site.language
    lang = for_config(config)
    years: dict[int, list[dict]] = {}
    for summary in weeks:
        week = Week.parse(summary.label, tz)
        years.setdefault(week.year, []).append({
            "label": summary.label,
            "url": f"{summary.label}.html",
            "range": week.title(lang),
            "count": summary.count,
            "headlines": list(summary.headlines),
        })
    title = DigestRenderer.title_for(config)
    return render(INDEX_TEMPLATE, digest_templates_dir(config), i18n_language=lang,
                  site=config.site, title=title,
                  years=list(years.items()), ko=is_korean(language), language=language,
                  subscribe_url=site_subscribe_url(config),
                   total=sum(w.count for w in weeks),
                   brand=(brand := brand_of(config)), brand_css=Markup(page_css(brand)),
                   **page_context(config, for_config(config)))


def _render_archive_feed(config: Config, store, weeks: list[WeekSummary],
                         renderer: DigestRenderer, until: int | None = None,
                         made: dict[str, str] | None = None) -> bytes:
    """RSS 2.0 of the latest digests, through the same generator as the site's feeds (so the
    same validity guarantees): one item per week, linking its web page, listing its headlines.
    Each week's item is kept with the week in the store once made: a new week (or a changed
    one) is made again, the other 25 are not; ``made`` holds the items made this build while
    rendering their pages (a week is not read twice)."""
    from feedkit.site.feeds import FeedMeta, feed_extras, render_rss
    from feedkit.store.archive_table import item, keep_item

    site, tz, language = config.site, config.tz, config.site.language
    lang = for_config(config)
    made = made or {}
    items = []
    for summary in weeks:
        week = Week.parse(summary.label, tz)
        url = renderer.web_url(week)
        text = item(store, summary.label, summary.digest)
        if not text:   # made when its page was, this build, or read and made now
            text = made.get(summary.label) or _feed_item(
                load_digest(config, store, week, until), language)
            keep_item(store, summary.label, summary.digest, text)
        kept = json.loads(text)
        items.append(Article(
            id=url, url=url, title=f"{renderer.title()} · {week.title(lang, year=True)}",
            published=datetime.fromisoformat(kept["published"]),
            updated=datetime.fromisoformat(kept["updated"]),
            summary=kept["summary"], content_html=kept["content_html"], author=config.author,
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


def _feed_item(digest: Digest, language: str) -> str:
    """A week's digest-feed item as kept in the store (JSON): its dates, summary and
    headlines."""
    articles = digest.articles()
    newest = max(a.published for a in articles)
    return json.dumps({"published": newest.isoformat(),
                       "updated": max([newest, *(a.updated for a in articles)]).isoformat(),
                       "summary": " · ".join(a.title for a in articles[:5]),
                       "content_html": _headlines_html(digest, language)},
                      ensure_ascii=False, sort_keys=True)


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
