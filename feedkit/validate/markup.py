"""HTML and security checks for escaped HTML (description, content:encoded, Atom
``type="html"``, JSON ``content_html``) and for text that must not carry HTML."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from functools import lru_cache
from html.entities import html5, name2codepoint
from html.parser import HTMLParser

from feedkit.validate.uris import _URI_CHAR
from feedkit.validate.vocab import (
    _HTML_TAGS,
    _IMPLIED_CLOSE,
    _OPTIONAL_END,
    _P_CLOSERS,
    _P_SCOPE,
    _SAFE_CSS_KEYWORDS,
    _SAFE_CSS_PROPERTIES,
    _SAFE_ELEMENTS,
    _VOID_ELEMENTS,
)


def _css_unsafe(style: str) -> bool:
    """True when a ``style`` attribute holds anything beyond simple, known-harmless CSS."""
    if not re.fullmatch(r"""([:,;#%.\sa-zA-Z0-9!]|\w-\w|'[\s\w]+'|"[\s\w]+"|\([\d,\s]+\))*""",
                        style):
        return True
    if not re.fullmatch(r"(\s*[-\w]+\s*:\s*[^:;]*(;|\Z))*", style):
        return True
    for prop, value in re.findall(r"([-\w]+)\s*:\s*([^:;]*)", style.lower()):
        if prop not in _SAFE_CSS_PROPERTIES:
            return True
        if prop.split("-")[0] in ("background", "border", "margin", "padding"):
            for word in value.split():
                if word not in _SAFE_CSS_KEYWORDS and not re.fullmatch(
                        r"#[0-9a-f]+|rgb\(\d+%?,\d*%?,?\d*%?\)?|\d?\.?\d?\d(cm|em|ex|in|mm|pc|pt|"
                        r"px|%|,|\))?", word):
                    return True
    return False


class _HtmlScan(HTMLParser):
    """One pass over an HTML fragment collecting what the W3C ``HTMLValidator`` objects to.

    The W3C service parses with html5lib in strict mode, so *any* HTML parse error is
    ``NotHtml``; this scanner approximates that with the errors that occur in practice (unknown
    tags, stray or misnested end tags, unclosed non-optional elements, ``<div/>``, a bare ``<``).
    """

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.findings: list[tuple[str, str]] = []
        self.refs: list[tuple[str, str, str]] = []  # (tag, attribute, value)

    def note(self, code: str, message: str) -> None:
        if (code, message) not in self.findings:
            self.findings.append((code, message))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._start(tag, attrs, self_closing=False)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._start(tag, attrs, self_closing=True)

    def _start(self, tag: str, attrs: list[tuple[str, str | None]], self_closing: bool) -> None:
        if tag not in _HTML_TAGS:
            self.note("NotHtml", f"non-HTML tag <{tag}>")
        elif tag in ("html", "head", "body"):
            self.note("NotHtml", f"<{tag}> inside an HTML fragment")
        elif tag not in _SAFE_ELEMENTS:
            self.note("SecurityRisk", f"<{tag}> tag")
        names = [name for name, _ in attrs]
        if len(set(names)) != len(names):
            self.note("NotHtml", f"duplicate attribute on <{tag}>")
        for name, value in attrs:
            if name == "style":
                if value and _css_unsafe(value):
                    self.note("DangerousStyleAttr", f"style attribute on <{tag}>: {value!r}")
            elif name.startswith("on"):  # event handlers: script
                self.note("SecurityRiskAttr", f"{name} attribute on <{tag}>")
            if name in ("href", "src", "poster") and value is not None:
                self.refs.append((tag, name, value))
        if tag == "a" and "a" in self.stack:
            self.note("NotHtml", "<a> nested inside <a>")
        if tag in _P_CLOSERS:
            self._implied_close(tag, frozenset({"p"}), _P_SCOPE)
        rule = _IMPLIED_CLOSE.get(tag)
        if rule:
            self._implied_close(tag, *rule)
        if tag in _VOID_ELEMENTS:
            return
        if self_closing:
            if tag in _HTML_TAGS:
                self.note("NotHtml", f"self-closing <{tag}/> on a non-void element")
            return
        self.stack.append(tag)

    def _implied_close(self, tag: str, closes: frozenset[str], boundary: frozenset[str]) -> None:
        for i in range(len(self.stack) - 1, -1, -1):
            open_tag = self.stack[i]
            if open_tag in closes:
                still_open = [t for t in self.stack[i + 1:] if t not in _OPTIONAL_END]
                if still_open:
                    self.note("NotHtml", f"<{tag}> closes <{open_tag}> while <{still_open[-1]}> "
                              "is still open")
                del self.stack[i:]
                return
            if open_tag in boundary:
                return

    def handle_endtag(self, tag: str) -> None:
        if tag in _VOID_ELEMENTS:
            self.note("NotHtml", f"end tag </{tag}> for a void element")
            return
        if tag not in self.stack:
            self.note("NotHtml", f"stray end tag </{tag}>")
            return
        i = len(self.stack) - 1 - self.stack[::-1].index(tag)
        unclosed = [t for t in self.stack[i + 1:] if t not in _OPTIONAL_END]
        if unclosed:
            self.note("NotHtml", f"</{tag}> while <{unclosed[0]}> is still open")
        del self.stack[i:]

    def handle_pi(self, data: str) -> None:
        if data.lower().startswith("import"):
            self.note("SecurityRisk", "<?import> processing instruction")
        self.note("NotHtml", "processing instruction in HTML")

    def handle_decl(self, decl: str) -> None:
        self.note("NotHtml", "DOCTYPE inside an HTML fragment")

    def unknown_decl(self, data: str) -> None:
        self.note("NotHtml", "CDATA section or markup declaration inside HTML")

    def close(self) -> None:
        super().close()
        unclosed = [t for t in self.stack if t not in _OPTIONAL_END]
        if unclosed:
            self.note("NotHtml", f"unclosed <{unclosed[0]}>")


_BARE_LT = re.compile(r"<(?![A-Za-z/!?])")


# Code points an HTML parser reports as errors in text (controls other than whitespace, C1
# controls — usually Windows-1252 quotes decoded wrongly — and noncharacters).
_INVALID_POINT = re.compile("[\x01-\x08\x0b\x0e-\x1f\x7f-\x9f\ufdd0-\ufdef\ufffe\uffff]")
_CHAR_REF = re.compile(r"&#(?:[xX]([0-9a-fA-F]+)|(\d+))")


def _bad_char_ref(value: str) -> str | None:
    """A numeric character reference HTML does not allow (C1 controls, NUL, surrogates, beyond
    Unicode): usually Windows-1252 text escaped as if it were Unicode."""
    for m in _CHAR_REF.finditer(value):
        point = int(m.group(1), 16) if m.group(1) else int(m.group(2))
        if point == 0 or 0x80 <= point <= 0x9F or 0xD800 <= point <= 0xDFFF \
                or point > 0x10FFFF:
            return m.group(0)
    return None


_AMPERSAND = re.compile(r"&(#[xX][0-9a-fA-F]*;?|#[0-9]*;?|[A-Za-z0-9]+;?)")


def _bad_ampersand(value: str) -> str | None:
    """An ``&`` that starts no complete character reference (``AT&T``, ``?a=1&b=2`` in an
    href, ``&nbsp`` without its semicolon): a parse error in strict HTML, which the W3C check
    reports as NotHtml. Write ``&amp;``."""
    for m in _AMPERSAND.finditer(value):
        ref = m.group(1)
        if ref[0] == "#":
            if not re.fullmatch(r"#([xX][0-9a-fA-F]+|[0-9]+);", ref):
                return m.group(0)
        elif not ref.endswith(";") or ref not in html5:
            return m.group(0)
    return None


def _scan_html(value: str) -> _HtmlScan:
    scan = _HtmlScan()
    if _BARE_LT.search(value):
        scan.note("NotHtml", "bare '<' in HTML (escape it as &lt;)")
    bad = _INVALID_POINT.search(value)
    if bad:
        scan.note("NotHtml", f"character U+{ord(bad.group(0)):04X} is not allowed in HTML")
    if "&" in value:
        amp = _bad_ampersand(value)
        if amp:
            scan.note("NotHtml", f"{amp!r} starts no character reference (write &amp;)")
    if "&#" in value:
        ref = _bad_char_ref(value)
        if ref:
            scan.note("NotHtml", f"character reference {ref} to a character HTML forbids")
    try:
        scan.feed(value)
        if scan.rawdata.lstrip().startswith("<"):
            scan.note("NotHtml", "unterminated tag at the end of the HTML")
        scan.close()
    except (AssertionError, ValueError):  # pragma: no cover - HTMLParser is lenient
        scan.note("NotHtml", "unparseable HTML")
    return scan


_UNSAFE_SCHEME = re.compile(r"\s*(javascript|vbscript|livescript|data\s*:\s*text/html)", re.I)


@lru_cache(maxsize=8192)
def _scan_cached(value: str) -> tuple[tuple[tuple[str, str], ...],
                                     tuple[tuple[str, str, str], ...]]:
    """(findings, references) of one HTML value, remembered for the last few thousand values:
    a built site repeats each article's HTML in every format and in its category's feeds, and
    parsing HTML is most of the validator's time."""
    scan = _scan_html(value)
    return tuple(scan.findings), tuple(scan.refs)


def _html_problems(value: str, check_relative: bool) -> Iterator[tuple[str, str]]:
    """(code, message) pairs for an escaped-HTML value.

    ``ContainsRelRef``: the W3C check looks at ``<a href>`` and ``<img src>``; this one looks at
    every ``href``/``src``/``poster`` (stricter). A reference is relative unless it starts with
    ``scheme:`` — so ``#top`` and ``//host/x`` count as relative. ``javascript:`` URLs are reported
    as ``SecurityRisk`` (stricter: the W3C service treats them as absolute and says nothing).
    """
    findings, refs = _scan_cached(value)
    yield from findings
    for tag, attr, ref in refs:
        ref = ref.strip()
        if _UNSAFE_SCHEME.match(ref):
            yield "SecurityRisk", f"{ref.split(':', 1)[0]}: URL in {attr} of <{tag}>"
        elif check_relative and not re.match(r"\w+:", ref):
            bad = next((c for c in ref if ord(c) < 128 and not _URI_CHAR.match(c)), None)
            if bad is not None:
                yield "InvalidUriChar", f"invalid character {bad!r} in {attr}={ref!r}"
            else:
                yield "ContainsRelRef", f"relative URL reference {attr}={ref!r} on <{tag}>"


_END_TAG = re.compile(r"</(\w+)>")
_ENTITY_LIKE = re.compile(r"&(#?\w+)")
_RSS_PROFILE_MARKUP = re.compile(r"&#[x0-9]|<[/a-zA-Z]")


def _nonhtml_problem(value: str, hex_escaped: Callable[[], bool], rss2: bool,
                     code: str) -> str | None:
    """The W3C ``nonhtml`` rule for plain-text elements (titles, channel description, ...).

    An HTML end tag (``</b>``) or an HTML entity left in the *decoded* text (``&amp;amp;`` in the
    XML) is ``code`` (ContainsHTML / ContainsUndeclaredHTML). In RSS 2.0 only, ``<`` followed by a
    letter or ``/``, or ``&#`` + digit, in decoded text is ``CharacterData`` (an RSS Profile
    rule) unless the source line used a hex character reference (``&#x3C;``). ``hex_escaped``
    is only called when needed, since it looks at the raw source.
    """
    if any(tag.lower() in _HTML_TAGS for tag in _END_TAG.findall(value)):
        return code
    entities = _ENTITY_LIKE.findall(value)
    if entities:
        for ent in entities:
            if ent in name2codepoint or ent == "apos" or not ent.isalpha():
                return None if hex_escaped() else code
        return None
    if rss2 and _RSS_PROFILE_MARKUP.search(value) and not hex_escaped():
        return "CharacterData"
    return None
