"""RSS 1.0 and RSS 0.90 (RDF Site Summary): ``<rdf:RDF>`` with a channel, items, an image and a
text input as siblings, tied together by ``rdf:about`` / ``rdf:resource``.

feedkit never writes RDF, but ``feedkit validate`` checks any feed a site ships, and the W3C
validator knows these formats; so the checks follow it: required ``rdf:about``, the item list
(``items``/``rdf:Seq``/``rdf:li``), the elements each part may hold, RDF's rule against mixed
content, and no ``rdf:about`` twice.
"""

from __future__ import annotations

from lxml import etree

from feedkit.validate.atomparts import CATEGORY, GENERATOR, LINK, PERSON
from feedkit.validate.atomtext import CONTENT, TEXT
from feedkit.validate.checker import _split
from feedkit.validate.extensions import CHANNEL, RSS10_ITEM, RSS_SHARED
from feedkit.validate.rss import RssChecks
from feedkit.validate.rssparts import IMAGE, TEXTINPUT
from feedkit.validate.values import RDF_NS, Rule, rule

RSS1_NS = "http://purl.org/rss/1.0/"
RSS090_NS = "http://my.netscape.com/rdf/simple/0.9/"
_ABOUT = f"{{{RDF_NS}}}about"
_PARSE_TYPE = f"{{{RDF_NS}}}parseType"

_RDFS = {"rdfs:label": rule("text", many=True), "rdfs:comment": rule("text", many=True)}
_ATOM_IN_CHANNEL = {
    "atom:author": PERSON, "atom:category": CATEGORY, "atom:contributor": PERSON,
    "atom:generator": GENERATOR, "atom:id": rule("uri_full"), "atom:link": LINK,
    "atom:title": TEXT, "atom:subtitle": TEXT, "atom:rights": TEXT,
    "atom:updated": rule("rfc3339"),
}
_CHANNEL: dict[str, Rule] = CHANNEL | RSS_SHARED | _ATOM_IN_CHANNEL | _RDFS | {
    "title": rule("nonhtml", nonblank=True), "link": rule("uri_full"),
    "description": rule("nonhtml"), "image": rule("@rdf_ref", attrs="rdf:resource"),
    "textinput": rule("@rdf_ref", attrs="rdf:resource"),
    "items": rule("@rdf_items", attrs="rdf:parseType"),
}
_ITEM: dict[str, Rule] = RSS10_ITEM | RSS_SHARED | _RDFS | {
    "title": rule("nonhtml", nonblank=True), "link": rule("uri_full"),
    "description": rule("html"), "content:encoded": rule("html"),
    "dc:date": rule("w3cdtf", many=True),
    "content:items": rule("eat", attrs=None), "xhtml:body": rule("eat", attrs=None),
    "atom:id": rule("uri_full"), "atom:link": LINK, "atom:title": CONTENT,
    "atom:summary": TEXT, "atom:author": PERSON, "atom:contributor": PERSON,
    "atom:content": CONTENT, "atom:published": rule("rfc3339"),
    "atom:updated": rule("rfc3339"),
}
_IMAGE = {k: v for k, v in IMAGE.items() if k not in ("width", "height", "description")}
_ROOT: dict[str, Rule] = {
    "channel": rule("@rdf_channel", attrs="rdf:about"),
    "item": rule("@rdf_item", many=True, attrs="rdf:about"),
    "image": rule("@rdf_image", attrs="rdf:about"),
    "textinput": rule("@rdf_textinput", attrs="rdf:about"),
    "cc:License": rule("eat", many=True, attrs=None),
    "taxo:topic": rule("eat", many=True, attrs=None),
    "rdf:Description": rule("eat", many=True, attrs=None),
}


class RdfChecks(RssChecks):
    """RSS 1.0 / 0.90 documents."""

    def _check_rdf(self, root: etree._Element) -> None:
        self.result.kind = "rss1"
        rss090 = any(isinstance(c.tag, str) and _split(c.tag)[0] == RSS090_NS for c in root)
        self.default_ns = RSS090_NS if rss090 else RSS1_NS
        self._labels.clear()
        self._abouts: set[str] = set()
        self.guids = {}
        found = self.walk(root, _ROOT)
        if "channel" not in found:
            self.flag(root, "MissingElement", "Missing rdf:RDF element: channel")
        self._check_media(root)

    def _about(self, el: etree._Element) -> None:
        """``rdf:about`` is required (RSS 1.0, not 0.90), a URI, and names one thing."""
        if self.default_ns == RSS090_NS:
            return
        about = el.get(_ABOUT)
        if about is None:
            self.flag(el, "MissingAttribute", f"Missing {self._label(el)} attribute: "
                      "rdf:about")
            return
        self._rdf_uri(el, about)
        if about in self._abouts:
            self.flag(el, "DuplicateValue", f"rdf:about {about!r} names two things")
        self._abouts.add(about)

    def _rdf_uri(self, el: etree._Element, value: str) -> None:
        from feedkit.validate.uris import _uri_problem

        code = _uri_problem(value, False, "InvalidLink")
        if code:
            self.flag(el, code, f"{self._label(el)}: not a valid URI: {value!r}")

    def _el_rdf_channel(self, el: etree._Element) -> None:
        self._about(el)
        found = self.walk(el, _CHANNEL)
        self.require(el, found, (("title", "MissingTitle"), ("link", "MissingLink"),
                                 ("description", "MissingDescription")))
        if self.default_ns == RSS1_NS and el.get(_ABOUT) is not None and "items" not in found:
            self.flag(el, "MissingElement", "Missing channel element: items")

    def _el_rdf_ref(self, el: etree._Element) -> None:
        """The channel's ``image``/``textinput``: a reference to the sibling of that name."""
        if self.default_ns == RSS1_NS and el.get(f"{{{RDF_NS}}}resource") is None:
            self.flag(el, "MissingAttribute", f"Missing {self._label(el)} attribute: "
                      "rdf:resource")
        self.walk(el, {})

    def _el_rdf_items(self, el: etree._Element) -> None:
        channel = el.getparent()
        if self.default_ns == RSS1_NS and channel is not None and channel.get(_ABOUT) is None:
            self.flag(el, "MissingAttribute", "Missing channel attribute: rdf:about")
        self.walk(el, {"rdf:Seq": rule("@rdf_seq")})

    def _el_rdf_seq(self, el: etree._Element) -> None:
        self.walk(el, {"rdf:li": rule("@rdf_li", many=True,
                                      attrs="resource rdf:resource")})

    def _el_rdf_li(self, el: etree._Element) -> None:
        self.walk(el, {})

    def _el_rdf_item(self, el: etree._Element) -> None:
        self._about(el)
        found = self.walk(el, _ITEM)
        self.require(el, found, (("title", "MissingElement"), ("link", "MissingElement")))

    def _el_rdf_image(self, el: etree._Element) -> None:
        self._about(el)
        found = self.walk(el, _IMAGE)
        self.require(el, found, (("title", "MissingTitle"), ("link", "MissingLink"),
                                 ("url", "MissingElement")))

    def _el_rdf_textinput(self, el: etree._Element) -> None:
        self._about(el)
        found = self.walk(el, TEXTINPUT)
        self.require(el, found, (("title", "MissingTitle"), ("link", "MissingLink"),
                                 ("description", "MissingDescription"),
                                 ("name", "MissingElement")))

    # -- RDF values -------------------------------------------------------------------------

    def _rdf_value(self, el: etree._Element, child: etree._Element) -> None:
        """A simple element with a child element: RDF allows a structured value, but not text
        mixed with elements (unless ``rdf:parseType="Literal"``)."""
        if el.get(_PARSE_TYPE) == "Literal":
            return
        first = next(c for c in el if isinstance(c.tag, str))
        if child is first and ((el.text or "").strip() or self._markup_kind):
            self.flag(el, "InvalidRDF", f"{self._label(el)} mixes text and elements "
                      "(RDF needs rdf:parseType=\"Literal\" for that)")
        self._rdf_extension(child)

    def _rdf_extension(self, el: etree._Element) -> None:
        """An element of another vocabulary inside RSS 1.0: RDF rules only."""
        stack = [el]
        while stack:
            node = stack.pop()
            if node.get(_PARSE_TYPE) == "Literal":
                continue
            about = node.get(_ABOUT)
            if about is not None:
                if about in self._abouts:
                    self.flag(node, "DuplicateValue", f"rdf:about {about!r} names two things")
                self._abouts.add(about)
            kids = [c for c in node if isinstance(c.tag, str)]
            if kids and ((node.text or "").strip() or any((c.tail or "").strip() for c in kids)):
                self.flag(node, "InvalidRDF", f"{self._label(node)} mixes text and elements")
            if _split(node.tag)[0] == "http://purl.org/net/rss1.1#":
                self.flag(node, "UndefinedElement", f"RSS 1.1 element {node.tag} in RSS 1.0")
            stack.extend(kids)
