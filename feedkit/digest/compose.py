"""A week's digest: its articles grouped into sections, and the size budget of the email.

The email has a size budget (Gmail clips an HTML part over 102 KB mid-layout). When a week does
not fit, sections are capped round-robin (every section keeps its newest items, small sections
stay whole) and link to the web view, which always lists every article. :func:`sent_size`
measures an HTML part as it is sent (base64, CRLF lines, the message policy's folding).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import EmailPolicy

from feedkit.config import Config
from feedkit.digest.week import Week
from feedkit.model import Article
from feedkit.text import i18n
from feedkit.text.dates import is_korean


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
    note: str = ""                   # the editor's note, Markdown (feedkit.editorial.note)

    @property
    def total(self) -> int:
        return sum(len(s.articles) for s in self.sections)

    def articles(self) -> list[Article]:
        return [a for s in self.sections for a in s.articles]


# A Korean 읍·면·동 (town, township, neighbourhood) office: 웅천읍, 주포면, 대천1동, 빛가람동.
_LOCAL_OFFICE = re.compile(r"\S(읍|면|동)$")


def group_sections(articles: Sequence[Article], order: Sequence[str],
                   language: str | i18n.Language,
                   slug_overrides: dict[str, str] | None = None,
                   fold_below: int = 0, shown: Callable[[str], str] | None = None,
                   keep: Collection[str] = ()) -> tuple[Section, ...]:
    """Group by category: the configured ``order`` first, then by size (largest first), then
    by name; articles without a category last. Inside a group the input order (newest first)
    is kept.

    Sections with fewer than ``fold_below`` articles (ten 동 offices with one notice each make
    a digest of ten one-line headings) fold: Korean 읍·면·동 offices into one "읍·면·동 소식",
    everything else into "기타 소식" with the uncategorised articles. A fold needs at least two
    sections (one small section keeps its own name); configured ``order`` never folds.

    ``shown`` maps a department to the name it is shown under (``[categories] names``); a
    section gathering several departments says on each item which one it came from. Names in
    ``keep`` (the ones ``[categories]`` sets) never fold: the city chose them."""
    from feedkit.text.slugs import category_slugs

    groups: dict[str, list[Article]] = {}
    for a in articles:
        groups.setdefault(shown(a.category) if shown else a.category, []).append(a)
    rank = {name: i for i, name in enumerate(order)}
    lang = i18n.get(language) if isinstance(language, str) else language
    ko = is_korean(lang.tag)
    small = [n for n in groups
             if n and n not in rank and n not in keep and fold_below > 1
             and len(groups[n]) < fold_below]
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
    other = lang.pgettext("digest section", "Other news")

    def raw(name: str) -> str:
        """The section's one department (its items need not repeat it), or "" for several."""
        cats = {a.category for a in groups[name]}
        return cats.pop() if len(cats) == 1 else ""

    sections = [Section(raw(name) if shown else name, name, slugs[name], tuple(groups[name]))
                for name in names if name]

    def merged(names: Sequence[str]) -> tuple[Article, ...]:
        # newest first, as every section; ties keep the input order
        pool = [a for n in names for a in groups[n]]
        order_of = {id(a): i for i, a in enumerate(articles)}
        return tuple(sorted(pool, key=lambda a: order_of[id(a)]))

    if "local" in folded:
        # TRANSLATORS: one section for the town, township and neighbourhood offices
        # (읍·면·동); only Korean sites fold them.
        sections.append(Section("", lang.pgettext("digest section", "Local offices"), "local",
                                merged(folded["local"])))
    if "other" in folded or "" in groups:
        sections.append(Section("", other, "other", merged([*folded.get("other", ()), ""]
                                                          if "" in groups
                                                          else folded["other"])))
    return tuple(sections)


def load_digest(config: Config, store, week: Week, until: int | None = None) -> Digest:
    """The week's articles; ``until`` (Unix seconds, see :mod:`feedkit.editorial.publication`)
    leaves out those not yet due."""
    from dataclasses import replace

    from feedkit.editorial.decisions import note

    return replace(make_digest(config, week, week_articles(store, week, until)),
                   note=note(store, week.label))


def week_articles(store, week: Week, until: int | None = None) -> list[Article]:
    """The articles of ``week`` published by ``until``, newest first: what a digest is made of
    (personal digests filter them by department before :func:`make_digest`). Without their
    bodies: no digest shows one."""
    return [s.article for s in store.published_between(week.start, week.end, bodies=False)
            if until is None or int(s.article.published.timestamp()) <= until]


def make_digest(config: Config, week: Week, articles: Sequence[Article]) -> Digest:
    """The week's digest; ``[categories]`` leaves out what is excluded from the digest, shows
    departments under their configured names and orders the sections."""
    from feedkit.editorial.categories import category_map

    cmap = category_map(config)
    if not cmap:
        return Digest(week, group_sections(articles, config.digest.categories,
                                           i18n.for_config(config), config.feeds.category_slugs,
                                           config.digest.fold_below))
    articles = [a for a in articles if cmap.in_digest(a.category)]
    return Digest(week, group_sections(articles, cmap.order or config.digest.categories,
                                       i18n.for_config(config), config.feeds.category_slugs,
                                       config.digest.fold_below,
                                       shown=cmap.shown if cmap.names else None,
                                       keep={name for name, _ in cmap.names}))


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


_SPACES = re.compile(r"\s+")


_LEADING_PUNCT = re.compile(r"^[\s\-–—:·|,.]+")


def trim_title(summary: str, title: str) -> str:
    """The summary without a copy of the title in front: many boards' first paragraph repeats
    the headline ("보령시, 머드축제 개최 보령시, 머드축제 개최 …"), which a digest shows right
    under that headline. Compared with runs of white space collapsed; "" if nothing else."""
    first = title.lstrip()[:1]
    if not first or summary.lstrip()[:1] != first:   # the usual case, told without the regex
        return summary
    text = _SPACES.sub(" ", summary).strip()
    head = _SPACES.sub(" ", title).strip()
    if head and text.startswith(head):
        rest = text[len(head):]
        if not rest or not rest[0].isalnum():  # a whole title, not "보령시" of "보령시청은"
            return _LEADING_PUNCT.sub("", rest)
    return summary


def cut_summary(text: str, limit: int) -> str:
    from feedkit.text.clean import truncate

    return truncate(text, limit) if limit > 0 else ""


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


# How build_message attaches the HTML; sent_size builds the very same part to measure it.
HTML_PART = {"subtype": "html", "charset": "utf-8", "cte": "base64"}


def sent_size(html: str) -> int:
    """Bytes of the HTML part as a mail client decodes it from the wire, which is what Gmail's
    102 KB clip counts: the part is built exactly as :func:`build_message` builds it (line ends
    become CRLF, a final line end is added), encoded, and decoded again."""
    part = EmailMessage(policy=MESSAGE_POLICY)
    part.set_content(html, **HTML_PART)
    return len(part.get_payload(decode=True))
