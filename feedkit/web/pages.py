"""What the endpoint's pages show: the departments to choose from, the languages offered, and
the rendering of ``templates/web/*.j2`` (a site's own templates folder can override each)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from feedkit.config import Config


@dataclass(frozen=True)
class Department:
    name: str
    count: int
    checked: bool = False

    def ticked(self, checked: bool) -> Department:
        return replace(self, checked=checked)


def departments(store, config: Config, now: datetime) -> list[Department]:
    """What a reader can choose, with its published article count: the names the digest's
    sections carry (``[categories]`` shown names, each gathering its departments; those kept
    out of the digest are not offered), ``[categories] order`` and ``[digest] categories``
    first, in that order, then the rest largest first. Personal digests match a choice
    against these names (and the departments themselves)."""
    from feedkit.editorial.categories import category_map
    from feedkit.editorial.publication import visible_until

    cmap = category_map(config)
    counts: dict[str, int] = {}
    for c in store.categories(visible_until(config, now)):
        if cmap.in_digest(c.name):
            shown = cmap.shown(c.name)
            counts[shown] = counts.get(shown, 0) + c.count
    first = [n for n in dict.fromkeys([*cmap.order, *config.digest.categories]) if n in counts]
    rest = sorted((n for n in counts if n not in first), key=lambda n: (-counts[n], n))
    return [Department(n, counts[n]) for n in [*first, *rest]]


def offered_languages(config: Config) -> tuple[str, ...]:
    """The site's language, then Korean when the site's is another: the form and its emails
    come in these (the issue: "in Korean and in the site's language")."""
    site = config.site.language
    return (site,) if site.split("-")[0].lower() == "ko" else (site, "ko")


def render_page(config: Config, name: str, language: str, **context) -> str:
    """Render ``web/<name>`` in ``language`` (the site's catalogs first, see
    :mod:`feedkit.text.i18n`) with the site and the digest's name at hand."""
    from urllib.parse import urljoin

    from markupsafe import Markup

    from feedkit.digest.render import DigestRenderer
    from feedkit.editorial.branding import brand_of, page_css
    from feedkit.text import i18n
    from feedkit.text.templating import render

    brand = brand_of(config)   # the index page's logo, accent colour and contact line
    logo = urljoin(config.site.feed_url, brand.logo) if brand and brand.logo else ""
    return render(f"web/{name}", config.templates_dir,
                  i18n_language=i18n.for_config(config, language), site=config.site,
                  language=language, digest_title=DigestRenderer.title_for(config),
                  language_name=language_name, brand=brand, brand_css=Markup(page_css(brand)),
                  logo=logo, **context)


def language_name(tag: str) -> str:
    """A language's own name for the switcher (``ko`` → 한국어, from CLDR), else the tag."""
    from babel import Locale, UnknownLocaleError

    try:
        locale = Locale.parse(tag.replace("-", "_"))
    except (ValueError, UnknownLocaleError):
        return tag
    return locale.get_language_name(locale) or tag
