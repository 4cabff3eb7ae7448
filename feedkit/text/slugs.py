"""ASCII, stable, path-safe slugs for category names (mostly Korean department names).

``세무과`` → ``semugwa``: Hangul syllables are romanised per jamo with the Revised Romanization
table (without the sound-change rules, which need a dictionary; the point is a readable, stable
URL, not a pronunciation guide). Names with no letters we can transliterate fall back to a short
hash, and clashes are broken with one, so two categories never share a folder.

A slug is a public URL people subscribe to, so once given it stays: :func:`assign_slugs` keeps
what the store remembers and only a newcomer whose slug is taken gets the suffix.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache

_INITIALS = ["g", "kk", "n", "d", "tt", "r", "m", "b", "pp", "s", "ss", "", "j", "jj", "ch",
             "k", "t", "p", "h"]
_VOWELS = ["a", "ae", "ya", "yae", "eo", "e", "yeo", "ye", "o", "wa", "wae", "oe", "yo", "u",
           "wo", "we", "wi", "yu", "eu", "ui", "i"]
_FINALS = ["", "k", "k", "ks", "n", "nj", "nh", "t", "l", "lk", "lm", "lb", "ls", "lt", "lp",
           "lh", "m", "p", "ps", "t", "t", "ng", "t", "t", "k", "t", "p", "t"]


def romanize(text: str) -> str:
    out = []
    for ch in text:
        code = ord(ch) - 0xAC00
        if 0 <= code < 11172:
            out.append(_INITIALS[code // 588] + _VOWELS[(code % 588) // 28] + _FINALS[code % 28])
        else:
            out.append(ch)
    return "".join(out)


@lru_cache(maxsize=4096)   # a digest week asks for its sections' slugs: 520 weeks, 60 names
def base_slug(name: str) -> str:
    ascii_text = (
        unicodedata.normalize("NFKD", romanize(unicodedata.normalize("NFC", name)))
        .encode("ascii", "ignore")
        .decode("ascii")
        .lower()
    )
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text).strip("-")[:60].strip("-")
    return slug


def _hash(name: str) -> str:
    return hashlib.blake2b(name.encode("utf-8"), digest_size=4).hexdigest()


def category_slugs(names: Iterable[str], overrides: Mapping[str, str] | None = None
                   ) -> dict[str, str]:
    """Map every category name to a unique slug.

    A name's slug depends only on the name, not on input order. The one exception is a clash
    (two names romanising alike): then each clashing name gets its own hash appended, so no two
    categories ever share a folder. ``[feeds] category_slugs`` pins a slug by hand.
    """
    overrides = overrides or {}
    by_slug: dict[str, list[str]] = {}
    result: dict[str, str] = {}
    for name in sorted(set(names)):
        if name in overrides:
            result[name] = overrides[name]
            continue
        slug = base_slug(name) or f"c-{_hash(name)}"
        by_slug.setdefault(slug, []).append(name)
    taken = set(result.values())
    for slug, group in by_slug.items():
        clash = len(group) > 1 or slug in taken
        for name in group:
            result[name] = f"{slug}-{_hash(name)}" if clash else slug
    return result


def assign_slugs(names: Sequence[str], overrides: Mapping[str, str],
                 known: Mapping[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """Slugs for ``names`` given what was assigned before: ``(all, new or changed ones)``.

    * ``[feeds] category_slugs`` (``overrides``) wins: the site asked for that URL;
    * a remembered slug stays, unless an override now claims it (then that category moves:
      the site's own choice); it is never given to another category, even while its owner is
      overridden or has nothing published;
    * a new name takes its plain slug if free, else the slug plus its hash. ``names`` come in
      claiming order (oldest category first), so of two newcomers that romanise alike the
      earlier one gets the plain slug.
    """
    result: dict[str, str] = {}
    taken: set[str] = set()
    for name in names:
        if name in overrides:
            result[name] = overrides[name]
            taken.add(overrides[name])
    # A remembered slug is a URL someone may subscribe to: never handed to another category.
    remembered = set(known.values())
    for name in names:
        slug = known.get(name)
        if name not in result and slug and slug not in taken:
            result[name] = slug
            taken.add(slug)
    changed: dict[str, str] = {}
    for name in names:
        if name in result:
            continue
        slug = base_slug(name) or f"c-{_hash(name)}"
        if slug in taken or (slug in remembered and known.get(name) != slug):
            slug = f"{slug}-{_hash(name)}"
        result[name] = changed[name] = slug
        taken.add(slug)
    return result, changed
