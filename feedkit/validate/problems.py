"""What a check reports: :class:`Problem`, its W3C severity, and the per-file result."""

from __future__ import annotations

from dataclasses import dataclass, field

# The W3C validator's messages are classes in a hierarchy (its ``logging`` module): each name
# below maps to its parent. The roots are ``Error`` and ``Warning`` (both kinds of ``Message``)
# and ``Info`` (notes the W3C service does not show). The hierarchy gives each code its severity,
# and says which codes are a special case of another: the W3C test suite's ``Expect:
# MissingElement`` is met by ``MissingTitle``, and ``!InvalidLink`` forbids ``InvalidFullLink``
# too (see :func:`kind_of`). Only the codes feedkit reports, and their ancestors, are listed.
_E, _W = "Error", "Warning"
W3C_PARENT: dict[str, str] = {
    "Error": "Message", "Warning": "Message",
    # -- errors -----------------------------------------------------------------------------
    "SAXError": _E, "UndefinedNamedEntity": "SAXError", "MissingNamespace": "SAXError",
    "NotInANamespace": "MissingNamespace", "UnicodeError": _E, "InvalidRSSVersion": _E,
    "UndefinedElement": _E, "NoBlink": "UndefinedElement", "NoThrWhen": "UndefinedElement",
    "MissingAttribute": _E,
    "MissingHref": "MissingAttribute", "UnexpectedAttribute": _E, "DuplicateElement": _E,
    "NotEnoughHoursInTheDay": _E, "EightDaysAWeek": _E,
    "InvalidValue": _E, "InvalidContact": "InvalidValue", "InvalidAddrSpec": "InvalidContact",
    "InvalidLink": "InvalidValue", "UriNotIri": "InvalidLink", "InvalidIRI": "InvalidLink",
    "InvalidFullLink": "InvalidLink", "InvalidUriChar": "InvalidLink",
    "InvalidURIAttribute": "InvalidLink", "InvalidURLAttribute": "InvalidURIAttribute",
    "InvalidISO8601Date": "InvalidValue", "InvalidISO8601DateTime": "InvalidValue",
    "InvalidW3CDTFDate": "InvalidISO8601Date", "InvalidRFC2822Date": "InvalidValue",
    "IncorrectDOW": "InvalidRFC2822Date", "InvalidRFC3339Date": "InvalidValue",
    "InvalidIntegerAttribute": "InvalidValue", "InvalidBooleanAttribute": "InvalidValue",
    "InvalidMIMEAttribute": "InvalidValue", "InvalidInteger": "InvalidValue",
    "InvalidNonNegativeInteger": "InvalidInteger", "InvalidPositiveInteger": "InvalidInteger",
    "UseZeroForUnknown": "InvalidNonNegativeInteger", "InvalidWidth": "InvalidValue",
    "InvalidHeight": "InvalidValue", "InvalidHour": "InvalidValue", "InvalidDay": "InvalidValue",
    "InvalidHttpGUID": "InvalidValue", "InvalidLanguage": "InvalidValue",
    "InvalidUpdatePeriod": "InvalidValue", "InvalidTextType": "InvalidValue",
    "InvalidCommaSeparatedIntegers": "InvalidValue", "InvalidFormComponentName": "InvalidValue",
    "DuplicateValue": "InvalidValue", "InvalidURN": "InvalidValue", "InvalidUUID": "InvalidValue",
    "InvalidTAG": "InvalidValue", "NotEscaped": "InvalidValue", "NotBase64": "InvalidValue",
    "InvalidTrueFalse": "InvalidValue", "InvalidFloat": "InvalidValue",
    "InvalidLatitude": _E, "InvalidLongitude": _E,
    "MissingElement": _E, "MissingDescription": "MissingElement", "MissingLink": "MissingElement",
    "MissingTitle": "MissingElement", "ItemMustContainTitleOrDescription": "MissingElement",
    "MissingXhtmlDiv": "MissingElement", "MissingContentOrAlternate": "MissingElement",
    "InvalidDoctype": _E, "DeprecatedDTD": _E, "BadXmlVersion": _E, "DuplicateAtomLink": _E,
    "UnexpectedText": _E, "UnexpectedWhitespace": _E, "ValidatorLimit": _E, "InvalidRDF": _E,
    "MisplacedMetadata": _E, "InvalidPermalink": _E, "InvalidMediaTextType": _E,
    "InvalidMediaMedium": _E, "InvalidMediaExpression": _E, "MediaGroupWithoutAlternatives": _E,
    "MediaRssNamespace": _E, "DuplicateIds": _E, "MissingSummary": _E, "ObsoleteNamespace": _E,
    "InvalidMIMEType": _E, "InvalidNamespace": _E,
    # -- warnings ---------------------------------------------------------------------------
    "UseOfExtensionAttr": _W, "UnknownHost": _W, "UndeterminableVocabulary": _W,
    "AtomLinkNotEmpty": _W, "UnregisteredAtomLinkRel": _W,
    "DuplicateSemantics": _W, "DuplicateItemSemantics": "DuplicateSemantics",
    "DuplicateDescriptionSemantics": "DuplicateSemantics", "ImageLinkDoesntMatch": _W,
    "ImageUrlFormat": _W, "ContainsRelRef": _W, "ReservedPrefix": _W,
    "NotSufficientlyUnique": _W, "ImplausibleDate": _W, "ProblematicalRFC822Date": _W,
    "SecurityRisk": _W, "SecurityRiskAttr": "SecurityRisk",
    "DangerousStyleAttr": "SecurityRiskAttr", "BadCharacters": _W, "ObscureEncoding": _W,
    "UnexpectedContentType": _W, "EncodingMismatch": _W, "NonSpecificMediaType": _W,
    "NonCanonicalURI": _W, "SameDocumentReference": _W, "ContainsEmail": _W,
    "ContainsHTML": _W, "ContainsUndeclaredHTML": "ContainsHTML", "MissingSelf": _W,
    "MissingAtomSelfLink": "MissingSelf", "SelfDoesntMatchLocation": _W, "RelativeSelf": _W,
    "MissingSourceElement": _W, "MissingTypeAttr": _W, "DuplicateEntries": _W,
    "DuplicateUpdated": _W, "NotBlank": _W, "AttrNotBlank": _W, "MissingTextualContent": _W,
    "SelfNotAtom": _W, "DuplicateEnclosure": _W, "MissingGuid": _W,
    "ObsoleteWikiNamespace": _W, "MisplacedXHTMLContent": _W, "SchemeNotIANARegistered": _W,
    "AvoidNamespacePrefix": _W, "UnknownNamespace": _W, "ObsoleteVersion": _W,
    "NotInline": _W, "NotHtml": _W, "HtmlFragment": _W, "FeedHistoryRelInEntry": _W,
    "Deprecated": _W, "QuestionableUsage": _W,
    # the RSS Profile's advice (RSS 2.0 only)
    "RSS20Profile": _W, "CharacterData": "ContainsHTML", "EmailFormat": "RSS20Profile",
    "MissingRealName": "EmailFormat", "MisplacedItem": "RSS20Profile",
    "ImageTitleDoesntMatch": "RSS20Profile", "AvoidTextInput": "RSS20Profile",
    "NeedDescriptionBeforeContent": "RSS20Profile", "SlashDate": "RSS20Profile",
    "UseZeroForMidnight": "RSS20Profile",
    # -- feedkit-only checks (no W3C counterpart) -------------------------------------------
    "NotAFeed": _E, "InvalidJSON": _E, "InvalidJSONFeedVersion": _E,
    "StaleFeedDate": _W, "DuplicateFeedId": _W, "MissingRecommendedElement": _W,
    "UndefinedJSONMember": _W,
}


def kind_of(code: str, ancestor: str) -> bool:
    """Is ``code`` the W3C message ``ancestor`` or a special case of it (``MissingTitle`` is a
    ``MissingElement``; every code is a ``Message``)?"""
    while code:
        if code == ancestor:
            return True
        code = W3C_PARENT.get(code, "")
    return False


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
    return "warning" if kind_of(code, "Warning") else "error"


@dataclass
class _Result:
    """What :func:`validate_dir` needs from each file besides its problems."""

    kind: str | None = None  # "rss" | "atom" | "json" | None (not a feed)
    self_url: str | None = None
    feed_id: str | None = None
    problems: list[Problem] = field(default_factory=list)
