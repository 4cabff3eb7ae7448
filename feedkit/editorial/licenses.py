"""The licence a city publishes its news under, and the one each article carries.

Korean public bodies mark what they publish with a 공공누리 (Korea Open Government Licence,
KOGL) type, or with a Creative Commons licence. ``[site] license`` names the site's, a source's
``license`` overrides it for what that source brings (a board that republishes another body's
news carries that body's type), and a record's own ``license`` field wins over both. Each
article keeps its code in the store (empty: the site's, looked up at build time, so changing
``[site] license`` changes every article that never had its own).

A code is one of :data:`CODES`, optionally ending in ``:text`` when the licence covers the text
only (korea.kr: its press releases are KOGL type 1, its photos are not). ``none`` states no
licence: feeds and pages then say nothing, as before licences existed.

The names are the licensors' own: the KOGL mark texts of kogl.or.kr ("공공누리 제1유형:
출처표시", "KOGL Type 1: Source Indication") and the Creative Commons licence names, through the
catalogs (the Korean catalog holds the official Korean texts). Links go to the official pages;
no mark image is hot-linked.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

NONE = "none"
TEXT_ONLY = ":text"

# code -> (its name in a language, as the catalogs hold it; the official page)
_KOGL = "https://www.kogl.or.kr/info/licenseType{n}.do"
_CC = "https://creativecommons.org/licenses/{kind}/4.0/"
REGISTRY: dict[str, tuple[Callable[[Any], str], str]] = {
    "kogl-1": (lambda lang: lang.pgettext("licence", "KOGL Type 1: Source Indication"),
               _KOGL.format(n=1)),
    "kogl-2": (lambda lang: lang.pgettext(
        "licence", "KOGL Type 2: Source Indication + Commercial Use Prohibition"),
        _KOGL.format(n=2)),
    "kogl-3": (lambda lang: lang.pgettext(
        "licence", "KOGL Type 3: Source Indication + Change Prohibition"), _KOGL.format(n=3)),
    "kogl-4": (lambda lang: lang.pgettext(
        "licence", "KOGL Type 4: Source Indication + Commercial Use Prohibition + "
                   "Change Prohibition"), _KOGL.format(n=4)),
    "cc-by-4.0": (lambda lang: lang.pgettext(
        "licence", "Creative Commons Attribution 4.0 International (CC BY 4.0)"),
        _CC.format(kind="by")),
    "cc-by-nc-4.0": (lambda lang: lang.pgettext(
        "licence", "Creative Commons Attribution-NonCommercial 4.0 International "
                   "(CC BY-NC 4.0)"), _CC.format(kind="by-nc")),
    "cc-by-nd-4.0": (lambda lang: lang.pgettext(
        "licence", "Creative Commons Attribution-NoDerivatives 4.0 International "
                   "(CC BY-ND 4.0)"), _CC.format(kind="by-nd")),
    "cc-by-sa-4.0": (lambda lang: lang.pgettext(
        "licence", "Creative Commons Attribution-ShareAlike 4.0 International "
                   "(CC BY-SA 4.0)"), _CC.format(kind="by-sa")),
}
CODES = (*REGISTRY, NONE)


@dataclass(frozen=True)
class License:
    """One licence as outputs state it: its code, its name in the site's language, its page."""

    code: str           # as stored: "kogl-1", "kogl-1:text"
    name: str           # "공공누리 제1유형: 출처표시 (사진 제외)"
    url: str

    @property
    def base(self) -> str:
        """The code without ``:text``."""
        return self.code.removesuffix(TEXT_ONLY)


def problem(code: str) -> str:
    """Why ``code`` is not a licence code, or "" when it is one."""
    base = code.removesuffix(TEXT_ONLY)
    if base in REGISTRY or (code == NONE):
        return ""
    return f"unknown licence {code!r} (one of: {', '.join(CODES)}; append {TEXT_ONLY} when " \
           "it covers the text only)"


def code_of(license: str, excludes_photos: bool = False) -> str:
    """The stored code for a configured licence (and whether its photos are excluded)."""
    if excludes_photos and license in REGISTRY:
        return license + TEXT_ONLY
    return license


def resolve(code: str, lang) -> License | None:
    """The licence ``code`` names, in ``lang`` (a :class:`feedkit.text.i18n.Language`), or None
    for ``none`` and the empty code."""
    base = code.removesuffix(TEXT_ONLY)
    if base not in REGISTRY:
        return None
    name_in, url = REGISTRY[base]
    name = name_in(lang)
    if code.endswith(TEXT_ONLY):
        # TRANSLATORS: a licence that covers an article's text but not its photos (korea.kr).
        name = lang.gettext("%(licence)s (photos excluded)") % {"licence": name}
    return License(code, name, url)


def effective(article_code: str, site_code: str) -> str:
    """The code an article is published under: its own, else the site's."""
    return article_code or site_code or NONE


def source_code(source) -> str:
    """The code a ``[[sources]]`` entry stamps on its articles: "" for the site's."""
    return code_of(source.license, source.license_excludes_photos) if source.license else ""


def site_code(site) -> str:
    """``[site] license`` as a code (``none`` when the site states none)."""
    return code_of(site.license or NONE, site.license_excludes_photos)


def page_context(config, lang) -> dict:
    """What the pages need to show licences, named in ``lang`` (the site's
    :class:`~feedkit.text.i18n.Language`): ``license``, the site's (:class:`License` or None),
    and ``item_license(article)``, an article's own when it differs from the site's (else
    None)."""
    site = site_code(config.site)

    def item_license(article) -> License | None:
        code = getattr(article, "license", "")
        return resolve(code, lang) if code and code != site else None

    return {"license": resolve(site, lang), "item_license": item_license}
