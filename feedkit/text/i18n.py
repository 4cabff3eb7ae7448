"""Languages as catalogs: every human-facing string goes through gettext, with Babel's catalogs.

A site's ``[site] language`` (a BCP 47 tag such as ``ko``, ``ko-KR``, ``en``, ``ja``) picks a
chain of gettext catalogs (``feedkit.po``), most specific first:

1. the site's own catalogs: ``locale/<lang>/LC_MESSAGES/feedkit.po`` next to ``config.toml``
   (the layout ``pybabel init -d locale -D feedkit -l ja`` creates), then the bundled ones in
   ``feedkit/locale/``, for ``ko_KR``, then ``ko``;
2. English (``en``, site then bundled), whose catalog is what an untranslated string shows;
3. the msgid itself (English).

So ``ko-KR`` finds the bundled ``ko`` catalog, a site adds Japanese by dropping a ``ja`` catalog
into its ``locale/`` folder, and a language with no catalog anywhere (``fr``) is English. The
*language whose catalog was found* also names the CLDR locale that dates use
(:mod:`feedkit.text.dates`), so a page never mixes English words with French month names.

Catalogs are read as ``.po`` and compiled by Babel when a word is first translated (a no-op
build that translates nothing skips it); the compiled catalog is remembered in memory and in
the user's cache folder, named by the hash of the ``.po`` (:mod:`feedkit.text.usercache`). There
is no committed ``.mo`` to go stale and a city needs no compile step: editing the ``.po`` is
enough. Which catalog files a language uses is looked up once and
remembered (a ten-year archive asks for the site's language hundreds of times) until
:func:`refresh`, which each CLI command, each build and each ``feedkit serve`` preview request
calls, so an edited or added catalog is seen by the next one (the ``feedkit web`` endpoint reads
them once per process: restart it after editing a catalog).

Python code translates either with an explicit :class:`Language` (``lang = for_config(config)``,
``lang._("...")``) or with this module's ``_``/``ngettext``/``pgettext``, which use the language
made active with :func:`activate` (English when none is). The CLI activates the site's language
for the command it runs; a new thread (a web server's request handler) starts with none active,
so code there activates one per request (a subscriber's own language, say) or uses a Language.
Templates get ``_``, ``gettext``, ``ngettext``, ``pgettext`` and ``{% trans %}`` from Jinja2's
i18n extension (:mod:`feedkit.text.templating`).
"""

from __future__ import annotations

import gettext as gettext_lib
import hashlib
import io
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from feedkit.errors import ConfigError

if TYPE_CHECKING:
    from babel import Locale

    from feedkit.config import Config

DOMAIN = "feedkit"
ENGLISH = "en"
SITE_FOLDER = "locale"  # next to config.toml


@lru_cache(maxsize=1)
def bundled_dir() -> Path:
    """The catalogs shipped inside the package (``feedkit/locale``); resolved once, as every
    language lookup names it."""
    return Path(__file__).resolve().parent.parent / "locale"


def site_dir(config: Config) -> Path:
    """Where a site keeps its own catalogs: ``locale/`` next to its config file."""
    return config.base_dir / SITE_FOLDER


def candidates(tag: str) -> list[str]:
    """Catalog names for a BCP 47 tag, most specific first: ``ko-KR`` -> ``ko_KR``, ``ko``;
    ``zh-Hant-TW`` -> ``zh_Hant_TW``, ``zh_Hant``, ``zh``."""
    parts = [p for p in tag.replace("_", "-").split("-") if p]
    if not parts:
        return []
    norm = [parts[0].lower()]
    for p in parts[1:]:
        norm.append(p.title() if len(p) == 4 else p.upper() if len(p) == 2 else p)
    return ["_".join(norm[:i]) for i in range(len(norm), 0, -1)]


def catalog_path(folder: Path, code: str) -> Path:
    return folder / code / "LC_MESSAGES" / f"{DOMAIN}.po"


_MO_MAGIC = (0x950412DE).to_bytes(4, "little")   # a GNU .mo file, little-endian


@lru_cache(maxsize=64)
def _compiled(path: str, size: int, mtime_ns: int, check: bool = True) -> bytes:
    """A ``.po`` file compiled to ``.mo`` bytes by Babel (fuzzy entries left out, as msgfmt
    does). Keyed by size and mtime so an edited catalog is read again.

    Parsing a ``.po`` with Babel costs about 20 ms a process, so the result is also kept in
    the user's cache folder (:mod:`feedkit.text.usercache`, ``catalogs``) under the hash of the
    catalog's text: any edit is a new name, never a stale entry. Only a catalog that compiled
    (and passed its checks) is kept, so a broken one fails every time."""
    from feedkit.text.usercache import cache_dir, keep

    with open(path, "rb") as fh:
        text = fh.read()
    folder = cache_dir("catalogs")
    entry = None
    if folder is not None:
        digest = hashlib.sha256(b"feedkit .mo 1\0" + (b"checked\0" if check else b"\0") + text)
        entry = folder / f"{digest.hexdigest()}.mo"
        try:
            cached = entry.read_bytes()
        except OSError:
            cached = b""
        if cached[:4] == _MO_MAGIC:
            return cached
    mo = _compile(path, text, check)
    if entry is not None:
        keep(entry, mo)
    return mo


def _compile(path: str, text: bytes, check: bool) -> bytes:
    """``check=False`` skips Babel's placeholder checks, for the bundled catalogs:
    tests/test_i18n.py runs them, and importing the checkers scans every installed package's
    entry points (about 10 ms a run)."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import PoFileError, read_po

    try:
        catalog = read_po(io.BytesIO(text), domain=DOMAIN, abort_invalid=True)
    except (PoFileError, UnicodeDecodeError, ValueError) as exc:
        raise ConfigError(f"{path}: not a valid gettext catalog: {exc}") from None
    # Babel's checks: a translation's %(name)s placeholders must exist in its msgid, and plural
    # forms must match the header; a typo would otherwise fail the build mid-way.
    for message, errors in (catalog.check() if check else ()):
        if errors and not message.fuzzy:
            msgid = message.id if isinstance(message.id, str) else message.id[0]
            raise ConfigError(f"{path}: line {message.lineno}: {msgid!r}: {errors[0]}")
    buf = io.BytesIO()
    write_mo(buf, catalog)
    return buf.getvalue()


def _translations(path: Path, size: int, mtime_ns: int) -> gettext_lib.GNUTranslations:
    """The standard library reads the compiled catalog: Babel is needed only to compile one
    (its import is about 10 ms a process that a build with cached catalogs now skips)."""
    bundled = path.is_relative_to(bundled_dir())
    return gettext_lib.GNUTranslations(
        io.BytesIO(_compiled(str(path), size, mtime_ns, not bundled)))


def _chain(tag: str, folders: tuple[Path, ...]) -> tuple[list[Path], str]:
    """The catalog files for ``tag`` (requested language, then English), and the code of the
    first language that has one (``en`` when none has)."""
    found: list[Path] = []
    code = ""
    codes = candidates(tag)
    for c in [*codes, *([] if ENGLISH in codes else [ENGLISH])]:
        for folder in folders:
            path = catalog_path(folder, c)
            if path.is_file():
                found.append(path)
                code = code or c
    return found, code or ENGLISH


@dataclass(frozen=True)
class Language:
    """One site language: its gettext catalog chain and the CLDR locale its dates use.

    Equal languages (same tag, catalog files, and their sizes and mtimes) share templating's
    cached environments; an edited catalog makes a different one. The catalogs are compiled
    on first use of :attr:`translations`."""

    tag: str                                   # as configured: "ko-KR"
    code: str                                  # the catalog found for it: "ko" ("en": none)
    files: tuple[Path, ...] = ()
    stats: tuple[tuple[int, int], ...] = ()    # (size, mtime_ns) of each file, when looked up

    def __hash__(self) -> int:
        return self._hash

    @cached_property
    def _hash(self) -> int:
        """The fields' hash, computed once: a Language keys the date caches (dates.py), which
        an archive build consults for every item."""
        return hash((self.tag, self.code, self.files, self.stats))

    @cached_property
    def translations(self) -> gettext_lib.NullTranslations:
        """The gettext chain, most specific catalog first, English's last, then the msgid."""
        translations: gettext_lib.NullTranslations = gettext_lib.NullTranslations()
        for path, (size, mtime_ns) in zip(reversed(self.files), reversed(self.stats),
                                          strict=True):   # built from the last fallback up
            t = _translations(path, size, mtime_ns)
            t.add_fallback(translations)
            translations = t
        return translations

    @property
    def locale(self) -> Locale:
        return _locale(self.code)

    def gettext(self, message: str) -> str:
        return self.translations.gettext(message)

    _ = gettext

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self.translations.ngettext(singular, plural, n)

    def pgettext(self, context: str, message: str) -> str:
        return self.translations.pgettext(context, message)

    def npgettext(self, context: str, singular: str, plural: str, n: int) -> str:
        return self.translations.npgettext(context, singular, plural, n)

    @cached_property
    def _stamp(self) -> str:
        h = hashlib.sha256(self.tag.encode())
        for path in self.files:
            h.update(str(path).encode() + b"\0" + path.read_bytes() + b"\0")
        return h.hexdigest()

    def stamp(self) -> str:
        """A hash of the catalogs in use, for build fingerprints: editing one re-renders
        (read once per language looked up, like the files' stats)."""
        return self._stamp


@lru_cache(maxsize=16)
def _locale(code: str) -> Locale:
    """Babel's CLDR locale for a catalog code; a code CLDR does not know (a site's own
    language) uses its parent's data, else English."""
    from babel import Locale, UnknownLocaleError

    for c in [*candidates(code), ENGLISH]:
        try:
            return Locale.parse(c)
        except (UnknownLocaleError, ValueError):
            continue
    return Locale.parse(ENGLISH)


# (tag, folders) -> Language, until refresh(): one look at the files per run, not per call.
_resolved: dict[tuple[str, tuple[Path, ...]], Language] = {}


def refresh() -> None:
    """Forget which catalog files each language uses, so the next lookup looks again (and an
    edited catalog, with its new size or mtime, is compiled again). Called where a new run
    starts: each CLI command, each build, each ``feedkit serve`` preview request."""
    _resolved.clear()


def get(tag: str, site: Path | None = None) -> Language:
    """The :class:`Language` for a tag, with a site's catalog folder searched first."""
    folders = tuple(f for f in (site, bundled_dir()) if f is not None)
    key = (tag, folders)
    lang = _resolved.get(key)
    if lang is None:
        files, code = _chain(tag, folders)
        stats = tuple((st.st_size, st.st_mtime_ns) for st in (p.stat() for p in files))
        lang = _resolved[key] = Language(tag, code, tuple(files), stats)
    return lang


def for_config(config: Config, tag: str | None = None) -> Language:
    """The site's language (or ``tag``, e.g. a subscriber's), with the site's own catalogs."""
    return get(tag or config.site.language, site_dir(config))


# -- the active language, for code that has no Language at hand -------------------------------

_active: ContextVar[Language | None] = ContextVar("feedkit_language", default=None)


def current() -> Language:
    """The language made active by :func:`activate`, else English."""
    return _active.get() or get(ENGLISH)


@contextmanager
def activate(language: Language | Config | str) -> Iterator[Language]:
    """Make ``language`` (a :class:`Language`, a site's config, or a tag) the one ``_`` uses
    inside the ``with`` block."""
    if isinstance(language, str):
        lang = get(language)
    elif isinstance(language, Language):
        lang = language
    else:
        lang = for_config(language)
    token = _active.set(lang)
    try:
        yield lang
    finally:
        _active.reset(token)


def _(message: str) -> str:
    """Translate ``message`` into the active language (see :func:`activate`)."""
    return current().gettext(message)


gettext = _


def ngettext(singular: str, plural: str, n: int) -> str:
    return current().ngettext(singular, plural, n)


def pgettext(context: str, message: str) -> str:
    return current().pgettext(context, message)


def npgettext(context: str, singular: str, plural: str, n: int) -> str:
    return current().npgettext(context, singular, plural, n)
