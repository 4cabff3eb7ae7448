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
    """Render ``web/<name>`` in ``language`` with the chrome every live page shares
    (:func:`feedkit.site.pages.render_page`)."""
    from feedkit.site.pages import render_page as render_live

    return render_live(config, f"web/{name}", language, **context)
