"""Where templates come from, and the Jinja2 environment that renders them.

The bundled templates live in ``templates/`` at the top of a checkout and inside the wheel as
``feedkit/templates``. A site's own folder (``[build] templates``) overrides them file by file,
so a city can restyle one template without copying the rest.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from feedkit.errors import ConfigError, FeedkitError

if TYPE_CHECKING:
    from feedkit.text.i18n import Language


class Record(Mapping):
    """A row a template loops over (a digest's item): its fields are attributes, which Jinja
    reads at once (``a.title``), where a dict's keys cost it a failed attribute lookup and an
    exception each; a 2,000-article archive week renders in a third of the time. Still a
    read-only mapping (``a["title"]``, ``a.get(...)``) for a site's own templates."""

    def __init__(self, fields: dict[str, Any]):
        self.__dict__ = fields

    def __getitem__(self, key: str) -> Any:
        return self.__dict__[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.__dict__)

    def __len__(self) -> int:
        return len(self.__dict__)

    def __repr__(self) -> str:
        return f"Record({self.__dict__!r})"


def bundled_templates_dir() -> Path:
    package = Path(__file__).resolve().parent.parent  # feedkit/, above this text/ package
    for candidate in (package / "templates", package.parent / "templates"):
        if candidate.is_dir():
            return candidate
    raise FeedkitError("the bundled templates are missing from this installation of feedkit")


def template_dirs(user_dir: Path | None) -> list[Path]:
    dirs = []
    if user_dir is not None:
        if not user_dir.is_dir():
            raise ConfigError(f"{user_dir}: templates folder does not exist")
        dirs.append(user_dir)
    dirs.append(bundled_templates_dir())
    return dirs


def find_template(name: str, user_dir: Path | None) -> Path:
    for folder in template_dirs(user_dir):
        path = folder / name
        if path.is_file():
            return path
    raise FeedkitError(f"template {name!r} not found")


def templates_digest(names: list[str], user_dir: Path | None) -> str:
    """A hash of the template files a build uses: editing one must trigger a rebuild."""
    h = hashlib.sha256()
    for name in names:
        h.update(name.encode())
        h.update(find_template(name, user_dir).read_bytes())
    return h.hexdigest()


_FOLDING = 2   # how constant messages are folded: part of the compiled templates' cache names


def _bytecode_cache(language: Language):
    """Compiled templates kept in the user's cache folder (:mod:`feedkit.text.usercache`,
    ``jinja``): compiling costs more than rendering a page. Jinja checks each entry against the
    template's source, so an edited template is never served stale; the entries are named by the
    language's catalogs too, as a compiled template holds its constant messages translated
    (:func:`_folding_extension`). Without a writable cache folder (or with ``FEEDKIT_NO_CACHE``
    set) templates are compiled each run."""
    from jinja2 import FileSystemBytecodeCache

    from feedkit.text.usercache import cache_dir

    folder = cache_dir("jinja")
    if folder is None:
        return None
    words = hashlib.sha256(f"{_FOLDING}\0{language.stamp()}".encode()).hexdigest()
    return FileSystemBytecodeCache(str(folder), f"__jinja2_%s.{words[:16]}.cache")


@lru_cache(maxsize=1)
def _folding_extension() -> type:
    """The Jinja2 extension below, defined on first use (Jinja2 is imported only then)."""
    from jinja2.ext import Extension
    from jinja2.lexer import Token, TokenStream

    class FoldedMessages(Extension):
        """Constant messages translated once, when a template compiles.

        Through Jinja2's i18n extension, ``{{ _("Past digests") }}`` costs about 5 µs each
        time it renders, and a ten-year digest archive renders 25 of them on each of 500
        pages. An environment serves one language (:func:`environment`), so a call whose
        arguments are all literal strings (``_``/``gettext`` with one, ``pgettext`` with two)
        becomes, when the template compiles, the very value the call would return: the
        translation with ``%%`` read as ``%``, marked safe where the template autoescapes.
        Calls with placeholders, ``ngettext`` and ``{% trans %}`` stay calls, and a
        translation that would fail at render time is left to fail there. So do calls in an
        expression that joins with ``~``: Jinja joins constants at compile time as plain
        text, which would escape the translation's own markup where the call keeps it."""

        def filter_stream(self, stream: TokenStream):
            tokens = list(stream)
            lang = self.environment.feedkit_language   # type: ignore[attr-defined]
            select = self.environment.autoescape
            escaped = select(stream.name) if callable(select) else bool(select)
            joined = _joining(tokens)
            out: list = []
            i = 0
            while i < len(tokens):
                folded = None if i in joined else _fold(tokens, i, lang)
                if folded is None:
                    out.append(tokens[i])
                    i += 1
                    continue
                value, length = folded
                line = tokens[i].lineno
                if escaped:   # ("value"|safe): Jinja keeps it as a constant of the template
                    out += [Token(line, "lparen", "("), Token(line, "string", value),
                            Token(line, "pipe", "|"), Token(line, "name", "safe"),
                            Token(line, "rparen", ")")]
                else:
                    out.append(Token(line, "string", value))
                i += length
            return TokenStream(iter(out), stream.name, stream.filename)

    return FoldedMessages


def _joining(tokens: list) -> set[int]:
    """The positions of the tokens inside ``{{ }}``/``{% %}`` tags that use ``~``."""
    inside: set[int] = set()
    start = None
    for i, token in enumerate(tokens):
        if token.type in ("variable_begin", "block_begin"):
            start = i
        elif token.type in ("variable_end", "block_end") and start is not None:
            if any(t.type == "tilde" for t in tokens[start:i]):
                inside.update(range(start, i))
            start = None
    return inside


def _fold(tokens: list, i: int, lang: Language) -> tuple[str, int] | None:
    """(the value, tokens used) when ``tokens[i:]`` starts a foldable message call."""
    first = tokens[i]
    if first.type != "name" or (i and tokens[i - 1].type == "dot"):
        return None
    kinds = [t.type for t in tokens[i + 1:i + 6]]
    if first.value in ("_", "gettext") and kinds[:3] == ["lparen", "string", "rparen"]:
        text, length = lang.gettext(tokens[i + 2].value), 4
    elif first.value == "pgettext" and kinds == ["lparen", "string", "comma", "string",
                                                 "rparen"]:
        text, length = lang.pgettext(tokens[i + 2].value, tokens[i + 4].value), 6
    else:
        return None
    try:
        return text % {}, length
    except (KeyError, TypeError, ValueError):
        return None


@lru_cache(maxsize=8)
def environment(user_dir: Path | None, language: Language | None = None):
    """A Jinja2 environment with autoescaping for HTML/XML, feedkit's filters, and Jinja2's
    i18n extension bound to ``language``'s catalogs (English when ``None``): templates write
    ``{{ _("...") }}``, ``{{ ngettext(...) }}`` or ``{% trans %}...{% endtrans %}``, with
    new-style gettext, so placeholders are named and HTML-escaped."""
    from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

    from feedkit.text import i18n
    from feedkit.text.dates import format_date, format_range, format_year

    lang = language or i18n.get(i18n.ENGLISH)
    env = Environment(
        loader=FileSystemLoader([str(d) for d in template_dirs(user_dir)]),
        bytecode_cache=_bytecode_cache(lang),
        autoescape=select_autoescape(("html", "htm", "xml", "xsl", "html.j2", "xml.j2")),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        extensions=["jinja2.ext.i18n", _folding_extension()],
    )
    env.extend(feedkit_language=lang)
    env.install_gettext_translations(lang.translations, newstyle=True)  # type: ignore[attr-defined]

    def date_filter(value, language: str | None = None, **kw) -> str:
        # Templates pass the site's tag; the site's own catalogs come with ``lang``.
        use = lang if language in (None, lang.tag) else i18n.get(language)
        return format_date(value, use, **kw)

    env.filters["date"] = date_filter
    from feedkit.text.wrap import wrap

    env.filters["wrap_columns"] = wrap     # the digest's text part (feedkit.text.wrap)
    env.filters["year"] = lambda value: format_year(int(value), lang)
    env.globals["format_range"] = lambda start, last, language=None: format_range(
        start, last, lang if language in (None, lang.tag) else language)
    return env


def render(name: str, user_dir: Path | None, *, i18n_language: Language | None = None,
           **context) -> str:
    """Render template ``name``; ``i18n_language`` gives its words (see
    :mod:`feedkit.text.i18n`)."""
    from jinja2 import TemplateError

    try:
        return environment(user_dir, i18n_language).get_template(name).render(**context)
    except TemplateError as exc:
        where = getattr(exc, "filename", None) or name
        line = getattr(exc, "lineno", None)
        loc = f"{where}:{line}" if line else where
        raise FeedkitError(f"{loc}: template error: {exc.message or exc}") from None
