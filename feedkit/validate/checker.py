"""The checker's shared part: reporting with element paths, XML-level checks, value checks
on elements, and the element checks both RSS and Atom use (``atom:link``, Media RSS)."""

from __future__ import annotations

import re
from datetime import datetime
from urllib.parse import urlsplit

from lxml import etree

from feedkit.validate.dates import parse_rfc822, parse_rfc3339
from feedkit.validate.markup import _html_problems, _nonhtml_problem
from feedkit.validate.problems import Problem, _Result, _severity
from feedkit.validate.uris import (
    _FULL_URI,
    _iri_to_uri,
    _is_http_url,
    _language_ok,
    _mime_ok,
    _same_uri,
    _uri_problem,
)
from feedkit.validate.vocab import (
    _ATOM_LINK_RELS,
    _FEED_HISTORY_RELS,
    _RESERVED_PREFIXES,
    _SELF_TYPES,
    ATOM_NS,
    KNOWN_NAMESPACES,
    MEDIA_NS,
    XHTML_NS,
    XML_NS,
)


def _split(tag: str) -> tuple[str, str]:
    if tag[0] == "{":
        ns, _, local = tag[1:].partition("}")
        return ns, local
    return "", tag


class CheckerBase:
    """What every format's checks build on: one document's bytes and name, ``self.result``
    (problems and facts for cross-file checks), reporting with element paths, and the checks
    of values in elements. The format mixins (:mod:`.rss`, :mod:`.atom`, :mod:`.jsonfeed`)
    derive from it; :class:`feedkit.validate.api._Checker` combines them."""

    def __init__(self, data: bytes, name: str) -> None:
        self.data = data
        self.name = name
        self.result = _Result()
        self.hex_lines: set[int] = set()
        self.default_ns = ""

    # -- reporting --------------------------------------------------------------------------

    def add(self, where: str, code: str, message: str, severity: str | None = None) -> None:
        self.result.problems.append(
            Problem(where, message, severity or _severity(code), code))

    def at(self, el: etree._Element | None) -> str:
        if el is None:
            return self.name
        return f"{self.name}:{el.sourceline or 0}:{self._elpath(el)}"

    def flag(self, el: etree._Element | None, code: str, message: str) -> None:
        self.add(self.at(el), code, message)

    def _label(self, el: etree._Element) -> str:
        ns, local = _split(el.tag)
        if ns == self.default_ns:
            return local
        return f"{KNOWN_NAMESPACES.get(ns, ns)}:{local}"

    def _elpath(self, el: etree._Element) -> str:
        parts: list[str] = []
        node: etree._Element | None = el
        while node is not None:
            label = self._label(node)
            parent = node.getparent()
            if parent is not None:
                same = [s for s in parent if s.tag == node.tag]
                if len(same) > 1:
                    label += f"[{same.index(node) + 1}]"
            parts.append(label)
            node = parent
        return "/" + "/".join(reversed(parts))


    def check_self_location(self, expected: str) -> None:
        actual = self.result.self_url
        if actual and not _same_uri(actual, expected):
            self.add(self.name, "SelfDoesntMatchLocation",
                     f"self link {actual!r} is not where the feed is published ({expected!r})")

    def _check_content_type(self, content_type: str) -> None:
        """The HTTP media type checks (only when the caller knows the Content-Type)."""
        media, _, params = content_type.partition(";")
        media = media.strip().lower()
        kind = self.result.kind
        allowed = {"rss": ("application/rss+xml", "application/xml", "text/xml"),
                   "atom": ("application/atom+xml", "application/xml", "text/xml"),
                   "json": ("application/feed+json", "application/json")}[kind or "rss"]
        if media not in allowed:
            self.add(self.name, "UnexpectedContentType",
                     f"{kind} feeds should not be served as {media!r}")
        elif media in ("application/xml", "text/xml"):
            block = self.data[:512]
            if b"<rss" not in block and b"<feed" not in block:
                self.add(self.name, "NonSpecificMediaType",
                         f"{media!r} is not specific enough: no <rss or <feed in the first "
                         "512 bytes")
        charset = re.search(r"charset\s*=\s*\"?([-\w.:]+)", params, re.I)
        declared = self._declared_encoding()
        if charset and declared and charset.group(1).lower() != declared.lower():
            self.add(self.name, "EncodingMismatch",
                     f"served as {charset.group(1)} but declares {declared}")

    def _declared_encoding(self) -> str | None:
        m = re.match(rb"""<\?xml\s+version\s*=\s*["'][-\w.:]+["']\s+encoding\s*=\s*["']"""
                     rb"""([-A-Za-z0-9._]+)["']""", self.data.lstrip(b"\xef\xbb\xbf"))
        return m.group(1).decode("ascii") if m else None

    # -- XML --------------------------------------------------------------------------------

    def _check_characters(self, text: str) -> None:
        """``BadCharacters``: C1 controls (U+0080-U+009F, usually Windows-1252 misdecoding),
        U+FFFD, and UTF-8 read as Latin-1 ("Ã©"). DEL (U+007F) is legal XML and the W3C service
        ignores it; feedkit reports it too (stricter) because readers show it as garbage."""
        patterns = (
            (re.compile(r"[\x7f-\x9f\ufffd]"), "control or replacement character {!r}"),
            (re.compile(r"&#(12[7-9]|1[3-5]\d|x0*(7f|[89][0-9a-f]));", re.I),
             "character reference {} to a control character"),
            (re.compile(r"[\u00c2\u00c3][\u0080-\u00bf]"), "UTF-8 decoded as Latin-1: {!r}"),
        )
        for pattern, template in patterns:
            for m in pattern.finditer(text):
                line = text.count("\n", 0, m.start()) + 1
                self.add(f"{self.name}:{line}", "BadCharacters", template.format(m.group(0)))

    def _scan_namespaces(self, root: etree._Element, atom: bool) -> None:
        """Namespace declarations and ``xml:lang`` values, in one walk over the tree."""
        for el in root.iter():
            if not isinstance(el.tag, str):
                continue
            parent = el.getparent()
            inherited = parent.nsmap if parent is not None else {}
            for prefix, uri in el.nsmap.items():
                if inherited.get(prefix) == uri and prefix in inherited:
                    continue
                self._check_namespace(el, prefix, uri, atom)
            lang = el.get(f"{{{XML_NS}}}lang")
            if lang and not _language_ok(lang):
                self.flag(el, "InvalidLanguage", f"xml:lang {lang!r} is not an ISO 639 code")

    def _check_namespace(self, el: etree._Element, prefix: str | None, uri: str,
                         atom: bool) -> None:
        if uri == "http://search.yahoo.com/mrss":
            self.flag(el, "MediaRssNamespace", "Media RSS namespace needs its trailing slash")
            return
        if (prefix is not None and prefix in _RESERVED_PREFIXES
                and KNOWN_NAMESPACES.get(uri) != prefix):
            self.flag(el, "ReservedPrefix", f"prefix {prefix!r} is normally bound to "
                      f"{_RESERVED_PREFIXES[prefix]}, not {uri}")
            return
        if atom and prefix and uri in (ATOM_NS, XHTML_NS):
            self.flag(el, "AvoidNamespacePrefix", f"avoid the namespace prefix {prefix!r} "
                      "(many Atom readers only handle the default namespace)")
        if uri not in KNOWN_NAMESPACES and uri:
            self.flag(el, "UnknownNamespace", f"unknown namespace {uri}")

    def _text(self, el: etree._Element, strip: bool = True) -> str:
        """Text of a simple element; a child element there is ``UndefinedElement``."""
        for child in el:
            if isinstance(child.tag, str):
                self.flag(child, "UndefinedElement",
                          f"<{self._label(child)}> inside <{self._label(el)}> (escape HTML)")
        value = el.text or ""
        return value.strip() if strip else value

    def _hex_escaped(self, el: etree._Element, value: str) -> bool:
        """Did the element's source lines use ``&#x`` (the W3C test for "escaped on purpose")?"""
        if not self.hex_lines:
            return False
        start = el.sourceline or 1
        return any(n in self.hex_lines for n in range(start, start + value.count("\n") + 1))

    def _check_uri_value(self, el: etree._Element, value: str, what: str, *, full: bool = True,
                         http_only: bool = True, error: str = "InvalidFullLink") -> None:
        """A link/guid/id value: a valid URI per W3C, and (feedkit's rule) absolute http(s)."""
        if not value:
            self.flag(el, error, f"{what} must not be empty")
            return
        code = _uri_problem(value, full, error)
        if code:
            self.flag(el, code, f"{what} must be a full and valid URL: {value!r}")
        elif http_only and not _is_http_url(value):
            self.flag(el, error, f"{what} must be an absolute http(s) URL (feedkit rule): "
                      f"{value!r}")

    def _check_date(self, el: etree._Element, value: str, rfc822: bool) -> datetime | None:
        code, when = parse_rfc822(value) if rfc822 else parse_rfc3339(value)
        if code:
            kind = "an RFC-822 date-time" if rfc822 else "an RFC-3339 date-time"
            msg = {"ImplausibleDate": f"implausible date {value!r} (before 1990 or in the "
                                      "future)",
                   "IncorrectDOW": f"incorrect day of week in {value!r}",
                   "ProblematicalRFC822Date": f"problematical RFC 822 date-time {value!r}"}.get(
                       code, f"{self._label(el)} must be {kind}: {value!r}")
            self.flag(el, code, msg)
        return when

    def _check_html(self, el: etree._Element, value: str, relative: bool) -> None:
        for code, message in _html_problems(value, relative):
            self.flag(el, code, f"{self._label(el)}: {message}")

    def _check_nonhtml(self, el: etree._Element, value: str, code: str = "ContainsHTML") -> None:
        problem = _nonhtml_problem(value, lambda: self._hex_escaped(el, value),
                                   self.result.kind == "rss", code)
        if problem == "CharacterData":
            self.flag(el, problem, f"{self._label(el)}: encode '<' and '&' as hex character "
                      "references (&#x3C;) or avoid markup-like text (RSS Profile)")
        elif problem:
            self.flag(el, problem, f"{self._label(el)} should not contain HTML: {value[:60]!r}")

    def _duplicates(self, parent: etree._Element, singles: frozenset[str],
                    code: str = "DuplicateElement") -> None:
        seen: set[str] = set()
        for child in parent:
            if not isinstance(child.tag, str):
                continue
            label = self._label(child)
            if label in singles:
                if label in seen:
                    self.flag(child, code, f"{self._label(parent)} contains more than one "
                              f"{label}")
                seen.add(label)

    # -- Media RSS (in RSS and Atom) --------------------------------------------------------

    def _check_media(self, root: etree._Element) -> None:
        """Media RSS rules the W3C validator applies (only when ``media:`` elements are used)."""
        for el in root.iter(f"{{{MEDIA_NS}}}*"):
            local = _split(el.tag)[1]
            if local == "group":
                contents = [c for c in el if c.tag == f"{{{MEDIA_NS}}}content"]
                if len(contents) < 2:
                    self.flag(el, "MediaGroupWithoutAlternatives",
                              "media:group must have several media:content children")
            elif local in ("content", "thumbnail"):
                url = el.get("url")
                if url is not None:
                    self._check_uri_value(el, url.strip(), f"media:{local} url")
                elif local == "thumbnail":
                    self.flag(el, "MissingAttribute", "Missing media:thumbnail attribute: url")
                for attr in ("width", "height", "fileSize"):
                    value = el.get(attr)
                    if value is not None and (not value.isdigit() or int(value) <= 0):
                        self.flag(el, "InvalidPositiveInteger",
                                  f"media:{local} {attr} must be a positive integer: {value!r}")
                if local == "content":
                    self._check_media_content(el)
            elif local in ("title", "description", "text"):
                mtype = el.get("type")
                if mtype is not None and mtype not in ("plain", "html"):
                    self.flag(el, "InvalidMediaTextType",
                              'media text type must be "plain" or "html"')
                value = el.text or ""
                if mtype == "html":
                    self._check_html(el, value, relative=False)
                else:
                    self._check_nonhtml(el, value.strip(), "ContainsUndeclaredHTML")

    def _check_media_content(self, el: etree._Element) -> None:
        medium = el.get("medium")
        if medium is not None and medium not in ("image", "audio", "video", "document",
                                                 "executable"):
            self.flag(el, "InvalidMediaMedium", f"invalid content medium: {medium!r}")
        mime = el.get("type")
        if mime is not None and not _mime_ok(mime):
            self.flag(el, "InvalidMIMEAttribute", f"media:content type is not a MIME type: "
                      f"{mime!r}")
        expression = el.get("expression")
        if expression is not None and expression not in ("sample", "full", "nonstop"):
            self.flag(el, "InvalidMediaExpression", f"invalid expression {expression!r}")
        default = el.get("isDefault")
        if default is not None and default.lower() not in ("true", "false"):
            self.flag(el, "InvalidTrueFalse", "isDefault must be \"true\" or \"false\"")
        for attr in ("bitrate", "duration", "framerate", "samplingrate"):
            value = el.get(attr)
            if value is not None and not re.match(r"\d+\.?\d*", value):
                self.flag(el, "InvalidFloat", f"invalid value for {attr}: {value!r}")
        channels = el.get("channels")
        if channels is not None and not channels.isdigit():
            self.flag(el, "InvalidNonNegativeInteger", "channels must be a non-negative integer")
        lang = el.get("lang")
        if lang is not None and not _language_ok(lang):
            self.flag(el, "InvalidLanguage", f"lang {lang!r} is not ISO-639")

    # -- atom:link (in Atom feeds and, as an extension, in RSS channels) -------------------

    def _check_atom_link(self, el: etree._Element, in_entry: bool) -> str:
        """Check one atom:link; returns its rel (default ``alternate``)."""
        rel = el.get("rel", "alternate")
        if rel.startswith("http://www.iana.org/assignments/relation/"):
            rel = rel.rsplit("/", 1)[-1]
        if "rel" in el.attrib:
            if not rel:
                self.flag(el, "AttrNotBlank", "The rel attribute of link should not be blank")
            elif rel not in _ATOM_LINK_RELS and not _FULL_URI.match(_iri_to_uri(rel)):
                self.flag(el, "UnregisteredAtomLinkRel", f"unregistered link relation {rel!r}")
            if in_entry and rel in _FEED_HISTORY_RELS:
                self.flag(el, "FeedHistoryRelInEntry", f"feed-history rel {rel!r} in an entry")
        mime = el.get("type")
        if mime is not None:
            if not _mime_ok(mime):
                self.flag(el, "InvalidMIMEType", f"link type is not a MIME type: {mime!r}")
            elif rel == "self" and mime.split(";")[0].strip() not in _SELF_TYPES:
                self.flag(el, "SelfNotAtom", f'"self" link type {mime!r} is not a feed type')
        title = el.get("title")
        if title is not None and not title.strip():
            self.flag(el, "AttrNotBlank", "The title attribute of link should not be blank")
        length = el.get("length")
        if length is not None and not length.strip().isdigit():
            self.flag(el, "InvalidNonNegativeInteger", "link length must be a non-negative "
                      "integer")
        hreflang = el.get("hreflang")
        if hreflang is not None and not _language_ok(hreflang):
            self.flag(el, "InvalidLanguage", f"hreflang {hreflang!r} is not an ISO-639 code")
        href = el.get("href")
        if href is None:
            self.flag(el, "MissingHref", "link must have an href attribute")
        else:
            code = _uri_problem(_iri_to_uri(href.strip()), False, "InvalidIRI")
            if code:
                self.flag(el, code, f"link href must be a valid IRI: {href!r}")
            elif not _is_http_url(_iri_to_uri(href.strip())):
                if rel == "self" and not urlsplit(href).netloc:
                    self.flag(el, "RelativeSelf", f"self link should be absolute: {href!r}")
                else:
                    self.flag(el, "InvalidFullLink", f"link href must be an absolute http(s) "
                              f"URL (feedkit rule): {href!r}")
        if (el.text or "").strip():
            self.flag(el, "AtomLinkNotEmpty", "link should not have text (all data is in "
                      "attributes)")
        return rel
