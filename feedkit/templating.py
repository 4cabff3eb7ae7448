"""Where templates come from, and the Jinja2 environment that renders them.

The bundled templates live in ``templates/`` at the top of a checkout and inside the wheel as
``feedkit/templates``. A site's own folder (``[build] templates``) overrides them file by file,
so a city can restyle one template without copying the rest.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from feedkit.errors import ConfigError, FeedkitError

if TYPE_CHECKING:
    from feedkit.i18n import Language


def bundled_templates_dir() -> Path:
    here = Path(__file__).resolve().parent
    for candidate in (here / "templates", here.parent / "templates"):
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


def _bytecode_cache():
    """Compiled templates kept in the user's cache folder (:mod:`feedkit.usercache`, ``jinja``):
    compiling costs more than rendering a page. Jinja checks each entry against the template's
    source, so an edited template is never served stale. Without a writable cache folder (or
    with ``FEEDKIT_NO_CACHE`` set) templates are compiled each run."""
    from jinja2 import FileSystemBytecodeCache

    from feedkit.usercache import cache_dir

    folder = cache_dir("jinja")
    return FileSystemBytecodeCache(str(folder)) if folder is not None else None


@lru_cache(maxsize=8)
def environment(user_dir: Path | None, language: Language | None = None):
    """A Jinja2 environment with autoescaping for HTML/XML, feedkit's filters, and Jinja2's
    i18n extension bound to ``language``'s catalogs (English when ``None``): templates write
    ``{{ _("...") }}``, ``{{ ngettext(...) }}`` or ``{% trans %}...{% endtrans %}``, with
    new-style gettext, so placeholders are named and HTML-escaped."""
    from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

    from feedkit import i18n
    from feedkit.dates import format_date, format_range, format_year

    lang = language or i18n.get(i18n.ENGLISH)
    env = Environment(
        loader=FileSystemLoader([str(d) for d in template_dirs(user_dir)]),
        bytecode_cache=_bytecode_cache(),
        autoescape=select_autoescape(("html", "htm", "xml", "xsl", "html.j2", "xml.j2")),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        extensions=["jinja2.ext.i18n"],
    )
    env.install_gettext_translations(lang.translations, newstyle=True)  # type: ignore[attr-defined]

    def date_filter(value, language: str | None = None, **kw) -> str:
        # Templates pass the site's tag; the site's own catalogs come with ``lang``.
        use = lang if language in (None, lang.tag) else i18n.get(language)
        return format_date(value, use, **kw)

    env.filters["date"] = date_filter
    env.filters["year"] = lambda value: format_year(int(value), lang)
    env.globals["format_range"] = lambda start, last, language=None: format_range(
        start, last, lang if language in (None, lang.tag) else language)
    return env


def render(name: str, user_dir: Path | None, *, i18n_language: Language | None = None,
           **context) -> str:
    """Render template ``name``; ``i18n_language`` gives its words (see :mod:`feedkit.i18n`)."""
    from jinja2 import TemplateError

    try:
        return environment(user_dir, i18n_language).get_template(name).render(**context)
    except TemplateError as exc:
        where = getattr(exc, "filename", None) or name
        line = getattr(exc, "lineno", None)
        loc = f"{where}:{line}" if line else where
        raise FeedkitError(f"{loc}: template error: {exc.message or exc}") from None
