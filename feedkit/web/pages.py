"""What the endpoint's pages show: the departments to choose from, the languages offered, and
the rendering of ``templates/web/*.j2`` (a site's own templates folder can override each)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from functools import lru_cache
from pathlib import Path

from feedkit.config import Config


@dataclass(frozen=True)
class Department:
    name: str
    count: int
    checked: bool = False

    def ticked(self, checked: bool) -> Department:
        return replace(self, checked=checked)


def departments(store, config: Config, now: datetime) -> list[Department]:
    """Every department with published articles and how many: ``[digest] categories`` first,
    in that order (the digest's own section order), then the rest largest first."""
    from feedkit.publication import visible_until

    counts = {c.name: c.count for c in store.categories(visible_until(config, now))}
    first = [n for n in config.digest.categories if n in counts]
    rest = [n for n in counts if n not in first]
    return [Department(n, counts[n]) for n in [*first, *rest]]


def offered_languages(config: Config) -> tuple[str, ...]:
    """The site's language, then Korean when the site's is another: the form and its emails
    come in these (the issue: "in Korean and in the site's language")."""
    site = config.site.language
    return (site,) if site.split("-")[0].lower() == "ko" else (site, "ko")


def render_page(config: Config, name: str, language: str, **context) -> str:
    """Render ``web/<name>`` in ``language`` with the site and the digest's name at hand."""
    from feedkit.digest.render import DigestRenderer

    env = _environment(config.templates_dir)
    return env.get_template(f"web/{name}").render(
        site=config.site, language=language, ko=language.lower().startswith("ko"),
        digest_title=DigestRenderer.title_for(config), **context)


@lru_cache(maxsize=4)
def _environment(user_dir: Path | None):
    # Until the gettext catalogs land, the i18n extension with null translations: templates
    # already write _("...") and ngettext(...), the English msgids.
    from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

    from feedkit.templating import template_dirs

    env = Environment(loader=FileSystemLoader([str(d) for d in template_dirs(user_dir)]),
                      autoescape=select_autoescape(("html", "htm", "html.j2")),
                      undefined=StrictUndefined, keep_trailing_newline=True,
                      trim_blocks=True, lstrip_blocks=True, extensions=["jinja2.ext.i18n"])
    env.install_null_translations(newstyle=True)  # type: ignore[attr-defined]
    env.globals["language_name"] = language_name
    return env


_NAMES = {"ko": "한국어", "en": "English", "ja": "日本語", "zh": "中文", "vi": "Tiếng Việt"}


def language_name(tag: str) -> str:
    """A language's own name for the switcher (``ko`` → 한국어), else the tag."""
    return _NAMES.get(tag.split("-")[0].lower(), tag)
