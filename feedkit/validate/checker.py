"""The checker's shared part: reporting with element paths, and the walker that checks an
element's children against a table of :class:`~feedkit.validate.values.Rule` s.

Every format (:mod:`.rss`, :mod:`.atom`, :mod:`.rdf`) describes each of its elements as a table:
which children it may hold, how many of each, what value each holds, which attributes. The
walker applies one table to one element the way the W3C validator's element handlers do: an
unlisted child of the format's own (or a fully known) namespace is ``UndefinedElement``, a
repeated single child ``DuplicateElement``, text between children ``UnexpectedText``, an
unexpected attribute ``UnexpectedAttribute``; each listed child's value is checked by its kind
(:mod:`.values`), and structured children by the format's ``_el_<name>`` method.
"""

from __future__ import annotations

import re
from datetime import datetime

from lxml import etree

from feedkit.validate.dates import parse_rfc822, parse_rfc3339
from feedkit.validate.extensions import CHECKED_NAMESPACES
from feedkit.validate.markup import _html_problems, _nonhtml_problem
from feedkit.validate.problems import Problem, _Result, _severity
from feedkit.validate.values import KINDS, NESTED_KINDS, RDF_NS, Rule, rule
from feedkit.validate.vocab import ATOM_NS, KNOWN_NAMESPACES, XHTML_NS, XML_NS


def _split(tag: str) -> tuple[str, str]:
    if tag[0] == "{":
        ns, _, local = tag[1:].partition("}")
        return ns, local
    return "", tag


def _near_miss(uri: str) -> str:
    """The W3C validator's loose namespace match: up to the last word character, lower case
    (``http://purl.org/dc/elements/1.1`` without its slash still means Dublin Core)."""
    m = re.match(r".*\w", uri)
    return m.group(0).lower() if m else uri


_NEARLY = {_near_miss(uri): prefix for uri, prefix in KNOWN_NAMESPACES.items()}
_NEARLY_URI = {_near_miss(uri): uri for uri in KNOWN_NAMESPACES}


def known_namespace(uri: str) -> str | None:
    """The namespace's canonical URI when the W3C validator knows it (loosely), else None."""
    if uri in KNOWN_NAMESPACES:
        return uri
    return _NEARLY_URI.get(_near_miss(uri)) if uri else None


class CheckerBase:
    """What every format's checks build on: one document's bytes and name, ``self.result``
    (problems and facts for cross-file checks), reporting with element paths, the walker, and
    the checks of values in elements. The format mixins derive from it;
    :class:`feedkit.validate.document.Document` combines them."""

    def __init__(self, data: bytes, name: str) -> None:
        self.data = data
        self.name = name
        self.result = _Result()
        self.hex_lines: set[int] = set()
        self.default_ns = ""
        self.rss_version = ""
        self.location: str | None = None  # where the feed is published, when known
        self._markup_kind = False
        self._labels: dict[str, str] = {}

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
        """``title`` for the format's own elements, ``dc:date`` for an extension's (the usual
        prefix of a known namespace, whatever the document binds), ``{uri}name`` otherwise."""
        tag = el.tag
        label = self._labels.get(tag)
        if label is None:
            ns, local = _split(tag)
            if ns == self.default_ns:
                label = local
            elif not ns:
                label = "{}" + local  # no namespace where the format has one
            else:
                known = known_namespace(ns)
                label = f"{KNOWN_NAMESPACES[known]}:{local}" if known else tag
            self._labels[tag] = label
        return label

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

    # -- the walker -------------------------------------------------------------------------

    def walk(self, parent: etree._Element, table: dict[str, Rule]) -> dict[str, list]:
        """Check ``parent``'s children against ``table``; returns them by label, in order."""
        found: dict[str, list] = {}
        for child in parent:
            if not isinstance(child.tag, str):
                continue
            label = self._label(child)
            rule = table.get(label)
            if rule is None and label.startswith("dc:") and "." in label:
                rule = table.get(label.split(".", 1)[0])  # "qualified" DC: dc:date.Taken
            if rule is None:
                self._unlisted(parent, child, label)
            else:
                if rule.single and label in found:
                    self.flag(child, rule.dup, f"{self._label(parent)} contains more than one "
                              f"{label}")
                self.apply(child, rule)
            found.setdefault(label, []).append(child)
        self._no_text(parent)
        return found

    def apply(self, el: etree._Element, rule: Rule) -> None:
        """Check one element by its rule: attributes, children, value."""
        if rule.attrs is not None:
            self._check_attrs(el, rule.attrs)
        kind = rule.kind
        if kind == "eat":
            return
        if rule.nows or rule.nonblank:
            raw = self._value(el, strip=False)
            if rule.nows and raw != raw.strip():
                self.flag(el, "UnexpectedWhitespace", f"whitespace not permitted in "
                          f"{self._label(el)}")
            if rule.nonblank and not raw.strip() and not any(
                    isinstance(c.tag, str) for c in el):
                self.flag(el, "NotBlank", f"{self._label(el)} should not be blank")
        if kind[0] == "@":
            getattr(self, "_el_" + kind[1:])(el)
            return
        if kind not in NESTED_KINDS:
            self._markup_kind = kind in ("html", "nonhtml")
            self._no_children(el)
        KINDS[kind](self, el, self._value(el))

    def _unlisted(self, parent: etree._Element, child: etree._Element, label: str) -> None:
        ns = _split(child.tag)[0]
        where = self._label(parent)
        if ns == self.default_ns or known_namespace(ns) in CHECKED_NAMESPACES:
            if ns == ATOM_NS and self.default_ns != ATOM_NS and label in _QUESTIONABLE_ATOM:
                self.flag(child, "QuestionableUsage", f"{label} is unusual in {where}")
            else:
                self.flag(child, "UndefinedElement", f"Undefined {where} element: {label}")
        elif ns == XHTML_NS:
            self.flag(child, "MisplacedXHTMLContent", f"{label} is misplaced in {where}")
        elif not ns:
            self.flag(child, "UndeterminableVocabulary", f"{label} in {where} is in no "
                      "namespace, so its vocabulary cannot be determined")
        elif self.result.kind == "rss1":
            self._rdf_extension(child)
        elif self.result.kind == "rss" and known_namespace(ns) is None:
            for node in child.iterdescendants():
                if isinstance(node.tag, str) and not _split(node.tag)[0]:
                    self.flag(node, "NotInANamespace", f"{node.tag} inside the extension "
                              f"element {label} is in no namespace")

    def _no_text(self, el: etree._Element) -> None:
        """Text directly inside a structured element (not in one of its children)."""
        if (el.text or "").strip() or any((c.tail or "").strip() for c in el):
            self.flag(el, "UnexpectedText", f"unexpected text in {self._label(el)}")

    def _no_children(self, el: etree._Element) -> None:
        """A simple element holds text only: each child element is ``UndefinedElement`` (escape
        HTML) — except in RSS 1.0, where RDF allows structured values."""
        for child in el:
            if not isinstance(child.tag, str):
                continue
            if self.result.kind == "rss1":
                self._rdf_value(el, child)
                continue
            label = self._label(child)
            code = "MissingNamespace" if ":" in _split(child.tag)[1] else "UndefinedElement"
            self.flag(child, code, f"<{label}> inside <{self._label(el)}> (escape HTML)")

    def _rdf_value(self, el: etree._Element, child: etree._Element) -> None:
        """Overridden by the RSS 1.0 checks."""

    def _rdf_extension(self, el: etree._Element) -> None:
        """Overridden by the RSS 1.0 checks."""

    def _check_attrs(self, el: etree._Element, allowed: frozenset[str]) -> None:
        if self.result.kind == "rss1":
            allowed = allowed | _RDF_VALUE_ATTRS
        core = _split(el.tag)[0] == self.default_ns
        for name in el.attrib:
            if name[0] == "{":
                ns, local = _split(name)
                if ns == XML_NS:
                    continue
                known = known_namespace(ns)
                if known is None:
                    if core and self.result.kind == "rss":
                        self.flag(el, "UseOfExtensionAttr", f"extension attribute {local} "
                                  f"({ns}) on {self._label(el)}: RSS 2.0 readers ignore it")
                    continue
                name = f"{KNOWN_NAMESPACES[known]}:{local}"
            if name not in allowed:
                self.flag(el, "UnexpectedAttribute", f"unexpected attribute {name} on "
                          f"{self._label(el)}")

    @staticmethod
    def _value(el: etree._Element, strip: bool = True) -> str:
        """The element's text, without that of its child elements."""
        value = el.text or ""
        if len(el):
            value += "".join(c.tail or "" for c in el)
        return value.strip() if strip else value

    def earlier(self, el: etree._Element, label: str) -> bool:
        """Is there a ``label`` sibling before ``el``? (The W3C validator reads in order: some
        rules count only what came before.)"""
        return any(isinstance(s.tag, str) and self._label(s) == label
                   for s in el.itersiblings(preceding=True))

    def require(self, el: etree._Element, found: dict[str, list],
                needs: tuple[tuple[str, str], ...]) -> None:
        """``MissingElement`` (or the named special case) for each required child absent."""
        where = self._label(el)
        for child, code in needs:
            if child not in found:
                self.flag(el, code, f"Missing {where} element: {child}")

    def semantics(self, el: etree._Element, found: dict[str, list],
                  pairs: tuple[tuple[str, str], ...], code: str) -> None:
        for core, ext in pairs:
            if core in found and ext in found:
                self.flag(el, code, f"{self._label(el)} should not include both {core} and "
                          f"{ext}")

    # -- values -----------------------------------------------------------------------------

    def _check_characters(self, text: str) -> None:
        """``BadCharacters``: C1 controls (U+0080-U+009F, usually Windows-1252 misdecoding),
        U+FFFD, and UTF-8 read as Latin-1 ("Ã©"). DEL (U+007F) is legal XML and the W3C service
        ignores it; feedkit reports it too (stricter) because readers show it as garbage."""
        if "<![CDATA[" in text:  # "&#133;" inside CDATA is text, not a reference
            refs = _CDATA.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)), text)
        else:
            refs = text
        for pattern, template in _BAD_CHARACTERS:
            for m in pattern.finditer(refs if "&#" in pattern.pattern else text):
                line = text.count("\n", 0, m.start()) + 1
                self.add(f"{self.name}:{line}", "BadCharacters", template.format(m.group(0)))


    def _hex_escaped(self, el: etree._Element, value: str) -> bool:
        """Did the element's source lines use ``&#x`` (the W3C test for "escaped on purpose")?"""
        if not self.hex_lines:
            return False
        start = el.sourceline or 1
        return any(n in self.hex_lines for n in range(start, start + value.count("\n") + 1))

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
                                   self.result.kind == "rss" and self.rss_version[:2] == "2.",
                                   code)
        if problem == "CharacterData":
            self.flag(el, problem, f"{self._label(el)}: encode '<' and '&' as hex character "
                      "references (&#x3C;) or avoid markup-like text (RSS Profile)")
        elif problem:
            self.flag(el, problem, f"{self._label(el)} should not contain HTML: {value[:60]!r}")

    # -- elements several formats share -----------------------------------------------------

    def _el_geo_point(self, el: etree._Element) -> None:
        found = self.walk(el, _GEO_POINT)
        self.require(el, found, (("geo:lat", "MissingElement"), ("geo:long", "MissingElement")))

    def _el_thr_children(self, el: etree._Element) -> None:
        if self.result.kind != "rss1":
            self.flag(el, "UndefinedElement", "thr:children is only defined in RSS 1.0")


_GEO_POINT = {"geo:lat": rule("latitude"), "geo:long": rule("longitude"),
              "geo:alt": rule("decimal")}
_BAD_CHARACTERS = (
    (re.compile(r"[\x7f-\x9f\ufffd]"), "control or replacement character {!r}"),
    (re.compile(r"&#(12[7-9]|1[3-5]\d|x0*(7f|[89][0-9a-f]));", re.I),
     "character reference {} to a control character"),
    (re.compile(r"[\u00c2\u00c3][\u0080-\u00bf]"), "UTF-8 decoded as Latin-1: {!r}"),
)
_CDATA = re.compile(r"<!\[CDATA\[.*?\]\]>", re.S)
# In RSS 1.0 any property may say how RDF reads its value.
_RDF_VALUE_ATTRS = frozenset({"rdf:parseType", "rdf:datatype", "rdf:resource"})
# Atom elements that are no error in an RSS channel or item, only unusual (W3C
# ``QuestionableUsage``).
_QUESTIONABLE_ATOM = frozenset({
    "atom:author", "atom:category", "atom:content", "atom:contributor", "atom:generator",
    "atom:icon", "atom:id", "atom:link", "atom:logo", "atom:published", "atom:rights",
    "atom:subtitle", "atom:summary", "atom:title", "atom:updated",
})
__all__ = ["RDF_NS", "CheckerBase", "Rule", "known_namespace"]
