"""The pages served live rather than built: the chrome they share with the site.

The subscribe endpoint's pages (:mod:`feedkit.web`) and the staff pages of ``feedkit serve``
(the digest preview and its test send, :mod:`~feedkit.site.serve`) are rendered per request
from ``templates/web/base.html.j2``'s layout, which is styled like the site's front page: the
same fonts, colours, dark mode and the site's branding. One place builds what that layout
needs (the site, the digest's name, the brand, the language's words), so a staff page looks
like the rest and speaks the site's language.
"""

from __future__ import annotations

from feedkit.config import Config


def render_page(config: Config, name: str, language: str, **context) -> str:
    """Render template ``name`` (e.g. ``web/subscribe.html.j2``) in ``language`` (the site's
    catalogs first, see :mod:`feedkit.text.i18n`) with the site and the digest's name at
    hand; a site's own templates folder overrides it as it does every template."""
    from urllib.parse import urljoin

    from markupsafe import Markup

    from feedkit.digest.render import DigestRenderer
    from feedkit.editorial.branding import brand_of, page_css
    from feedkit.text import i18n
    from feedkit.text.templating import render

    brand = brand_of(config)   # the index page's logo, accent colour and contact line
    logo = urljoin(config.site.feed_url, brand.logo) if brand and brand.logo else ""
    return render(name, config.templates_dir,
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
