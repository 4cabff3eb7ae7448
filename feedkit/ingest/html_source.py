"""``kind = "html"`` sources: a board's list pages (and optionally each article's own page) →
raw records for :func:`~feedkit.ingest.normalize.normalize_record`.

Korean local governments publish news on a few board layouts (eGovFrame tables, card lists,
thumbnail lists); what differs is only *where* the title, link, date and department sit. So a
source is described by CSS selectors in ``config.toml`` instead of code, and this module only
reads what they point at. Nothing here cleans or trusts text: every value goes through the same
normalisation as ``feedkit import``.

Incremental by design: a list row whose content (and the source's selectors) are the same as on
the last run is skipped without fetching its detail page, and paging stops at the first page
that holds nothing new, so a daily run usually costs one request (often a ``304``).
"""

from __future__ import annotations

import hashlib
import html
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qsl, unquote, urlencode, urljoin, urlsplit, urlunsplit

from lxml import etree
from lxml import html as lxml_html
from lxml.cssselect import CSSSelector

from feedkit.config import SourceConfig, split_selector
from feedkit.errors import FeedkitError
from feedkit.ingest.fetch import Fetcher, FetchError, Response, host_of
from feedkit.ingest.normalize import RecordError, clean_url

# Values of href/src that are not a link to anything.
_NON_LINK = re.compile(r"^\s*(?:#|javascript:|mailto:|tel:|data:)", re.I)
# Stand-in pictures boards show when a post has none ("noimage_card_list.jpg", "blank.gif"):
# as a feed's lead image they would only repeat one grey box.
_PLACEHOLDER_IMAGE = re.compile(r"(?:no[_-]?(?:image|img|photo|thumb)|blank|spacer|default_thumb)"
                                r"[^/]*\.(?:gif|png|jpe?g|svg|webp)(?:$|\?)", re.I)


# A department cell often carries its label ("담당부서 : 관광과", "작성자 관광과", and in
# responsive tables a label for phones glued on: "담당부서관광과"): only the name is the
# department. A short label ("부서", "담당") needs a colon or a space after it, so "담당관실"
# stays whole; the long ones are never the start of an office's name.
_DEPARTMENT_LABEL = re.compile(
    r"^\s*(?:(?:담당\s*부서|작성\s*부서|등록\s*부서|부서명|작성자|글쓴이|등록자|게시자|작성처)"
    r"(?:\s*[:：]\s*|\s*)|(?:부\s*서|담당자?)(?:\s*[:：]\s*|\s+))(?=\S)")


def is_address(value: str) -> bool:
    """Whether an href is an address to follow (not "#", javascript:, mailto:, ...)."""
    return bool(value.strip()) and not _NON_LINK.match(value)


def department_text(value: str) -> str:
    """A department cell's text without its label."""
    return _DEPARTMENT_LABEL.sub("", value or "", count=1)


# What a source whose selectors stopped matching is told to do.
_DETECT_AGAIN = "`feedkit source detect {url}` finds the board's selectors again"


class SourceError(FeedkitError):
    """The source as a whole cannot be read (e.g. the list selector matches nothing)."""


@dataclass
class Item:
    """One article found on a list page, ready for normalisation."""

    where: str                      # "LIST-URL item N" for messages
    key: str                        # the article URL (its id in the store)
    row_hash: str                   # what the list row looked like (to skip it next time)
    record: dict[str, Any]
    base_url: str


@dataclass
class HtmlResult:
    items: list[Item] = field(default_factory=list)   # only when no store_page is given
    rejected: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    pages: int = 0                  # list pages fetched with a body
    not_modified: int = 0           # list pages answered 304
    details: int = 0                # detail pages fetched
    skipped: int = 0                # known, unchanged rows not looked at again
    incomplete: bool = False        # a later list page failed: the pages behind it were not read


# Given {article URL: row hash} for one page, return the URLs already stored unchanged.
KnownFn = Callable[[dict[str, str]], set[str]]
PageFn = Callable[[str, str, int, int], None]   # (url, status text, items on page, new)
StoreFn = Callable[[list[Item]], None]          # one page's new or changed items → the store


def source_fingerprint(src: SourceConfig) -> str:
    """Changes when anything that shapes the records changes, so a new selector re-reads rows."""
    blob = json.dumps([src.selectors, src.detail, src.link_pattern, src.link_template,
                       src.encoding, src.category], sort_keys=True, ensure_ascii=False)
    return hashlib.blake2b(blob.encode("utf-8"), digest_size=8).hexdigest()


def read_html_source(src: SourceConfig, fetcher: Fetcher, known: KnownFn, *, full: bool = False,
                     on_page: PageFn | None = None, attachments_label: str = "첨부파일",
                     store_page: StoreFn | None = None, resume: bool = False) -> HtmlResult:
    """Walk the list pages of one source and collect new or changed articles.

    With ``store_page``, each page's items are handed over as soon as the page (and its detail
    pages) is read and are not kept here: memory stays bounded however many pages a board has,
    and what was read is kept when a later page fails. Without it they end up in
    ``result.items``.

    Paging stops at the first page of articles already stored, as older pages hold nothing
    new; except with ``resume`` (the last run stopped at a failed list page, so the pages behind
    it were never read): then it walks on to the board's end, still skipping known articles.

    Detail and next pages are fetched only on the source's own host (that of ``url``, of where
    its first page redirected, and ``allow_hosts``): a board is not a way to make feedkit fetch
    and publish some other site's or an internal page. Other links are kept, not followed.

    Raises :class:`FetchError` / :class:`SourceError` when the first list page cannot be read
    or shows no items; later problems (a detail page that fails, a bad row) reject only that
    item, as "URL item N: reason".
    """
    result = HtmlResult()
    fp = source_fingerprint(src)
    seen: set[str] = set()
    visited: set[str] = set()
    hosts = {host_of(src.url), *(host_of("//" + h) for h in src.allow_hosts)}
    url = src.url
    for page_no in range(1, src.max_pages + 1):
        visited.add(url)
        try:
            response = fetcher.get(url, conditional=not full,
                                   hosts=None if page_no == 1 else hosts)
        except FetchError as exc:
            if page_no == 1:
                raise
            if re.search(r": HTTP (404|410)\b", str(exc)):
                break   # paged past the end of a board that answers "not found"
            # Keep what the earlier pages gave; report this page and stop paging.
            result.rejected.append(f"list page {page_no}: {exc}")
            result.incomplete = True
            break
        if response.not_modified:
            result.not_modified += 1
            if on_page:
                on_page(url, "not modified", 0, 0)
            break   # page unchanged since the last complete run: nothing new behind it either
        result.pages += 1
        if page_no == 1:
            hosts.add(host_of(response.url))   # the configured URL led there
        doc = parse_document(response, src.encoding)
        rows = _select(doc, src.selectors["item"])
        if not rows:
            if page_no == 1:
                raise SourceError(f"{response.url}: selectors.item {src.selectors['item']!r} "
                                  f"matched nothing (has the page layout changed? "
                                  f"{_DETECT_AGAIN.format(url=src.url)})")
            break
        before = len(result.rejected)
        page_items = _read_rows(src, rows, response.url, fp, result)
        if page_no == 1 and not page_items and len(result.rejected) - before == len(rows):
            # Rows, but not one with a title and a link: the cells moved, not one bad row.
            first = result.rejected[before].split(": ", 1)[-1]
            raise SourceError(f"{response.url}: none of the {len(rows)} rows selectors.item "
                              f"matched has a title and link ({first}; has the page layout "
                              f"changed? {_DETECT_AGAIN.format(url=src.url)})")
        fresh = {}
        for item in page_items:
            if item.key in seen:
                continue   # an article that moved from page 1 to page 2 while we paged
            seen.add(item.key)
            fresh[item.key] = item
        unchanged = set() if full else known({k: i.row_hash for k, i in fresh.items()})
        new_items = [i for k, i in fresh.items() if k not in unchanged]
        result.skipped += len(fresh) - len(new_items)
        page_items = []
        for item in new_items:
            if src.detail:
                if host_of(item.key) not in hosts:
                    result.warnings.append(
                        f"{item.where}: detail page {item.key} not fetched: it is not on the "
                        f"source's host ({_hosts_text(hosts)}; add its host to allow_hosts to "
                        "read it); kept what the list shows")
                elif not _add_detail(src, fetcher, item, result, attachments_label, hosts):
                    continue
            page_items.append(item)
        if store_page is not None:
            store_page(page_items)
        else:
            result.items += page_items
        if on_page:
            on_page(response.url, "fetched", len(rows), len(new_items))
        if not new_items and not full and not resume:
            break   # only known articles here: older pages hold nothing new
        next_url = _next_page(src, doc, response.url, page_no)
        if not next_url or next_url in visited:
            break
        if host_of(next_url) not in hosts:
            result.warnings.append(f"{response.url}: next page {next_url} not fetched: it is not "
                                   f"on the source's host ({_hosts_text(hosts)}; see "
                                   "allow_hosts)")
            break
        url = next_url
    return result


def _hosts_text(hosts: set[str]) -> str:
    return ", ".join(sorted(hosts))


# ---------------------------------------------------------------------------------------------
# Parsing and selecting


def parse_document(response: Response, encoding_override: str = "") -> lxml_html.HtmlElement:
    """Decode with the fetcher's charset rules, then parse. The document's ``base_url`` is the
    page URL, or its ``<base href>``: every extracted link is resolved against it."""
    text = response.text(encoding_override)
    return parse_html_text(text, response.url)


def parse_html_text(text: str, url: str) -> lxml_html.HtmlElement:
    # Parse UTF-8 bytes with the encoding pinned: lxml would otherwise obey a <meta charset> that
    # no longer matches the already-decoded text and produce mojibake.
    parser = lxml_html.HTMLParser(encoding="utf-8", remove_comments=True)
    data = text.encode("utf-8", errors="replace")
    try:
        doc = lxml_html.document_fromstring(data, parser=parser, base_url=url)
    except (etree.ParserError, ValueError) as exc:
        raise SourceError(f"{url}: cannot parse the page: {exc}") from None
    base = doc.find("head/base[@href]")
    if base is not None and base.get("href", "").strip():
        # Resolving only the links we use (not the whole page's 1,500 menu links) is what keeps
        # a 100 KB city page at a few milliseconds.
        doc.getroottree().docinfo.URL = urljoin(url, base.get("href").strip())
    return doc


def _abs(el: Any, value: str) -> str:
    """``value`` (an href/src from ``el``'s document) as an absolute URL."""
    value = value.strip()
    return urljoin(el.getroottree().docinfo.URL or "", value) if value else ""


@lru_cache(maxsize=256)
def _compiled(css: str) -> CSSSelector:
    return CSSSelector(css)


def _select(el: Any, spec: str) -> list[Any]:
    css, _attr = split_selector(spec)
    return _compiled(css)(el)


def _text(el: Any) -> str:
    return el.text_content() if hasattr(el, "text_content") else str(el)


def _value(el: Any, spec: str | None) -> str:
    """The text (or ``@attr``) of the first element ``spec`` matches inside ``el``."""
    if not spec:
        return ""
    css, attr = split_selector(spec)
    for match in _compiled(css)(el):
        value = (match.get(attr) or "") if attr else _text(match)
        if value.strip():
            return value
    return ""


def _link_of(el: Any) -> str:
    """An element's own href, else the first descendant's, else its enclosing <a>'s."""
    href = el.get("href")
    if href and not _NON_LINK.match(href):
        return href
    for a in el.iterdescendants("a"):
        href = a.get("href")
        if href and not _NON_LINK.match(href):
            return href
    for anc in el.iterancestors("a"):
        href = anc.get("href")
        if href:
            return href
    # javascript: links are returned raw so link_pattern can pick their arguments apart.
    return el.get("href") or el.get("onclick") or ""


def _link_value(src: SourceConfig, row: Any) -> str:
    spec = src.selectors.get("link") or src.selectors["title"]
    css, attr = split_selector(spec)
    matches = _compiled(css)(row)
    if not matches:
        return ""
    target = matches[0]
    value = (target.get(attr) or "") if attr else _link_of(target)
    if src.link_pattern:
        pattern = re.compile(src.link_pattern)
        candidates = [value, target.get("onclick") or "", target.get("href") or ""]
        candidates += [a.get("onclick") or "" for a in target.iterdescendants("a")]
        candidates += [a.get("href") or "" for a in target.iterdescendants("a")]
        for candidate in candidates:
            m = pattern.search(candidate)
            if m:
                return src.link_template.format(m.group(0), *m.groups())
        return ""
    return value


def _image_value(el: Any, spec: str | None) -> str:
    """``img@src`` as given, or the src of the matched <img> (or of the first <img> inside it),
    falling back to lazy-loading attributes (data-src, data-original)."""
    if not spec:
        return ""
    css, attr = split_selector(spec)
    for match in _compiled(css)(el):
        if attr:
            value = match.get(attr) or ""
            if value.strip() and not _PLACEHOLDER_IMAGE.search(value):
                return _abs(match, value)
            continue
        imgs = [match] if match.tag == "img" else list(match.iterdescendants("img"))
        for img in imgs:
            for name in ("src", "data-src", "data-original", "data-lazy-src"):
                value = img.get(name) or ""
                if value.strip() and not value.startswith("data:"):
                    if _PLACEHOLDER_IMAGE.search(value):
                        break
                    return _abs(img, value)
    return ""


def read_page_rows(src: SourceConfig, doc: Any, page_url: str) -> tuple[list[Item], list[str]]:
    """The articles one list page shows, read exactly as ``update`` reads them, and the rows it
    would reject (``feedkit source detect`` checks its block and previews with this)."""
    result = HtmlResult()
    rows = _select(doc, src.selectors["item"])
    return _read_rows(src, rows, page_url, source_fingerprint(src), result), result.rejected


def link_value(src: SourceConfig, row: Any) -> str:
    """A row's article link as ``update`` finds it (before it is made absolute)."""
    return _link_value(src, row)


def _read_rows(src: SourceConfig, rows: Iterable[Any], page_url: str, fp: str,
               result: HtmlResult) -> list[Item]:
    sel = src.selectors
    items = []
    for n, row in enumerate(rows, 1):
        where = f"{page_url} item {n}"
        title = _value(row, sel["title"])
        link = _link_value(src, row)
        link = _abs(row, link) if link.strip() and not _NON_LINK.match(link) else ""
        record = {
            "title": title,
            "url": link,
            "published": _value(row, sel.get("date")),
            "department": department_text(_value(row, sel.get("department"))),
            "summary": _value(row, sel.get("summary")),
            "author": _value(row, sel.get("author")),
            "image": _image_value(row, sel.get("image")),
        }
        if not title.strip():
            result.rejected.append(f"{where}: selectors.title {sel['title']!r} found no title")
            continue
        if not link.strip():
            result.rejected.append(f"{where}: no article link found "
                                   f"({'selectors.link' if 'link' in sel else 'selectors.title'} "
                                   "has no href)")
            continue
        try:
            key = clean_url(link, page_url)
        except RecordError as exc:
            result.rejected.append(f"{where}: {exc}")
            continue
        record["url"] = key
        blob = json.dumps([fp, record], sort_keys=True, ensure_ascii=False)
        row_hash = hashlib.blake2b(blob.encode("utf-8"), digest_size=16).hexdigest()
        items.append(Item(where=where, key=key, row_hash=row_hash, record=record,
                          base_url=page_url))
    return items


# ---------------------------------------------------------------------------------------------
# Detail pages


def _add_detail(src: SourceConfig, fetcher: Fetcher, item: Item, result: HtmlResult,
                label: str, hosts: set[str] | None = None) -> bool:
    """Merge the article's own page into ``item.record``; False (and a rejection) on failure."""
    try:
        response = fetcher.get(item.key, conditional=False, hosts=hosts)
    except FetchError as exc:
        result.rejected.append(f"{item.where}: detail page {exc}")
        return False
    result.details += 1
    try:
        doc = parse_document(response, src.encoding)
    except SourceError as exc:
        result.rejected.append(f"{item.where}: detail page {exc}")
        return False
    merge_detail(src, item, doc, label)
    item.base_url = response.url
    return True


def merge_detail(src: SourceConfig, item: Item, doc: Any, label: str = "첨부파일") -> None:
    """What the article's own page (``doc``) adds to the list row's record."""
    found = read_detail(src.detail, doc, label)
    rec = item.record
    # The article's own page knows better: full (not shortened) title, date with time, the big
    # image rather than a thumbnail. The list keeps the department and teaser when it has them.
    for key in ("title", "published", "image"):
        if found.get(key):
            rec[key] = found[key]
    for key in ("department", "summary", "author"):
        if found.get(key) and not str(rec.get(key) or "").strip():
            rec[key] = found[key]
    if found.get("content_html"):
        rec["content_html"] = found["content_html"]


def read_detail(selectors: dict[str, str], doc: Any, label: str = "첨부파일") -> dict[str, str]:
    """The fields a detail page's selectors point at; the body keeps its markup (sanitised later)
    and gets the attachments appended as a list of links."""
    out = {
        "title": _value(doc, selectors.get("title")),
        "published": _value(doc, selectors.get("date")),
        "department": department_text(_value(doc, selectors.get("department"))),
        "summary": _value(doc, selectors.get("summary")),
        "author": _value(doc, selectors.get("author")),
        "image": _image_value(doc, selectors.get("image")),
    }
    body = ""
    if selectors.get("body"):
        css, _attr = split_selector(selectors["body"])
        parts = _compiled(css)(doc)
        body = "".join(_outer_html(p) for p in parts)
    attachments = _attachments(doc, selectors.get("attachments"))
    if attachments:
        links = "".join(f'<li><a href="{html.escape(u)}">{html.escape(n)}</a></li>'
                        for n, u in attachments)
        body += f"<h3>{html.escape(label)}</h3><ul>{links}</ul>"
    out["content_html"] = body
    return out


def _outer_html(el: Any) -> str:
    for bad in el.xpath(".//script|.//style|.//noscript|.//iframe|.//form"):
        bad.drop_tree()
    el.make_links_absolute(el.getroottree().docinfo.URL, resolve_base_href=False,
                           handle_failures="ignore")
    return lxml_html.tostring(el, encoding="unicode", method="html", with_tail=False)


def _attachments(doc: Any, spec: str | None) -> list[tuple[str, str]]:
    """(name, absolute URL) of each attachment link, in page order, without duplicates."""
    if not spec:
        return []
    css, attr = split_selector(spec)
    found: dict[str, str] = {}
    for match in _compiled(css)(doc):
        anchors = [match] if match.tag == "a" else list(match.iterdescendants("a"))
        for a in anchors:
            url = (a.get(attr) if attr else a.get("href")) or ""
            if not url.strip() or _NON_LINK.match(url):
                continue
            url = _abs(a, url)
            name = " ".join(_text(a).split()) or _file_name(url)
            found.setdefault(url, name)
    return [(name, url) for url, name in found.items()]


def _file_name(url: str) -> str:
    path = urlsplit(url).path
    return unquote(path.rsplit("/", 1)[-1]) or url


# ---------------------------------------------------------------------------------------------
# Paging


def page_url(url: str, param: str, number: int) -> str:
    """``url`` with query parameter ``param`` set to ``number`` (other parameters kept)."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != param]
    query.append((param, str(number)))
    return urlunsplit(parts._replace(query=urlencode(query)))


def next_page_url(src: SourceConfig, doc: Any, current: str, page_no: int) -> str:
    """The address of list page ``page_no + 1`` (after ``doc``, page ``page_no``), or ""."""
    return _next_page(src, doc, current, page_no)


def _next_page(src: SourceConfig, doc: Any, current: str, page_no: int) -> str:
    if src.page_param:
        return page_url(src.url, src.page_param, page_no + 1)
    if src.next_page:
        css, attr = split_selector(src.next_page)
        for match in _compiled(css)(doc):
            href = (match.get(attr) if attr else _link_of(match)) or ""
            if href.strip() and not _NON_LINK.match(href):
                return _abs(match, href)
    return ""
