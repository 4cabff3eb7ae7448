"""What a check reports: :class:`Problem`, its W3C severity, and the per-file result."""

from __future__ import annotations

from dataclasses import dataclass, field

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


@dataclass
class _Result:
    """What :func:`validate_dir` needs from each file besides its problems."""

    kind: str | None = None  # "rss" | "atom" | "json" | None (not a feed)
    self_url: str | None = None
    feed_id: str | None = None
    problems: list[Problem] = field(default_factory=list)
