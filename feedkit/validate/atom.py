"""Atom 1.0 checks (RFC 4287): the feed, its entries, an entry's source, and Atom entry
documents."""

from __future__ import annotations

from datetime import datetime

from lxml import etree

from feedkit.validate.atomparts import CATEGORY, GENERATOR, LINK, PERSON, AtomParts, link_rel
from feedkit.validate.atomtext import CONTENT, TEXT, AtomText
from feedkit.validate.dates import parse_rfc3339
from feedkit.validate.extensions import ENTRY, FEED
from feedkit.validate.values import rule

_FEED_ONLY = {
    "author": PERSON, "category": CATEGORY, "contributor": PERSON, "generator": GENERATOR,
    "id": rule("id", nows=True), "icon": rule("iri", nonblank=True, nows=True), "link": LINK,
    "logo": rule("iri", nonblank=True, nows=True), "title": TEXT, "subtitle": TEXT,
    "rights": TEXT, "updated": rule("rfc3339", nows=True),
}
_FEED = FEED | _FEED_ONLY | {
    "entry": rule("@entry", many=True, attrs="rdf:parseType"),
    "app:collection": rule("eat", attrs=None),
}
_SOURCE = FEED | _FEED_ONLY | {"entry": rule("@source_entry", many=True, attrs=None)}
_ENTRY = ENTRY | {
    "author": PERSON, "category": CATEGORY, "content": CONTENT, "contributor": PERSON,
    "id": rule("id", nows=True, nonblank=True), "link": LINK,
    "published": rule("rfc3339", nows=True),
    "source": rule("@source", attrs=None), "rights": TEXT, "summary": TEXT, "title": TEXT,
    "updated": rule("rfc3339", nows=True), "app:edited": rule("rfc3339", nows=True),
    "app:control": rule("eat", attrs=None),
}
_METADATA = ("title", "id", "updated")


class AtomChecks(AtomParts, AtomText):
    """Atom 1.0: feed metadata, entries, sources."""

    def _check_atom(self, root: etree._Element) -> None:
        """An Atom feed document (``<feed>``) or entry document (``<entry>``)."""
        self._check_attrs(root, frozenset({"indexing:index"}))
        self._entries: list[etree._Element] = []
        self._ids: dict[str, etree._Element] = {}
        self._duplicate_ids: list[tuple[etree._Element, str]] = []
        self._updates: set[str] = set()
        self._newest: datetime | None = None
        self._feed_author = False
        if self._label(root) == "entry":
            self._el_entry(root)
            return
        found = self.walk(root, _FEED)
        if "id" in found:
            self.result.feed_id = self._value(found["id"][0])
        self._feed_metadata(root, found)
        self._entry_ids(root)
        updated = found.get("updated")
        if updated and self._newest:
            when = self._check_quiet_date(updated[0])
            if when and when < self._newest:
                self.flag(updated[0], "StaleFeedDate", "feed updated is older than the newest "
                          "entry's updated (feedkit rule)")

    def _feed_metadata(self, root: etree._Element, found: dict[str, list]) -> None:
        """What the W3C validator checks of the feed's own elements: those before the first
        entry count (metadata after an entry is ``MisplacedMetadata``)."""
        before: dict[str, list] = {}
        after_entry = False
        for child in root:
            if not isinstance(child.tag, str):
                continue
            label = self._label(child)
            if label == "entry":
                after_entry = True
            elif after_entry and label in _FEED_ONLY:
                self.flag(child, "MisplacedMetadata", f"{label} must appear before all entries")
            else:
                before.setdefault(label, []).append(child)
        for need in _METADATA:  # as of the first entry, like the W3C validator
            if need not in before:
                self.flag(root, "MissingElement", f"Missing feed element: {need}"
                          + (" (before the entries)" if need in found else ""))
        links = before.get("link", [])
        if not any(link_rel(link) == "self" for link in links):
            self.flag(root, "MissingSelf", 'Missing atom:link with rel="self"')
        self._check_links(links)

    def _el_entry(self, entry: etree._Element) -> None:
        found = self.walk(entry, _ENTRY)
        feed_author = self.earlier(entry, "author")
        for need in ("title", "id", "updated"):
            if need not in found:
                self.flag(entry, "MissingElement", f"Missing entry element: {need}")
        if "author" not in found and not feed_author and not self._source_author(found):
            self.flag(entry, "MissingElement", "Missing entry element: author (give the "
                      "entry an author or put one on the feed before the entries)")
        self._entry_content(entry, found)
        self._check_links(found.get("link", []))
        for el in found.get("id", []):
            value = self._value(el)
            if value in self._ids:
                self._duplicate_ids.append((el, value))
            elif value:
                self._ids[value] = el
        self._entries.append(entry)
        for el in found.get("updated", []):
            value = self._value(el)
            if value in self._updates:
                self.flag(el, "DuplicateUpdated", "Two entries with the same value for "
                          f"atom:updated ({value}); make timestamps exact")
            self._updates.add(value)
            when = self._check_quiet_date(el)
            if when and (self._newest is None or when > self._newest):
                self._newest = when

    def _source_author(self, found: dict[str, list]) -> bool:
        return any(self._label(c) == "author" for s in found.get("source", []) for c in s
                   if isinstance(c.tag, str))

    def _entry_content(self, entry: etree._Element, found: dict[str, list]) -> None:
        contents = found.get("content")
        if contents:
            content = contents[0]
            ctype = content.get("type", "text")
            non_text = "/" in ctype and not (ctype.endswith("+xml") or ctype.endswith("/xml")
                                             or ctype.startswith("text/"))
            if "summary" not in found and (content.get("src") is not None or non_text):
                self.flag(entry, "MissingSummary", "Missing summary (content is not inline "
                          "text)")
            return
        if "summary" not in found:
            self.flag(entry, "MissingTextualContent", "Missing textual content (no content "
                      "and no summary)")
        if not any(link_rel(ln) == "alternate" for ln in found.get("link", [])):
            self.flag(entry, "MissingContentOrAlternate", "Missing content or alternate link")

    def _entry_ids(self, root: etree._Element) -> None:
        if len(self._entries) > 9 and len(self._ids) == 1 and self._duplicate_ids:
            self.flag(root, "DuplicateIds", "All entries have the same id")
            return
        for el, value in self._duplicate_ids:
            self.flag(el, "DuplicateEntries", f"Two entries with the same id: {value!r}")

    def _el_source(self, source: etree._Element) -> None:
        found = self.walk(source, _SOURCE)
        for need in _METADATA:
            if need not in found:
                self.flag(source, "MissingSourceElement", f"Missing source element: {need}")
        self._check_links(found.get("link", []))

    def _el_source_entry(self, el: etree._Element) -> None:
        self.flag(el, "UndefinedElement", "an entry inside an entry's source")

    def _check_quiet_date(self, el: etree._Element) -> datetime | None:
        """The instant of a date already checked (no second report)."""
        return parse_rfc3339(self._value(el))[1]
