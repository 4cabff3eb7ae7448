"""The weekly digest: pick a week, group it, render HTML and text, inline the CSS, build the MIME.

Why it is shaped like this:

* **One week = one ISO week in the site's timezone**, Monday 00:00 to the next Monday 00:00, so
  "last week" means the same thing in Seoul whatever the server's clock zone is.
* **The email and the web archive share one template.** The web page (``web=True``) is the same
  HTML *before* inlining: a browser honours the ``<style>`` block, so inlining 520 archive pages
  would only cost time and bytes. Only the email is run through premailer.
* **The email has a size budget** (Gmail clips an HTML part over 102 KB mid-layout). When a week
  does not fit, sections are capped round-robin (every section keeps its newest items, small
  sections stay whole) and link to the web view, which always lists every article.
* **Personal parts are a placeholder.** The per-recipient unsubscribe link is the only thing that
  differs between recipients, so the HTML is rendered and inlined once with a placeholder and the
  link is substituted per message: 1,000 recipients cost one premailer run, not 1,000.
* Nothing reads the wall clock: the week and "now" come from the caller (``--today``).
"""

from __future__ import annotations

import binascii
import hashlib
import hmac
import html as html_lib
import math
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from email.message import EmailMessage
from email.policy import EmailPolicy
from email.utils import format_datetime
from functools import lru_cache
from pathlib import Path
from urllib.parse import quote, urlsplit
from zoneinfo import ZoneInfo

from feedkit.config import Config
from feedkit.errors import ConfigError, FeedkitError, UsageError
from feedkit.model import Article

HTML_TEMPLATE = "digest.html.j2"
TEXT_TEMPLATE = "digest.txt.j2"
CSS_FILE = "digest.css"
INDEX_TEMPLATE = "digest_index.html.j2"
TEMPLATE_FILES = [HTML_TEMPLATE, TEXT_TEMPLATE, CSS_FILE, INDEX_TEMPLATE]

SECRET_ENV = "FEEDKIT_UNSUBSCRIBE_SECRET"
# Stands in for the recipient's own unsubscribe URL until the message is built. Only characters
# that neither Jinja, premailer nor HTML escaping touch, and nothing an article could contain.
UNSUBSCRIBE_PLACEHOLDER = "https://unsubscribe.invalid/feedkit-8f3a1c"

_WEEK_RE = re.compile(r"^(\d{4})-?W(\d{1,2})$", re.IGNORECASE)


# ---------------------------------------------------------------------------------------------
# Weeks


@dataclass(frozen=True)
class Week:
    """An ISO week in a timezone: ``[start, end)`` from Monday 00:00 to the next Monday 00:00."""

    year: int
    number: int
    tz: ZoneInfo

    @classmethod
    def parse(cls, text: str, tz: ZoneInfo) -> Week:
        m = _WEEK_RE.match(text.strip())
        if not m:
            raise UsageError(f"--week: {text!r} is not an ISO week (use e.g. 2024-W24)")
        year, number = int(m[1]), int(m[2])
        try:
            date.fromisocalendar(year, number, 1)
        except ValueError:
            raise UsageError(f"--week: {year} has no ISO week {number}") from None
        return cls(year, number, tz)

    @classmethod
    def containing(cls, day: date, tz: ZoneInfo) -> Week:
        year, number, _ = day.isocalendar()
        return cls(year, number, tz)

    @classmethod
    def last_complete(cls, today: date, tz: ZoneInfo) -> Week:
        """The week before the one ``today`` is in: on a Monday, the week that just ended."""
        return cls.containing(today - timedelta(days=7), tz)

    @classmethod
    def of_timestamp(cls, ts: int, tz: ZoneInfo) -> Week:
        return cls.containing(datetime.fromtimestamp(ts, tz).date(), tz)

    @property
    def label(self) -> str:
        return f"{self.year}-W{self.number:02d}"

    @property
    def first_day(self) -> date:
        return date.fromisocalendar(self.year, self.number, 1)

    @property
    def last_day(self) -> date:
        return self.first_day + timedelta(days=6)

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first_day, time(0), tzinfo=self.tz)

    @property
    def end(self) -> datetime:
        return datetime.combine(self.first_day + timedelta(days=7), time(0), tzinfo=self.tz)

    def range_text(self, language: str) -> str:
        from feedkit.dates import format_range

        return format_range(self.first_day, self.last_day, language)

    def title(self, language: str, *, year: bool = False) -> str:
        """What readers see: ``12월 첫째 주 (12월 1일 – 7일)``, ``Week of 1–7 December 2025``
        (see :func:`feedkit.dates.week_label`); ``label`` (ISO) is for file names."""
        from feedkit.dates import week_label

        return week_label(self.first_day, language, year=year)

    def name(self, language: str, *, year: bool = False) -> str:
        """``12월 첫째 주`` (``2025년 12월 첫째 주``), ``Week of 1–7 December 2025``."""
        from feedkit.dates import week_name

        return week_name(self.first_day, language, year=year)

    def days(self, language: str) -> str:
        """``12월 1일 – 7일``, ``1–7 December 2025``."""
        from feedkit.dates import week_days

        return week_days(self.first_day, language)

    def shifted(self, weeks: int) -> Week:
        return Week.containing(self.first_day + timedelta(weeks=weeks), self.tz)


def today_in(tz: ZoneInfo) -> date:
    """The one place the digest reads the clock; every caller can pin it instead."""
    return datetime.now(tz).date()


# ---------------------------------------------------------------------------------------------
# Selection and grouping


def is_korean(language: str) -> bool:
    return language.lower().split("-")[0] == "ko"


@dataclass(frozen=True)
class Section:
    category: str                    # the raw category ("" for articles without one)
    title: str                       # what the heading shows
    anchor: str                      # id of the heading on the web page
    articles: tuple[Article, ...]    # every article, newest first


@dataclass(frozen=True)
class Digest:
    week: Week
    sections: tuple[Section, ...]

    @property
    def total(self) -> int:
        return sum(len(s.articles) for s in self.sections)

    def articles(self) -> list[Article]:
        return [a for s in self.sections for a in s.articles]


# A Korean 읍·면·동 (town, township, neighbourhood) office: 웅천읍, 주포면, 대천1동, 빛가람동.
_LOCAL_OFFICE = re.compile(r"\S(읍|면|동)$")


def group_sections(articles: Sequence[Article], order: Sequence[str], language: str,
                   slug_overrides: dict[str, str] | None = None,
                   fold_below: int = 0) -> tuple[Section, ...]:
    """Group by category: the configured ``order`` first, then by size (largest first), then
    by name; articles without a category last. Inside a group the input order (newest first)
    is kept.

    Sections with fewer than ``fold_below`` articles (ten 동 offices with one notice each make
    a digest of ten one-line headings) fold: Korean 읍·면·동 offices into one "읍·면·동 소식",
    everything else into "기타 소식" with the uncategorised articles. A fold needs at least two
    sections (one small section keeps its own name); configured ``order`` never folds."""
    from feedkit.slugs import category_slugs

    groups: dict[str, list[Article]] = {}
    for a in articles:
        groups.setdefault(a.category, []).append(a)
    rank = {name: i for i, name in enumerate(order)}
    ko = is_korean(language)
    small = [n for n in groups
             if n and n not in rank and fold_below > 1 and len(groups[n]) < fold_below]
    local = [n for n in small if ko and _LOCAL_OFFICE.search(n)]
    rest = [n for n in small if n not in local]
    folded: dict[str, list[str]] = {}
    if len(local) >= 2:
        folded["local"] = local
    if len(rest) >= 2 or (rest and "" in groups):
        folded["other"] = rest
    gone = {n for names in folded.values() for n in names}
    names = sorted((n for n in groups if n not in gone),
                   key=lambda n: (n == "", rank.get(n, len(rank)), -len(groups[n]), n))
    slugs = category_slugs([n for n in names if n], slug_overrides)
    other = "기타 소식" if ko else "Other news"
    sections = [Section(name, name, slugs[name], tuple(groups[name])) for name in names if name]

    def merged(names: Sequence[str]) -> tuple[Article, ...]:
        # newest first, as every section; ties keep the input order
        pool = [a for n in names for a in groups[n]]
        order_of = {id(a): i for i, a in enumerate(articles)}
        return tuple(sorted(pool, key=lambda a: order_of[id(a)]))

    if "local" in folded:
        sections.append(Section("", "읍·면·동 소식", "local", merged(folded["local"])))
    if "other" in folded or "" in groups:
        sections.append(Section("", other, "other", merged([*folded.get("other", ()), ""]
                                                          if "" in groups
                                                          else folded["other"])))
    return tuple(sections)


def load_digest(config: Config, store, week: Week, until: int | None = None) -> Digest:
    """The week's articles; ``until`` (Unix seconds, see :mod:`feedkit.publication`) leaves out
    those not yet due."""
    articles = [s.article for s in store.published_between(week.start, week.end)
                if until is None or int(s.article.published.timestamp()) <= until]
    return make_digest(config, week, articles)


def make_digest(config: Config, week: Week, articles: Sequence[Article]) -> Digest:
    return Digest(week, group_sections(articles, config.digest.categories, config.site.language,
                                       config.feeds.category_slugs, config.digest.fold_below))


def allocate(sections: Sequence[Section], budget: int | None, per_section: int = 0) -> list[int]:
    """How many articles each section shows: round-robin over the sections, newest first, until
    ``budget`` articles are placed (``None``: no limit), never more than ``per_section`` (0: no
    cap) in one section. Round-robin keeps every section visible and small sections whole."""
    caps = [len(s.articles) if per_section <= 0 else min(per_section, len(s.articles))
            for s in sections]
    if budget is None or budget >= sum(caps):
        return caps
    counts = [0] * len(sections)
    placed = 0
    while placed < budget:
        for i, cap in enumerate(caps):
            if counts[i] < cap and placed < budget:
                counts[i] += 1
                placed += 1
    return counts


# ---------------------------------------------------------------------------------------------
# Rendering


def safe_url(url: str) -> str:
    """An http(s) URL or "": the store holds normalised URLs, but an email is the wrong place to
    find out one slipped through (a ``javascript:`` link in a mail client)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return ""
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return ""
    if any(c.isspace() or ord(c) < 32 for c in url):
        return ""
    return url


_SPACES = re.compile(r"\s+")
_LEADING_PUNCT = re.compile(r"^[\s\-–—:·|,.]+")


def trim_title(summary: str, title: str) -> str:
    """The summary without a copy of the title in front: many boards' first paragraph repeats
    the headline ("보령시, 머드축제 개최 보령시, 머드축제 개최 …"), which a digest shows right
    under that headline. Compared with runs of white space collapsed; "" if nothing else."""
    text = _SPACES.sub(" ", summary).strip()
    head = _SPACES.sub(" ", title).strip()
    if head and text.startswith(head):
        rest = text[len(head):]
        if not rest or not rest[0].isalnum():  # a whole title, not "보령시" of "보령시청은"
            return _LEADING_PUNCT.sub("", rest)
    return summary


def cut_summary(text: str, limit: int) -> str:
    from feedkit.ingest.normalize import truncate

    return truncate(text, limit) if limit > 0 else ""


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

    def personal(self, unsubscribe: str) -> tuple[str, str]:
        """(html, text) with the recipient's unsubscribe URL filled in."""
        return (self.html.replace(UNSUBSCRIBE_PLACEHOLDER, html_lib.escape(unsubscribe)),
                self.text.replace(UNSUBSCRIBE_PLACEHOLDER, unsubscribe))


class DigestRenderer:
    """Renders digests for one config; reuse it across weeks (templates and CSS load once)."""

    def __init__(self, config: Config):
        from feedkit.templating import find_template

        self.config = config
        self.site = config.site
        self.language = config.site.language
        self.tz = config.tz
        self.user_dir = digest_templates_dir(config)
        self.css = find_template(CSS_FILE, self.user_dir).read_text(encoding="utf-8")

    # -- context ---------------------------------------------------------------------------

    def web_url(self, week: Week) -> str:
        return f"{self.site.feed_url}digest/{week.label}.html"

    def title(self) -> str:
        return self.title_for(self.config)

    @staticmethod
    def title_for(config: Config) -> str:
        """``[digest] title``, else the site title with "주간 소식" ("weekly"); a Korean site
        title that already ends in 소식 ("보령시 새소식") gives "보령시 주간 소식", not
        "보령시 새소식 주간 소식"."""
        if config.digest.title:
            return config.digest.title
        site_title = config.site.title.strip()
        if not is_korean(config.site.language):
            return f"{site_title} weekly"
        for ending in (" 새소식", " 소식"):
            if site_title.endswith(ending):
                return f"{site_title[:-len(ending)].rstrip()} 주간 소식"
        return f"{site_title} 주간 소식"

    def subject(self, digest: Digest) -> str:
        return self.config.digest.subject.format(
            title=self.title(), week_label=digest.week.title(self.language),
            week=digest.week.label, site_title=self.site.title, count=digest.total)

    def reason(self) -> str:
        if self.config.digest.reason:
            return self.config.digest.reason
        if is_korean(self.language):
            return f"{self.title()} 수신을 신청하셔서 이 메일을 받으셨습니다."
        return f"You receive this email because you subscribed to {self.title()}."

    def _item(self, a: Article, section: Section) -> dict:
        from feedkit.dates import format_date

        local = a.published.astimezone(self.tz)
        image = safe_url(a.image)
        return {
            "title": a.title,
            "url": safe_url(a.url),
            "date": format_date(local, self.language, year=False),
            "datetime": local.isoformat(),
            # the section heading names the department already, except in a folded section
            "category": a.category if a.category != section.category else "",
            "summary": cut_summary(trim_title(a.summary, a.title),
                                   self.config.digest.summary_chars),
            "image": image,
        }

    def context(self, digest: Digest, counts: list[int] | None, *, web: bool,
                unsubscribe: str, nav: dict | None = None) -> dict:
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
            sections.append({
                "title": section.title,
                "anchor": section.anchor,
                "count": len(section.articles),
                "items": [self._item(a, section) for a in section.articles[:n]],
                "hidden": len(section.articles) - n,
                "more_url": f"{web_url}#{section.anchor}",
            })
        shown = sum(counts)
        headlines = [it["title"] for s in sections for it in s["items"]][:3]
        return {
            "ko": is_korean(self.language),
            "language": self.language,
            "site": self.site,
            "title": self.title(),
            "week": digest.week.label,                              # ISO: file names only
            "week_label": digest.week.title(self.language),         # 12월 첫째 주 (12월 1일 – 7일)
            "week_title": digest.week.title(self.language, year=True),
            "week_name": digest.week.name(self.language, year=True),  # 2025년 12월 첫째 주
            "week_days": digest.week.days(self.language),           # 12월 1일 – 7일
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
            "reason": self.reason(),
            "subscribe_url": self.config.digest.subscribe,
            "nav": {"prev": None, "next": None, **(nav or {})},
            "css": Markup(self.css),
        }

    # -- outputs ---------------------------------------------------------------------------

    def raw_html(self, digest: Digest, counts: list[int] | None = None, *, web: bool = False,
                 unsubscribe: str = "", nav: dict | None = None) -> str:
        from feedkit.templating import render

        ctx = self.context(digest, counts, web=web, unsubscribe=unsubscribe, nav=nav)
        return render(HTML_TEMPLATE, self.user_dir, **ctx)

    def text(self, digest: Digest, counts: list[int] | None = None, *,
             unsubscribe: str = "") -> str:
        from feedkit.templating import render

        ctx = self.context(digest, counts, web=False, unsubscribe=unsubscribe)
        return render(TEXT_TEMPLATE, self.user_dir, **ctx)

    def web_page(self, digest: Digest, nav: dict | None = None) -> str:
        """The archive page: every article, not inlined (a browser reads the <style> block).
        A web page, not a copy of the email: no "you receive this email", no unsubscribe link
        (its reader subscribed to nothing), but how to subscribe."""
        return self.raw_html(digest, web=True, unsubscribe="", nav=nav)

    def email(self, digest: Digest, *, unsubscribe: str | None = None,
              reserve: int = 0) -> EmailBody:
        """The inlined email HTML and its text part, capped to ``[digest] max_html_bytes``.

        ``unsubscribe``: the link shown in the footer; default the placeholder that
        :meth:`EmailBody.personal` fills in. ``reserve``: bytes to keep free per placeholder
        occurrence (see :func:`link_reserve`). The budget counts the HTML part as a mail client
        decodes it from the wire (:func:`sent_size`), not the string rendered here.
        """
        cfg = self.config.digest
        link = UNSUBSCRIBE_PLACEHOLDER if unsubscribe is None else unsubscribe
        budget = cfg.max_html_bytes

        def attempt(n: int | None) -> tuple[str, list[int], int]:
            counts = allocate(digest.sections, n, cfg.max_items)
            out = inline_css(self.raw_html(digest, counts, unsubscribe=link))
            size = sent_size(out) + reserve * out.count(link)
            return out, counts, size

        html, counts, size = attempt(None)
        if size > budget:
            html, counts = self._fit(digest, attempt, sum(counts), size, budget)
        text = self.text(digest, counts, unsubscribe=link)
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


# ---------------------------------------------------------------------------------------------
# Unsubscribe links


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


def unsubscribe_token(address: str) -> str:
    secret = os.environ.get(SECRET_ENV, "")
    if not secret:
        raise ConfigError(f"[digest] unsubscribe uses {{token}} but ${SECRET_ENV} is not set")
    mac = hmac.new(secret.encode("utf-8"), address.lower().encode("utf-8"), hashlib.sha256)
    return mac.hexdigest()[:32]


def unsubscribe_urls(templates: Sequence[str], address: str) -> list[str]:
    """Each configured unsubscribe URL with ``{email}`` / ``{token}`` filled in for one reader."""
    out = []
    for u in templates:
        token = unsubscribe_token(address) if "{token}" in u else ""
        out.append(u.format(email=quote(address, safe="@"), token=token))
    return out


# ---------------------------------------------------------------------------------------------
# The MIME message


def message_id(config: Config, week: Week, recipient: str, domain: str, *,
               key: str | None = None) -> str:
    """Stable per (site, week, reader): a re-sent copy carries the same Message-ID, so mail
    systems that de-duplicate by it can.

    Made from the reader's send-log ``key`` (a keyed hash), never from the address itself:
    Message-IDs are kept in the send log, which is committed, and a plain hash of a guessable
    address would give the address away. Without a key (a rendered preview, not sent) the
    normalised address stands in; nothing keeps that Message-ID.
    """
    from feedkit.privacy import normalise_address

    who = key if key is not None else "preview:" + normalise_address(recipient)
    digest_of = hashlib.sha256(f"{config.site.feed_url}\n{week.label}\n{who}".encode())
    return f"<digest.{week.label}.{digest_of.hexdigest()[:24]}@{domain}>"


def list_id(config: Config) -> str:
    if config.digest.list_id:
        return config.digest.list_id
    host = urlsplit(config.site.feed_url).hostname or "localhost"
    return f"{config.site.title} <digest.{host}>"


def sender(config: Config):
    """The parsed From address; required to build a message."""
    from email.headerregistry import Address
    from email.policy import default

    raw = config.digest.from_
    if not raw:
        raise ConfigError("[digest] from is not set: a digest email needs a sender address")
    header = default.header_factory("From", raw)
    addrs = header.addresses
    if len(addrs) != 1 or not addrs[0].domain or header.defects:
        raise ConfigError(f"[digest] from: {raw!r} is not one valid address")
    addr: Address = addrs[0]
    return addr


class _MessagePolicy(EmailPolicy):
    """The SMTP policy (CRLF, 78-column folding), except that List-Unsubscribe is folded only
    between its ``<URL>`` entries. The stock folder RFC 2047-encodes any token too long for a
    line, which turns a long unsubscribe URL into ``=?utf-8?q?...`` that no client follows."""

    def fold(self, name: str, value: str) -> str:
        if name.lower() == "list-unsubscribe":
            entries = re.findall(r"<[^<>]*>", str(value))
            return f"{name}: " + ("," + self.linesep + " ").join(entries) + self.linesep
        if name.lower() == "subject" and not str(value).isascii():
            # Python 3.11/3.12's folder drops the space at a fold between two encoded words
            # ("6월 둘째 주 (6월" arrives as "6월 둘째 주(6월"); email.header keeps every space
            # inside the encoded words.
            from email.header import Header

            encoded = Header(str(value), "utf-8", header_name=name).encode(
                linesep=self.linesep, maxlinelen=self.max_line_length)
            return f"{name}: {encoded}{self.linesep}"
        return super().fold(name, value)

    def fold_binary(self, name: str, value: str) -> bytes:
        if name.lower() == "list-unsubscribe" or (name.lower() == "subject"
                                                   and not str(value).isascii()):
            return self.fold(name, value).encode("ascii")
        return super().fold_binary(name, value)


MESSAGE_POLICY = _MessagePolicy(linesep="\r\n")


def message_bytes(msg: EmailMessage) -> bytes:
    """The message as it goes on the wire (and into an .eml file). A reader whose address has
    a non-ASCII local part gets it in raw UTF-8 (RFC 6532), as SMTPUTF8 carries it."""
    to = str(msg.get("To", ""))
    policy = MESSAGE_POLICY if to.isascii() else MESSAGE_POLICY.clone(utf8=True)
    return msg.as_bytes(policy=policy)


def header_address(address: str) -> str:
    """The address as the To header shows it: an internationalised domain in its IDNA form
    (what every client understands); a non-ASCII local part stays as it is (RFC 6532)."""
    from feedkit.privacy import ascii_domain

    local, at, domain = address.rpartition("@")
    if not at or domain.isascii():
        return address
    return f"{local}@{ascii_domain(domain) or domain}"


# How build_message attaches the HTML; sent_size builds the very same part to measure it.
HTML_PART = {"subtype": "html", "charset": "utf-8", "cte": "base64"}


def sent_size(html: str) -> int:
    """Bytes of the HTML part as a mail client decodes it from the wire, which is what Gmail's
    102 KB clip counts: the part is built exactly as :func:`build_message` builds it (line ends
    become CRLF, a final line end is added), encoded, and decoded again."""
    part = EmailMessage(policy=MESSAGE_POLICY)
    part.set_content(html, **HTML_PART)
    return len(part.get_payload(decode=True))


def _ascii_url(url: str) -> str:
    """Headers carry ASCII only: percent-encode anything else (and spaces) in a URL."""
    return quote(url, safe="!#$%&'()*+,-./:;=?@[]~_")


def build_message(config: Config, digest: Digest, body: EmailBody, subject: str,
                  recipient: str, when: datetime, *, key: str | None = None) -> EmailMessage:
    """``multipart/alternative`` (text, then HTML), UTF-8, with the list headers. ``key`` is
    the reader's send-log key (see :func:`message_id`)."""
    frm = sender(config)
    urls = unsubscribe_urls(config.digest.unsubscribe, recipient)
    link = shown_unsubscribe(urls)
    html, text = body.personal(link)
    msg = EmailMessage(policy=MESSAGE_POLICY)
    msg["From"] = frm
    msg["To"] = header_address(recipient)
    if config.digest.reply_to:
        msg["Reply-To"] = config.digest.reply_to
    msg["Subject"] = subject
    msg["Date"] = format_datetime(when.astimezone(config.tz))
    msg["Message-ID"] = message_id(config, digest.week, recipient, frm.domain, key=key)
    msg["List-Id"] = list_id(config)
    if urls:
        msg["List-Unsubscribe"] = ", ".join(f"<{_ascii_url(u)}>" for u in urls)
        if any(u.startswith("https:") for u in urls):
            msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(text, subtype="plain", charset="utf-8", cte="base64")
    msg.add_alternative(html, **HTML_PART)
    msg.set_boundary(mime_boundary(msg["Message-ID"], link, body_fingerprint(body)))
    return msg


def body_fingerprint(body: EmailBody) -> str:
    return hashlib.sha256(f"{body.text}\0{body.html}".encode()).hexdigest()


def mime_boundary(mid: str, link: str, fingerprint: str) -> str:
    """A boundary from the content instead of a random one keeps `digest render --eml`
    reproducible; "=_" never occurs in base64 bodies, so it cannot collide. Made from the
    shared body's fingerprint (hashed once per week) and the personal parts."""
    return "=_feedkit_" + hashlib.sha256(f"{mid}\n{link}\n{fingerprint}".encode()
                                         ).hexdigest()[:32]


class MessageFactory:
    """Builds one week's message for each reader as fast as the wire takes it.

    Everything that is the same for every reader is done once: the shared headers are folded,
    the bodies split at the personal unsubscribe link. Per reader there is only string
    substitution, one base64 pass per part and a handful of short headers. The bytes are the
    same as :func:`message_bytes` of :func:`build_message` (a test holds them equal), which
    stays the readable reference and what ``digest render --eml`` uses.
    """

    def __init__(self, config: Config, digest: Digest, body: EmailBody, subject: str,
                 when: datetime):
        self.config, self.week = config, digest.week
        self.frm = sender(config)
        self.templates = config.digest.unsubscribe
        self.personal_urls = is_personal(self.templates)
        shared = EmailMessage(policy=MESSAGE_POLICY)
        shared["From"] = self.frm
        if config.digest.reply_to:
            shared["Reply-To"] = config.digest.reply_to
        shared["Subject"] = subject
        shared["Date"] = format_datetime(when.astimezone(config.tz))
        shared["List-Id"] = list_id(config)
        self._shared = shared
        self._heads: dict[bool, dict[str, bytes]] = {}
        self.post = b""
        if self.templates and any(u.startswith("https:") for u in self.templates):
            self.post = b"List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"
        self.fixed_unsubscribe = (None if self.personal_urls or not self.templates
                                  else self._unsubscribe_header(list(self.templates)))
        # Line ends become CRLF once here, not in every message (a personal link has none).
        self.html_part = _Base64Part(body.html)
        self.text_part = _Base64Part(body.text)
        self.body = body
        self.fingerprint = body_fingerprint(body)

    def _head(self, *, utf8: bool) -> tuple[dict[str, bytes], EmailPolicy]:
        """The shared headers, folded once; a reader whose address needs SMTPUTF8 gets the
        whole message under the UTF-8 policy, as :func:`message_bytes` writes it."""
        policy = MESSAGE_POLICY.clone(utf8=True) if utf8 else MESSAGE_POLICY
        if utf8 not in self._heads:
            self._heads[utf8] = {k.lower(): policy.fold_binary(k, v)
                                 for k, v in self._shared.raw_items()}
        return self._heads[utf8], policy

    @staticmethod
    def _header(name: str, value: str, policy: EmailPolicy = MESSAGE_POLICY) -> bytes:
        return policy.fold_binary(*policy.header_store_parse(name, value))

    @staticmethod
    def _unsubscribe_header(urls: list[str]) -> bytes:
        # What _MessagePolicy.fold writes: one <URL> per line. _ascii_url percent-encodes
        # "<" and ">", so the entries are exactly the URLs.
        entries = ",\r\n ".join(f"<{_ascii_url(u)}>" for u in urls)
        return f"List-Unsubscribe: {entries}\r\n".encode("ascii")

    def _to_header(self, to: str, policy: EmailPolicy) -> bytes:
        # A plain address on one line is written as it is; anything else (a long or
        # internationalised one) goes through the email package's folder.
        if len(to) <= 70 and _PLAIN_ADDRESS.fullmatch(to):
            return b"To: " + to.encode("ascii") + b"\r\n"
        return self._header("To", to, policy)

    def message(self, recipient: str, key: str | None) -> tuple[str, bytes]:
        """(Message-ID, the message's bytes) for one reader."""
        urls = (unsubscribe_urls(self.templates, recipient) if self.personal_urls
                else list(self.templates))
        link = shown_unsubscribe(urls)
        mid = message_id(self.config, self.week, recipient, self.frm.domain, key=key)
        to = header_address(recipient)
        head, policy = self._head(utf8=not to.isascii())
        boundary = mime_boundary(mid, link, self.fingerprint)
        out = [head["from"], self._to_header(to, policy)]
        if "reply-to" in head:
            out.append(head["reply-to"])
        out += [head["subject"], head["date"], b"Message-ID: " + mid.encode() + b"\r\n",
                head["list-id"]]
        if urls:
            out.append(self.fixed_unsubscribe or self._unsubscribe_header(urls))
            out.append(self.post)
        bound = boundary.encode()
        out += [b"Auto-Submitted: auto-generated\r\nMIME-Version: 1.0\r\n"
                b"Content-Type: multipart/alternative;\r\n boundary=\"", bound, b"\"\r\n\r\n",
                b"--", bound, b"\r\nContent-Type: text/plain; charset=\"utf-8\"\r\n"
                b"Content-Transfer-Encoding: base64\r\n\r\n", self.text_part.encode(link),
                b"\r\n--", bound, b"\r\nContent-Type: text/html; charset=\"utf-8\"\r\n"
                b"Content-Transfer-Encoding: base64\r\nMIME-Version: 1.0\r\n\r\n",
                self.html_part.encode(html_lib.escape(link)), b"\r\n--", bound, b"--\r\n"]
        return mid, b"".join(out)


_LINE_END = re.compile(r"\r\n|\r|\n")
# RFC 5322 dot-atom local part and a host name: nothing the header folder would quote or encode.
_PLAIN_ADDRESS = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
                            r"@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")


def _crlf(text: str) -> str:
    return _LINE_END.sub("\r\n", text)


class _Base64Part:
    """One text part's body as the email package encodes it (every line end CRLF, a final
    CRLF, base64 in 76-column lines of 57 bytes each, each ended by CRLF), with the personal
    link filled in per reader. Everything before the link, cut at a multiple of 57 bytes, is
    encoded once: per reader only the footer's few kilobytes are."""

    def __init__(self, text: str):
        self.parts = [_crlf(p).encode("utf-8") for p in text.split(UNSUBSCRIBE_PLACEHOLDER)]
        if len(self.parts) == 1:   # nothing personal: the whole body once
            self.head, self.rest = _base64_lines(_final_crlf(self.parts[0])), b""
            self.static = True
        else:
            cut = len(self.parts[0]) // 57 * 57
            self.head, self.rest = _base64_lines(self.parts[0][:cut]), self.parts[0][cut:]
            self.static = False

    def encode(self, link: str) -> bytes:
        if self.static:
            return self.head
        tail = link.encode("utf-8").join([self.rest, *self.parts[1:]])
        return self.head + _base64_lines(_final_crlf(tail))


def _final_crlf(data: bytes) -> bytes:
    return data if data.endswith(b"\r\n") else data + b"\r\n"


def _base64_lines(data: bytes) -> bytes:
    """Base64 in 76-column CRLF lines: one encoder call for the whole, then slicing (a tenth
    of the time of a call per line)."""
    encoded = binascii.b2a_base64(data, newline=False)
    return b"".join([encoded[i:i + 76] + b"\r\n" for i in range(0, len(encoded), 76)])


def issue_time(week: Week) -> datetime:
    """The date a rendered (not sent) digest carries: the moment its week ended. Fixed, so
    ``digest render --eml`` is reproducible; ``digest send`` stamps the real send time."""
    return week.end


# ---------------------------------------------------------------------------------------------
# The web archive (part of ``feedkit build``)

ARCHIVE_DIR = "digest"


def week_rows(config: Config, store, until: int | None = None
              ) -> dict[str, list[tuple[str, str, int, str]]]:
    """``{week label: [(id, hash, published_ts, title), ...]}``, newest week first, newest
    article first inside a week; from one light query (no article bodies). Articles published
    after ``until`` are not there yet (:mod:`feedkit.publication`)."""
    tz = config.tz
    weeks: dict[str, list[tuple[str, str, int, str]]] = {}
    day_label: dict[date, str] = {}
    for row in store.article_keys(until):
        day = datetime.fromtimestamp(row[2], tz).date()
        label = day_label.get(day)
        if label is None:
            label = day_label[day] = Week.containing(day, tz).label
        weeks.setdefault(label, []).append(row)
    return {k: weeks[k] for k in sorted(weeks, reverse=True)}


def current_week(config: Config, now: datetime) -> Week:
    """The week ``now`` is in, in the site's timezone: the first one the archive leaves out."""
    return Week.containing(now.astimezone(config.tz).date(), config.tz)


def plan_archive(config: Config, store, plan) -> None:
    """Add the archive to a build: one page per completed week that has articles, the index,
    the feed.

    Completed weeks only, like the email: a page and a digest-feed item for the week in
    progress would change all week under its readers. A week joins the archive with the first
    build after its Monday 00:00 ends it (site timezone); the same store, config and day give
    the same bytes. Articles held back as future-dated (``plan.until``) lie in weeks that have
    not ended, so they stay out as well.

    Each page is an :meth:`OutputPlan.unit` whose fingerprint covers the week's articles (ids
    and content hashes), its neighbours (the prev/next links), the templates and the config, so
    a build after an import re-renders only the weeks whose articles changed.
    """
    from feedkit.output import code_stamp, fingerprint
    from feedkit.templating import templates_digest

    user_dir = digest_templates_dir(config)
    base = fingerprint(code_stamp(), config.site, config.digest, config.feeds.category_slugs,
                       config.feeds.stylesheet,
                       templates_digest([HTML_TEMPLATE, CSS_FILE, INDEX_TEMPLATE], user_dir))
    # Nothing in the store changed since the last build, nor the code, config or templates:
    # the whole archive is as it was (if its files are), without reading 20,000 rows to see.
    from feedkit.publication import build_time

    this_week = current_week(config, build_time(plan.now))
    # the newest second the archive shows: the end of last week, and never past plan.until
    until = int(this_week.start.timestamp()) - 1
    if plan.until is not None:
        until = min(until, plan.until)
    if plan.reuse_group(ARCHIVE_DIR, fingerprint(base, store.generation, plan.held_back,
                                                 this_week.label)):
        return
    weeks = week_rows(config, store, until)
    if not weeks:
        return
    labels = list(weeks)
    lazy: dict[str, DigestRenderer] = {}

    def renderer() -> DigestRenderer:
        if "r" not in lazy:
            lazy["r"] = DigestRenderer(config)
        return lazy["r"]

    tz, language = config.tz, config.site.language
    for i, label in enumerate(labels):
        older = labels[i + 1] if i + 1 < len(labels) else None
        newer = labels[i - 1] if i > 0 else None
        rows = weeks[label]
        print_ = fingerprint(base, label, older, newer, [(r[0], r[1]) for r in rows])
        rel = f"{ARCHIVE_DIR}/{label}.html"

        def render_week(label=label, older=older, newer=newer, rel=rel) -> dict[str, bytes]:
            week = Week.parse(label, tz)
            nav = {
                "prev": older and {"url": f"{older}.html",
                                   "label": Week.parse(older, tz).name(language, year=True)},
                "next": newer and {"url": f"{newer}.html",
                                   "label": Week.parse(newer, tz).name(language, year=True)},
            }
            digest = load_digest(config, store, week, until)
            return {rel: renderer().web_page(digest, nav).encode("utf-8")}

        plan.unit([rel], print_, render_week)

    index_rel = f"{ARCHIVE_DIR}/index.html"
    index_print = fingerprint(base, templates_digest([INDEX_TEMPLATE], user_dir),
                              [(k, len(v), [r[3] for r in v[:3]]) for k, v in weeks.items()])
    plan.unit([index_rel], index_print,
              lambda: {index_rel: _render_archive_index(config, weeks).encode("utf-8")})

    feed_rel = f"{ARCHIVE_DIR}/feed.xml"
    recent = labels[:config.digest.feed_limit]
    feed_print = fingerprint(base, "feed", [(k, [(r[0], r[1]) for r in weeks[k]])
                                            for k in recent])
    plan.unit([feed_rel], feed_print,
              lambda: {feed_rel: _render_archive_feed(config, store, recent, renderer(),
                                                      until)})


def _render_archive_index(config: Config, weeks: dict[str, list]) -> str:
    from feedkit.templating import render

    tz, language = config.tz, config.site.language
    years: dict[int, list[dict]] = {}
    for label, rows in weeks.items():
        week = Week.parse(label, tz)
        years.setdefault(week.year, []).append({
            "label": label,
            "url": f"{label}.html",
            "range": week.title(language),
            "count": len(rows),
            "headlines": [r[3] for r in rows[:3]],
        })
    title = DigestRenderer.title_for(config)
    return render(INDEX_TEMPLATE, digest_templates_dir(config), site=config.site, title=title,
                  years=list(years.items()), ko=is_korean(language), language=language,
                  subscribe_url=config.digest.subscribe,
                  total=sum(len(v) for v in weeks.values()))


def _render_archive_feed(config: Config, store, labels: list[str],
                         renderer: DigestRenderer, until: int | None = None) -> bytes:
    """RSS 2.0 of the latest digests, through the same generator as the site's feeds (so the
    same validity guarantees): one item per week, linking its web page, listing its headlines."""
    from feedkit.feeds import FeedMeta, render_rss

    site, tz, language = config.site, config.tz, config.site.language
    items = []
    for label in labels:
        week = Week.parse(label, tz)
        digest = load_digest(config, store, week, until)
        articles = digest.articles()
        url = renderer.web_url(week)
        newest = max(a.published for a in articles)
        items.append(Article(
            id=url, url=url, title=f"{renderer.title()} · {week.title(language, year=True)}",
            published=newest, updated=max([newest, *(a.updated for a in articles)]),
            summary=" · ".join(a.title for a in articles[:5]),
            content_html=_headlines_html(digest, language),
            author=config.author,
        ))
    ko = is_korean(language)
    meta = FeedMeta(
        title=renderer.title(),
        description=(f"{site.title}의 주간 소식지" if ko else f"{site.title} weekly digest"),
        site_url=f"{site.feed_url}{ARCHIVE_DIR}/index.html",
        base_url=f"{site.feed_url}{ARCHIVE_DIR}/",
        language=language,
        author=config.author,
        email=site.email,
        stylesheet="../feed.xsl" if config.feeds.stylesheet else "",
        full_content=True,
    )
    return render_rss(meta, items, "feed.xml")


def _headlines_html(digest: Digest, language: str) -> str:
    """A digest as a feed entry: its sections and headlines as links (escaped here, since this
    bypasses the autoescaping templates)."""
    esc = html_lib.escape
    parts = []
    for s in digest.sections:
        parts.append(f"<h3>{esc(s.title)} ({len(s.articles)})</h3><ul>")
        for a in s.articles:
            url = safe_url(a.url)
            title = esc(a.title)
            link = f'<a href="{esc(url)}">{title}</a>' if url else title
            parts.append(f"<li>{link}</li>")
        parts.append("</ul>")
    return "".join(parts)


def preview_unsubscribe(config: Config, *, strict: bool = True) -> str:
    """The footer link of a rendered (not sent) digest, as its first recipient would see it,
    so ``digest render --html`` and ``feedkit serve`` show what a reader gets. A personal link
    that cannot be made here (``{token}`` without its secret) is an error when ``strict``;
    otherwise the preview falls back to the link that is the same for everyone."""
    from feedkit.mail import clean_address

    templates = config.digest.unsubscribe
    if not templates:
        return ""
    sample = config.digest.to[0] if config.digest.to else "reader@example.org"
    try:
        return shown_unsubscribe(unsubscribe_urls(templates, clean_address(sample) or sample))
    except FeedkitError:
        if strict:
            raise
        return shown_unsubscribe(templates, personal=False)
