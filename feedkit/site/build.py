"""The build: the one place that turns the store into the output folder.

Feeds (main and per category, every configured format), their HTML pages, the index page, the
optional stylesheet and the digest web archive, each planned as a unit of an
:class:`feedkit.site.output.OutputPlan` (skipped when its inputs are unchanged) and written together
at the end, atomically: a build that fails part-way leaves the previous output as it was.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from feedkit.config import FEED_FILENAMES as FILENAMES
from feedkit.config import Config
from feedkit.errors import FeedkitError
from feedkit.site.output import (
    BuildReport,
    OutputPlan,
    build_lock,
    check_out_dir,
    code_stamp,
    fingerprint,
)
from feedkit.store.articles import Store, StoredArticle
from feedkit.text.i18n import for_config
from feedkit.text.i18n import refresh as refresh_languages

STYLESHEET = "feed.xsl"
OPML = "feeds.opml"
COPY_SCRIPT = "copy.js"   # the feed pages' copy buttons
INDEX_TEMPLATE = "index.html.j2"
FEEDS_TEMPLATE = "feeds.html.j2"


@dataclass(frozen=True)
class FeedSet:
    """One feed in every configured format: the main one or one category's."""

    key: str                       # "" for the main feed, else the category slug
    title: str
    category: str | None           # the shown name ([categories]), None for the main feed
    keys: list[tuple[str, str]]    # (id, hash) of its articles: the fingerprint's input
    # the stored departments it reads (several when [categories] gathers them; None: all)
    members: tuple[str, ...] | None = None
    exclude: tuple[str, ...] = ()  # departments left out ([categories] exclude_from_feeds)
    # what this build has read of it, by (limit, until): see latest()
    _read: dict[tuple[int, int | None], list[StoredArticle]] = field(
        default_factory=dict, compare=False, repr=False)

    @property
    def folder(self) -> str:
        return f"category/{self.key}/" if self.key else ""

    @property
    def page(self) -> str:
        """The HTML page people are sent to instead of the raw feed: what a feed is, the
        address to copy, the latest items (a category folder's own index.html)."""
        return self.folder + "index.html" if self.key else "feeds.html"

    @property
    def query(self) -> str | tuple[str, ...] | None:
        """What :meth:`Store.latest` selects on."""
        return self.members if self.members is not None else self.category

    def latest(self, store: Store, limit: int, until: int | None) -> list[StoredArticle]:
        """The newest ``limit`` articles. The order is total (time, then id), so a shorter
        read is a prefix of a longer one: the feed page and the index reuse what the feed
        itself read (one query and 30 rows decoded less per feed in a cold build)."""
        for (n, u), rows in self._read.items():
            if u == until and (n >= limit or len(rows) < n):
                return rows[:limit]
        rows = self._read[(limit, until)] = store.latest(limit, self.query, until, self.exclude)
        return rows

    def forget(self) -> None:
        """Let go of what :meth:`latest` kept, once no later page needs it."""
        self._read.clear()

    def latest_keys(self, store: Store, limit: int, until: int | None) -> list[tuple[str, str]]:
        return store.latest_keys(limit, self.query, until, self.exclude)


def _feed_sets(config: Config, store: Store, until: int | None = None) -> list[FeedSet]:
    from feedkit.editorial.categories import category_map

    limit = config.feeds.limit
    cmap = category_map(config)
    if cmap:
        return _mapped_feed_sets(config, store, cmap, until)
    sets = [FeedSet("", config.site.title, None, store.latest_keys(limit, until=until))]
    if config.feeds.per_category:
        cats = store.categories(until)
        # Claiming order: the category published first keeps a contested slug.
        claim = [c.name for c in sorted(cats, key=lambda c: (c.first, c.name))]
        slugs = store.category_slugs(claim, config.feeds.category_slugs)
        for c in cats:
            sets.append(FeedSet(slugs[c.name], f"{config.site.title} — {c.name}", c.name,
                                store.latest_keys(limit, c.name, until)))
    return sets


def _mapped_feed_sets(config: Config, store: Store, cmap, until: int | None) -> list[FeedSet]:
    """The feeds under ``[categories]``: one per shown name, reading every department it
    gathers, with its slug claimed by its first assignment (:meth:`CategoryMap.slug_key`), so
    a rename in the config leaves the feed's URL where it was."""
    limit = config.feeds.limit
    cats = store.categories(until)
    hidden = tuple(sorted(c.name for c in cats if not cmap.in_feeds(c.name)))
    sets = [FeedSet("", config.site.title, None,
                    store.latest_keys(limit, until=until, exclude=hidden), exclude=hidden)]
    if not config.feeds.per_category:
        return sets
    groups: dict[str, list] = {}
    for c in cats:
        if c.name not in hidden:
            groups.setdefault(cmap.shown(c.name), []).append(c)
    first = {shown: min((c.first, c.name) for c in members) for shown, members in groups.items()}
    keys: dict[str, str] = {}
    for shown in groups:
        key = cmap.slug_key(shown)
        keys[shown] = key if key not in keys.values() else shown
    overrides = dict(config.feeds.category_slugs)
    for shown, key in keys.items():   # an override may name the shown name or the department
        if shown in config.feeds.category_slugs:
            overrides[key] = config.feeds.category_slugs[shown]
    claim = [keys[s] for s in sorted(groups, key=lambda s: (first[s], s))]
    slugs = store.category_slugs(claim, overrides)
    rank = {name: i for i, name in enumerate(cmap.order)}
    size = {s: sum(c.count for c in members) for s, members in groups.items()}
    for shown in sorted(groups, key=lambda s: (rank.get(s, len(rank)), -size[s], s)):
        members = tuple(sorted(c.name for c in groups[shown]))
        sets.append(FeedSet(slugs[keys[shown]], f"{config.site.title} — {shown}", shown,
                            store.latest_keys(limit, members, until), members=members))
    return sets


def build(config: Config, store: Store, out_dir: Path | None = None,
          progress: Callable[[int], None] | None = None,
          now: datetime | None = None) -> BuildReport:
    """Render everything that changed into ``out_dir`` (default ``[build] out``);
    ``progress`` is told how many files each rendered unit produced. Articles dated after
    ``now`` (default: the clock) are held back, see :mod:`feedkit.editorial.publication`."""
    from feedkit.config import check_placeholders
    from feedkit.editorial.publication import build_time, visible_until

    check_placeholders(config)  # never publish the scaffold's "TODO" title and URLs
    refresh_languages()         # each build looks at the catalog files once (feedkit serve)
    out_dir = (out_dir or config.out_dir).resolve()
    check_out_dir(out_dir)
    if store.is_empty():
        raise FeedkitError("nothing to build: the article store is empty "
                           "(run 'feedkit import' or 'feedkit update' first)")
    moment = build_time(now)
    until = visible_until(config, moment)
    if not store.latest_keys(1, until=until):
        raise FeedkitError("nothing to publish yet: every stored article is dated in the "
                           "future ([build] publish_future = true publishes ahead)")
    with build_lock(out_dir):   # several updates sharing one store build the same folder
        plan = OutputPlan(store, out_dir, progress, until, moment)
        try:
            return _build(config, store, plan, moment, until)
        finally:
            plan.discard()      # a failed build publishes nothing


def _build(config: Config, store: Store, plan: OutputPlan, moment: datetime,
           until: int | None) -> BuildReport:
    """:func:`build` once it holds the output folder: read the store, render, write."""
    from feedkit.digest.week import current_week
    from feedkit.subscribers.links import form_url
    from feedkit.text.templating import find_template, templates_digest

    user_templates = config.templates_dir
    if config.feeds.websub_hubs:   # the feeds' digests, for _feed_recorder
        from feedkit.site.websub import is_feed

        plan.hashed = is_feed
    # The code, and the catalogs its words come from (bundled and the site's own locale/).
    code = (code_stamp(), for_config(config).stamp())
    # The common case in a cron job: nothing at all changed since the last build. One look at
    # the store's generation counter (plus the files' size and mtime) proves it; the articles
    # still held back are part of it, so one whose time has come triggers a build.
    # So is the week in progress: when it ends, the archive gains it, store change or not.
    if plan.reuse_group("", fingerprint(code, config, templates_state(config),
                                         store.generation, plan.held_back,
                                         current_week(config, moment).label)):
        return plan.report
    from feedkit.editorial.categories import category_map

    # the shown category names ([categories]) are in every feed item and page
    site, feeds_cfg = (config.site, category_map(config)), config.feeds
    sets = _feed_sets(config, store, until)
    formats = [f for f in ("rss", "atom", "json") if f in feeds_cfg.formats]
    page_limit = config.build.index_limit
    subscribe = form_url(config)
    page_print = fingerprint(code, site, formats, page_limit, subscribe,
                             templates_digest([FEEDS_TEMPLATE], user_templates),
                             [(s.key, s.title, len(s.keys)) for s in sets])
    for fs in sets:
        rels = [fs.folder + FILENAMES[f] for f in formats]
        print_ = fingerprint(code, site, feeds_cfg.full_content, feeds_cfg.stylesheet, formats,
                             feeds_cfg.websub_hubs, fs.title, fs.folder, fs.keys)
        plan.unit(rels, print_,
                  lambda fs=fs: _render_feed_set(config, store, fs, formats, until))
        plan.unit([fs.page], fingerprint(page_print, fs.key, fs.keys[:page_limit]),
                  lambda fs=fs: {fs.page: _render_feed_page(
                      config, sets, fs, formats,
                      fs.latest(store, page_limit, until))})
        if fs.key:   # the main feed's read also serves the index page, below
            fs.forget()

    index_limit = config.build.index_limit
    index_print = fingerprint(code, site, formats, [(s.key, s.title, len(s.keys))
                              for s in sets], sets[0].latest_keys(store, index_limit, until),
                              templates_digest([INDEX_TEMPLATE], user_templates),
                              config.digest.archive, subscribe)
    plan.unit(["index.html"], index_print, lambda: {"index.html": _render_index(
        config, sets, sets[0].latest(store, index_limit, until), formats)})
    sets[0].forget()
    plan.unit([OPML], fingerprint(code, site, formats, config.digest.archive,
                                  config.digest.title, [(s.key, s.title) for s in sets]),
              lambda: {OPML: _render_opml(config, sets, formats)})
    plan.unit([COPY_SCRIPT], templates_digest([COPY_SCRIPT], user_templates),
              lambda: {COPY_SCRIPT: find_template(COPY_SCRIPT, user_templates).read_bytes()})
    if feeds_cfg.stylesheet:
        plan.unit([STYLESHEET], templates_digest([STYLESHEET], user_templates),
                  lambda: {STYLESHEET: find_template(STYLESHEET, user_templates).read_bytes()})
    if config.digest.archive:
        from feedkit.site.archive import plan_archive

        plan_archive(config, store, plan)  # digest/YYYY-Www.html, digest/index.html, feed.xml
    return plan.commit(_dropped_outputs(config, store), _feed_recorder(config, store))


def _feed_recorder(config: Config, store: Store):
    """With WebSub hubs: remember which feeds' bytes this build changed
    (:mod:`feedkit.store.feed_hashes`), for ``feedkit announce``; the plan hashes the feeds
    as they are rendered (see :attr:`OutputPlan.hashed`)."""
    if not config.feeds.websub_hubs:
        return None
    from feedkit.store.feed_hashes import record_built

    return lambda digests: record_built(store, digests)


def _dropped_outputs(config: Config, store: Store) -> Callable[[str], bool] | None:
    """Which files a build that no longer makes them must delete: an archive week page whose
    articles were all withdrawn or that the store does not have (restored from an older
    backup), the folder of a category left with withdrawn articles only
    (:mod:`feedkit.editorial.withdrawals`), of a department ``[categories]`` now keeps out of
    the feeds, and of a slug the store never gave (restored from an older backup: the
    department came later). Without this they would stay as last written. Other outputs that
    stop being made (a slug moved by config, a department gathered under a new name) keep
    their last content, as before."""
    from feedkit.editorial.categories import category_map
    from feedkit.editorial.withdrawals import withdrawn_only_slugs

    slugs = withdrawn_only_slugs(store)
    cmap = category_map(config)
    known = dict(store.db.execute("SELECT slug, category FROM category_slugs"))
    if cmap.hidden_from_feeds:
        slugs |= {slug for slug, name in known.items() if not cmap.in_feeds(name)}
    archive = config.digest.archive
    per_category = config.feeds.per_category   # then every category's slug is in the store
    if not slugs and not archive and not per_category:
        return None

    def prunable(rel: str) -> bool:
        parts = rel.split("/")
        if archive and len(parts) == 2 and parts[0] == "digest":
            return _WEEK_PAGE.fullmatch(parts[1]) is not None
        return len(parts) == 3 and parts[0] == "category" and (
            parts[1] in slugs or (per_category and parts[1] not in known))

    return prunable


_WEEK_PAGE = re.compile(r"\d{4}-W\d{2}\.html")


def shown_articles(config: Config, stored: list[StoredArticle]) -> list:
    """The articles with the category each is shown under (``[categories] names``)."""
    from dataclasses import replace

    from feedkit.editorial.categories import category_map

    cmap = category_map(config)
    if not cmap.names:
        return [s.article for s in stored]
    return [replace(s.article, category=cmap.shown(s.article.category)) for s in stored]


def templates_state(config: Config) -> str:
    """A hash of every template a build may read (the site's own folders and the bundled one)."""
    from feedkit.text.templating import bundled_templates_dir

    h = hashlib.sha256()
    folders = [config.templates_dir, config.resolve(config.digest.templates)
               if config.digest.templates else None, bundled_templates_dir()]
    for folder in folders:
        if folder is None or not folder.is_dir():
            continue
        for path in sorted(folder.iterdir()):
            if path.is_file():
                h.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


def _render_feed_set(config: Config, store: Store, fs: FeedSet, formats: list[str],
                     until: int | None = None) -> dict[str, bytes]:
    from feedkit.site.feeds import FeedMeta, feed_extras, render_feeds

    site = config.site
    depth = fs.folder.count("/")
    meta = FeedMeta(
        title=fs.title,
        description=site.description or fs.title,
        site_url=site.url,
        base_url=site.feed_url + fs.folder,
        language=site.language,
        author=config.author,
        email=site.email,
        stylesheet="../" * depth + STYLESHEET if config.feeds.stylesheet else "",
        full_content=config.feeds.full_content,
        **feed_extras(config),
    )
    articles = shown_articles(config, fs.latest(store, config.feeds.limit, until))
    rendered = render_feeds(meta, articles, formats)
    return {fs.folder + name: data for name, data in rendered.items()}


def _render_opml(config: Config, sets: list[FeedSet], formats: list[str]) -> bytes:
    """``feeds.opml``: every feed in one file (:mod:`feedkit.site.opml`)."""
    from feedkit.site.opml import feed_url, render_opml

    lang = for_config(config)
    base = config.site.feed_url
    feeds = [(fs.title, feed_url(config, fs.folder, formats), base + fs.page) for fs in sets]
    digest = None
    if config.digest.archive:
        from feedkit.digest.render import DigestRenderer

        digest = (DigestRenderer.title_for(config, lang), base + "digest/feed.xml",
                  base + "digest/index.html")
    return render_opml(config, feeds, lang.gettext("Feeds by topic"), digest)


def _render_index(config: Config, sets: list[FeedSet], latest: list[StoredArticle],
                  formats: list[str]) -> bytes:
    from markupsafe import Markup

    from feedkit.editorial.branding import brand_of, page_css
    from feedkit.editorial.licenses import page_context
    from feedkit.subscribers.links import form_url
    from feedkit.text.templating import render

    brand = brand_of(config)
    feeds = [
        {"title": fs.title, "category": fs.category, "count": len(fs.keys),
         "links": {f: fs.folder + FILENAMES[f] for f in formats}, "page": fs.page}
        for fs in sets
    ]
    html = render(INDEX_TEMPLATE, config.templates_dir, i18n_language=for_config(config),
                  site=config.site,
                  articles=shown_articles(config, latest), feeds=feeds, formats=formats,
                  language=config.site.language, subscribe_url=form_url(config),
                  digest_archive="digest/index.html" if config.digest.archive else "",
                  brand=brand, brand_css=Markup(page_css(brand)), opml=OPML,
                  **page_context(config, for_config(config)))
    return html.encode("utf-8")


def _render_feed_page(config: Config, sets: list[FeedSet], fs: FeedSet, formats: list[str],
                      latest: list[StoredArticle]) -> bytes:
    """``feeds.html`` / ``category/<slug>/index.html``: a plain page for a person who clicked a
    feed link. Browsers no longer style feeds (Chromium's XSLT banner, blank ``file://`` feeds),
    so this page, not the XML, is what the index and the digest point people to."""
    from feedkit.editorial.licenses import page_context
    from feedkit.subscribers.links import form_url
    from feedkit.text.templating import render

    root = "../" * fs.folder.count("/")
    addresses = [{"format": f, "url": config.site.feed_url + fs.folder + FILENAMES[f]}
                 for f in formats]
    others = [{"category": s.category, "count": len(s.keys), "page": root + s.page}
              for s in sets if s is not fs]
    html = render(FEEDS_TEMPLATE, config.templates_dir, i18n_language=for_config(config),
                  site=config.site, title=fs.title,
                  category=fs.category, addresses=addresses, formats=formats,
                  articles=shown_articles(config, latest), others=others, root=root,
                  page_url=config.site.feed_url + fs.page, language=config.site.language,
                  subscribe_url=form_url(config), opml=root + OPML,
                  **page_context(config, for_config(config)))
    return html.encode("utf-8")
