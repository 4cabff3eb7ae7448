"""Atom's small constructs, which RSS feeds use too (``atom:link rel="self"`` in an RSS channel):
links, persons, categories, the generator, and ``xml:base`` resolution."""

from __future__ import annotations

from urllib.parse import urljoin, urlsplit

from lxml import etree

from feedkit.validate.checker import CheckerBase, _split
from feedkit.validate.uris import (
    _FULL_URI,
    _iri_to_uri,
    _language_ok,
    _mime_ok,
    _uri_problem,
    canonical_uri,
)
from feedkit.validate.values import check_nonhtml, rule
from feedkit.validate.vocab import (
    _ATOM_LINK_RELS,
    _FEED_HISTORY_RELS,
    _SELF_TYPES,
    ATOM_NS,
    XML_NS,
)

_IANA_REL = "http://www.iana.org/assignments/relation/"
_THR_NS = "http://purl.org/syndication/thread/1.0"

LINK = rule("@link", many=True, attrs="type title rel href length hreflang rdf:type "
            "rdf:resource thr:count thr:when thr:updated")
PERSON = rule("@person", many=True, attrs="rdf:parseType")
CATEGORY = rule("@category", many=True, attrs="term scheme label")
GENERATOR = rule("@generator", nonblank=True, attrs="uri version")

_PERSON = {
    "name": rule("nonhtml", nonblank=True), "email": rule("addr_spec"),
    "uri": rule("iri", nonblank=True, nows=True),
    "foaf:workplaceHomepage": rule("rdf_resource", many=True, attrs=None),
    "foaf:homepage": rule("rdf_resource", many=True, attrs=None),
    "foaf:weblog": rule("rdf_resource", many=True, attrs=None),
    "foaf:plan": rule("text", many=True), "foaf:firstName": rule("text", many=True),
    "xhtml:div": rule("eat", many=True, attrs=None),
}


def link_rel(link: etree._Element) -> str:
    """A link's relation: ``alternate`` when absent, the IANA URI form shortened."""
    rel = link.get("rel", "alternate")
    return rel[len(_IANA_REL):] if rel.startswith(_IANA_REL) else rel


class AtomParts(CheckerBase):
    """``atom:link``, persons, ``atom:category``, ``atom:generator``."""

    # -- xml:base ---------------------------------------------------------------------------

    def base_of(self, el: etree._Element) -> str:
        """The base URI in effect at ``el``: the document's address, then each ``xml:base``
        from the root down (RFC 3986 resolution, as ``urljoin``)."""
        chain = []
        node: etree._Element | None = el
        while node is not None:
            value = node.get(f"{{{XML_NS}}}base")
            if value is not None:
                chain.append(value.strip())
            node = node.getparent()
        base = self.location or ""
        for value in reversed(chain):
            base = urljoin(base, value) if base else value
        return base

    def _has_absolute_base(self, el: etree._Element) -> bool:
        node: etree._Element | None = el
        while node is not None:
            value = node.get(f"{{{XML_NS}}}base")
            if value is not None and urlsplit(value.strip()).netloc:
                return True
            node = node.getparent()
        return False

    # -- atom:link --------------------------------------------------------------------------

    def _el_link(self, el: etree._Element) -> None:
        parent = el.getparent()
        in_entry = (parent is not None and self.result.kind == "atom"
                    and self._label(parent) == "entry")
        rel = link_rel(el)
        if "rel" in el.attrib:
            if not rel:
                self.flag(el, "AttrNotBlank", "The rel attribute of link should not be blank")
            if rel not in _ATOM_LINK_RELS and not _FULL_URI.match(_iri_to_uri(rel)):
                self.flag(el, "UnregisteredAtomLinkRel", f"unregistered link relation {rel!r}")
            if in_entry and rel in _FEED_HISTORY_RELS:
                self.flag(el, "FeedHistoryRelInEntry", f"feed-history rel {rel!r} in an entry")
        mime = el.get("type")
        if mime is not None:
            if not _mime_ok(mime):
                self.flag(el, "InvalidMIMEType", f"link type is not a MIME type: {mime!r}")
            elif rel == "self" and mime.split(";")[0] not in _SELF_TYPES:
                self.flag(el, "SelfNotAtom", f'"self" link type {mime!r} is not a feed type')
        title = el.get("title")
        if title is not None:
            if not title:
                self.flag(el, "AttrNotBlank", "The title attribute of link should not be blank")
            check_nonhtml(self, el, title)
        length = el.get("length")
        if length is not None and not (length.isdigit() and length.isascii()):
            code = "NotBlank" if not length else "InvalidNonNegativeInteger"
            self.flag(el, code, f"link length must be a non-negative integer: {length!r}")
        hreflang = el.get("hreflang")
        if hreflang is not None and not _language_ok(hreflang):
            self.flag(el, "InvalidLanguage", f"hreflang {hreflang!r} is not an ISO-639 code")
        href = el.get("href")
        if href is None:
            self.flag(el, "MissingHref", "link must have an href attribute")
        else:
            self._check_href(el, href, rel, parent)
        self._check_thr_attrs(el, rel)
        if (el.text or "").strip() or any((c.tail or "").strip() for c in el):
            self.flag(el, "AtomLinkNotEmpty", "link should not have text (all data is in "
                      "attributes)")

    def _check_href(self, el: etree._Element, href: str, rel: str,
                    parent: etree._Element | None) -> None:
        code = _uri_problem(_iri_to_uri(href), False, "InvalidIRI")
        if code:
            self.flag(el, code, f"link href must be a valid IRI: {href!r}")
            return
        base = self.base_of(el)
        if base and self.location and base.split("#")[0] != self.location.split("#")[0]:
            target = canonical_uri(_iri_to_uri(urljoin(base, href)))
            here = canonical_uri(_iri_to_uri(base))
            if target and here and target.split("#")[0] == here.split("#")[0]:
                self.flag(el, "SameDocumentReference", f"link href {href!r} resolves to the "
                          "xml:base itself, not to this document")
        if rel != "self" or parent is None or _split(parent.tag)[1] not in ("feed", "channel"):
            return
        if not urlsplit(href).netloc and not self._has_absolute_base(el):
            self.flag(el, "RelativeSelf", f"self link should be absolute: {href!r}")
        resolved = urljoin(base, href) if base else href
        if self.result.self_url is None:
            self.result.self_url = resolved
        if self.location and not self.same_location(resolved):
            self.flag(el, "SelfDoesntMatchLocation", f"self link {href!r} is not where the "
                      f"feed is published ({self.location!r})")

    def same_location(self, url: str) -> bool:
        a = canonical_uri(_iri_to_uri(url))
        return a is not None and a == canonical_uri(_iri_to_uri(self.location or ""))

    def _check_thr_attrs(self, el: etree._Element, rel: str) -> None:
        count = el.get(f"{{{_THR_NS}}}count")
        if count is not None:
            if rel != "replies":
                self.flag(el, "UnexpectedAttribute", "thr:count belongs on a replies link")
            if not count.isdigit():
                self.flag(el, "InvalidNonNegativeInteger", f"thr:count must be a non-negative "
                          f"integer: {count!r}")
        if el.get(f"{{{_THR_NS}}}when") is not None:
            self.flag(el, "NoThrWhen", "thr:when is not part of RFC 4685; use thr:updated")
        updated = el.get(f"{{{_THR_NS}}}updated")
        if updated is not None:
            if rel != "replies":
                self.flag(el, "UnexpectedAttribute", "thr:updated belongs on a replies link")
            self._check_date(el, updated, rfc822=False)

    def _check_links(self, links: list[etree._Element]) -> None:
        """``DuplicateAtomLink``: two rel="alternate" links with the same type and hreflang."""
        seen: set[tuple[str, str]] = set()
        for link in links:
            if link_rel(link) != "alternate":
                continue
            key = (link.get("type", ""), link.get("hreflang", ""))
            if key in seen:
                self.flag(link, "DuplicateAtomLink", "Duplicate alternate links with the same "
                          "type and hreflang")
            seen.add(key)

    # -- persons, categories, generator -----------------------------------------------------

    def _el_person(self, el: etree._Element) -> None:
        table = self._person_table()
        found = self.walk(el, table)
        if "name" not in found and "atom:name" not in found:
            self.flag(el, "MissingElement", f"Missing {self._label(el)} element: name")
        for name in found.get("name", []) + found.get("atom:name", []):
            if _contains_email(self._value(name)):
                self.flag(name, "ContainsEmail", "name should not include an email address")

    def _person_table(self) -> dict:
        if self.default_ns == ATOM_NS:
            return _PERSON
        return {**_PERSON, **{f"atom:{k}": v for k, v in _PERSON.items() if ":" not in k}}

    def _el_category(self, el: etree._Element) -> None:
        term = el.get("term")
        if term is None:
            self.flag(el, "MissingAttribute", "Missing category attribute: term")
        elif not term:
            self.flag(el, "NotBlank", "category term should not be blank")
        scheme = el.get("scheme")
        if scheme is not None:
            code = _uri_problem(_iri_to_uri(scheme), True, "InvalidFullLink")
            if code:
                self.flag(el, code, f"category scheme must be a full IRI: {scheme!r}")
        label = el.get("label")
        if label is not None:
            check_nonhtml(self, el, label)
        self.walk(el, {})

    def _el_generator(self, el: etree._Element) -> None:
        uri = el.get("uri")
        if uri is not None:
            code = _uri_problem(_iri_to_uri(uri), False, "InvalidURIAttribute")
            if code:
                self.flag(el, code, f"generator uri is not a valid IRI: {uri!r}")
        self._no_children(el)
        check_nonhtml(self, el, self._value(el))


def _contains_email(value: str) -> bool:
    """``Name <addr@example.org>`` in a name (the W3C ``nonemail`` rule)."""
    from feedkit.validate.uris import _EMAIL

    start = value.find("<")
    while start >= 0:
        end = value.find(">", start)
        if end < 0:
            return False
        if _EMAIL.match(value[start + 1:end]):
            return True
        start = value.find("<", end)
    return False
