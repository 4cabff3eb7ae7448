"""Check built feeds the way the W3C Feed Validator (github.com/w3c/feedvalidator) does.

The project's definition of *valid* is "the W3C validator reports no error and no warning". That
service cannot run here (it needs the network and Python 2-era dependencies), so this module
re-implements the checks it makes that matter for the feeds feedkit writes: RSS 2.0 and Atom 1.0
from feedgen, plus JSON Feed 1.1 (which the W3C service does not know, so those checks follow the
JSON Feed spec and reuse the W3C message names where one fits).

Every :class:`Problem` carries the W3C message name (``code``) so a failure can be looked up in the
validator's docs (``docs/error/<code>.html`` or ``docs/warning/<code>.html``), and the W3C
severity. A few checks are deliberately *stricter* than the W3C service; their docstrings and
messages say so. Nothing here touches the network or resolves external entities.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from html.entities import name2codepoint
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import quote, unquote, urljoin, urlsplit

from lxml import etree

__all__ = ["MAX_FEED_BYTES", "Problem", "validate_dir", "validate_feed"]

#: The W3C service refuses (``ValidatorLimit``, an error) anything longer than this many bytes.
MAX_FEED_BYTES = 5_000_000

ATOM_NS = "http://www.w3.org/2005/Atom"
CONTENT_NS = "http://purl.org/rss/1.0/modules/content/"
DC_NS = "http://purl.org/dc/elements/1.1/"
DCTERMS_NS = "http://purl.org/dc/terms/"
MEDIA_NS = "http://search.yahoo.com/mrss/"
XHTML_NS = "http://www.w3.org/1999/xhtml"
XML_NS = "http://www.w3.org/XML/1998/namespace"
JSONFEED_11 = "https://jsonfeed.org/version/1.1"
JSONFEED_10 = "https://jsonfeed.org/version/1"

# Namespaces the W3C validator knows, with the prefix it expects for each. A declaration of any
# other namespace gets ``UnknownNamespace``; binding one of these prefixes to a different URI gets
# ``ReservedPrefix``.
KNOWN_NAMESPACES: dict[str, str] = {
    "http://www.bloglines.com/about/specs/fac-1.0": "access",
    "http://webns.net/mvcb/": "admin",
    "http://purl.org/rss/1.0/modules/aggregation/": "ag",
    "http://purl.org/rss/1.0/modules/annotate/": "annotate",
    "http://www.w3.org/2007/app": "app",
    "http://media.tangent.org/rss/1.0/": "audio",
    "http://backend.userland.com/blogChannelModule": "blogChannel",
    "http://web.resource.org/cc/": "cc",
    "http://www.microsoft.com/schemas/rss/core/2005": "cf",
    "http://backend.userland.com/creativeCommonsRssModule": "creativeCommons",
    "http://purl.org/rss/1.0/modules/company": "company",
    CONTENT_NS: "content",
    "http://conversationsnetwork.org/rssNamespace-1.0/": "conversationsNetwork",
    "http://my.theinfo.org/changed/1.0/rss/": "cp",
    DC_NS: "dc",
    DCTERMS_NS: "dcterms",
    "http://purl.org/rss/1.0/modules/email/": "email",
    "http://purl.org/rss/1.0/modules/event/": "ev",
    "http://purl.org/syndication/history/1.0": "fh",
    "http://www.w3.org/2003/01/geo/wgs84_pos#": "geo",
    "http://geourl.org/rss/module/": "geourl",
    "http://www.georss.org/georss": "georss",
    "http://www.opengis.net/gml": "gml",
    "http://postneo.com/icbm": "icbm",
    "http://purl.org/rss/1.0/modules/image/": "image",
    "urn:atom-extension:indexing": "indexing",
    "http://www.itunes.com/dtds/podcast-1.0.dtd": "itunes",
    "http://rssnamespace.org/feedburner/ext/1.0": "feedburner",
    "http://xmlns.com/foaf/0.1/": "foaf",
    "http://purl.org/rss/1.0/modules/link/": "l",
    MEDIA_NS: "media",
    "http://www.w3.org/1998/Math/MathML": "mathml",
    "http://a9.com/-/spec/opensearchrss/1.0/": "opensearch10",
    "http://a9.com/-/spec/opensearch/1.1/": "opensearch",
    "http://www.opml.org/spec2": "opml",
    "http://www.w3.org/1999/02/22-rdf-syntax-ns#": "rdf",
    "http://www.w3.org/2000/01/rdf-schema#": "rdfs",
    "http://purl.org/rss/1.0/modules/reference/": "ref",
    "http://purl.org/rss/1.0/modules/richequiv/": "reqv",
    "http://purl.org/rss/1.0/modules/rss091#": "rss091",
    "http://purl.org/rss/1.0/modules/search/": "search",
    "http://purl.org/rss/1.0/modules/slash/": "slash",
    "http://purl.org/rss/1.0/modules/servicestatus/": "ss",
    "http://hacks.benhammersley.com/rss/streaming/": "str",
    "http://purl.org/rss/1.0/modules/subscription/": "sub",
    "http://feedsync.org/2007/feedsync": "sx",
    "http://www.w3.org/2000/svg": "svg",
    "http://purl.org/rss/1.0/modules/syndication/": "sy",
    "http://purl.org/rss/1.0/modules/taxonomy/": "taxo",
    "http://purl.org/rss/1.0/modules/threading/": "thr",
    "http://purl.org/syndication/thread/1.0": "thr",
    "http://madskills.com/public/xml/rss/module/trackback/": "trackback",
    "http://wellformedweb.org/CommentAPI/": "wfw",
    "http://purl.org/rss/1.0/modules/wiki/": "wiki",
    "http://www.usemod.com/cgi-bin/mb.pl?ModWiki": "wiki",
    "http://schemas.xmlsoap.org/soap/envelope/": "soap",
    ATOM_NS: "atom",
    XHTML_NS: "xhtml",
    "http://my.netscape.com/rdf/simple/0.9/": "rss090",
    "http://purl.org/rss/1.0/": "rss1",
    "http://purl.org/net/rss1.1#": "rss11",
    "http://base.google.com/ns/1.0": "g",
    XML_NS: "xml",
    "http://openid.net/xmlns/1.0": "openid",
    "http://www.w3.org/1999/xlink": "xlink",
}
_RESERVED_PREFIXES = {prefix: uri for uri, prefix in KNOWN_NAMESPACES.items()}
_RESERVED_PREFIXES["thr"] = "http://purl.org/syndication/thread/1.0"
_RESERVED_PREFIXES["wiki"] = "http://purl.org/rss/1.0/modules/wiki/"

# W3C severities: these message classes derive from ``Warning``; every other code is an error.
_WARNING_CODES = frozenset({
    "AtomLinkNotEmpty", "AttrNotBlank", "AvoidNamespacePrefix", "AvoidTextInput", "BadCharacters",
    "CharacterData", "ContainsEmail", "ContainsHTML", "ContainsRelRef", "ContainsUndeclaredHTML",
    "DangerousStyleAttr", "DuplicateEnclosure", "DuplicateEntries", "DuplicateItemSemantics",
    "DuplicateSemantics", "DuplicateUpdated", "EmailFormat", "EncodingMismatch",
    "FeedHistoryRelInEntry", "ImageLinkDoesntMatch", "ImageTitleDoesntMatch", "ImageUrlFormat",
    "ImplausibleDate", "MisplacedItem", "MissingAtomSelfLink", "MissingGuid", "MissingRealName",
    "MissingSelf", "MissingTextualContent", "MissingTypeAttr", "NeedDescriptionBeforeContent",
    "NonCanonicalURI", "NonSpecificMediaType", "NotBlank", "NotHtml", "NotSufficientlyUnique",
    "ObscureEncoding", "ObsoleteVersion", "ProblematicalRFC822Date", "RelativeSelf",
    "ReservedPrefix", "SchemeNotIANARegistered", "SecurityRisk", "SecurityRiskAttr",
    "SelfDoesntMatchLocation", "SelfNotAtom", "UnexpectedContentType", "UnknownNamespace",
    "UnregisteredAtomLinkRel", "UseOfExtensionAttr",
    # feedkit-only checks (no W3C counterpart), reported as warnings:
    "StaleFeedDate", "DuplicateFeedId", "MissingRecommendedElement", "UndefinedJSONMember",
    "Deprecated",
})


@dataclass(frozen=True)
class Problem:
    """One finding: where (``file[:line[:element path]]`` or ``file:$.json.path``), what, how bad.

    ``code`` is the W3C Feed Validator message name the check corresponds to, so the validator's
    own documentation explains it; ``severity`` is ``"error"`` or ``"warning"`` as the W3C service
    would rate it. The project's rule counts both as failures.
    """

    path: str
    message: str
    severity: str  # "error" | "warning"
    code: str

    def __str__(self) -> str:
        return f"{self.path}: {self.severity}: {self.message} [{self.code}]"

    @property
    def accepted(self) -> bool:
        """A finding feedkit reports but does not fail on: see :data:`ACCEPTED_CODES`."""
        return self.code in ACCEPTED_CODES


# Warnings that are the honest result of the data, not a defect to fix: a source that gives
# only dates makes several entries share ``atom:updated``; inventing distinct times to silence
# the W3C validator's DuplicateUpdated would publish times no source gave (issue 9).
ACCEPTED_CODES = frozenset({"DuplicateUpdated"})


def _severity(code: str) -> str:
    return "warning" if code in _WARNING_CODES else "error"


# --------------------------------------------------------------------------------------------
# Reference data (ISO 639, HTML vocabularies, URI schemes, link relations)
# --------------------------------------------------------------------------------------------

def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# ISO 639-1 two-letter codes; the W3C check looks only at the primary subtag (before the first
# "-"), case-insensitively, so "ko-KR" passes and "ko_KR" (an underscore, POSIX-locale style)
# fails with InvalidLanguage.
_ISO639_1 = _words(
    "aa ab ae af ak am an ar as av ay az ba be bg bh bi bm bn bo br bs ca ce ch co cr cs cu cv cy "
    "da de dv dz ee el en eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi ho hr ht hu "
    "hy hz ia id ie ig ii ik io is it iu ja jv ka kg ki kj kk kl km kn ko kr ks ku kv kw ky la lb "
    "lg li ln lo lt lu lv mg mh mi mk ml mn mo mr ms mt my na nb nd ne ng nl nn no nr nv ny oc oj "
    "om or os pa pi pl ps pt qu rm rn ro ru rw sa sc sd se sg sh si sk sl sm sn so sq sr ss st su "
    "sv sw ta te tg th ti tk tl tn to tr ts tt tw ty ug uk ur uz ve vi vo wa wo xh yi yo za zh zu "
    "x xx"
)

# Every tag the W3C HTML check recognises; anything else is ``NotHtml`` ("Non-html tag").
_HTML_TAGS = _words(
    "a abbr acronym address applet area article aside audio b base basefont bdi bdo big "
    "blockquote body br button canvas caption center cite code col colgroup command data datagrid "
    "datalist dd del details dfn dialog dir div dl dt em eventsource fieldset figcaption figure "
    "font footer form frame frameset h1 h2 h3 h4 h5 h6 head header hgroup hr html i iframe img "
    "input ins isindex kbd label legend li link m main map mark menu meta meter nav noframes "
    "noscript object ol optgroup option output p param picture pre progress q rp rt ruby s samp "
    "script section select slot small source span strike strong style sub summary sup table "
    "tbody td template textarea tfoot th thead time title tr track tt u ul var xmp plaintext "
    "embed comment listing video wbr"
)
# Tags the W3C check accepts; a recognised tag outside this set is ``SecurityRisk``
# (script, iframe, object, embed, style, link, meta, base, form-less frames, html/head/body...).
_SAFE_ELEMENTS = _words(
    "a abbr acronym address area article aside audio b bdi big blockquote br button canvas "
    "caption center cite code col colgroup command data datagrid datalist dd del details dfn "
    "dialog dir div dl dt em eventsource fieldset figcaption figure footer font form header h1 h2 "
    "h3 h4 h5 h6 hgroup hr i img input ins keygen kbd label legend li m main map mark menu meter "
    "multicol nav nextid ol output optgroup option p picture pre progress q rp rt ruby s samp "
    "section select small sound source spacer span strike strong sub summary sup table tbody td "
    "template textarea time tfoot th thead tr track tt u ul var video noscript wbr"
)
# Attributes the W3C check accepts (plus ``data-*``); anything else, including every ``on*``
# event handler and ``aria-*``/``role``, is ``SecurityRiskAttr``.
_SAFE_ATTRS = _words(
    "abbr accept accept-charset accesskey action align allow allowfullscreen "
    "allowpaymentrequest alt as autoplay autocapitalize autocomplete autofocus axis background "
    "balance bgcolor bgproperties border bordercolor bordercolordark bordercolorlight "
    "bottompadding cellpadding cellspacing ch challenge char charoff choff charset checked cite "
    "class clear color cols colspan compact contenteditable coords crossorigin data datafld "
    "datapagesize datasrc datetime decoding default delay dir dirname disabled download "
    "draggable dynsrc enctype end enterkeyhint face for form formenctype frame galleryimg gutter "
    "headers height hidefocus hidden high href hreflang hspace icon id inputmode is ismap itemid "
    "itemprop itemref itemscope itemtype kind keytype label lang leftspacing loading list "
    "longdesc loop loopcount loopend loopstart low lowsrc max maxlength media method min "
    "minlength multiple muted name nohref nonce noshade nowrap open optimum pattern ping "
    "placeholder playsinline point-size poster preload prompt pqg radiogroup readonly "
    "referrerpolicy rel repeat-max repeat-min replace required rev reversed rightspacing rows "
    "rowspan rules scope selected shape size sizes span spellcheck src srclang srcset start step "
    "summary suppress tabindex target template title toppadding translate type unselectable "
    "usemap urn valign value variable volume vspace vrml width wrap xml:lang xmlns"
)
_SAFE_CSS_PROPERTIES = _words(
    "azimuth background background-color border border-bottom border-bottom-color "
    "border-bottom-style border-bottom-width border-collapse border-color border-left "
    "border-left-color border-left-style border-left-width border-right border-right-color "
    "border-right-style border-right-width border-spacing border-style border-top "
    "border-top-color border-top-style border-top-width border-width clear color cursor "
    "direction display elevation float font font-family font-size font-style font-variant "
    "font-weight height letter-spacing line-height list-style-type margin margin-bottom "
    "margin-left margin-right margin-top overflow padding padding-bottom padding-left "
    "padding-right padding-top pause pause-after pause-before pitch pitch-range richness speak "
    "speak-header speak-numeral speak-punctuation speech-rate stress text-align text-decoration "
    "text-indent unicode-bidi vertical-align voice-family volume white-space width"
)
_SAFE_CSS_KEYWORDS = _words(
    "aqua auto black block blue bold both bottom brown center collapse dashed dotted fuchsia "
    "gray green !important italic left lime maroon medium none navy normal nowrap olive pointer "
    "purple red right solid silver teal top transparent underline white yellow"
)
_VOID_ELEMENTS = _words(
    "area base basefont bgsound br col command embed frame hr img input isindex keygen link "
    "meta param source track wbr"
)
# Elements whose end tag HTML lets you omit; leaving these open is not a parse error.
_OPTIONAL_END = _words(
    "p li dt dd rb rt rtc rp optgroup option colgroup caption thead tbody tfoot tr td th "
    "html head body"
)
# A start tag of one of these closes an open <p> (HTML's "close a p element" rule).
_P_CLOSERS = _words(
    "address article aside blockquote center details dialog dir div dl fieldset figcaption "
    "figure footer form h1 h2 h3 h4 h5 h6 header hgroup hr main menu nav ol p pre section "
    "summary table ul li dd dt listing plaintext xmp"
)
_P_SCOPE = _words("button table td th caption html marquee object applet template")
# (closes, stop at) pairs for the other implied-end-tag rules.
_IMPLIED_CLOSE: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "li": (frozenset({"li"}), frozenset({"ul", "ol", "menu", "table"})),
    "dt": (frozenset({"dt", "dd"}), frozenset({"dl", "table"})),
    "dd": (frozenset({"dt", "dd"}), frozenset({"dl", "table"})),
    "td": (frozenset({"td", "th"}), frozenset({"tr", "table"})),
    "th": (frozenset({"td", "th"}), frozenset({"tr", "table"})),
    "tr": (frozenset({"tr", "td", "th"}), frozenset({"tbody", "thead", "tfoot", "table"})),
    "tbody": (frozenset({"tbody", "thead", "tfoot", "tr", "td", "th"}), frozenset({"table"})),
    "thead": (frozenset({"tbody", "thead", "tfoot", "tr", "td", "th"}), frozenset({"table"})),
    "tfoot": (frozenset({"tbody", "thead", "tfoot", "tr", "td", "th"}), frozenset({"table"})),
    "option": (frozenset({"option"}), frozenset({"select", "datalist", "optgroup"})),
    "optgroup": (frozenset({"option", "optgroup"}), frozenset({"select"})),
    "rt": (frozenset({"rt", "rp"}), frozenset({"ruby"})),
    "rp": (frozenset({"rt", "rp"}), frozenset({"ruby"})),
}

_IANA_SCHEMES = _words(
    "ftp http gopher mailto news nntp telnet wais file prospero z39.50s z39.50r cid mid vemmi "
    "service imap nfs acap rtsp tip pop data dav opaquelocktoken sip sips tel fax modem ldap "
    "https soap.beep soap.beeps xmlrpc.beep xmlrpc.beeps urn go h323 ipp tftp mupdate pres im "
    "mtqp iris.beep dict snmp crid tag dns info aaa aaas cap iax icap iris iris.xpc iris.xpcs "
    "iris.lwz msrp msrps shttp thismessage tv xmpp"
)
_ATOM_LINK_RELS = _words(
    "alternate current describedby edit edit-media enclosure first hub last license next "
    "next-archive payment prev-archive previous related replies search self service up "
    "via"
)
_FEED_HISTORY_RELS = _words(
    "current first last next next-archive prev-archive previous"
)
_SELF_TYPES = ("application/atom+xml", "application/rss+xml", "application/rdf+xml")

_RSS_CHANNEL_CHILDREN = _words(
    "title link description language copyright managingEditor webMaster pubDate lastBuildDate "
    "category generator docs cloud ttl image rating textInput skipHours skipDays item"
)
_RSS_CHANNEL_SINGLES = _words(
    "title link description language copyright managingEditor webMaster pubDate lastBuildDate "
    "generator docs cloud ttl image rating textInput skipHours skipDays"
)
_RSS_ITEM_CHILDREN = _words(
    "title link description author category comments enclosure guid pubDate source"
)
_RSS_ITEM_SINGLES = _words("title link description author comments guid pubDate source")
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

# --------------------------------------------------------------------------------------------
# Value checks (each returns the W3C code of the failure, or None when the value is fine)
# --------------------------------------------------------------------------------------------

_URI_CHAR = re.compile(r"[0-9a-zA-Z;/?:@&=+$.\-_!~*'()%,#]")
_FULL_URI = re.compile(r"[a-zA-Z][0-9a-zA-Z+\-.]*:(//)?[0-9a-zA-Z;/?:@&=+$.\-_!~*'()%,#]+\Z")
_REL_URI = re.compile(
    r"([a-zA-Z][0-9a-zA-Z+\-.]*:)?/{0,2}(\[[0-9A-Fa-f:]+\])?[0-9a-zA-Z;/?:@&=+$.\-_!~*'()%,#]*\Z")
_TAG_URI = re.compile(
    r"tag:([a-z0-9\-._]+?@)?[a-z0-9.\-]+?,\d{4}(-\d{2}(-\d{2})?)?:"
    r"[0-9a-zA-Z;/?:@&=+$.\-_!~*'()%,]*(#[0-9a-zA-Z;/?:@&=+$.\-_!~*'()%,]*)?\Z")
_URN = re.compile(r"[Uu][Rr][Nn]:[a-zA-Z0-9][a-zA-Z0-9-]{1,31}:([a-zA-Z0-9()+,.:=@;$_!*'\-]"
                  r"|%[0-9A-Fa-f]{2})+\Z")
_UUID_URN = re.compile(r"[Uu][Rr][Nn]:[Uu][Uu][Ii][Dd]:[a-fA-F0-9]{8}-[a-fA-F0-9]{4}-"
                       r"[a-fA-F0-9]{4}-[a-fA-F0-9]{4}-[a-fA-F0-9]{12}\Z")
_HTTP_URL = re.compile(
    r"https?://(([0-9]{1,3}\.){3}[0-9]{1,3}|([A-Z0-9\-]+\.)+[A-Z0-9][-A-Z0-9]*)(:\d+)?(/|\Z)",
    re.IGNORECASE)
_MIME_TOKEN = r"[^\s()<>,;:\\\"/\[\]?=]+"
_MIME = re.compile(
    rf"{_MIME_TOKEN}/{_MIME_TOKEN}(\s*;\s*{_MIME_TOKEN}=(\"(\\\"|[^\"])*\"|{_MIME_TOKEN}))*\Z")
_EMAIL = re.compile(
    r"[A-Z0-9_\-+.']+@(([0-9]{1,3}\.){3}|([A-Z0-9\-]+\.)+)[A-Z0-9][-A-Z0-9]*\Z", re.IGNORECASE)
_SIMPLE_EMAIL = re.compile(r"[\w.%+-]+@[A-Za-z][\w.-]+\Z")


def _uri_problem(value: str, full: bool, error: str) -> str | None:
    """Check one URI (reference) the way the W3C ``rfc2396``/``rfc2396_full`` rules do.

    ``full`` demands a scheme (an absolute URI). ``tag:`` and ``urn:`` get their own grammars;
    ``http``/``https``/``ftp`` need ``scheme://host``. Non-ASCII is not a URI character: an IRI
    where a URL is expected is ``UriNotIri`` — so Korean path segments must be percent-encoded.
    """
    scheme = value.split(":", 1)[0].lower() if ":" in value else ""
    if scheme == "tag":
        return None if _TAG_URI.match(value) else "InvalidTAG"
    if scheme == "urn":
        if value.lower().startswith("urn:uuid:") and not _UUID_URN.match(value):
            return "InvalidUUID"
        return None if _URN.match(value) else "InvalidURN"
    pattern = _FULL_URI if full else _REL_URI
    if not pattern.match(value):
        for ch in value:
            if ord(ch) < 128 and not _URI_CHAR.match(ch):
                return "InvalidUriChar"
        if any(ord(ch) >= 128 for ch in value):
            return "UriNotIri"
        return error
    if scheme in ("http", "https", "ftp") and not re.match(r"\w+://[^/]", value):
        return error
    if scheme and scheme.isalpha() and scheme not in _IANA_SCHEMES:
        return "SchemeNotIANARegistered"
    return None


def _iri_to_uri(value: str) -> str:
    """Percent-encode the non-ASCII characters of an IRI (RFC 3987 section 3.1)."""
    if value.isascii():
        return value
    return "".join(ch if ord(ch) < 128 else quote(ch, safe="") for ch in value)


def _is_http_url(value: str) -> bool:
    return bool(_HTTP_URL.match(value)) and bool(_FULL_URI.match(value))


def _mime_ok(value: str) -> bool:
    return bool(_MIME.match(value))


def _language_ok(value: str) -> bool:
    """ISO 639 primary subtag, as the W3C check does (3-letter codes are accepted unchecked)."""
    primary = value.split("-", 1)[0].lower()
    if primary in _ISO639_1:
        return True
    return len(primary) == 3 and primary.isascii() and primary.isalpha()


_UNRESERVED_SUBDELIMS_PCHAR = "-._~!$&'()*+,;=:@"
_DEFAULT_PORT = {"http": 80, "https": 443, "ftp": 21}
_URI_PARTS = re.compile(r"(([^:/?#]+):)?(//([^/?#]*))?([^?#]*)(\?([^#]*))?(#(.*))?\Z", re.S)


def _requote(part: str, safe: str) -> str:
    """Decode every %XX and re-encode with ``safe``: the canonical spelling of a component."""
    if not re.fullmatch(r"([^%]|%[0-9A-Fa-f]{2})*", part):
        raise ValueError(part)
    decoded = unquote(part, errors="strict")
    return quote(unicodedata.normalize("NFC", decoded), safe=safe)


def _remove_dot_segments(path: str) -> str:
    out: list[str] = []
    segments = path.split("/")
    for i, seg in enumerate(segments):
        last = i == len(segments) - 1
        if seg == ".":
            if last:
                out.append("")
        elif seg == "..":
            if len(out) > 1 or (out and out[0]):
                out.pop()
            if last:
                out.append("")
        else:
            out.append(seg)
    return "/".join(out)


def canonical_uri(value: str) -> str | None:
    """RFC 3986 normal form (lower-case scheme/host, no default port, ``/`` for an empty path,
    no dot segments, one spelling per character). ``None`` for a relative or broken reference.

    The W3C validator warns ``NonCanonicalURI`` when an Atom ``id`` differs from this, and uses it
    to compare a ``self`` link with the document's location. Note ``https://example.org`` is not
    canonical: it needs the trailing slash.
    """
    m = _URI_PARTS.match(value)
    if not m or m.group(2) is None:
        return None
    scheme = m.group(2).lower()
    try:
        if m.group(3) is not None:
            auth = m.group(4)
            userinfo, _, hostport = auth.rpartition("@")
            host, port = hostport.lower(), ""
            pm = re.search(r":(\d*)\Z", host)
            if pm:
                host, port = host[: pm.start()], pm.group(1)
            if host.endswith(".") and host.count(".") > 1:
                host = host[:-1]
            if port and int(port) != _DEFAULT_PORT.get(scheme):
                host = f"{host}:{int(port)}"
            authority = f"{userinfo}@{host}" if userinfo and userinfo != ":" else host
            path = _remove_dot_segments(m.group(5)) or "/"
            path = "/".join(_requote(seg, _UNRESERVED_SUBDELIMS_PCHAR) for seg in path.split("/"))
            result = f"{scheme}://{authority}{path}"
        else:
            result = f"{scheme}:{_requote(m.group(5), _UNRESERVED_SUBDELIMS_PCHAR + '/')}"
        if m.group(6) is not None:
            result += "?" + _requote(m.group(7), _UNRESERVED_SUBDELIMS_PCHAR + "/?")
        if m.group(8) is not None:
            result += "#" + _requote(m.group(9), _UNRESERVED_SUBDELIMS_PCHAR + "/?")
    except (ValueError, UnicodeError):
        return None
    return result


def _same_uri(a: str, b: str) -> bool:
    ca, cb = canonical_uri(_iri_to_uri(a)), canonical_uri(_iri_to_uri(b))
    return ca is not None and ca == cb


# --- dates -----------------------------------------------------------------------------------

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_RFC2822 = re.compile(
    r"(?:(Mon|Tue|Wed|Thu|Fri|Sat|Sun), )?(\d\d?) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|"
    r"Dec) (\d\d\d\d) (\d\d):(\d\d)(?::(\d\d))? ([+-]?\d\d[03]0|UT|GMT|EST|EDT|CST|CDT|MST|MDT|"
    r"PST|PDT|Z)\Z")
_RFC822_LENIENT = re.compile(
    r"((mon|tue|wed|thu|fri|sat|sun)\s*,\s*)?\d\d?\s+(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|"
    r"nov|dec)\s+\d\d(\d\d)?\s+\d\d:\d\d(:\d\d)?\s+(([+-]\d\d\d\d)|ut|gmt|est|edt|cst|cdt|mst|"
    r"mdt|pst|pdt|[a-ik-z])?\Z")
_ZONES = {"UT": 0, "GMT": 0, "Z": 0, "EST": -5, "EDT": -4, "CST": -6, "CDT": -5, "MST": -7,
          "MDT": -6, "PST": -8, "PDT": -7}
_RFC3339 = re.compile(r"(\d\d\d\d)-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(\.\d*)?(Z|[+-]\d\d:\d\d)\Z")
# ImplausibleDate: before 1990, or more than ten minutes in the future.
_EARLIEST = datetime(1990, 1, 1, tzinfo=UTC)
_FUTURE_SLACK = timedelta(minutes=10)


def parse_rfc822(value: str) -> tuple[str | None, datetime | None]:
    """Check an RSS date; return (W3C code or None, the instant when it could be read).

    Only ``[Day, ]DD Mon YYYY HH:MM[:SS] zone`` with a four-digit year and a numeric
    (``+0900``) or named zone passes silently; looser forms RFC 822 allows (two-digit year,
    military zones, odd spacing) are ``ProblematicalRFC822Date``; a wrong weekday is
    ``IncorrectDOW``; a future or pre-1990 instant is ``ImplausibleDate``.
    """
    m = _RFC2822.match(value)
    if not m:
        stripped = re.sub(r"\\.", "", value)
        prev = None
        while prev != stripped:
            prev, stripped = stripped, re.sub(r"\([^(]*?\)", " ", stripped)
        if _RFC822_LENIENT.match(stripped.strip().lower()):
            return "ProblematicalRFC822Date", None
        return "InvalidRFC2822Date", None
    dow, day, mon, year, hh, mm, ss, zone = m.groups()
    try:
        when = datetime(int(year), _MONTHS.index(mon) + 1, int(day), int(hh), int(mm),
                        int(ss or 0))
    except ValueError:
        return "InvalidRFC2822Date", None
    if dow and _DAYS[when.weekday()] != dow:
        return "IncorrectDOW", None
    if zone in _ZONES:
        offset = timedelta(hours=_ZONES[zone])
    else:
        sign = -1 if zone.startswith("-") else 1
        digits = zone.lstrip("+-")
        offset = sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    when = when.replace(tzinfo=timezone(offset))
    return (_implausible(when), when)


def parse_rfc3339(value: str) -> tuple[str | None, datetime | None]:
    """Check an Atom/JSON Feed date: ``YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM)``, seconds required,
    upper-case ``T``/``Z`` (what the W3C ``rfc3339`` rule accepts). Returns (code, instant)."""
    m = _RFC3339.match(value)
    if not m:
        return "InvalidRFC3339Date", None
    y, mo, d, hh, mi, ss, frac, zone = m.groups()
    try:
        date(int(y), int(mo), int(d))
    except ValueError:
        return "InvalidRFC3339Date", None
    if int(hh) > 23 or int(mi) > 59 or int(ss) > 60:
        return "InvalidRFC3339Date", None
    if zone == "Z":
        tz = UTC
    else:
        sign = -1 if zone[0] == "-" else 1
        tz = timezone(sign * timedelta(hours=int(zone[1:3]), minutes=int(zone[4:6])))
    micro = int((frac or ".0")[1:7].ljust(6, "0") or 0)
    when = datetime(int(y), int(mo), int(d), int(hh), int(mi), min(int(ss), 59), micro, tz)
    return (_implausible(when), when)


def _implausible(when: datetime) -> str | None:
    if when < _EARLIEST or when > datetime.now(UTC) + _FUTURE_SLACK:
        return "ImplausibleDate"
    return None


# --- HTML (escaped HTML in description, content:encoded, Atom type="html", content_html) -------


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
        elif tag not in _SAFE_ELEMENTS:
            self.note("SecurityRisk", f"<{tag}> tag")
        names = [name for name, _ in attrs]
        if len(set(names)) != len(names):
            self.note("NotHtml", f"duplicate attribute on <{tag}>")
        for name, value in attrs:
            if name == "style":
                if value and _css_unsafe(value):
                    self.note("DangerousStyleAttr", f"style attribute on <{tag}>: {value!r}")
            elif name not in _SAFE_ATTRS and not name.startswith("data-"):
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
        else:
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


def _scan_html(value: str) -> _HtmlScan:
    scan = _HtmlScan()
    if _BARE_LT.search(value):
        scan.note("NotHtml", "bare '<' in HTML (escape it as &lt;)")
    try:
        scan.feed(value)
        scan.close()
    except (AssertionError, ValueError):  # pragma: no cover - HTMLParser is lenient
        scan.note("NotHtml", "unparseable HTML")
    return scan


_UNSAFE_SCHEME = re.compile(r"\s*(javascript|vbscript|livescript|data\s*:\s*text/html)", re.I)


def _html_problems(value: str, check_relative: bool) -> Iterator[tuple[str, str]]:
    """(code, message) pairs for an escaped-HTML value.

    ``ContainsRelRef``: the W3C check looks at ``<a href>`` and ``<img src>``; this one looks at
    every ``href``/``src``/``poster`` (stricter). A reference is relative unless it starts with
    ``scheme:`` — so ``#top`` and ``//host/x`` count as relative. ``javascript:`` URLs are reported
    as ``SecurityRisk`` (stricter: the W3C service treats them as absolute and says nothing).
    """
    scan = _scan_html(value)
    yield from scan.findings
    for tag, attr, ref in scan.refs:
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


def _email_with_name_problem(value: str) -> str | None:
    """RSS ``author``/``managingEditor``/``webMaster`` must read ``addr@example.org (Name)``."""
    if value.startswith("mailto:"):
        value = unquote(value.split(":", 1)[1])
    if value.find("@") > 0:
        if not value.endswith(")"):
            return "EmailFormat" if " " in value else "MissingRealName"
        addr = value.split("(", 1)[0].strip()
        return None if _EMAIL.match(addr) or _SIMPLE_EMAIL.match(addr) else "InvalidContact"
    return "InvalidContact"


# --------------------------------------------------------------------------------------------
# The checker
# --------------------------------------------------------------------------------------------


@dataclass
class _Result:
    """What :func:`validate_dir` needs from each file besides its problems."""

    kind: str | None = None  # "rss" | "atom" | "json" | None (not a feed)
    self_url: str | None = None
    feed_id: str | None = None
    problems: list[Problem] = field(default_factory=list)


class _Checker:
    """Validates one document; ``self.result`` holds problems and facts for cross-file checks."""

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

    # -- entry point ------------------------------------------------------------------------

    def run(self, expected_self_url: str | None, content_type: str | None) -> _Result:
        if len(self.data) > MAX_FEED_BYTES:
            self.add(self.name, "ValidatorLimit",
                     f"feed is {len(self.data):,} bytes; the W3C validator stops at "
                     f"{MAX_FEED_BYTES:,}")
        head = self.data.lstrip(b"\xef\xbb\xbf \t\r\n")
        if head.startswith((b"{", b"[")):
            self.result.kind = "json"
            self._check_json()
        else:
            self._check_xml()
        if self.result.kind and content_type:
            self._check_content_type(content_type)
        if expected_self_url and self.result.kind:
            self.check_self_location(expected_self_url)
        return self.result

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

    def _check_xml(self) -> None:
        declared = self._declared_encoding()
        if declared and declared.upper() not in ("UTF-8", "UTF-16"):
            common = {"US-ASCII", "ISO-8859-1", "EUC-JP", "ISO-8859-2", "ISO-8859-15",
                      "ISO-8859-7", "KOI8-R", "SHIFT_JIS", "WINDOWS-1250", "WINDOWS-1251",
                      "WINDOWS-1252", "WINDOWS-1254", "WINDOWS-1255", "WINDOWS-1256", "GB18030"}
            if declared.upper() not in common:
                self.add(self.name, "ObscureEncoding",
                         f"obscure XML character encoding {declared} (use UTF-8)")
        version = re.match(rb"""\s*<\?xml\s+version\s*=\s*["']([-\w.:]*)["']""", self.data)
        if version and version.group(1) != b"1.0":
            self.add(self.name, "BadXmlVersion", f"XML version {version.group(1).decode()}")
        parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                                 huge_tree=False, remove_comments=False)
        try:
            root = etree.fromstring(self.data, parser)
        except etree.XMLSyntaxError as exc:
            code = "UndefinedNamedEntity" if "Entity" in str(exc) else "SAXError"
            line = exc.lineno or 0
            self.add(f"{self.name}:{line}", code, f"XML parsing error: {exc.msg}")
            head = self.data[:2048]
            self.result.kind = "atom" if b"<feed" in head else "rss" if b"<rss" in head else None
            return
        encoding = root.getroottree().docinfo.encoding or "utf-8"
        try:
            text = self.data.decode(encoding)
        except (LookupError, UnicodeDecodeError):
            text = self.data.decode("utf-8", "replace")
        self.hex_lines = {n for n, line in enumerate(text.split("\n"), 1) if "&#x" in line}
        self._check_characters(text)
        ns, local = _split(root.tag)
        if local == "rss" and ns == "":
            self.result.kind = "rss"
            self.default_ns = ""
            self._scan_namespaces(root, atom=False)
            self._check_rss(root)
        elif local == "feed" and ns == ATOM_NS:
            self.result.kind = "atom"
            self.default_ns = ATOM_NS
            self._scan_namespaces(root, atom=True)
            self._check_atom(root)
        elif local == "feed" and ns == "http://purl.org/atom/ns#":
            self.result.kind = "atom"
            self.flag(root, "ObsoleteNamespace", "Atom 0.3 namespace; use Atom 1.0")
        else:
            self.add(self.name, "NotAFeed", f"root element <{local}> is not <rss> or Atom <feed>")

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

    # -- RSS 2.0 ----------------------------------------------------------------------------

    def _check_rss(self, root: etree._Element) -> None:
        version = root.get("version")
        if version is None:
            self.flag(root, "MissingAttribute", "rss element needs version=\"2.0\"")
        elif version not in ("0.91", "0.92", "2.0"):
            self.flag(root, "InvalidRSSVersion", f"unknown RSS version {version!r}")
        channels = [c for c in root if c.tag == "channel"]
        if not channels:
            self.flag(root, "MissingElement", "Missing rss element: channel")
            return
        for extra in channels[1:]:
            self.flag(extra, "DuplicateElement", "rss contains more than one channel")
        channel = channels[0]
        self._duplicates(channel, _RSS_CHANNEL_SINGLES | {"atom:id", "atom:updated", "dc:date"})
        present: set[str] = set()
        items: list[etree._Element] = []
        self_links: list[etree._Element] = []
        channel_title = channel_link = None
        last_build: datetime | None = None
        misplaced_reported = False
        for child in channel:
            if not isinstance(child.tag, str):
                continue
            label = self._label(child)
            if label == "item":
                items.append(child)
                continue
            present.add(label)
            ns, _local = _split(child.tag)
            if items and not misplaced_reported and (ns == "" or label == "atom:link"):
                self.flag(child, "MisplacedItem", f"{label} appears after the first item; put "
                          "channel elements before all items (RSS Profile)")
                misplaced_reported = True
            if ns == "" and label not in _RSS_CHANNEL_CHILDREN:
                self.flag(child, "UndefinedElement", f"Undefined channel element: {label}")
                continue
            if label == "title":
                channel_title = self._text(child)
                if not channel_title:
                    self.flag(child, "NotBlank", "title should not be blank")
                self._check_nonhtml(child, channel_title)
            elif label == "link":
                channel_link = self._text(child)
                self._check_uri_value(child, channel_link, "link")
            elif label in ("description", "copyright", "category"):
                self._check_nonhtml(child, self._text(child))
            elif label == "language":
                lang = self._text(child)
                if not _language_ok(lang):
                    self.flag(child, "InvalidLanguage",
                              f"language must be an ISO-639 language code: {lang!r}")
            elif label in ("pubDate", "lastBuildDate"):
                when = self._check_date(child, self._text(child), rfc822=True)
                if label == "lastBuildDate":
                    last_build = when
            elif label in ("managingEditor", "webMaster"):
                self._check_person(child)
            elif label == "docs":
                self._check_uri_value(child, self._text(child), "docs", http_only=False)
            elif label == "ttl":
                if not re.fullmatch(r"\d+", self._text(child)) or int(self._text(child)) <= 0:
                    self.flag(child, "InvalidPositiveInteger", "ttl must be a positive integer")
            elif label == "textInput":
                self.flag(child, "AvoidTextInput", "textInput is little supported; avoid it")
            elif label == "atom:link":
                rel = self._check_atom_link(child, in_entry=False)
                if rel == "self":
                    self_links.append(child)
            elif label == "atom:id":
                self._check_uri_value(child, self._text(child), "atom:id", http_only=False)
            elif label == "atom:updated":
                self._check_date(child, self._text(child), rfc822=False)
            elif label == "dc:date":
                pass  # W3CDTF; reported only via DuplicateSemantics below
            elif label == "dc:language":
                lang = self._text(child)
                if not _language_ok(lang):
                    self.flag(child, "InvalidLanguage", f"dc:language {lang!r} is not ISO-639")
        for label in ("title", "link", "description"):
            if label not in present:
                code = {"title": "MissingTitle", "link": "MissingLink",
                        "description": "MissingDescription"}[label]
                self.flag(channel, code, f"Missing channel element: {label}")
        for core, ext in (("managingEditor", "dc:creator"), ("language", "dc:language"),
                          ("pubDate", "dc:date"), ("copyright", "dc:rights"),
                          ("webMaster", "dc:publisher"), ("lastBuildDate", "dcterms:modified"),
                          ("category", "dc:subject")):
            if core in present and ext in present:
                self.flag(channel, "DuplicateSemantics",
                          f"A channel should not include both {core} and {ext}")
        if version == "2.0" and not self_links:
            self.flag(channel, "MissingAtomSelfLink", 'Missing atom:link with rel="self"')
        if self_links:
            self.result.self_url = (self_links[0].get("href") or "").strip() or None
        image = channel.find("image")
        if image is not None:
            self._check_image(image, channel_title, channel_link)
        newest = self._check_rss_items(items)
        if newest and last_build and last_build < newest:
            self.flag(channel.find("lastBuildDate"), "StaleFeedDate",
                      "lastBuildDate is older than the newest item's pubDate (feedkit rule)")
        self._check_media(root)

    def _check_person(self, el: etree._Element) -> None:
        value = self._text(el)
        code = _email_with_name_problem(value)
        label = self._label(el)
        if code == "InvalidContact":
            self.flag(el, code, f"{label} must be an email address like "
                      f"'news@example.org (Name)'; use dc:creator for a plain name: {value!r}")
        elif code:
            self.flag(el, code, f"{label} should read 'news@example.org (Real Name)': {value!r}")

    def _check_image(self, image: etree._Element, title: str | None, link: str | None) -> None:
        found = {self._label(c): c for c in image if isinstance(c.tag, str)}
        for need, code in (("title", "MissingTitle"), ("url", "MissingElement"),
                           ("link", "MissingLink")):
            if need not in found:
                self.flag(image, code, f"Missing image element: {need}")
        if "url" in found:
            url = self._text(found["url"])
            self._check_uri_value(found["url"], url, "image url")
            ext = url.rsplit(".", 1)[-1].lower()
            if re.fullmatch(r"\w+", ext) and ext not in ("jpg", "jpeg", "gif", "png"):
                self.flag(found["url"], "ImageUrlFormat",
                          "image url should end in .jpg, .jpeg, .gif or .png")
        if "link" in found:
            value = self._text(found["link"])
            self._check_uri_value(found["link"], value, "image link")
            if link and value != link:
                self.flag(found["link"], "ImageLinkDoesntMatch",
                          "image link doesn't match channel link")
        if "title" in found:
            value = self._text(found["title"])
            if not value:
                self.flag(found["title"], "NotBlank", "image title should not be blank")
            if title and value != title:
                self.flag(found["title"], "ImageTitleDoesntMatch",
                          "image title doesn't match channel title")
        for dim, limit, code in (("width", 144, "InvalidWidth"), ("height", 400, "InvalidHeight")):
            if dim in found:
                value = self._text(found[dim])
                if not value.isdigit() or not 0 < int(value) <= limit:
                    self.flag(found[dim], code, f"image {dim} must be between 1 and {limit}")

    def _check_rss_items(self, items: list[etree._Element]) -> datetime | None:
        guids: dict[str, etree._Element] = {}
        newest: datetime | None = None
        for item in items:
            self._duplicates(item, _RSS_ITEM_SINGLES | {"content:encoded", "atom:id"})
            present: list[str] = []
            enclosures = 0
            for child in item:
                if not isinstance(child.tag, str):
                    continue
                label = self._label(child)
                ns, _local = _split(child.tag)
                if ns == "" and label not in _RSS_ITEM_CHILDREN:
                    self.flag(child, "UndefinedElement", f"Undefined item element: {label}")
                    present.append(label)
                    continue
                if label == "title":
                    value = self._text(child)
                    if not value:
                        self.flag(child, "NotBlank", "title should not be blank")
                    self._check_nonhtml(child, value)
                elif label in ("link", "comments"):
                    self._check_uri_value(child, self._text(child), label)
                elif label in ("description", "content:encoded"):
                    if label == "content:encoded" and "description" not in present:
                        self.flag(child, "NeedDescriptionBeforeContent",
                                  "put description before content:encoded (RSS Profile)")
                    self._check_html(child, self._text(child, strip=False), relative=True)
                elif label == "guid":
                    self._check_guid(child, guids)
                elif label == "pubDate":
                    when = self._check_date(child, self._text(child), rfc822=True)
                    if when and (newest is None or when > newest):
                        newest = when
                elif label == "author":
                    self._check_person(child)
                elif label == "category":
                    value = self._text(child)
                    if not value:
                        self.flag(child, "NotBlank", "category should not be blank")
                    self._check_nonhtml(child, value)
                elif label == "enclosure":
                    enclosures += 1
                    if enclosures == 2:
                        self.flag(child, "DuplicateEnclosure",
                                  "item contains more than one enclosure")
                    self._check_enclosure(child)
                elif label == "source":
                    url = (child.get("url") or "").strip()
                    if not url:
                        self.flag(child, "MissingAttribute", "Missing source attribute: url")
                    else:
                        self._check_uri_value(child, url, "source url", http_only=False)
                elif label == "atom:link":
                    self._check_atom_link(child, in_entry=True)
                present.append(label)
            if "title" not in present and "description" not in present:
                self.flag(item, "ItemMustContainTitleOrDescription",
                          "item must contain either title or description")
            if "guid" not in present:
                self.flag(item, "MissingGuid", "item should contain a guid element")
            for core, ext in (("author", "dc:creator"), ("category", "dc:subject"),
                              ("pubDate", "dc:date"), ("guid", "atom:id"),
                              ("pubDate", "atom:published"), ("source", "dc:source")):
                if core in present and ext in present:
                    self.flag(item, "DuplicateItemSemantics",
                              f"An item should not include both {core} and {ext}")
        return newest

    def _check_guid(self, el: etree._Element, seen: dict[str, etree._Element]) -> None:
        value = self._text(el)
        permalink_attr = el.get("isPermaLink")
        permalink = True
        if permalink_attr is not None:
            if permalink_attr not in ("true", "false"):
                self.flag(el, "InvalidBooleanAttribute",
                          "isPermaLink attribute of guid must be 'true' or 'false'")
            permalink = permalink_attr == "true"
        if not value:
            self.flag(el, "NotBlank", "guid should not be blank")
        elif permalink:
            code = _uri_problem(value, True, "InvalidHttpGUID")
            if code and code not in ("SchemeNotIANARegistered",):
                self.flag(el, "InvalidHttpGUID", "guid must be a full URL, unless isPermaLink "
                          f"attribute is false: {value!r}")
            elif value.lower().startswith(("tag:", "urn:uuid:")):
                self.flag(el, "InvalidPermalink", f"a {value.split(':')[0]}: guid is not a "
                          "permalink; add isPermaLink=\"false\"")
            elif not _is_http_url(value):
                self.flag(el, "InvalidHttpGUID",
                          f"permalink guid must be an absolute http(s) URL (feedkit rule): "
                          f"{value!r}")
        elif len(value) < 9 and value.isdigit():
            self.flag(el, "NotSufficientlyUnique",
                      f"guid {value!r} is not sufficiently unique")
        if value in seen:
            self.flag(el, "DuplicateValue",
                      f"guid values must not be duplicated within a feed: {value!r}")
        elif value:
            seen[value] = el

    def _check_enclosure(self, el: etree._Element) -> None:
        length = el.get("length")
        if length is None:
            self.flag(el, "MissingAttribute", "Missing enclosure attribute: length "
                      "(use length=\"0\" when unknown)")
        else:
            try:
                n = int(length)
            except ValueError:
                self.flag(el, "InvalidIntegerAttribute",
                          f"length attribute of enclosure must be an integer: {length!r}")
            else:
                if n == -1:
                    self.flag(el, "UseZeroForUnknown", "use length=\"0\", not -1, when unknown")
                elif n < 0:
                    self.flag(el, "InvalidNonNegativeInteger",
                              "enclosure length must be a non-negative integer")
        mime = el.get("type")
        if mime is None:
            self.flag(el, "MissingAttribute", "Missing enclosure attribute: type")
        elif not _mime_ok(mime):
            self.flag(el, "InvalidMIMEAttribute",
                      f"type attribute of enclosure must be a valid MIME type: {mime!r}")
        url = el.get("url")
        if url is None:
            self.flag(el, "MissingAttribute", "Missing enclosure attribute: url")
        elif not _is_http_url(url):
            self.flag(el, "InvalidURLAttribute", f"enclosure url must be a full http(s) URL: "
                      f"{url!r}")

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

    # -- Atom 1.0 ---------------------------------------------------------------------------

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

    def _check_atom(self, root: etree._Element) -> None:
        self._duplicates(root, _ATOM_FEED_SINGLES)
        present: set[str] = set()
        links: list[etree._Element] = []
        entries: list[etree._Element] = []
        feed_updated: datetime | None = None
        feed_updated_el = None
        author_before_entries = False
        misplaced = False
        for child in root:
            if not isinstance(child.tag, str):
                continue
            ns, local = _split(child.tag)
            if ns != ATOM_NS:
                continue  # extension element (namespace checked separately)
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
            for child in entry:
                if not isinstance(child.tag, str):
                    continue
                ns, local = _split(child.tag)
                if ns != ATOM_NS:
                    continue
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

    # -- JSON Feed 1.1 ----------------------------------------------------------------------

    def jflag(self, where: str, code: str, message: str, severity: str | None = None) -> None:
        self.add(f"{self.name}:{where}", code, message, severity)

    def _check_json(self) -> None:
        try:
            doc = json.loads(self.data.decode("utf-8-sig"))
        except UnicodeDecodeError as exc:
            self.add(self.name, "UnicodeError", f"JSON Feed must be UTF-8: {exc.reason}")
            return
        except json.JSONDecodeError as exc:
            self.add(f"{self.name}:{exc.lineno}", "InvalidJSON", f"not valid JSON: {exc.msg}")
            return
        text = self.data.decode("utf-8-sig")
        self._check_characters(text)
        for m in re.finditer(r"\\u00(7[fF]|[89][0-9a-fA-F])", text):
            line = text.count("\n", 0, m.start()) + 1
            self.add(f"{self.name}:{line}", "BadCharacters", f"escape {m.group(0)} is a control "
                     "character")
        if not isinstance(doc, dict):
            self.jflag("$", "NotAFeed", "a JSON Feed is a JSON object")
            return
        version = doc.get("version")
        if version is None:
            self.jflag("$", "MissingElement", "not a JSON Feed: missing version "
                       f"(expected {JSONFEED_11!r})")
            return
        if version == JSONFEED_10:
            self.jflag("$.version", "ObsoleteVersion", f"JSON Feed 1.0; use {JSONFEED_11}")
        elif version != JSONFEED_11:
            self.jflag("$.version", "InvalidJSONFeedVersion", f"unknown version {version!r}")
        known = {"version", "title", "home_page_url", "feed_url", "description", "user_comment",
                 "next_url", "icon", "favicon", "author", "authors", "language", "expired",
                 "hubs", "items"}
        for key in doc:
            if key not in known and not key.startswith("_"):
                self.jflag(f"$.{key}", "UndefinedJSONMember",
                           f"unknown member {key!r} (extensions must start with '_')")
        title = doc.get("title")
        if not isinstance(title, str) or not title.strip():
            self.jflag("$.title", "MissingElement", "Missing feed member: title")
        for key in ("home_page_url", "feed_url", "next_url", "icon", "favicon"):
            if key in doc:
                self._json_url(f"$.{key}", doc[key])
        if "home_page_url" not in doc:
            self.jflag("$", "MissingRecommendedElement", "home_page_url is strongly recommended")
        feed_url = doc.get("feed_url")
        if feed_url is None:
            self.jflag("$", "MissingSelf", "Missing feed_url (the feed's own address)")
        elif isinstance(feed_url, str):
            self.result.self_url = feed_url
        self._json_language("$.language", doc.get("language"))
        self._json_authors("$", doc)
        if "expired" in doc and not isinstance(doc["expired"], bool):
            self.jflag("$.expired", "InvalidValue", "expired must be true or false")
        items = doc.get("items")
        if not isinstance(items, list):
            self.jflag("$.items", "MissingElement", "Missing feed member: items (an array)")
            return
        seen: set[str] = set()
        for i, item in enumerate(items):
            self._json_item(f"$.items[{i}]", item, seen)

    def _json_url(self, where: str, value: object) -> None:
        if not isinstance(value, str) or not _is_http_url(value):
            self.jflag(where, "InvalidFullLink", f"must be an absolute http(s) URL: {value!r}")
            return
        code = _uri_problem(value, True, "InvalidFullLink")
        if code:
            self.jflag(where, code, f"must be a full and valid URL: {value!r}")

    def _json_language(self, where: str, value: object) -> None:
        if value is not None and (not isinstance(value, str) or not _language_ok(value)):
            self.jflag(where, "InvalidLanguage", f"language must be an RFC 5646 tag like 'ko' "
                       f"or 'ko-KR': {value!r}")

    def _json_date(self, where: str, value: object) -> datetime | None:
        if not isinstance(value, str):
            self.jflag(where, "InvalidRFC3339Date", f"must be an RFC 3339 string: {value!r}")
            return None
        code, when = parse_rfc3339(value)
        if code == "ImplausibleDate":
            self.jflag(where, code, f"implausible date (before 1990 or in the future): {value!r}")
        elif code:
            self.jflag(where, code, f"must be an RFC 3339 date-time: {value!r}")
        return when

    def _json_authors(self, where: str, obj: dict) -> None:
        if "author" in obj:
            self.jflag(f"{where}.author", "Deprecated", "author is deprecated in JSON Feed "
                       "1.1; use authors (an array)")
        authors = obj.get("authors")
        if authors is None:
            return
        if not isinstance(authors, list):
            self.jflag(f"{where}.authors", "InvalidValue", "authors must be an array")
            return
        for j, author in enumerate(authors):
            at = f"{where}.authors[{j}]"
            if not isinstance(author, dict) or not any(
                    isinstance(author.get(k), str) and author.get(k) for k in
                    ("name", "url", "avatar")):
                self.jflag(at, "MissingElement", "an author needs a name, url or avatar")
                continue
            for k in ("url", "avatar"):
                if k in author:
                    self._json_url(f"{at}.{k}", author[k])

    def _json_item(self, where: str, item: object, seen: set[str]) -> None:
        if not isinstance(item, dict):
            self.jflag(where, "InvalidValue", "an item must be an object")
            return
        item_id = item.get("id")
        if item_id is None:
            self.jflag(f"{where}.id", "MissingElement", "Missing item member: id")
        elif not isinstance(item_id, str):
            self.jflag(f"{where}.id", "InvalidValue", f"id must be a string: {item_id!r}")
        elif not item_id.strip():
            self.jflag(f"{where}.id", "NotBlank", "id should not be blank")
        elif item_id in seen:
            self.jflag(f"{where}.id", "DuplicateValue", f"id values must not be duplicated "
                       f"within a feed: {item_id!r}")
        else:
            seen.add(item_id)
        html = item.get("content_html")
        text = item.get("content_text")
        if not (isinstance(html, str) and html) and not (isinstance(text, str) and text):
            self.jflag(where, "MissingTextualContent",
                       "an item needs content_html or content_text", severity="error")
        if isinstance(html, str):
            for code, message in _html_problems(html, check_relative=True):
                self.jflag(f"{where}.content_html", code, message)
        for key in ("url", "external_url", "image", "banner_image"):
            if key in item:
                self._json_url(f"{where}.{key}", item[key])
        for key in ("title", "summary", "content_text"):
            if key in item and not isinstance(item[key], str):
                self.jflag(f"{where}.{key}", "InvalidValue", f"{key} must be a string")
        for key in ("date_published", "date_modified"):
            if key in item:
                self._json_date(f"{where}.{key}", item[key])
        tags = item.get("tags")
        if tags is not None and (not isinstance(tags, list)
                                 or not all(isinstance(t, str) for t in tags)):
            self.jflag(f"{where}.tags", "InvalidValue", "tags must be an array of strings")
        self._json_language(f"{where}.language", item.get("language"))
        self._json_authors(where, item)
        attachments = item.get("attachments")
        if attachments is None:
            return
        if not isinstance(attachments, list):
            self.jflag(f"{where}.attachments", "InvalidValue", "attachments must be an array")
            return
        for j, att in enumerate(attachments):
            at = f"{where}.attachments[{j}]"
            if not isinstance(att, dict):
                self.jflag(at, "InvalidValue", "an attachment must be an object")
                continue
            if "url" not in att:
                self.jflag(at, "MissingAttribute", "Missing attachment member: url")
            else:
                self._json_url(f"{at}.url", att["url"])
            mime = att.get("mime_type")
            if not isinstance(mime, str) or not _mime_ok(mime):
                self.jflag(f"{at}.mime_type", "InvalidMIMEAttribute",
                           f"attachment mime_type must be a MIME type: {mime!r}")
            for k in ("size_in_bytes", "duration_in_seconds"):
                v = att.get(k)
                if v is not None and (isinstance(v, bool) or not isinstance(v, int | float)
                                      or v < 0):
                    self.jflag(f"{at}.{k}", "InvalidNonNegativeInteger",
                               f"{k} must be a non-negative number")


def _split(tag: str) -> tuple[str, str]:
    if tag[0] == "{":
        ns, _, local = tag[1:].partition("}")
        return ns, local
    return "", tag


# --------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------


def validate_feed(data: bytes, name: str, expected_self_url: str | None = None, *,
                  content_type: str | None = None) -> list[Problem]:
    """Validate one feed (RSS 2.0, Atom 1.0 or JSON Feed 1.1, detected from the bytes).

    ``name`` prefixes every problem's path. ``expected_self_url`` is where the feed will be
    published; when given, the self link (``atom:link rel="self"`` / JSON ``feed_url``) must
    name that address (``SelfDoesntMatchLocation``). ``content_type`` is the HTTP Content-Type it
    will be served with, if known (``UnexpectedContentType`` and friends).
    """
    result = _Checker(data, name).run(expected_self_url, content_type)
    return sorted(result.problems, key=_sort_key)


def validate_dir(path: Path, base_url: str | None = None) -> list[Problem]:
    """Validate every ``*.xml`` and ``*.json`` feed under a built output folder.

    XML files that are not feeds (sitemaps, OPML, ...) are skipped; every JSON file must be a JSON
    Feed. Each feed's self link must end with the feed's path inside the folder, and all of them
    must share one public base URL: ``base_url`` if given, else the one the top-level feed
    (``feed.xml``) claims, else the most common. Atom feeds must not share a feed ``id``.
    Each file is read and parsed once. Problems come back sorted by path (file, then line).
    """
    root = Path(path)
    results: dict[str, _Result] = {}
    problems: list[Problem] = []
    for file in candidate_files(root):
        if file.suffix.lower() not in (".xml", ".json"):
            continue
        rel = file.relative_to(root).as_posix()
        data = file.read_bytes()
        if file.suffix.lower() == ".xml" and not _looks_like_feed(data):
            continue
        result = _Checker(data, rel).run(None, None)
        results[rel] = result
        problems.extend(result.problems)
    problems.extend(_cross_checks(results, base_url))
    return sorted(problems, key=_sort_key)


SKIPPED_DIRS = frozenset({"node_modules", "site-packages", "__pycache__"})


def candidate_files(root: Path) -> list[Path]:
    """Every file under ``root``, sorted, skipping hidden folders (``.git``, ``.venv``) and any
    virtual environment (a folder with ``pyvenv.cfg``) or package folder: ``feedkit validate .``
    in a site checks the site's feeds, not the JSON files of the tools installed beside it."""
    import os

    found = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if not d.startswith(".") and d not in SKIPPED_DIRS
                   and not os.path.exists(os.path.join(folder, d, "pyvenv.cfg"))]
        found += [Path(folder) / f for f in files]
    return sorted(found)


def _looks_like_feed(data: bytes) -> bool:
    head = re.sub(rb"<!--.*?-->", b"", data[:4096], flags=re.S)[:2048]
    return any(marker in head for marker in (b"<rss", b"<feed", b"<rdf:RDF", b":feed"))


def _cross_checks(results: dict[str, _Result], base_url: str | None) -> Iterable[Problem]:
    found: list[Problem] = []
    bases: dict[str, str] = {}
    for rel, result in results.items():
        url = result.self_url
        if not url or not result.kind:
            continue
        parts = urlsplit(url)
        if not parts.scheme or not parts.netloc:
            continue  # RelativeSelf / InvalidFullLink already reported
        path = unquote(parts.path)
        if path.endswith("/" + rel):
            base_path = quote(path[: len(path) - len(rel)])
            bases[rel] = f"{parts.scheme}://{parts.netloc}{base_path}"
        else:
            found.append(Problem(rel, f"self link {url!r} does not end with this file's path "
                                 f"{rel!r}", "warning", "SelfDoesntMatchLocation"))
    base = base_url
    if base is None and bases:
        top = [rel for rel in bases if "/" not in rel]
        preferred = next((rel for rel in ("feed.xml", "atom.xml", "feed.json", "index.xml",
                                          "rss.xml") if rel in bases), top[0] if top else None)
        base = bases[preferred] if preferred else Counter(bases.values()).most_common(1)[0][0]
    if base is not None:
        if not base.endswith("/"):
            base += "/"
        for rel in bases:
            expected = urljoin(base, quote(rel))
            if not _same_uri(results[rel].self_url or "", expected):
                found.append(Problem(rel, f"self link {results[rel].self_url!r} is not where "
                                     f"the feed is published ({expected!r})", "warning",
                                     "SelfDoesntMatchLocation"))
    owners: dict[str, str] = {}
    for rel, result in results.items():
        if result.kind == "atom" and result.feed_id:
            if result.feed_id in owners:
                found.append(Problem(rel, f"feed id {result.feed_id!r} is also the id of "
                                     f"{owners[result.feed_id]}; every feed needs its own id",
                                     "warning", "DuplicateFeedId"))
            else:
                owners[result.feed_id] = rel
    return found


def _sort_key(problem: Problem) -> tuple[str, int, str]:
    file, _, rest = problem.path.partition(":")
    m = re.match(r"(\d+)", rest)
    return file, int(m.group(1)) if m else -1, problem.path
