"""One document: which format it is, and what is checked before any element — the character
encoding, the XML declaration and DOCTYPE, well-formedness, namespace declarations, ``xml:lang``
and ``xml:base`` values, the HTTP media type — then the format's own checks."""

from __future__ import annotations

import codecs
import re

from lxml import etree

from feedkit.validate.atom import AtomChecks
from feedkit.validate.checker import _split, known_namespace
from feedkit.validate.jsonfeed import JsonChecks
from feedkit.validate.problems import _Result, kind_of
from feedkit.validate.rdf import RdfChecks
from feedkit.validate.uris import _iri_to_uri, _language_ok, _same_uri, _uri_problem
from feedkit.validate.values import RDF_NS
from feedkit.validate.vocab import (
    _RESERVED_PREFIXES,
    ATOM_NS,
    KNOWN_NAMESPACES,
    XHTML_NS,
    XML_NS,
)

#: The W3C service refuses (``ValidatorLimit``, an error) anything longer than this many bytes.
MAX_FEED_BYTES = 5_000_000
ATOM03_NS = "http://purl.org/atom/ns#"
_NETSCAPE_091 = "-//Netscape Communications//DTD RSS 0.91//EN"
_COMMON_ENCODINGS = frozenset({
    "UTF-8", "UTF-16", "US-ASCII", "ISO-8859-1", "EUC-JP", "ISO-8859-2", "ISO-8859-15",
    "ISO-8859-7", "KOI8-R", "SHIFT_JIS", "WINDOWS-1250", "WINDOWS-1251", "WINDOWS-1252",
    "WINDOWS-1254", "WINDOWS-1255", "WINDOWS-1256", "GB18030",
})
# Namespaces the W3C validator names as known but not checked (an Info note, not the
# UnknownNamespace warning).
_UNSUPPORTED_NAMESPACES = frozenset({
    "http://schemas.google.com/g/2005", "http://www.rawvoice.com/rawvoiceRssModule/",
    "https://schema.org/", "http://schema.org/", "https://podcastindex.org/namespace/1.0",
    "https://github.com/Podcastindex-org/podcast-namespace/blob/main/docs/1.0.md",
})
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                          huge_tree=False, remove_comments=False)
_RECOVER = etree.XMLParser(recover=True, resolve_entities=False, no_network=True,
                           load_dtd=False)
# Problems found only when an element ends (a required child missing, a cross-entry check).
_AT_END = ("MissingElement", "MissingSelf", "MissingGuid", "MissingSummary",
           "MissingTextualContent", "MissingSourceElement", "DuplicateIds", "StaleFeedDate",
           "DuplicateSemantics", "MisplacedItem", "UnexpectedText", "MissingAttribute",
           "DuplicateUpdated", "DuplicateEntries")
_XML_ATTRS = etree.XPath("descendant-or-self::*[@xml:lang or @xml:base]")
_DECLARATION = re.compile(rb"""<\?xml\s+version\s*=\s*["'][-\w.:]+["']\s+encoding\s*=\s*"""
                          rb"""["']([-A-Za-z0-9._]+)["']""")


class Document(RdfChecks, AtomChecks, JsonChecks):
    """Validates one document of any format: detects which (JSON or XML, then ``<rss>``, Atom
    ``<feed>``/``<entry>`` or ``<rdf:RDF>``) and runs that format's checks; ``self.result``
    holds problems and facts for cross-file checks."""

    def run(self, expected_self_url: str | None, content_type: str | None) -> _Result:
        self.location = expected_self_url
        if len(self.data) > MAX_FEED_BYTES:
            self.add(self.name, "ValidatorLimit",
                     f"feed is {len(self.data):,} bytes; the W3C validator stops at "
                     f"{MAX_FEED_BYTES:,}")
        head = self.data.lstrip(b"\xef\xbb\xbf \t\r\n")
        if head.startswith((b"{", b"[")):
            self.result.kind = "json"
            self._check_json()
            if expected_self_url:
                self._check_json_location(expected_self_url)
        else:
            self._check_xml()
        if self.result.kind and content_type:
            self._check_content_type(content_type)
        return self.result

    def _check_json_location(self, expected: str) -> None:
        actual = self.result.self_url
        if actual and not _same_uri(actual, expected):
            self.add(self.name, "SelfDoesntMatchLocation",
                     f"self link {actual!r} is not where the feed is published ({expected!r})")

    # -- bytes ------------------------------------------------------------------------------

    def _declared_encoding(self) -> str | None:
        m = _DECLARATION.match(self.data.removeprefix(b"\xef\xbb\xbf"))
        return m.group(1).decode("ascii") if m else None

    def _check_encoding(self) -> bool:
        """The encoding the document declares, against its byte order mark and its bytes.
        Returns False when the bytes cannot be read in it (``UnicodeError``); a declaration
        the byte order mark contradicts is reported, and the mark wins."""
        declared = self._declared_encoding()
        data = self.data
        if data.startswith(b"\xef\xbb\xbf") and declared and not _same_codec(declared, "utf-8"):
            self.add(f"{self.name}:1", "UnicodeError", f"the document starts with a UTF-8 byte "
                     f"order mark but declares {declared}")
            return True  # the mark decides; read on
        if data.startswith((b"\xfe\xff", b"\xff\xfe")) and declared \
                and not _same_codec(declared, "utf-16"):
            self.add(f"{self.name}:1", "UnicodeError", f"the document starts with a UTF-16 byte "
                     f"order mark but declares {declared}")
            return True
        if declared:
            if declared.upper() not in _COMMON_ENCODINGS and _has_codec(declared):
                self.add(self.name, "ObscureEncoding",
                         f"obscure XML character encoding {declared} (use UTF-8)")
            if _has_codec(declared) and not data.startswith((b"\xfe\xff", b"\xff\xfe")):
                try:
                    data.decode(declared)
                except UnicodeDecodeError as exc:
                    line = data[: exc.start].count(b"\n") + 1
                    self.add(f"{self.name}:{line}", "UnicodeError", f"the bytes are not "
                             f"{declared}: {exc.reason}")
                    return False
        return True

    # -- XML --------------------------------------------------------------------------------

    def _check_xml(self) -> None:
        version = re.match(rb"""\s*<\?xml\s+version\s*=\s*["']([-\w.:]*)["']""", self.data)
        if version and version.group(1) != b"1.0":
            self.add(self.name, "BadXmlVersion", f"XML version {version.group(1).decode()}")
        if not self._check_encoding():
            self.result.kind = _guess_kind(self.data)
            return
        data = self.data
        try:
            root = etree.fromstring(data, _PARSER)
        except etree.XMLSyntaxError as exc:
            data = self._transcoded() if "Unsupported encoding" in str(exc) else b""
            try:
                root = etree.fromstring(data, _PARSER) if data else None
            except etree.XMLSyntaxError:
                root = None
            if root is None:
                self._not_well_formed(exc)
                return
        tree = root.getroottree()
        encoding = tree.docinfo.encoding or "utf-8"
        try:
            text = data.decode(encoding)
        except (LookupError, UnicodeDecodeError):
            text = data.decode("utf-8", "replace")
        self.hex_lines = {n for n, line in enumerate(text.split("\n"), 1) if "&#x" in line}
        self._check_characters(text)
        doctype_091 = self._check_doctype(tree.docinfo)
        self._dispatch(root, doctype_091)

    def _transcoded(self) -> bytes:
        """The document in UTF-8, for an encoding Python reads but libxml2 does not
        (``mac-cyrillic``); empty when Python cannot read it either."""
        declared = self._declared_encoding()
        if not declared or not _has_codec(declared):
            return b""
        text = self.data.decode(declared, "replace")
        return re.sub(r"""(<\?xml[^>]*?encoding\s*=\s*["'])[-\w.:]+""", r"\g<1>UTF-8", text,
                      count=1).encode("utf-8")

    def _not_well_formed(self, exc: etree.XMLSyntaxError) -> None:
        """Report the parse error, then what the W3C validator (a streaming parser) reports
        before reaching it, read from libxml2's recovered tree: the problems of the elements
        that start before the error, except those known only at the end of an element the
        parser never finished (a missing child, stray text)."""
        code = "UndefinedNamedEntity" if "Entity" in str(exc) else "SAXError"
        line = exc.lineno or 0
        self.add(f"{self.name}:{line}", code, f"XML parsing error: {exc.msg}")
        self.result.kind = _guess_kind(self.data)
        try:
            root = etree.fromstring(self.data, _RECOVER)
        except etree.XMLSyntaxError:
            root = None
        if root is None:
            return
        self._scan_namespaces(root, atom=self.result.kind == "atom", until=line)
        kept = len(self.result.problems)
        kind = self.result.kind
        self._dispatch(root, False, scan=False)
        self.result.kind = self.result.kind or kind
        after_root = "Extra content at the end" in str(exc)
        unfinished = set() if after_root else _unfinished(root, line, self._elpath)
        self.result.problems[kept:] = [
            p for p in self.result.problems[kept:]
            if 0 < _line_of(p.path) < line and not (
                any(kind_of(p.code, c) for c in _AT_END)
                and p.path.split(":", 2)[-1] in unfinished)]

    def _check_doctype(self, info: etree.DocInfo) -> bool:
        """A DOCTYPE: Netscape's RSS 0.91 DTD is accepted (at its own address, deprecated at
        Netscape's old one); returns whether it is there."""
        public, system = info.public_id, info.system_url
        if public == _NETSCAPE_091:
            if system == "http://my.netscape.com/publish/formats/rss-0.91.dtd":
                self.add(self.name, "DeprecatedDTD", "the Netscape RSS 0.91 DTD address is "
                         "gone; use http://www.rssboard.org/rss-0.91.dtd or no DOCTYPE")
            return True
        return False

    def _dispatch(self, root: etree._Element, doctype_091: bool, scan: bool = True) -> None:
        """Check the document by its root element's format (``scan``: its namespace
        declarations and ``xml:`` attributes too)."""
        ns, local = _split(root.tag)
        if local in ("feed", "entry") and ns == ATOM03_NS:
            self.result.kind = "atom"
            self.flag(root, "ObsoleteNamespace", "Atom 0.3 namespace; use Atom 1.0")
            if scan:
                self._scan_namespaces(root, atom=True)
            return
        if local == "rss":
            self.result.kind, self.default_ns = "rss", ns
            if ns:
                self.flag(root, "InvalidNamespace", f"rss must be in no namespace, not {ns}")
        elif local in ("feed", "entry"):
            self.result.kind, self.default_ns = "atom", ns
            if not ns:
                self.flag(root, "MissingNamespace", f"{local} needs the Atom namespace "
                          f"xmlns=\"{ATOM_NS}\"")
            elif ns != ATOM_NS:
                self.flag(root, "InvalidNamespace", f"{local} is in {ns}, not the Atom "
                          f"namespace {ATOM_NS}")
        elif (ns, local) != (RDF_NS, "RDF"):
            self.add(self.at(root), "UndefinedElement", f"root element <{local}> is not <rss>, "
                     "Atom <feed> or <rdf:RDF>")
            return
        if scan:
            self._scan_namespaces(root, atom=self.result.kind == "atom")
        if local == "rss":
            self._check_rss(root, doctype_091)
        elif local in ("feed", "entry"):
            self._check_atom(root)
        else:
            self._check_rdf(root)

    def _scan_namespaces(self, root: etree._Element, atom: bool, until: int = 0) -> None:
        """Namespace declarations (where each is made), ``xml:lang`` and ``xml:base`` values."""
        declared: list[tuple[str, str]] = []
        for event, item in etree.iterwalk(root, events=("start-ns", "start")):
            if event == "start-ns":
                declared.append(item)
                continue
            if until and (item.sourceline or 0) > until:
                break
            for prefix, uri in declared:
                self._check_namespace(item, prefix or None, uri, atom)
            declared.clear()
        for el in _XML_ATTRS(root):
            if until and (el.sourceline or 0) > until:
                break
            lang = el.get(f"{{{XML_NS}}}lang")
            if lang and not _language_ok(lang):
                self.flag(el, "InvalidLanguage", f"xml:lang {lang!r} is not an ISO 639 code")
            base = el.get(f"{{{XML_NS}}}base")
            if base is not None:
                code = _uri_problem(_iri_to_uri(base), False, "InvalidIRI")
                if code:
                    self.flag(el, code, f"xml:base must be a valid IRI reference: {base!r}")

    def _check_namespace(self, el: etree._Element, prefix: str | None, uri: str,
                         atom: bool) -> None:
        known = known_namespace(uri)
        if uri == "http://search.yahoo.com/mrss":
            self.flag(el, "MediaRssNamespace", "Media RSS namespace needs its trailing slash")
            return
        if prefix is not None and prefix in _RESERVED_PREFIXES \
                and KNOWN_NAMESPACES.get(uri) != prefix:
            self.flag(el, "ReservedPrefix", f"prefix {prefix!r} is normally bound to "
                      f"{_RESERVED_PREFIXES[prefix]}, not {uri}")
            return
        if prefix == "wiki" and "usemod" in uri:
            self.flag(el, "ObsoleteWikiNamespace", "obsolete ModWiki namespace; use "
                      "http://purl.org/rss/1.0/modules/wiki/")
        if atom and prefix and known in (ATOM_NS, XHTML_NS):
            self.flag(el, "AvoidNamespacePrefix", f"avoid the namespace prefix {prefix!r} "
                      "(many Atom readers only handle the default namespace)")
        if not uri:
            self.flag(el, "UnknownNamespace", "xmlns=\"\" puts elements in no namespace, "
                      "where no feed vocabulary is defined")
            return
        if uri in KNOWN_NAMESPACES or uri in _UNSUPPORTED_NAMESPACES \
                or len(uri.split()) > 1:  # a namespace name with spaces: a parse error already
            return
        code = _uri_problem(_iri_to_uri(uri), False, "InvalidIRI")
        if code:
            self.flag(el, code, f"namespace name {uri!r} is not a valid IRI")
        else:
            self.flag(el, "UnknownNamespace", f"unknown namespace {uri}")

    # -- HTTP -------------------------------------------------------------------------------

    def _check_content_type(self, content_type: str) -> None:
        """The HTTP media type checks (only when the caller knows the Content-Type)."""
        media, _, params = content_type.partition(";")
        media = media.strip().lower()
        kind = self.result.kind
        allowed = {"rss": ("application/rss+xml", "application/xml", "text/xml"),
                   "rss1": ("application/rdf+xml", "application/rss+xml", "application/xml",
                            "text/xml"),
                   "atom": ("application/atom+xml", "application/xml", "text/xml"),
                   "json": ("application/feed+json", "application/json")}[kind or "rss"]
        if media not in allowed:
            self.add(self.name, "UnexpectedContentType",
                     f"{kind} feeds should not be served as {media!r}")
        elif media in ("application/xml", "text/xml"):
            block = self.data[:512]
            if b"<rss" not in block and b"<feed" not in block and b"<rdf:RDF" not in block:
                self.add(self.name, "NonSpecificMediaType",
                         f"{media!r} is not specific enough: no <rss or <feed in the first "
                         "512 bytes")
        charset = re.search(r"charset\s*=\s*\"?([-\w.:]+)", params, re.I)
        declared = self._declared_encoding()
        if charset and declared and charset.group(1).lower() != declared.lower():
            self.add(self.name, "EncodingMismatch",
                     f"served as {charset.group(1)} but declares {declared}")


def _unfinished(root: etree._Element, line: int, path_of) -> set[str]:
    """The paths of the elements a streaming parser had not finished when it stopped at
    ``line``: those whose start comes before it but nothing after their end does."""
    found: set[str] = set()
    for el in root.iter():
        if not isinstance(el.tag, str) or (el.sourceline or 0) > line:
            continue
        node, following = el, None
        while node is not None and following is None:
            following = node.getnext()
            while following is not None and not isinstance(following.tag, str):
                following = following.getnext()
            node = node.getparent()
        if following is None or (following.sourceline or 0) >= line:
            found.add(path_of(el))
    return found


def _line_of(path: str) -> int:
    """The line of a problem's path (``file:12:/rss/channel``), 0 when it has none."""
    parts = path.split(":", 2)
    return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0


def _has_codec(name: str) -> bool:
    try:
        codecs.lookup(name)
    except LookupError:
        return False
    return True


def _same_codec(name: str, other: str) -> bool:
    if not _has_codec(name):
        return False
    return codecs.lookup(name).name == codecs.lookup(other).name or (
        other == "utf-16" and codecs.lookup(name).name.startswith("utf-16"))


def _guess_kind(data: bytes) -> str | None:
    head = data[:2048]
    if b"<feed" in head or b":feed" in head:
        return "atom"
    if b"<rdf:RDF" in head:
        return "rss1"
    return "rss" if b"<rss" in head else None
