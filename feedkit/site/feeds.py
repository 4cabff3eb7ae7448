"""A selection of articles → RSS 2.0, Atom 1.0 (via feedgen) and JSON Feed 1.1 bytes.

What it takes for zero W3C validator warnings, and where feedgen needs steering:

* every date is pinned (feedgen defaults ``updated``/``lastBuildDate`` to *now*): the feed's
  date is its newest item's ``updated``, so the same store gives byte-identical files;
* every date is whole seconds in every format: newsboat 2.21 reads an RFC 3339 date with a
  fraction as UTC (9 hours late in Seoul), and the store orders by whole seconds too;
* each entry's ``updated`` is the article's own, even when several share it (date-only
  sources): the validator's DuplicateUpdated warning is better than a time no source gave;
* an item is the same in every format: the lead image is an RSS ``enclosure``
  (``length="0"``: the size is unknown, as the RSS Board's profile and the W3C validator ask),
  an Atom ``link rel="enclosure"`` and JSON Feed ``image``, besides ``media:content``, in all
  of them or in none (its type from the URL's extension, else from what the image's server
  answered ``update``: :attr:`Article.image_type`); every RSS item, Atom entry and JSON Feed
  item names the same author (its author, else its department: readers do not apply the
  channel's author to items);
* the licence (:mod:`feedkit.editorial.licenses`): each item's as RSS ``dc:rights``, Atom
  ``<rights>`` and ``<link rel="license">``, JSON Feed ``_license``; the feed's own (RSS
  ``<copyright>``, Atom ``<rights>`` and ``rel="license"``, JSON Feed ``_license``) when all
  its items share one. ``none`` writes nothing;
* with ``[feeds] websub_hubs``, RSS and Atom carry ``<atom:link rel="hub">`` after
  ``rel="self"`` and JSON Feed ``hubs`` (W3C WebSub), written by :mod:`feedkit.site.feed_ext`
  through feedgen's extension mechanism (feedgen has no hub link, python-feedgen #122);
* Atom content is ``type="html"`` (feedgen's ``CDATA`` type is invalid Atom);
* the RSS ``<link>`` is whichever ``link()`` came last, so the alternate link is set last;
* each format gets its own ``rel="self"`` URL;
* RSS ``<description>`` is HTML, so the plain-text summary is escaped once more;
* an ``xml-stylesheet`` processing instruction is added only when ``[feeds] stylesheet`` asks
  (Chromium covers XSLT-styled pages with a removal banner; ``feeds.html`` is the human page).
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from feedkit import __version__
from feedkit.config import FEED_FILENAMES
from feedkit.model import Article
from feedkit.text.media import image_type_of_url

GENERATOR = "feedkit"
GENERATOR_URI = "https://github.com/feedkit/feedkit"
JSON_FEED_VERSION = "https://jsonfeed.org/version/1.1"
# What a JSON Feed extension object's "about" points to (JSON Feed 1.1, "Extensions").
LICENSE_ABOUT = GENERATOR_URI + "#licence"


@dataclass(frozen=True)
class FeedMeta:
    """Everything about one feed that is not its items."""

    title: str
    description: str
    site_url: str            # the human page this feed mirrors (RSS <link>, Atom rel=alternate)
    base_url: str            # public URL of the folder the feed files sit in, ending with "/"
    language: str
    author: str
    email: str = ""
    stylesheet: str = ""     # href of the XSL, relative to the feed file; "" for none
    full_content: bool = True
    hubs: tuple[str, ...] = ()   # WebSub hubs ([feeds] websub_hubs)
    license: str = ""        # the site's licence code, for articles without their own
    lang: Any = None         # the site's Language (licence names); None: no licence written

    def self_url(self, filename: str) -> str:
        return self.base_url + filename


def feed_extras(config) -> dict:
    """The :class:`FeedMeta` fields every feed of a site shares: its WebSub hubs and its
    licence (with the language that names it)."""
    from feedkit.editorial.licenses import site_code
    from feedkit.text.i18n import for_config

    return {"hubs": config.feeds.websub_hubs, "license": site_code(config.site),
            "lang": for_config(config)}


def entry_id(article: Article, namespace_url: str) -> str:
    """An Atom id must be an IRI. Ids that are URLs (the default) stay as they are; anything
    else becomes a deterministic ``urn:uuid`` derived from the site and the id."""
    if article.id.startswith(("https://", "http://", "urn:", "tag:")) and " " not in article.id:
        return article.id
    import uuid  # lazily: it drags in platform, and most ids are URLs

    return uuid.uuid5(uuid.NAMESPACE_URL, namespace_url + "#" + article.id).urn


def whole_seconds(value: datetime) -> datetime:
    """A date as every format writes it: no fraction of a second (newsboat reads
    ``…T22:05:38.900000+09:00`` as UTC), truncated like the store's sort key ``int(ts)``."""
    return value.replace(microsecond=0)


def creator(meta: FeedMeta, article: Article) -> str:
    """Who an RSS item is by: its author, else its department, else the feed's author.
    RSS readers do not inherit the channel's author, so an item without one shows blank."""
    return article.author or article.category or meta.author


def image_type(article: Article) -> str | None:
    """The lead image's media type, or None for no (usable) image: the one the image's server
    answered ``update`` (:attr:`Article.image_type`), else the URL's extension. Every format
    asks this one function, so an image is in all of them or in none."""
    if not article.image:
        return None
    if article.image_type.startswith("image/"):
        return article.image_type
    return image_type_of_url(article.image)


def license_of(meta: FeedMeta, article: Article):
    """The :class:`~feedkit.editorial.licenses.License` an article is published under, or None
    (none stated)."""
    if meta.lang is None:
        return None
    from feedkit.editorial.licenses import effective, resolve

    return resolve(effective(article.license, meta.license), meta.lang)


def feed_license(meta: FeedMeta, articles: Sequence[Article]):
    """The licence of the whole feed: its items' when they all share one, else None (a feed
    that mixes licences states each item's only)."""
    found = {license_of(meta, a) for a in articles}
    return found.pop() if len(found) == 1 else None


def _generator(meta: FeedMeta, articles: Sequence[Article]):
    from feedgen.feed import FeedGenerator

    fg = FeedGenerator()
    # Extensions cost time on every entry, so load them only when some entry uses them.
    fg.load_extension("dc", atom=False, rss=True)  # every RSS item gets dc:creator
    if any(a.image for a in articles):
        fg.load_extension("media", atom=True, rss=True)
    rights = [license_of(meta, a) for a in articles]
    whole = feed_license(meta, articles)
    if meta.hubs or any(rights):
        from feedkit.site.feed_ext import register

        register(fg)
        fg.feedkit.hubs = meta.hubs
        fg.feedkit.license = whole.url if whole else ""
    if whole:
        fg.rights(whole.name)      # Atom <rights>, RSS <copyright>
    fg.title(meta.title)
    fg.subtitle(meta.description or meta.title)
    fg.language(meta.language)
    author = {"name": meta.author, "uri": meta.site_url}
    if meta.email:
        author["email"] = meta.email
    fg.author(author)
    fg.generator(GENERATOR, version=__version__, uri=GENERATOR_URI)
    newest = whole_seconds(max(a.updated for a in articles))
    fg.updated(newest)
    fg.lastBuildDate(newest)
    fg.pubDate(whole_seconds(max(a.published for a in articles)))
    for article, rights_ in zip(articles, rights, strict=True):
        fe = fg.add_entry(order="append")
        fe.id(entry_id(article, meta.site_url))  # render_rss swaps in the RSS guid
        fe.title(article.title)
        fe.link(href=article.url, rel="alternate")
        fe.published(whole_seconds(article.published))
        fe.updated(whole_seconds(article.updated))
        summary = article.summary or article.title
        fe.summary(summary)
        if meta.full_content and article.content_html:
            fe.content(article.content_html, type="html")
        for term in ((article.category,) if article.category else ()) + article.tags:
            fe.category(term=term)
        # Named on every entry, not only when it differs from the feed's: newsboat (and others)
        # do not apply an Atom feed's author to its entries and show them blank.
        fe.author({"name": creator(meta, article)})
        if rights_:
            fe.rights(rights_.name)               # Atom; RSS gets dc:rights (render_rss)
            fe.feedkit.license = rights_.url
        mime = image_type(article)
        if mime:
            # What readers use: RSS <enclosure> (newsboat stores no media:content), Atom
            # rel="enclosure". The size is not known without fetching the image, and the RSS
            # Board profile says to write 0 then (the W3C validator's UseZeroForUnknown); Atom
            # leaves the optional length out rather than state a wrong one.
            fe.link(href=article.image, rel="enclosure", type=mime)  # RSS: length="0"
            # Straight under the item: a media:group with one member is a validator error.
            fe.media.content({"url": article.image, "medium": "image", "type": mime},
                             group=None)
    return fg


def _with_stylesheet(body: bytes, stylesheet: str) -> bytes:
    head = b'<?xml version="1.0" encoding="UTF-8"?>\n'
    if stylesheet:
        href = html.escape(stylesheet, quote=True).encode("utf-8")
        head += b'<?xml-stylesheet type="text/xsl" href="' + href + b'"?>\n'
    return head + body + b"\n"


def render_rss(meta: FeedMeta, articles: Sequence[Article], filename: str = "feed.xml",
               fg=None) -> bytes:
    fg = fg or _generator(meta, articles)
    # RSS <description> is HTML: escape the plain-text summary once more so "a < b" survives.
    for fe, article in zip(fg.entry(), articles, strict=True):
        # feedgen keeps one id for both formats; RSS gets the article's own id as its guid.
        fe.guid(article.id, permalink=article.id == article.url)
        fe.description(html.escape(article.summary or article.title, quote=False),
                       isSummary=True)
        fe.dc.dc_creator(creator(meta, article), replace=True)
        rights = license_of(meta, article)
        if rights:
            fe.dc.dc_rights(rights.name)
    # Readers take the channel <description> for HTML, like the items': a config sentence such
    # as "AT&T <안내>" is text, so it is escaped once more (see _hex_escape_description).
    fg.description(html.escape(meta.description or meta.title, quote=False))
    fg.link(href=meta.self_url(filename), rel="self", replace=True)
    fg.link(href=meta.site_url, rel="alternate")  # last: feedgen's RSS <link> is the last one
    body = _hex_escape_description(fg.rss_str(pretty=True, xml_declaration=False))
    return _with_stylesheet(body, meta.stylesheet)


_CHANNEL_DESCRIPTION = re.compile(rb"(<description>)([^<]*)(</description>)")


def _hex_escape_description(body: bytes) -> bytes:
    """Write the channel description's ``&`` as ``&#x26;`` (the RSS Board profile's spelling).

    The W3C validator reads a channel description as plain text and flags an escaped ``&amp;``
    in it (ContainsHTML), while readers render it as HTML, where a raw "<b>" would be markup.
    The same characters written as a hex reference satisfy both: readers get escaped HTML, the
    validator sees the profile's way of writing a literal ``&``. The channel's description is
    the first one in the document (items come after it)."""
    def hexed(m: re.Match) -> bytes:
        return m.group(1) + m.group(2).replace(b"&amp;", b"&#x26;") + m.group(3)

    return _CHANNEL_DESCRIPTION.sub(hexed, body, count=1)


def render_atom(meta: FeedMeta, articles: Sequence[Article], filename: str = "atom.xml",
                fg=None) -> bytes:
    fg = fg or _generator(meta, articles)
    for fe, article in zip(fg.entry(), articles, strict=True):
        # Undo what render_rss may have changed on the shared entries: the guid (Atom ids must
        # be IRIs) and the summary (description() put RSS's escaped HTML there).
        fe.id(entry_id(article, meta.site_url))
        fe.summary(article.summary or article.title)
    fg.subtitle(meta.description or meta.title)  # plain text in Atom (render_rss escaped it)
    self_url = meta.self_url(filename)
    fg.id(self_url)
    fg.link(href=meta.site_url, rel="alternate", type="text/html", replace=True)
    fg.link(href=self_url, rel="self", type="application/atom+xml")
    body = _atom_link_attributes(fg.atom_str(pretty=True, xml_declaration=False), articles)
    return _with_stylesheet(body, meta.stylesheet)


def _atom_link_attributes(body: bytes, articles: Sequence[Article]) -> bytes:
    """Put back the ``rel``/``type`` that feedgen 1.0 drops from entry links (python-feedgen
    #135/#143): without them the enclosure reads as a second ``alternate`` link, which the
    W3C validator rejects (DuplicateAtomLink) and readers take for the article's address."""
    if not any(a.image for a in articles):
        return body
    from lxml import etree

    ns = "{http://www.w3.org/2005/Atom}"
    root = etree.fromstring(body)
    for entry, article in zip(root.iter(ns + "entry"), articles, strict=True):
        mime = image_type(article)
        # feedgen's own links (the extension's rel="license" keeps its attributes)
        links = [link for link in entry.findall(ns + "link") if "rel" not in link.attrib]
        if mime and len(links) == 2:  # written in order: alternate, then enclosure
            links[1].set("rel", "enclosure")
            links[1].set("type", mime)
    return etree.tostring(root, pretty_print=True, encoding="UTF-8", xml_declaration=False)


def render_json(meta: FeedMeta, articles: Sequence[Article],
                filename: str = "feed.json") -> bytes:
    items = []
    for a in articles:
        item: dict = {"id": a.id, "url": a.url, "title": a.title}
        if meta.full_content and a.content_html:
            item["content_html"] = a.content_html
        else:
            item["content_text"] = a.summary or a.title
        if a.summary:
            item["summary"] = a.summary
        if image_type(a):
            item["image"] = a.image
        item["date_published"] = whole_seconds(a.published).isoformat()
        item["date_modified"] = whole_seconds(a.updated).isoformat()
        item["authors"] = [{"name": creator(meta, a)}]   # as RSS and Atom name it
        tags = ([a.category] if a.category else []) + list(a.tags)
        if tags:
            item["tags"] = tags
        rights = license_of(meta, a)
        if rights:
            item["_license"] = _json_license(rights)
        items.append(item)
    feed = {
        "version": JSON_FEED_VERSION,
        "title": meta.title,
        "home_page_url": meta.site_url,
        "feed_url": meta.self_url(filename),
        "description": meta.description or meta.title,
        "language": meta.language,
        "authors": [{"name": meta.author, "url": meta.site_url}],
    }
    if meta.hubs:
        feed["hubs"] = [{"type": "WebSub", "url": hub} for hub in meta.hubs]
    whole = feed_license(meta, articles)
    if whole:
        feed["_license"] = _json_license(whole)
    feed["items"] = items
    return (json.dumps(feed, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def _json_license(rights) -> dict:
    """JSON Feed has no licence field: an extension object (a key starting with "_"), with the
    "about" link JSON Feed 1.1 asks extensions to carry (README "Licence" documents it)."""
    return {"about": LICENSE_ABOUT, "code": rights.code, "name": rights.name, "url": rights.url}


FILENAMES = FEED_FILENAMES


def render_feeds(meta: FeedMeta, articles: Sequence[Article],
                 formats: Sequence[str]) -> dict[str, bytes]:
    """``{filename: bytes}`` for the requested formats; one feedgen object serves RSS and Atom."""
    if not articles:
        raise ValueError("a feed needs at least one article")
    out: dict[str, bytes] = {}
    fg = _generator(meta, articles) if ("rss" in formats or "atom" in formats) else None
    if "rss" in formats:
        out[FILENAMES["rss"]] = render_rss(meta, articles, FILENAMES["rss"], fg)
    if "atom" in formats:
        out[FILENAMES["atom"]] = render_atom(meta, articles, FILENAMES["atom"], fg)
    if "json" in formats:
        out[FILENAMES["json"]] = render_json(meta, articles, FILENAMES["json"])
    return out
