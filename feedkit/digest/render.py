"""Rendering a digest: the templates (HTML and text) and CSS inlining for the email.

The email and the web archive share one template. The web page (``web=True``) is the same HTML
*before* inlining: a browser honours the ``<style>`` block, so inlining 520 archive pages would
only cost time and bytes. Only the email is run through premailer. Personal parts are a
placeholder: the per-recipient unsubscribe link is the only thing that differs between
recipients, so the HTML is rendered and inlined once with :data:`UNSUBSCRIBE_PLACEHOLDER` and
:mod:`feedkit.mail.message` substitutes the link per message. Knows nothing of delivery.
"""

from __future__ import annotations

import html as html_lib
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

from feedkit.config import Config
from feedkit.digest.compose import Digest, Section, allocate, cut_summary, sent_size, trim_title
from feedkit.digest.week import Week
from feedkit.errors import FeedkitError
from feedkit.model import Article
from feedkit.subscribers.links import site_subscribe_url
from feedkit.text.dates import is_korean
from feedkit.text.i18n import Language, for_config
from feedkit.text.templating import Record

HTML_TEMPLATE = "digest.html.j2"


TEXT_TEMPLATE = "digest.txt.j2"


CSS_FILE = "digest.css"


INDEX_TEMPLATE = "digest_index.html.j2"


NOTE_CSS_FILE = "digest_note.css"    # only in a week with an editor's note


TEMPLATE_FILES = [HTML_TEMPLATE, TEXT_TEMPLATE, CSS_FILE, NOTE_CSS_FILE, INDEX_TEMPLATE]


# Stands in for the recipient's own unsubscribe URL until the message is built. Only characters
# that neither Jinja, premailer nor HTML escaping touch, and nothing an article could contain.
UNSUBSCRIBE_PLACEHOLDER = "https://unsubscribe.invalid/feedkit-8f3a1c"
# The same for a subscriber's preferences page (personal digests, feedkit.mail.personal).
PREFERENCES_PLACEHOLDER = "https://preferences.invalid/feedkit-2b7d90"


# What an URL must not hold: whitespace (str.isspace: the same characters as \s) or a control
# character. One search instead of a Python loop over the characters: every item has two URLs.
_UNSAFE_CHAR = re.compile(r"[\s\x00-\x1f]")


# What almost every stored URL is (feedkit.text.clean normalised it): http(s), a plain host,
# no space or control character anywhere. Such a URL is safe without taking it apart.
_PLAIN_URL = re.compile(
    r"https?://[A-Za-z0-9][A-Za-z0-9.-]*(?::[0-9]{1,5})?(?:[/?#][^\s\x00-\x1f]*)?")


def safe_url(url: str) -> str:
    """An http(s) URL or "": the store holds normalised URLs, but an email is the wrong place to
    find out one slipped through (a ``javascript:`` link in a mail client)."""
    if _PLAIN_URL.fullmatch(url):
        return url
    try:
        parts = urlsplit(url)
    except ValueError:
        return ""
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return ""
    if _UNSAFE_CHAR.search(url):
        return ""
    return url


def digest_templates_dir(config: Config) -> Path | None:
    if config.digest.templates:
        return config.resolve(config.digest.templates)
    return config.templates_dir


@lru_cache(maxsize=1)
def _premailer():
    """One configured premailer; its CSS parsing and selector compilation are cached inside
    premailer, so every digest after the first skips them."""
    import logging

    import cssutils
    from premailer import Premailer

    # cssutils serialises the kept @media block and every inlined value. Its defaults shorten
    # #ffffff to #fff (email practice wants six digits) and pretty-print the kept block (bytes
    # that count against Gmail's 102 KB). These preferences are process-wide; feedkit is
    # cssutils' only user in its own process.
    prefs = cssutils.ser.prefs
    prefs.minimizeColorHash = False
    prefs.keepComments = False
    prefs.indent = ""
    prefs.lineSeparator = ""
    prefs.paranthesisSpacing = False
    prefs.omitLastSemicolon = True
    return Premailer(
        base_url=None,                    # no URL rewriting, nothing relative to resolve
        allow_network=False,              # never fetch a stylesheet
        strip_important=False,            # the kept @media rules need their !important
        keep_style_tags=False,            # drop rules that were inlined, keep @media ones
        remove_classes=False,             # the @media rules select by class
        align_floating_images=False,      # we do not float; it halves premailer's time
        disable_validation=True,          # mso-* and -webkit-* are deliberate
        # Attributes premailer would derive from the CSS: none. It would turn `width: 100%` into
        # `width="100%"` over the template's `<img width="552">` (Outlook's Word engine needs
        # the pixel width and ignores max-width; vnu rejects a percentage there), add
        # `<body width>`, `height="auto"` and table `align`. The template writes the legacy
        # attributes email clients need itself.
        disable_basic_attributes=["width", "height", "align"],
        cssutils_logging_level=logging.CRITICAL,
    )


def inline_css(html: str) -> str:
    """Move the template's CSS into ``style`` attributes; @media and pseudo-class rules stay in
    the ``<style>`` block in ``<head>`` (with their ``!important``)."""
    return _premailer().transform(html, pretty_print=False)


@dataclass
class EmailBody:
    """The rendered email, with :data:`UNSUBSCRIBE_PLACEHOLDER` where the personal link goes."""

    html: str
    text: str
    shown: int
    total: int
    counts: list[int] = field(default_factory=list)

    @property
    def hidden(self) -> int:
        return self.total - self.shown

    def personal(self, unsubscribe: str, preferences: str = "") -> tuple[str, str]:
        """(html, text) with the recipient's unsubscribe (and preferences) URL filled in."""
        html, text = self.html, self.text
        for placeholder, url in ((UNSUBSCRIBE_PLACEHOLDER, unsubscribe),
                                 (PREFERENCES_PLACEHOLDER, preferences)):
            html = html.replace(placeholder, html_lib.escape(url))
            text = text.replace(placeholder, url)
        return html, text


class DigestRenderer:
    """Renders digests for one config; reuse it across weeks (templates and CSS load once)."""

    def __init__(self, config: Config):
        from feedkit.editorial.branding import brand_of, digest_css
        from feedkit.text.templating import find_template

        self.config = config
        self.brand = brand_of(config)
        self.site = config.site
        self.language = config.site.language
        self.lang: Language = for_config(config)  # the words and date formats
        self.tz = config.tz
        self.user_dir = digest_templates_dir(config)
        self.css = (find_template(CSS_FILE, self.user_dir).read_text(encoding="utf-8")
                    + digest_css(self.brand))
        self.note_css = find_template(NOTE_CSS_FILE, self.user_dir).read_text(encoding="utf-8")
        from feedkit.editorial.licenses import resolve, site_code

        self.license_code = site_code(config.site)
        self.license = resolve(self.license_code, self.lang)   # the site's, or None

    # -- context ---------------------------------------------------------------------------

    def web_url(self, week: Week) -> str:
        return f"{self.site.feed_url}digest/{week.label}.html"

    def title(self) -> str:
        return self.title_for(self.config, self.lang)

    @staticmethod
    def title_for(config: Config, lang: Language | None = None) -> str:
        """``[digest] title``, else the site title with "주간 소식" ("weekly"); a Korean site
        title that already ends in 소식 ("보령시 새소식") gives "보령시 주간 소식", not
        "보령시 새소식 주간 소식" (the catalog names the words the weekly title replaces)."""
        if config.digest.title:
            return config.digest.title
        # Looking the language up stats its catalog files; a renderer passes its own (an
        # archive asks for the title once per week and item).
        lang = lang or for_config(config)
        site_title = config.site.title.strip()
        # TRANSLATORS: words that end a site title and that the weekly title replaces, with |
        # between them ("새소식|소식": "보령시 새소식" gives "보령시 주간 소식"); "-" for none.
        endings = lang.pgettext("digest title", "-")
        for ending in endings.split("|"):
            if ending.strip("- ") and site_title.endswith(" " + ending):
                site_title = site_title[:-len(ending)].rstrip()
                break
        # TRANSLATORS: the digest's default title, made from the site's title.
        return lang.gettext("%(title)s weekly") % {"title": site_title}

    def subject(self, digest: Digest) -> str:
        return self.config.digest.subject.format(
            title=self.title(), week_label=digest.week.title(self.lang),
            week=digest.week.label, site_title=self.site.title, count=digest.total)

    def reason(self) -> str:
        if self.config.digest.reason:
            return self.config.digest.reason
        return self.lang.gettext("You receive this email because you subscribed to %(title)s."
                                 ) % {"title": self.title()}

    def _item(self, a: Article, section: Section) -> Record:
        from feedkit.text.dates import format_date

        local = a.published.astimezone(self.tz)
        image = safe_url(a.image)
        return Record({
            "title": a.title,
            "url": safe_url(a.url),
            "date": format_date(local, self.lang, year=False),
            "datetime": local.isoformat(),
            # the section heading names the department already, except in a folded section
            "category": a.category if a.category != section.category else "",
            "summary": cut_summary(trim_title(a.summary, a.title),
                                   self.config.digest.summary_chars),
            "image": image,
            "license": self._item_license(a.license),
        })

    def _item_license(self, code: str):
        """An article's licence when it is not the site's (shown with it), else None."""
        from feedkit.editorial.licenses import resolve

        return resolve(code, self.lang) if code and code != self.license_code else None

    def context(self, digest: Digest, counts: list[int] | None, *, web: bool,
                unsubscribe: str, nav: dict | None = None, preferences: str = "") -> dict:
        from markupsafe import Markup

        counts = counts if counts is not None else [len(s.articles) for s in digest.sections]
        web_url = self.web_url(digest.week)
        # Links from a web page are relative (the archive works from a local folder); an
        # email needs absolute ones.
        base = "../" if web else self.site.feed_url
        sections = []
        for section, n in zip(digest.sections, counts, strict=True):
            if n == 0:
                continue
            total = len(section.articles)
            sections.append({
                "title": section.title,
                "anchor": section.anchor,
                "count": total,
                # "12건": labelled here, once per section, as Jinja's npgettext would (the
                # translation is markup, the number is not); a call in the template costs
                # 5 µs a section, 30 ms of a ten-year archive
                "count_label": Markup(self.lang.npgettext(
                    "section count", "%(num)d", "%(num)d", total)) % {"num": total},
                "items": [self._item(a, section) for a in section.articles[:n]],
                "hidden": total - n,
                "more_url": f"{web_url}#{section.anchor}",
            })
        shown = sum(counts)
        headlines = [it.title for s in sections for it in s["items"]][:3]
        from feedkit.editorial.note import note_html, note_text

        return {
            "note_html": Markup(note_html(digest.note, self.site.url)),   # sanitised (nh3)
            "note_text": note_text(digest.note),
            "note_css": Markup(self.note_css),
            "ko": is_korean(self.language),   # for sites' own templates; ours use the catalogs
            "language": self.language,
            "site": self.site,
            "title": self.title(),
            "week": digest.week.label,                              # ISO: file names only
            "week_label": digest.week.title(self.lang),         # 12월 첫째 주 (12월 1일 – 7일)
            "week_title": digest.week.title(self.lang, year=True),
            "week_name": digest.week.name(self.lang, year=True),  # 2025년 12월 첫째 주
            "week_days": digest.week.days(self.lang),           # 12월 1일 – 7일
            "total": digest.total,
            "shown": shown,
            "hidden": digest.total - shown,
            "sections": sections,
            "preheader": cut_summary(" · ".join(headlines), 140),
            "web": web,
            "web_url": web_url,
            "archive_url": (base + "digest/index.html") if not web else "index.html",
            "digest_feed_url": (base + "digest/feed.xml") if not web else "feed.xml",
            "feed_url": base + "feed.xml",
            "unsubscribe_url": unsubscribe,
            "preferences_url": preferences,   # a subscriber's own page (personal digests)
            "reason": self.reason(),
            "subscribe_url": site_subscribe_url(self.config),
            "nav": {"prev": None, "next": None, **(nav or {})},
            "css": Markup(self.css),
            "brand": self.brand,
            "license": self.license,
        }

    # -- outputs ---------------------------------------------------------------------------

    def raw_html(self, digest: Digest, counts: list[int] | None = None, *, web: bool = False,
                 unsubscribe: str = "", nav: dict | None = None, preferences: str = "") -> str:
        from feedkit.text.templating import render

        ctx = self.context(digest, counts, web=web, unsubscribe=unsubscribe, nav=nav,
                           preferences=preferences)
        return render(HTML_TEMPLATE, self.user_dir, i18n_language=self.lang, **ctx)

    def text(self, digest: Digest, counts: list[int] | None = None, *,
             unsubscribe: str = "", preferences: str = "") -> str:
        from feedkit.text.templating import render

        ctx = self.context(digest, counts, web=False, unsubscribe=unsubscribe,
                           preferences=preferences)
        return render(TEXT_TEMPLATE, self.user_dir, i18n_language=self.lang, **ctx)

    def web_page(self, digest: Digest, nav: dict | None = None) -> str:
        """The archive page: every article, not inlined (a browser reads the <style> block).
        A web page, not a copy of the email: no "you receive this email", no unsubscribe link
        (its reader subscribed to nothing), but how to subscribe."""
        return self.raw_html(digest, web=True, unsubscribe="", nav=nav)

    def email(self, digest: Digest, *, unsubscribe: str | None = None,
              reserve: int = 0, preferences: bool = False) -> EmailBody:
        """The inlined email HTML and its text part, capped to ``[digest] max_html_bytes``.

        ``unsubscribe``: the link shown in the footer; default the placeholder that
        :meth:`EmailBody.personal` fills in. ``reserve``: bytes to keep free per placeholder
        occurrence (see :func:`link_reserve`). The budget counts the HTML part as a mail client
        decodes it from the wire (:func:`sent_size`), not the string rendered here.
        ``preferences``: the footer also links to the reader's preferences page
        (:data:`PREFERENCES_PLACEHOLDER`, filled in per reader; ``reserve`` covers it too).
        """
        cfg = self.config.digest
        link = UNSUBSCRIBE_PLACEHOLDER if unsubscribe is None else unsubscribe
        prefs = PREFERENCES_PLACEHOLDER if preferences else ""
        budget = cfg.max_html_bytes

        def attempt(n: int | None) -> tuple[str, list[int], int]:
            counts = allocate(digest.sections, n, cfg.max_items)
            out = inline_css(self.raw_html(digest, counts, unsubscribe=link, preferences=prefs))
            slots = out.count(link) + (out.count(prefs) if prefs else 0)
            size = sent_size(out) + reserve * slots
            return out, counts, size

        html, counts, size = attempt(None)
        if size > budget:
            html, counts = self._fit(digest, attempt, sum(counts), size, budget)
        text = self.text(digest, counts, unsubscribe=link, preferences=prefs)
        return EmailBody(html, text, sum(counts), digest.total, counts)


    @staticmethod
    def _fit(digest: Digest, attempt, total: int, size: int, budget: int
             ) -> tuple[str, list[int]]:
        """The largest article count whose email fits ``budget`` bytes.

        Size grows almost linearly with the count, so each probe interpolates between the
        nearest fitting and failing sizes (usually three or four renders instead of a
        bisection's eight). Before anything fits, the line through the two smallest failing
        sizes extrapolates down (the template's fixed size makes a line through zero guess
        too high, probe after probe just over the budget). A probe always lies strictly inside
        the bracket, so it terminates, and after a few probes it falls back to halving.
        """
        lo, lo_size = 0, 0           # largest count known to fit (0: none yet)
        hi, hi_size = total, size    # smallest count known not to fit
        prev: tuple[int, int] | None = None  # the failing probe before (hi, hi_size)
        best: tuple[str, list[int]] | None = None
        probes = 0
        while hi - lo > 1:
            if probes < 5:
                if lo:
                    n = lo + int((hi - lo) * (budget - lo_size) / max(hi_size - lo_size, 1))
                elif prev and prev[1] > hi_size:
                    per_article = (prev[1] - hi_size) / (prev[0] - hi)
                    n = hi - math.ceil((hi_size - budget) / per_article)
                else:
                    n = int(hi * budget / hi_size)
            else:
                n = (lo + hi) // 2
            n = min(max(n, lo + 1), hi - 1)
            probes += 1
            out, counts, s = attempt(n)
            if s <= budget:
                lo, lo_size, best = n, s, (out, counts)
            else:
                prev, (hi, hi_size) = (hi, hi_size), (n, s)
        if best is None:
            raise FeedkitError(
                f"{digest.week.label}: not even one article fits in [digest] max_html_bytes = "
                f"{budget} (the template alone is too big)")
        return best


def is_personal(templates: Sequence[str]) -> bool:
    return any("{email}" in u or "{token}" in u for u in templates)


def shown_unsubscribe(templates: Sequence[str], *, personal: bool = True) -> str:
    """The link the footer shows: https preferred (one click in a browser), else mailto. Web
    pages (``personal=False``) show only a link that is the same for everyone."""
    candidates = [u for u in templates if personal or not is_personal([u])]
    for u in candidates:
        if u.startswith("http"):
            return u
    return candidates[0] if candidates else ""


def unsubscribe_warnings(templates: Sequence[str]) -> list[str]:
    """Advice on ``[digest] unsubscribe``: an address inside an https link (``{email}``) costs
    spam points (SpamAssassin's GB_CUSTOM_HTM_URI, +1.0) and puts the address in web server
    logs; ``{token}`` identifies the reader as well without either."""
    return [f"[digest] unsubscribe: {u!r} puts the address in a web link, which spam filters "
            "score against (SpamAssassin GB_CUSTOM_HTM_URI); use {token} instead, e.g. "
            "https://example.org/unsubscribe/{token}"
            for u in templates if u.startswith("http") and "{email}" in u]


def link_reserve(links: Iterable[str]) -> int:
    """Bytes the longest of ``links`` adds over :data:`UNSUBSCRIBE_PLACEHOLDER` where the HTML
    shows it: HTML-escaped (``&`` is ``&amp;``) and UTF-8 encoded, as :meth:`EmailBody.personal`
    writes it. The size budget keeps this much free per footer link, so every recipient's
    message fits, not just the placeholder's."""
    longest = max((len(html_lib.escape(u).encode("utf-8")) for u in links), default=0)
    return max(0, longest - len(UNSUBSCRIBE_PLACEHOLDER))
