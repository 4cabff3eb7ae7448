"""The kinds of value an element may hold, each with the check the W3C validator makes.

A rule in a format's table (:class:`Rule`) names one of :data:`KINDS`; the walker
(:meth:`feedkit.validate.checker.CheckerBase.walk`) calls that kind's check with the element and
its text (stripped, as the W3C validator normalises it). A kind reports through the checker, so
each problem carries the element's place. Kinds that read an attribute instead of the text
(``rdf_resource``) take it from the element.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from email.utils import getaddresses
from typing import NamedTuple, Protocol
from urllib.parse import unquote

from lxml import etree

from feedkit.validate.dates import parse_w3cdtf
from feedkit.validate.uris import (
    _EMAIL,
    _SIMPLE_EMAIL,
    _iri_to_uri,
    _is_http_url,
    _language_ok,
    _uri_problem,
    canonical_uri,
)

RDF_NS = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"


class Rule(NamedTuple):
    """How one child element is checked where it appears.

    ``kind`` is a key of :data:`KINDS`, or ``"@name"`` for a structured element the format's
    checker handles in its method ``_el_name(el)``. ``single``: a second one is
    ``DuplicateElement`` (or ``dup``). ``nonblank``: an empty value is ``NotBlank``. ``nows``:
    surrounding whitespace is ``UnexpectedWhitespace`` (Atom ids, dates, URIs). ``attrs``: the
    attributes (besides ``xml:*``) the element may carry, ``None`` for any.
    """

    kind: str = "text"
    single: bool = True
    nonblank: bool = False
    nows: bool = False
    attrs: frozenset[str] | None = frozenset()
    dup: str = "DuplicateElement"


def rule(kind: str = "text", *, many: bool = False, nonblank: bool = False, nows: bool = False,
         attrs: str | None = "", dup: str = "DuplicateElement") -> Rule:
    """A :class:`Rule`; ``attrs`` is a space-separated list (``None``: any attribute)."""
    allowed = None if attrs is None else frozenset(attrs.split())
    return Rule(kind, not many, nonblank, nows, allowed, dup)


class CheckerBase(Protocol):
    """What a check needs of the checker (:class:`feedkit.validate.checker.CheckerBase`)."""

    result: _HasKind

    def flag(self, el: etree._Element | None, code: str, message: str) -> None: ...
    def _label(self, el: etree._Element) -> str: ...
    def _value(self, el: etree._Element, strip: bool = True) -> str: ...
    def _check_date(self, el: etree._Element, value: str, rfc822: bool) -> datetime | None: ...
    def _check_html(self, el: etree._Element, value: str, relative: bool) -> None: ...
    def _check_nonhtml(self, el: etree._Element, value: str,
                       code: str = "ContainsHTML") -> None: ...


class _HasKind(Protocol):
    kind: str | None


# -- the checks ----------------------------------------------------------------------------

def _uri(chk: CheckerBase, el: etree._Element, value: str, *, full: bool, iri: bool,
         error: str) -> bool:
    candidate = _iri_to_uri(value) if iri else value
    code = _uri_problem(candidate, full, error)
    if code:
        what = "a full URI" if full else "a URI reference"
        chk.flag(el, code, f"{chk._label(el)} must be {what}: {value!r}")
        return code == "SchemeNotIANARegistered"
    return True


def check_uri_full(chk: CheckerBase, el: etree._Element, value: str) -> None:
    """RSS links, comments, docs: an absolute URI (any scheme, as the W3C ``rfc2396_full``)."""
    _uri(chk, el, value, full=True, iri=False, error="InvalidFullLink")


def check_uri(chk: CheckerBase, el: etree._Element, value: str) -> None:
    """A URI reference, relative allowed (W3C ``rfc2396``)."""
    _uri(chk, el, value, full=False, iri=False, error="InvalidLink")


def check_iri(chk: CheckerBase, el: etree._Element, value: str) -> None:
    """An IRI reference, relative allowed (Atom icon, logo, uri; W3C ``rfc3987``)."""
    _uri(chk, el, value, full=False, iri=True, error="InvalidIRI")


def check_iri_full(chk: CheckerBase, el: etree._Element, value: str) -> None:
    _uri(chk, el, value, full=True, iri=True, error="InvalidFullLink")


def check_id(chk: CheckerBase, el: etree._Element, value: str) -> None:
    """Atom ids (and ``atom:id`` in RSS): a full IRI in RFC 3986 normal form
    (``NonCanonicalURI`` otherwise, compared as written)."""
    if not value:
        chk.flag(el, "InvalidFullLink", f"{chk._label(el)} must not be blank")
        return
    uri = _iri_to_uri(value)
    if _uri_problem(uri, True, "InvalidFullLink"):
        _uri(chk, el, value, full=True, iri=True, error="InvalidFullLink")
        return
    canon = canonical_uri(uri)
    if canon is None or canon != uri:
        chk.flag(el, "NonCanonicalURI", f"identifier {value!r} is not in canonical form "
                 f"(the canonical form would be {canon!r})")


def check_rfc822(chk: CheckerBase, el: etree._Element, value: str) -> None:
    chk._check_date(el, value, rfc822=True)


def check_rfc3339(chk: CheckerBase, el: etree._Element, value: str) -> None:
    chk._check_date(el, value, rfc822=False)


def check_w3cdtf(chk: CheckerBase, el: etree._Element, value: str) -> None:
    code = parse_w3cdtf(value)
    if code:
        chk.flag(el, code, f"{chk._label(el)} must be a W3CDTF date (2024-06-12 or "
                 f"2024-06-12T09:30:00+09:00): {value!r}" if code != "ImplausibleDate" else
                 f"implausible date {value!r} (before 1990 or in the future)")


def check_iso8601(chk: CheckerBase, el: etree._Element, value: str) -> None:
    code = parse_w3cdtf(value, zone_required=False)
    if code:
        chk.flag(el, code, f"{chk._label(el)} must be an ISO 8601 date: {value!r}")


def check_language(chk: CheckerBase, el: etree._Element, value: str) -> None:
    if not _language_ok(value):
        chk.flag(el, "InvalidLanguage", f"{chk._label(el)} must be an ISO-639 language code: "
                 f"{value!r}")


def _email_ok(value: str) -> bool:
    return bool(_EMAIL.match(value) or _SIMPLE_EMAIL.match(value))


def check_addr_spec(chk: CheckerBase, el: etree._Element, value: str) -> None:
    """Atom ``email``: a bare address."""
    if not _email_ok(value):
        chk.flag(el, "InvalidAddrSpec", f"{chk._label(el)} must be an email address: "
                 f"{value!r}")


def check_email(chk: CheckerBase, el: etree._Element, value: str) -> None:
    """An address, possibly with a display name (``Name <addr>``)."""
    check_nonhtml(chk, el, value)
    parsed = getaddresses([value])
    address = parsed[0][1] if len(parsed) == 1 else value
    if not _email_ok(address):
        chk.flag(el, "InvalidContact", f"{chk._label(el)} must be an email address: {value!r}")


def check_email_name(chk: CheckerBase, el: etree._Element, value: str) -> None:
    """RSS ``author``, ``managingEditor``, ``webMaster``: ``addr@example.org (Real Name)``.
    An address without the name in parentheses is the RSS Profile's ``MissingRealName`` (or
    ``EmailFormat`` when some other form of name is there)."""
    if value.startswith("mailto:"):
        value = unquote(value.split(":", 1)[1])
    label = chk._label(el)
    if value.find("@") > 0 and not value.endswith(")"):
        code = "EmailFormat" if value.find(" ") > 0 else "MissingRealName"
        chk.flag(el, code, f"{label} should read 'news@example.org (Real Name)': {value!r}")
        return
    check_nonhtml(chk, el, value)
    parsed = getaddresses([value])
    address = parsed[0][1] if len(parsed) == 1 else value
    if not _email_ok(address):
        chk.flag(el, "InvalidContact", f"{label} must be an email address like "
                 f"'news@example.org (Name)'; use dc:creator for a plain name: {value!r}")


def check_nonhtml(chk: CheckerBase, el: etree._Element, value: str) -> None:
    chk._check_nonhtml(el, value)


def check_html(chk: CheckerBase, el: etree._Element, value: str) -> None:
    chk._check_html(el, chk._value(el, strip=False), relative=True)


def _integer(chk: CheckerBase, el: etree._Element, value: str, least: int | None,
             code: str, what: str) -> None:
    try:
        number = int(value)
    except ValueError:
        number = None
    if number is None or (least is not None and number < least):
        chk.flag(el, code, f"{chk._label(el)} must be {what}: {value!r}")


def check_int(chk: CheckerBase, el: etree._Element, value: str) -> None:
    if value:
        _integer(chk, el, value, None, "InvalidInteger", "an integer")


def check_nonneg(chk: CheckerBase, el: etree._Element, value: str) -> None:
    _integer(chk, el, value, 0, "InvalidNonNegativeInteger", "a non-negative integer")


def check_positive(chk: CheckerBase, el: etree._Element, value: str) -> None:
    _integer(chk, el, value, 1, "InvalidPositiveInteger", "a positive integer")


def _number_in(chk: CheckerBase, el: etree._Element, value: str, limit: float,
               code: str) -> None:
    try:
        ok = -limit <= float(value) <= limit
    except ValueError:
        ok = False
    if not ok:
        chk.flag(el, code, f"{chk._label(el)} must be a number from {-limit:g} to {limit:g}: "
                 f"{value!r}")


def check_latitude(chk: CheckerBase, el: etree._Element, value: str) -> None:
    _number_in(chk, el, value, 90, "InvalidLatitude")


def check_longitude(chk: CheckerBase, el: etree._Element, value: str) -> None:
    _number_in(chk, el, value, 180, "InvalidLongitude")


def check_decimal(chk: CheckerBase, el: etree._Element, value: str) -> None:
    if not re.fullmatch(r"[-+]?(\d+\.?\d*|\.\d+)", value):
        chk.flag(el, "InvalidFloat", f"{chk._label(el)} must be a decimal number: {value!r}")


def check_comma_ints(chk: CheckerBase, el: etree._Element, value: str) -> None:
    if not re.fullmatch(r"\d+(,\s*\d+)*", value):
        chk.flag(el, "InvalidCommaSeparatedIntegers", f"{chk._label(el)} must be integers "
                 f"separated by commas: {value!r}")


def check_update_period(chk: CheckerBase, el: etree._Element, value: str) -> None:
    if value not in ("hourly", "daily", "weekly", "monthly", "yearly"):
        chk.flag(el, "InvalidUpdatePeriod", "sy:updatePeriod must be hourly, daily, weekly, "
                 f"monthly or yearly: {value!r}")


def check_rdf_resource(chk: CheckerBase, el: etree._Element, value: str) -> None:
    """A property whose value is a resource: ``rdf:resource="URI"`` (required in RSS 1.0)."""
    resource = el.get(f"{{{RDF_NS}}}resource")
    if resource is not None:
        _uri(chk, el, resource, full=False, iri=False, error="InvalidLink")
    elif chk.result.kind == "rss1":
        chk.flag(el, "MissingAttribute", f"Missing {chk._label(el)} attribute: rdf:resource")


def check_http_url(chk: CheckerBase, el: etree._Element, value: str) -> None:
    if not _is_http_url(value):
        chk.flag(el, "InvalidURLAttribute", f"{chk._label(el)} must be an http(s) URL: "
                 f"{value!r}")


def check_formname(chk: CheckerBase, el: etree._Element, value: str) -> None:
    if not re.match(r"[a-zA-Z][a-zA-Z0-9:._]*", value):
        chk.flag(el, "InvalidFormComponentName", f"{chk._label(el)} must be a form field name "
                 f"(a letter, then letters, digits, ':', '.', '_'): {value!r}")


def check_truefalse(chk: CheckerBase, el: etree._Element, value: str) -> None:
    if value.lower() not in ("true", "false"):
        chk.flag(el, "InvalidTrueFalse", f"{chk._label(el)} must be true or false: {value!r}")


def check_text(chk: CheckerBase, el: etree._Element, value: str) -> None:
    """Plain text: nothing to check beyond "no child elements" (the walker's job)."""


#: kind name -> check(checker, element, stripped text). ``eat`` accepts anything, children too.
KINDS: dict[str, Callable[[CheckerBase, etree._Element, str], None]] = {
    "text": check_text,
    "nonhtml": check_nonhtml,
    "html": check_html,
    "uri_full": check_uri_full,
    "uri": check_uri,
    "iri": check_iri,
    "iri_full": check_iri_full,
    "id": check_id,
    "rfc822": check_rfc822,
    "rfc3339": check_rfc3339,
    "w3cdtf": check_w3cdtf,
    "iso8601": check_iso8601,
    "language": check_language,
    "addr_spec": check_addr_spec,
    "email": check_email,
    "email_name": check_email_name,
    "int": check_int,
    "nonneg": check_nonneg,
    "positive": check_positive,
    "latitude": check_latitude,
    "longitude": check_longitude,
    "decimal": check_decimal,
    "comma_ints": check_comma_ints,
    "update_period": check_update_period,
    "rdf_resource": check_rdf_resource,
    "http_url": check_http_url,
    "formname": check_formname,
    "truefalse": check_truefalse,
}
#: Kinds whose element may hold child elements (checked by their own rules, or not at all).
NESTED_KINDS = frozenset({"eat", "rdf_resource"})
