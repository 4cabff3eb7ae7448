"""Atom text constructs (``title``, ``subtitle``, ``rights``, ``summary``) and ``content``: the
``type`` attribute and what it promises (RFC 4287 sections 3.1 and 4.1.3)."""

from __future__ import annotations

import base64
import binascii

from lxml import etree

from feedkit.validate.checker import CheckerBase, _split, known_namespace
from feedkit.validate.markup import _css_unsafe
from feedkit.validate.uris import _iri_to_uri, _mime_ok, _uri_problem
from feedkit.validate.values import rule
from feedkit.validate.vocab import (
    _HTML_TAGS,
    _MATHML_ATTRS,
    _MATHML_ELEMENTS,
    _SAFE_ELEMENTS,
    _SVG_ATTRS,
    _SVG_ELEMENTS,
    KNOWN_NAMESPACES,
    MATHML_NS,
    SVG_NS,
    XHTML_NS,
)

TEXT = rule("@text", attrs="type src")
CONTENT = rule("@content", attrs="type src")
_DIV = f"{{{XHTML_NS}}}div"


def _xml_type(type_: str) -> bool:
    return type_.endswith("+xml") or type_.endswith("/xml")


class AtomText(CheckerBase):
    """Text constructs and content, in Atom feeds and as ``atom:`` elements in RSS."""

    def _el_text(self, el: etree._Element) -> None:
        self._text_construct(el, is_content=False)

    def _el_content(self, el: etree._Element) -> None:
        self._text_construct(el, is_content=True)

    def _text_construct(self, el: etree._Element, is_content: bool) -> None:
        has_src = "src" in el.attrib
        label = self._label(el)
        if self.result.kind == "rss" and label != "atom:summary" and not has_src:
            self.flag(el, "DuplicateDescriptionSemantics", f"{label} repeats what the item's "
                      "description says; use one of them")
        type_ = el.get("type", "" if has_src else "text")
        if "type" in el.attrib and not type_:
            self.flag(el, "AttrNotBlank", "The type attribute should not be blank")
        if is_content and type_ == "multipart/alternative":
            self.flag(el, "InvalidMIMEType", "multipart/alternative is not allowed in content")
        elif not is_content and "/" in type_:
            self.flag(el, "InvalidTextType", 'type attribute must be "text", "html", or "xhtml"')
        if has_src:
            src = el.get("src") or ""
            code = _uri_problem(_iri_to_uri(src), False, "InvalidURIAttribute")
            if code:
                self.flag(el, code, f"src must be a valid IRI: {src!r}")
            if "type" not in el.attrib:
                self.flag(el, "MissingTypeAttr", f"Missing {label} attribute: type")
        if not (type_ in ("text", "html", "xhtml") and not has_src) and type_ \
                and not _mime_ok(type_):
            self.flag(el, "InvalidMIMEType", f"{label} type {type_!r} is not text, html, "
                      "xhtml or a MIME type")
        value = self._construct_children(el, type_, has_src)
        self._construct_value(el, type_, value, has_src)
        children = any(isinstance(c.tag, str) for c in el)
        if not value and not children and not has_src:
            self.flag(el, "NotBlank", f"{label} should not be blank")

    def _construct_children(self, el: etree._Element, type_: str, has_src: bool) -> str:
        """Check the child elements; returns the text the construct holds (with an xhtml
        div's text when the div holds text only)."""
        value = el.text or ""
        if has_src and value.strip():
            self.flag(el, "UnexpectedText", f"{self._label(el)} with src must be empty")
        elif type_ == "xhtml" and value.strip():
            self.flag(el, "MissingXhtmlDiv", "Missing xhtml:div element")
        escaped = el.get("mode") == "escaped"
        for child in el:
            if not isinstance(child.tag, str):
                continue
            ns, local = _split(child.tag)
            if type_ != "xhtml" and not _xml_type(type_):
                self.flag(child, "UndefinedElement", f"<{self._label(child)}> inside "
                          f"{self._label(el)} of type {type_!r} (escape it)")
            if type_ == "xhtml":
                if child.tag != _DIV and not value.strip():
                    self.flag(el, "MissingXhtmlDiv", "Missing xhtml:div element")
                    if local == "div":
                        self.flag(child, "NotHtml", f"div in the wrong namespace {ns or '-'}")
                elif ns != XHTML_NS:
                    self.flag(child, "NotHtml", f"unexpected namespace {ns or '(none)'}")
            if type_ == "application/xhtml+xml":
                if local != "html":
                    self.flag(el, "HtmlFragment", "application/xhtml+xml content must be a "
                              "whole document (<html>), not a fragment")
                elif ns != XHTML_NS:
                    self.flag(child, "NotHtml", f"unexpected namespace {ns or '(none)'}")
            if escaped:
                self.flag(el, "NotEscaped", f"{self._label(el)} says mode=\"escaped\" but "
                          "holds elements")
                escaped = False
            if child.tag == _DIV and not self._check_div(child):
                value += child.text or ""
            if (child.tail or "").strip():
                self.flag(el, "UnexpectedText", f"text after an element in {self._label(el)}")
                value += child.tail or ""
        return value

    def _construct_value(self, el: etree._Element, type_: str, value: str,
                         has_src: bool) -> None:
        if type_ == "text":
            self._check_nonhtml(el, value.strip(), "ContainsUndeclaredHTML")
            return
        if type_ == "xhtml":
            self._check_nonhtml(el, value.strip(), "NotInline")
            return
        html = type_ == "html"
        fragment_ok = html
        if "/" in type_ and not (_xml_type(type_) or type_.startswith("text/")):
            try:
                decoded = base64.b64decode(value.encode("ascii"), validate=False)
            except (binascii.Error, UnicodeEncodeError, ValueError):
                self.flag(el, "NotBase64", f"{self._label(el)} claims to be base64-encoded, "
                          "but isn't")
                return
            if not decoded and not has_src and not any(isinstance(c.tag, str) for c in el):
                self.flag(el, "NotBlank", f"{self._label(el)} should not be blank")
            if type_.endswith("/html"):
                value, html, fragment_ok = decoded.decode("utf-8", "replace"), True, True
        if html or type_.endswith("/html"):
            self._check_html(el, value, relative=False)
            if not fragment_ok and "<html" not in value and not has_src:
                self.flag(el, "HtmlFragment", f"{type_} content must be a whole document "
                          "(<html>), not a fragment")
        else:
            self._check_nonhtml(el, value.strip(), "ContainsUndeclaredHTML")

    def _check_div(self, div: etree._Element) -> bool:
        """Inline XHTML: what the W3C check looks at in each element of the div. Returns
        whether the div holds elements (then its text is markup, not the construct's text)."""
        mixed = False
        stack = [(child, False) for child in reversed(div)]
        while stack:
            node, in_metadata = stack.pop()
            if not isinstance(node.tag, str):
                continue
            mixed = True
            ns, local = _split(node.tag)
            descend = True
            if not ns:
                self.flag(node, "MissingNamespace", f"{local} inside the xhtml:div has no "
                          "namespace")
            elif ns == XHTML_NS:
                self._xhtml_node(node, local)
            elif ns in (SVG_NS, MATHML_NS):
                elements, attrs = ((_SVG_ELEMENTS, _SVG_ATTRS) if ns == SVG_NS
                                   else (_MATHML_ELEMENTS, _MATHML_ATTRS))
                if local not in elements:
                    self.flag(node, "SecurityRisk", f"{local} element")
                for attr in node.attrib:
                    if not attr.startswith("{") and attr not in attrs:
                        self.flag(node, "SecurityRiskAttr", f"{attr} attribute")
                in_metadata = in_metadata or local == "metadata"
            elif known_namespace(ns):
                if not in_metadata:
                    prefix = KNOWN_NAMESPACES[known_namespace(ns) or ns]
                    self.flag(node, "UndefinedElement", f"{prefix}:{local} inside xhtml")
                descend = False
            if descend:
                stack.extend((child, in_metadata) for child in reversed(node))
        return mixed

    def _xhtml_node(self, node: etree._Element, local: str) -> None:
        if local not in _HTML_TAGS:
            self.flag(node, "NotHtml", f"Non-XHTML element {local}")
        elif local not in _SAFE_ELEMENTS:
            self.flag(node, "SecurityRisk", f"{local} tag")
        for attr, attr_value in node.attrib.items():
            if attr.startswith("{"):
                continue
            if attr.lower() == "style":
                if _css_unsafe(attr_value):
                    self.flag(node, "DangerousStyleAttr", "style attribute contains "
                              "potentially dangerous content")
            elif attr.lower().startswith("on"):
                self.flag(node, "SecurityRiskAttr", f"{attr} attribute")
