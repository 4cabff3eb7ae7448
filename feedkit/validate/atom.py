"""Atom 1.0 checks (RFC 4287)."""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterator
from datetime import datetime

from lxml import etree

from feedkit.validate.checker import CheckerBase, _split
from feedkit.validate.markup import _css_unsafe
from feedkit.validate.uris import (
    _EMAIL,
    _SIMPLE_EMAIL,
    _iri_to_uri,
    _mime_ok,
    _uri_problem,
    canonical_uri,
)
from feedkit.validate.vocab import _HTML_TAGS, _SAFE_ELEMENTS, ATOM_NS, XHTML_NS, XML_NS, _words

_ATOM_FEED_CHILDREN = _words(
    "author category contributor generator icon id link logo rights subtitle title updated "
    "entry"
)
_ATOM_FEED_SINGLES = _words("generator icon id logo rights subtitle title updated")
_ATOM_ENTRY_CHILDREN = _words(
    "author category content contributor id link published rights source summary title "
    "updated"
)
_ATOM_ENTRY_SINGLES = _words("content id published rights source summary title updated")


def _atom_children(parent: etree._Element) -> Iterator[tuple[etree._Element, str]]:
    """The Atom elements directly under ``parent``, with their local names. Extension elements
    are skipped here: their namespaces are checked separately."""
    for child in parent:
        if not isinstance(child.tag, str):
            continue
        ns, local = _split(child.tag)
        if ns == ATOM_NS:
            yield child, local


class AtomChecks(CheckerBase):
    """Atom 1.0: feed metadata, ids, dates, persons, text constructs, entries."""

    def _check_atom(self, root: etree._Element) -> None:
        self._duplicates(root, _ATOM_FEED_SINGLES)
        present: set[str] = set()
        links: list[etree._Element] = []
        entries: list[etree._Element] = []
        feed_updated: datetime | None = None
        feed_updated_el = None
        author_before_entries = False
        misplaced = False
        for child, local in _atom_children(root):
            if local == "entry":
                entries.append(child)
                continue
            if entries and not misplaced:
                self.flag(child, "MisplacedMetadata", f"{local} must appear before all entries")
                misplaced = True
            present.add(local)
            if local not in _ATOM_FEED_CHILDREN:
                self.flag(child, "UndefinedElement", f"Undefined feed element: {local}")
            elif local in ("title", "subtitle", "rights"):
                self._check_text_construct(child, is_content=False)
            elif local == "id":
                self._check_atom_id(child)
                self.result.feed_id = (child.text or "").strip()
            elif local == "updated":
                feed_updated = self._check_atom_date(child)
                feed_updated_el = child
            elif local == "link":
                links.append(child)
                self._check_atom_link(child, in_entry=False)
            elif local in ("author", "contributor"):
                self._check_atom_person(child)
                if local == "author" and not entries:
                    author_before_entries = True
            elif local in ("icon", "logo"):
                value = (child.text or "").strip()
                self._check_uri_value(child, _iri_to_uri(value), local, full=False,
                                      error="InvalidIRI")
            elif local == "generator":
                uri = child.get("uri")
                if uri is not None:
                    code = _uri_problem(_iri_to_uri(uri), False, "InvalidIRI")
                    if code:
                        self.flag(child, code, f"generator uri is not a valid IRI: {uri!r}")
            elif local == "category":
                self._check_atom_category(child)
        for need in ("title", "id", "updated"):
            if need not in present:
                self.flag(root, "MissingElement", f"Missing feed element: {need}")
        self._check_links(root, links)
        selfs = [ln for ln in links if ln.get("rel") == "self"]
        if not selfs:
            self.flag(root, "MissingSelf", 'Missing atom:link with rel="self"')
        else:
            self.result.self_url = (selfs[0].get("href") or "").strip() or None
        newest = self._check_entries(root, entries, author_before_entries)
        if newest and feed_updated and feed_updated < newest:
            self.flag(feed_updated_el, "StaleFeedDate",
                      "feed updated is older than the newest entry's updated (feedkit rule)")
        self._check_media(root)

    def _check_links(self, parent: etree._Element, links: list[etree._Element]) -> None:
        """``DuplicateAtomLink``: two rel="alternate" links with the same type and hreflang."""
        seen: set[tuple[str, str]] = set()
        for link in links:
            if link.get("rel", "alternate") != "alternate":
                continue
            key = (link.get("type", ""), link.get("hreflang", ""))
            if key in seen:
                self.flag(link, "DuplicateAtomLink", "Duplicate alternate links with the same "
                          "type and hreflang (feedgen 1.0 drops rel/type on entry links)")
            seen.add(key)

    def _check_atom_id(self, el: etree._Element) -> None:
        raw = el.text or ""
        value = raw.strip()
        if raw != value:
            self.flag(el, "UnexpectedWhitespace", "whitespace not permitted in id")
        if not value:
            self.flag(el, "NotBlank", "id should not be blank")
            return
        uri = _iri_to_uri(value)
        code = _uri_problem(uri, True, "InvalidFullLink")
        if code:
            self.flag(el, code, f"id must be a full and valid IRI: {value!r}")
            return
        canon = canonical_uri(uri)
        if canon is None or canon != uri:
            self.flag(el, "NonCanonicalURI", f"Identifier {value!r} is not in canonical form "
                      f"(the canonical form would be {canon!r})")

    def _check_atom_date(self, el: etree._Element) -> datetime | None:
        raw = el.text or ""
        if raw != raw.strip():
            self.flag(el, "UnexpectedWhitespace", f"whitespace not permitted in "
                      f"{self._label(el)}")
        return self._check_date(el, raw.strip(), rfc822=False)

    def _check_atom_person(self, el: etree._Element) -> None:
        names = [c for c in el if c.tag == f"{{{ATOM_NS}}}name"]
        if not names:
            self.flag(el, "MissingElement", f"Missing {self._label(el)} element: name")
        for name in names:
            value = (name.text or "").strip()
            if not value:
                self.flag(name, "NotBlank", "name should not be blank")
            elif re.search(r"<[^>]+@[^>]+>", value):
                self.flag(name, "ContainsEmail", "name should not include an email address")
            self._check_nonhtml(name, value)
        for email in el.iter(f"{{{ATOM_NS}}}email"):
            value = (email.text or "").strip()
            if not _EMAIL.match(value) and not _SIMPLE_EMAIL.match(value):
                self.flag(email, "InvalidAddrSpec", f"email must be an email address: "
                          f"{value!r}")
        for uri in el.iter(f"{{{ATOM_NS}}}uri"):
            value = (uri.text or "").strip()
            self._check_uri_value(uri, _iri_to_uri(value), "uri", full=False,
                                  error="InvalidIRI")

    def _check_atom_category(self, el: etree._Element) -> None:
        term = el.get("term")
        if term is None:
            self.flag(el, "MissingAttribute", "Missing category attribute: term")
        elif not term.strip():
            self.flag(el, "NotBlank", "category term should not be blank")
        scheme = el.get("scheme")
        if scheme is not None:
            code = _uri_problem(_iri_to_uri(scheme), True, "InvalidFullLink")
            if code:
                self.flag(el, code, f"category scheme must be a full IRI: {scheme!r}")

    def _check_text_construct(self, el: etree._Element, is_content: bool,
                              relative: bool = False) -> None:
        """Atom text constructs and content: the ``type`` attribute and what it promises.

        ``type`` is text (default), html or xhtml; content may also use a MIME type. Anything
        else — e.g. feedgen's ``type="CDATA"`` — is ``InvalidMIMEType``; a MIME type on
        title/summary is ``InvalidTextType``. ``text`` must not carry HTML
        (``ContainsUndeclaredHTML``); ``html`` is checked like RSS descriptions.
        """
        has_src = el.get("src") is not None
        type_ = el.get("type")
        if type_ is None:
            type_ = "" if has_src else "text"
        elif not type_:
            self.flag(el, "AttrNotBlank", "The type attribute should not be blank")
        if "/" in type_ and not is_content:
            self.flag(el, "InvalidTextType", 'type attribute must be "text", "html", or "xhtml"')
        if is_content and type_ == "multipart/alternative":
            self.flag(el, "InvalidMIMEType", "multipart/alternative is not allowed in content")
        if has_src:
            src = el.get("src") or ""
            code = _uri_problem(_iri_to_uri(src), False, "InvalidIRI")
            if code:
                self.flag(el, code, f"src must be a valid IRI: {src!r}")
            if el.get("type") is None:
                self.flag(el, "MissingTypeAttr", f"Missing {self._label(el)} attribute: type")
        if type_ in ("text", "html", "xhtml") and not has_src:
            pass
        elif type_ and not _mime_ok(type_):
            self.flag(el, "InvalidMIMEType", f"{self._label(el)} type {type_!r} is not "
                      "text, html, xhtml or a MIME type")
            return
        value = el.text or ""
        children = [c for c in el if isinstance(c.tag, str)]
        if type_ == "xhtml":
            div = children[0] if len(children) == 1 else None
            if div is None or div.tag != f"{{{XHTML_NS}}}div" or value.strip():
                self.flag(el, "MissingXhtmlDiv", "Missing xhtml:div element")
            for node in el.iter():
                if node is el or not isinstance(node.tag, str):
                    continue
                ns, local = _split(node.tag)
                if ns != XHTML_NS:
                    self.flag(node, "NotHtml", f"unexpected namespace {ns or '(none)'}")
                elif local not in _HTML_TAGS:
                    self.flag(node, "NotHtml", f"Non-XHTML element {local}")
                elif local not in _SAFE_ELEMENTS and node is not div:
                    self.flag(node, "SecurityRisk", f"{local} tag")
                for attr, attr_value in node.attrib.items():
                    if attr == "style" and _css_unsafe(attr_value):
                        self.flag(node, "DangerousStyleAttr", "style attribute contains "
                                  "potentially dangerous content")
                    elif attr.startswith("on"):
                        self.flag(node, "SecurityRiskAttr", f"{attr} attribute")
            return
        if children and not (type_.endswith("+xml") or type_.endswith("/xml")):
            for child in children:
                self.flag(child, "UndefinedElement", f"<{self._label(child)}> inside "
                          f"{self._label(el)} of type {type_!r}")
        if type_ == "html" or type_.endswith("/html"):
            if not has_src:
                self._check_html(el, value, relative)
        elif type_ == "text" or type_.startswith("text/"):
            self._check_nonhtml(el, value.strip(), "ContainsUndeclaredHTML")
        elif type_ and not (type_.endswith("+xml") or type_.endswith("/xml")) and not has_src:
            try:
                base64.b64decode(value.encode("ascii"), validate=False)
            except (binascii.Error, UnicodeEncodeError):
                self.flag(el, "NotBase64", f"{self._label(el)} claims to be base64-encoded, "
                          "but isn't")
        if not value.strip() and not children and not has_src:
            self.flag(el, "NotBlank", f"{self._label(el)} should not be blank")

    def _check_entries(self, root: etree._Element, entries: list[etree._Element],
                       feed_author: bool) -> datetime | None:
        ids: dict[str, int] = {}
        updates: set[str] = set()
        newest: datetime | None = None
        duplicate_ids: list[tuple[etree._Element, str]] = []
        # Stricter than W3C (which allows relative refs in Atom, resolved against xml:base):
        # with no xml:base in scope a relative ref points at the feed's own folder.
        has_base = any(el.get(f"{{{XML_NS}}}base") for el in (root, *entries))
        for entry in entries:
            self._duplicates(entry, _ATOM_ENTRY_SINGLES)
            present: set[str] = set()
            links: list[etree._Element] = []
            content = None
            for child, local in _atom_children(entry):
                present.add(local)
                if local not in _ATOM_ENTRY_CHILDREN:
                    self.flag(child, "UndefinedElement", f"Undefined entry element: {local}")
                elif local in ("title", "summary", "rights"):
                    self._check_text_construct(child, is_content=False,
                                               relative=not has_base)
                elif local == "content":
                    content = child
                    self._check_text_construct(child, is_content=True, relative=not has_base)
                elif local == "id":
                    self._check_atom_id(child)
                    value = (child.text or "").strip()
                    if value in ids:
                        duplicate_ids.append((child, value))
                    ids[value] = ids.get(value, 0) + 1
                elif local == "updated":
                    when = self._check_atom_date(child)
                    if when and (newest is None or when > newest):
                        newest = when
                    value = (child.text or "").strip()
                    if value in updates:
                        self.flag(child, "DuplicateUpdated", "Two entries with the same value "
                                  f"for atom:updated ({value}); make timestamps exact")
                    updates.add(value)
                elif local == "published":
                    self._check_atom_date(child)
                elif local == "link":
                    links.append(child)
                    self._check_atom_link(child, in_entry=True)
                elif local in ("author", "contributor"):
                    self._check_atom_person(child)
                elif local == "category":
                    self._check_atom_category(child)
            for need in ("title", "id", "updated"):
                if need not in present:
                    self.flag(entry, "MissingElement", f"Missing entry element: {need}")
            if "author" not in present and not feed_author and "source" not in present:
                self.flag(entry, "MissingElement", "Missing entry element: author (give the "
                          "entry an author or put one on the feed before the entries)")
            if content is not None:
                ctype = content.get("type", "text")
                non_text = "/" in ctype and not (ctype.endswith("+xml") or ctype.endswith("/xml")
                                                 or ctype.startswith("text/"))
                if "summary" not in present and (content.get("src") is not None or non_text):
                    self.flag(entry, "MissingSummary", "Missing summary (content is not "
                              "inline text)")
            else:
                if "summary" not in present:
                    self.flag(entry, "MissingTextualContent", "Missing textual content "
                              "(no content and no summary)")
                if not any(ln.get("rel", "alternate") == "alternate" for ln in links):
                    self.flag(entry, "MissingContentOrAlternate",
                              "Missing content or alternate link")
            self._check_links(entry, links)
        if len(entries) > 9 and len(ids) == 1:
            self.flag(root, "DuplicateIds", "All entries have the same id")
        else:
            for el, value in duplicate_ids:
                self.flag(el, "DuplicateEntries", f"Two entries with the same id: {value!r}")
        return newest
