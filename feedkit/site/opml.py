"""``feeds.opml``: every feed of the site in one file, so a reader subscribes to all in one step.

OPML 2.0 (opml.org/spec2), the subscription-list format every feed reader imports (newsboat
``-i``, Feedly, Inoreader, NetNewsWire, Thunderbird): the news feed first, the department (or
``[categories]``) feeds in one folder outline, then the weekly digest's feed. Each ``outline``
has ``type="rss"`` (OPML's word for any feed), the feed's title as ``text`` and ``title``, its
address as ``xmlUrl`` and its human page as ``htmlUrl``. One address per feed: the first
configured XML format (RSS by default; JSON Feed only when it is the only one, since several
readers, newsboat among them, cannot read it). No dates: the same site gives the same bytes.
"""

from __future__ import annotations

from collections.abc import Sequence
from xml.sax.saxutils import quoteattr

from feedkit.config import FEED_FILENAMES, Config

FILENAME = "feeds.opml"
MEDIA_TYPE = "text/x-opml"


def feed_format(formats: Sequence[str]) -> str:
    """The format the OPML lists: RSS, else Atom, else JSON Feed."""
    for f in ("rss", "atom", "json"):
        if f in formats:
            return f
    raise ValueError("no feed format")


def render_opml(config: Config, feeds: Sequence[tuple[str, str, str]], folder: str,
                digest: tuple[str, str, str] | None) -> bytes:
    """``feeds``: (title, feed URL, page URL), the main feed first; ``folder``: the name of the
    outline that holds the others; ``digest``: the digest feed's, or None."""
    def outline(indent: str, title: str, url: str, page: str) -> str:
        return (f"{indent}<outline type=\"rss\" text={quoteattr(title)} title={quoteattr(title)}"
                f" xmlUrl={quoteattr(url)} htmlUrl={quoteattr(page)}/>\n")

    site = config.site
    lines = ['<?xml version="1.0" encoding="UTF-8"?>\n', '<opml version="2.0">\n', "  <head>\n",
             f"    <title>{_text(site.title)}</title>\n",
             "    <docs>http://opml.org/spec2.opml</docs>\n", "  </head>\n", "  <body>\n"]
    first, *rest = feeds
    lines.append(outline("    ", *first))
    if rest:
        lines.append(f"    <outline text={quoteattr(folder)} title={quoteattr(folder)}>\n")
        lines += [outline("      ", *f) for f in rest]
        lines.append("    </outline>\n")
    if digest:
        lines.append(outline("    ", *digest))
    lines += ["  </body>\n", "</opml>\n"]
    return "".join(lines).encode("utf-8")


def _text(value: str) -> str:
    from xml.sax.saxutils import escape

    return escape(value)


def feed_url(config: Config, folder: str, formats: Sequence[str]) -> str:
    return config.site.feed_url + folder + FEED_FILENAMES[feed_format(formats)]
