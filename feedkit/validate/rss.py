"""RSS 2.0 (and 0.91/0.92) checks, with the RSS Profile's advice the W3C validator applies:
the ``<rss>`` element, the channel and its items (their structured parts: :mod:`.rssparts`)."""

from __future__ import annotations

from datetime import datetime

from lxml import etree

from feedkit.validate.atomparts import CATEGORY, GENERATOR, LINK, PERSON, link_rel
from feedkit.validate.atomtext import CONTENT, TEXT, AtomText
from feedkit.validate.dates import parse_rfc822
from feedkit.validate.extensions import (
    CHANNEL,
    CHANNEL_SEMANTICS,
    ITEM_SEMANTICS,
    RSS20_ITEM,
    RSS_SHARED,
)
from feedkit.validate.markup import _css_unsafe
from feedkit.validate.media import MediaChecks
from feedkit.validate.rssparts import RssParts
from feedkit.validate.values import Rule, check_html, check_nonhtml, rule
from feedkit.validate.vocab import _SAFE_ELEMENTS

_ATOM_IN_CHANNEL = {
    "atom:author": PERSON, "atom:category": CATEGORY, "atom:contributor": PERSON,
    "atom:generator": GENERATOR, "atom:id": rule("uri_full"),
    "atom:icon": rule("uri", nonblank=True), "atom:link": LINK,
    "atom:logo": rule("uri", nonblank=True), "atom:title": TEXT, "atom:subtitle": TEXT,
    "atom:rights": TEXT, "atom:updated": rule("rfc3339"),
}
CHANNEL_TABLE: dict[str, Rule] = CHANNEL | RSS_SHARED | _ATOM_IN_CHANNEL | {
    "title": rule("@channel_title"), "link": rule("@channel_link"),
    "description": rule("nonhtml"), "language": rule("language"),
    "copyright": rule("nonhtml"), "managingEditor": rule("email_name"),
    "webMaster": rule("email_name"), "pubDate": rule("rfc822"),
    "lastBuildDate": rule("rfc822"), "category": rule("nonhtml", many=True, attrs="domain"),
    "generator": rule("text"), "docs": rule("uri_full"),
    "cloud": rule("@cloud", attrs="domain port path registerProcedure protocol"),
    "ttl": rule("positive", nonblank=True), "rating": rule("text", many=True),
    "image": rule("@image", attrs="rdf:resource rdf:about rdf:parseType"),
    "textInput": rule("@textInput", attrs="rdf:about"),
    "textinput": rule("@textinput_lower", attrs=None),
    "skipHours": rule("@skipHours"), "skipDays": rule("@skipDays"),
    "item": rule("@item", many=True), "blink": rule("@blink"),
}
ITEM_TABLE: dict[str, Rule] = RSS20_ITEM | RSS_SHARED | {
    "dc:date": rule("w3cdtf", many=True),
    "title": rule("nonhtml", nonblank=True), "link": rule("uri_full"),
    "description": rule("@item_description"), "author": rule("email_name"),
    "category": rule("nonhtml", many=True, nonblank=True, attrs="domain"),
    "comments": rule("uri_full"),
    "enclosure": rule("@enclosure", dup="DuplicateEnclosure", attrs="url length type"),
    "guid": rule("@guid", attrs="isPermaLink"), "pubDate": rule("rfc822"),
    "source": rule("@rss_source", attrs="url"),
    "content:encoded": rule("@content_encoded"),
    "content:items": rule("eat", attrs=None), "xhtml:body": rule("@xhtml_body", attrs=None),
    "atom:id": rule("uri_full"), "atom:link": LINK, "atom:title": CONTENT,
    "atom:summary": TEXT, "atom:author": PERSON, "atom:contributor": PERSON,
    "atom:content": CONTENT, "atom:published": rule("rfc3339"),
    "atom:updated": rule("rfc3339"),
}
_RSSBOARD_SPEC = "http://www.rssboard.org/rss-specification"
# Channel elements that, after an item, are the RSS Profile's MisplacedItem.
_METADATA = frozenset({
    "image", "textInput", "link", "title", "description", "category", "cloud", "ttl", "docs",
    "generator", "pubDate", "managingEditor", "webMaster", "language", "copyright",
    "lastBuildDate", "skipHours", "skipDays", "atom:link",
})


class RssChecks(RssParts, AtomText, MediaChecks):
    """RSS 2.0: the rss element, the channel, items."""

    def _check_rss(self, root: etree._Element, doctype_091: bool = False) -> None:
        version = root.get("version")
        if version is None:
            self.flag(root, "MissingAttribute", "rss element needs version=\"2.0\"")
        elif doctype_091 and version != "0.91":
            self.flag(root, "InvalidDoctype", "the RSS 0.91 DOCTYPE needs version=\"0.91\"")
        elif version not in ("0.91", "0.92", "2.0"):
            self.flag(root, "InvalidRSSVersion", f"unknown RSS version {version!r}")
        self.rss_version = version or "2.0"
        self._check_attrs(root, frozenset({"version"}))
        found = self.walk(root, {"channel": rule("@channel", attrs="indexing:index"),
                                 "access:restriction": rule("eat", attrs=None)})
        if "channel" not in found:
            self.flag(root, "MissingElement", "Missing rss element: channel")
        self._check_media(root)

    def _el_channel(self, channel: etree._Element) -> None:
        self.guids = {}
        self._newest: datetime | None = None
        self._build_seen = False
        self._item_els: list[etree._Element] = []
        found = self.walk(channel, CHANNEL_TABLE)
        self.require(channel, found, (("title", "MissingTitle"), ("link", "MissingLink"),
                                      ("description", "MissingDescription")))
        self.semantics(channel, found, CHANNEL_SEMANTICS, "DuplicateSemantics")
        selfs = [ln for ln in found.get("atom:link", []) if link_rel(ln) == "self"]
        if self.rss_version == "2.0" and not selfs:
            self.flag(channel, "MissingAtomSelfLink", 'Missing atom:link with rel="self"')
        self._misplaced(channel)
        if any(self._value(d) == _RSSBOARD_SPEC for d in found.get("docs", [])):
            # A feed that names the RSS Advisory Board's spec follows its rules on extension
            # attributes; the W3C validator then drops UseOfExtensionAttr.
            self.result.problems = [p for p in self.result.problems
                                    if p.code != "UseOfExtensionAttr"]
        for last in found.get("lastBuildDate", [])[:1]:
            when = parse_rfc822(self._value(last))[1]
            if when and self._newest and when < self._newest:
                self.flag(last, "StaleFeedDate", "lastBuildDate is older than the newest "
                          "item's pubDate (feedkit rule)")

    def _misplaced(self, channel: etree._Element) -> None:
        """RSS Profile: every channel element belongs before the first item."""
        items_seen = False
        for child in channel:
            if not isinstance(child.tag, str):
                continue
            label = self._label(child)
            if label == "item":
                items_seen = True
            elif items_seen and label in _METADATA:
                self.flag(child, "MisplacedItem", f"{label} appears after the first item; put "
                          "channel elements before all items (RSS Profile)")
                return

    def _el_channel_title(self, el: etree._Element) -> None:
        self._no_children(el)
        value = self._value(el)
        if not value:
            self.flag(el, "NotBlank", "title should not be blank")
        check_nonhtml(self, el, value)
        self.channel_title = value

    def _el_channel_link(self, el: etree._Element) -> None:
        self.apply(el, rule("uri_full", attrs=None))
        self.channel_link = self._value(el)

    def _el_textinput_lower(self, el: etree._Element) -> None:
        self.flag(el, "UndefinedElement", "textinput: RSS 2.0 spells it textInput")

    def _el_blink(self, el: etree._Element) -> None:
        self.flag(el, "NoBlink", "there is no blink element in RSS (a blogChannel:blink was "
                  "probably meant)")

    def _el_item(self, item: etree._Element) -> None:
        found = self.walk(item, ITEM_TABLE)
        if "title" not in found and "description" not in found:
            self.flag(item, "ItemMustContainTitleOrDescription",
                      "item must contain either title or description")
        if "guid" not in found and self.rss_version.startswith("2."):
            self.flag(item, "MissingGuid", "item should contain a guid element")
        if "slash:comments" in found and self.rss_version.startswith("2.") \
                and not self.earlier(item, "lastBuildDate"):
            self.flag(item, "SlashDate", "slash:comments needs a channel lastBuildDate before "
                      "the items (RSS Profile)")
        self.semantics(item, found, ITEM_SEMANTICS, "DuplicateItemSemantics")
        for date in found.get("pubDate", [])[:1]:
            when = parse_rfc822(self._value(date))[1]
            if when and (self._newest is None or when > self._newest):
                self._newest = when

    def _el_item_description(self, el: etree._Element) -> None:
        self._no_children(el)
        if self.rss_version == "0.91":
            check_nonhtml(self, el, self._value(el))
        else:
            check_html(self, el, self._value(el))

    def _el_content_encoded(self, el: etree._Element) -> None:
        if self.result.kind == "rss" and not self.earlier(el, "description"):
            self.flag(el, "NeedDescriptionBeforeContent", "put description before "
                      "content:encoded (RSS Profile)")
        self._no_children(el)
        check_html(self, el, self._value(el))

    def _el_xhtml_body(self, el: etree._Element) -> None:
        """Inline XHTML in an item: the same security checks as Atom's xhtml content."""
        if self.result.kind == "rss":
            self.flag(el, "DuplicateDescriptionSemantics", "xhtml:body repeats what the item's "
                      "description says; use one of them")
        for node in el.iterdescendants():
            if not isinstance(node.tag, str):
                continue
            local = node.tag.rpartition("}")[2]
            if local.lower() not in _SAFE_ELEMENTS:
                self.flag(node, "SecurityRisk", f"{local} tag")
            for attr, value in node.attrib.items():
                if attr.lower() == "style" and _css_unsafe(value):
                    self.flag(node, "DangerousStyleAttr", "style attribute contains "
                              "potentially dangerous content")
                elif attr.lower().startswith("on"):
                    self.flag(node, "SecurityRiskAttr", f"{attr} attribute")
