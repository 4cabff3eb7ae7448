"""What python-feedgen does not write, added through its extension mechanism
(``FeedGenerator.register_extension``): the WebSub hub links and the licence links.

feedgen 1.0 has no hub link (python-feedgen #122) and no ``rel="license"`` link for entries;
an extension gets the feed's (or entry's) element tree while feedgen builds it, so the links go
in as elements, in place, rather than by rewriting the XML afterwards:

* every RSS channel and Atom feed: ``<atom:link rel="hub" href="…"/>`` per hub, right after its
  ``rel="self"`` link (W3C WebSub §4: a subscriber discovers the hub and the topic together),
  and in Atom ``<link rel="license" href="…"/>`` (RFC 4946) when the feed has one licence;
* every Atom entry with a licence: ``<link rel="license" href="…"/>``.
"""

from __future__ import annotations

import lxml.etree  # noqa: F401  (feedgen.util uses it without importing it)
from feedgen.ext.base import BaseEntryExtension, BaseExtension
from feedgen.util import xml_elem

ATOM = "{http://www.w3.org/2005/Atom}"
# feedgen writes an Atom document with xmlns="…" as a plain attribute, its element names bare:
# elements added to it are bare too (a qualified name would get a second, prefixed namespace).
ATOM_LINK = "link"
NAME = "feedkit"   # the attribute the extension is reached under: fg.feedkit, fe.feedkit


class FeedLinks(BaseExtension):
    """Feed level: ``hubs`` (URLs) and ``license`` (the licence page, or "")."""

    def __init__(self) -> None:
        self.hubs: tuple[str, ...] = ()
        self.license = ""

    def _hub_links(self, parent, tag: str) -> None:
        selfs = [el for el in parent.findall(tag) if el.get("rel") == "self"]
        at = list(parent).index(selfs[-1]) + 1 if selfs else len(parent)
        for offset, hub in enumerate(self.hubs):
            link = xml_elem(tag, None, href=hub, rel="hub")
            parent.insert(at + offset, link)

    def extend_rss(self, feed):
        self._hub_links(feed[0], ATOM + "link")   # feed[0] is the <channel>
        return feed

    def extend_atom(self, feed):
        self._hub_links(feed, ATOM_LINK)
        if self.license:
            xml_elem(ATOM_LINK, feed, href=self.license, rel="license")
        return feed


class EntryLinks(BaseEntryExtension):
    """Entry level: the licence page of one entry (Atom only; RSS items carry dc:rights)."""

    def __init__(self) -> None:
        self.license = ""

    def extend_atom(self, entry):
        if self.license:
            xml_elem(ATOM_LINK, entry, href=self.license, rel="license")
        return entry


def register(fg) -> None:
    """Load the extension on a FeedGenerator (before its entries are added)."""
    fg.register_extension(NAME, FeedLinks, EntryLinks, atom=True, rss=True)
