"""Reference data the checks share: namespaces, ISO 639, HTML vocabularies, URI schemes,
link relations."""

from __future__ import annotations

ATOM_NS = "http://www.w3.org/2005/Atom"
CONTENT_NS = "http://purl.org/rss/1.0/modules/content/"
DC_NS = "http://purl.org/dc/elements/1.1/"
DCTERMS_NS = "http://purl.org/dc/terms/"
MEDIA_NS = "http://search.yahoo.com/mrss/"
XHTML_NS = "http://www.w3.org/1999/xhtml"
XML_NS = "http://www.w3.org/XML/1998/namespace"

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
# Inline SVG and MathML in Atom xhtml content: the elements and attributes the W3C check (like
# the common feed sanitisers) accepts; anything else is SecurityRisk / SecurityRiskAttr.
SVG_NS = "http://www.w3.org/2000/svg"
MATHML_NS = "http://www.w3.org/1998/Math/MathML"
_SVG_ELEMENTS = _words(
    "a animate animateColor animateMotion animateTransform circle defs desc ellipse font-face "
    "font-face-name font-face-src g glyph hkern linearGradient line marker metadata "
    "missing-glyph mpath path polygon polyline radialGradient rect set stop svg switch text "
    "title tspan use"
)
_SVG_ATTRS = _words(
    "accent-height accumulate additive alphabetic arabic-form ascent attributeName "
    "attributeType baseProfile bbox begin by calcMode cap-height class color color-rendering "
    "content cx cy d dx dy descent display dur end fill fill-opacity fill-rule font-family "
    "font-size font-stretch font-style font-variant font-weight from fx fy g1 g2 glyph-name "
    "gradientUnits hanging height horiz-adv-x horiz-origin-x id ideographic k keyPoints "
    "keySplines keyTimes lang mathematical marker-end marker-mid marker-start markerHeight "
    "markerUnits markerWidth max min name offset opacity orient origin overline-position "
    "overline-thickness panose-1 path pathLength points preserveAspectRatio r refX refY "
    "repeatCount repeatDur requiredExtensions requiredFeatures restart rotate rx ry slope "
    "stemh stemv stop-color stop-opacity strikethrough-position strikethrough-thickness stroke "
    "stroke-dasharray stroke-dashoffset stroke-linecap stroke-linejoin stroke-miterlimit "
    "stroke-opacity stroke-width style systemLanguage target text-anchor to transform type u1 "
    "u2 underline-position underline-thickness unicode unicode-range units-per-em values "
    "version viewBox visibility width widths x x-height x1 x2 xlink:actuate xlink:arcrole "
    "xlink:href xlink:role xlink:show xlink:title xlink:type xml:base xml:lang xml:space y y1 "
    "y2 zoomAndPan"
)
_MATHML_ELEMENTS = _words(
    "annotation annotation-xml maction math merror mfrac mi mmultiscripts mn mo mover mpadded "
    "mphantom mprescripts mroot mrow mspace msqrt mstyle msub msubsup msup mtable mtd mtext "
    "mtr munder munderover none semantics"
)
_MATHML_ATTRS = _words(
    "actiontype align columnalign columnlines columnspacing columnspan depth display "
    "displaystyle encoding equalcolumns equalrows fence fontstyle fontweight frame height "
    "linethickness lspace mathbackground mathcolor mathvariant maxsize minsize other rowalign "
    "rowlines rowspacing rowspan rspace scriptlevel selection separator stretchy width "
    "xlink:href xlink:show xlink:type"
)
