"""Detection from start to end: fetch the list page, find the board, its fields, its links and
its paging, read two or three article pages, and preview what ``update`` will store.

All requests go through the :class:`~feedkit.ingest.fetch.Fetcher` of ``feedkit update`` (its
User-Agent and contact, robots.txt, the per-host delay, the address rules), without its HTTP
cache: detection stores nothing. Page 2 and the article pages are fetched only on the list
page's own host, as ``update`` would. Each page is fetched once (:class:`_Memo`): the preview
re-reads what the analysis fetched.

Everything detection proposes is checked with the reader ``update`` runs
(:func:`~feedkit.ingest.html_source.read_page_rows`, ``merge_detail``) and the normaliser
every record goes through, so the preview is what the block will store.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from feedkit.config import SourceConfig, parse_config
from feedkit.errors import ConfigError, FeedkitError
from feedkit.ingest.charset import _codec, detect_encoding, sniff_meta_charset
from feedkit.ingest.detect import detail as detail_mod
from feedkit.ingest.detect import links, paging
from feedkit.ingest.detect.css import norm
from feedkit.ingest.detect.dates import find_date
from feedkit.ingest.detect.fields import Fields, find_fields
from feedkit.ingest.detect.rows import Board, describe, find_boards, item_selector
from feedkit.ingest.fetch import Fetcher, FetchError, Response, host_of
from feedkit.ingest.html_source import (
    Item,
    SourceError,
    link_value,
    merge_detail,
    next_page_url,
    parse_document,
    read_page_rows,
)
from feedkit.ingest.normalize import RecordError, normalize_record, parse_date

DETAIL_PAGES = 3      # article pages compared to tell the article from the portal
PREVIEW = 5           # rows previewed (their article pages fetched when the block reads them)


class DetectError(FeedkitError):
    """No usable board on the page; the message says what was looked for and not found."""


@dataclass
class Detection:
    source: dict[str, Any]                              # the [[sources]] table
    notes: dict[str, str] = field(default_factory=dict)  # "selectors.title" -> comment
    header: list[str] = field(default_factory=list)      # comment lines above the block
    preview: list[dict[str, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    requests: int = 0


class _Memo:
    """The fetcher, each URL fetched once per detection (no conditional GET, no cache kept)."""

    def __init__(self, fetcher: Fetcher):
        self.fetcher = fetcher
        self.pages: dict[str, Response | FetchError] = {}

    def get(self, url: str, *, hosts: set[str] | None = None, **_kw: Any) -> Response:
        if url not in self.pages:
            try:
                self.pages[url] = self.fetcher.get(url, conditional=False, hosts=hosts)
            except FetchError as exc:
                self.pages[url] = exc
        found = self.pages[url]
        if isinstance(found, FetchError):
            raise found
        return found


def detect(url: str, fetcher: Fetcher, tz: ZoneInfo, *, name: str = "",
           attachments_label: str = "첨부파일") -> Detection:
    """Find the board on the list page ``url`` and describe it as a ``[[sources]]`` table."""
    memo = _Memo(fetcher)
    response = memo.get(url)
    hosts = {host_of(url), host_of(response.url)}
    doc = parse_document(response)

    def parse_ok(text: str) -> bool:
        try:
            parse_date(text, tz)
        except RecordError:
            return False
        return True

    boards = find_boards(doc)
    board = _board(boards, url)
    item = item_selector(doc, board)
    if not item:
        raise DetectError(f"{url}: found {describe(board)} but no selector that matches only "
                          "them; write the selectors by hand (README, \"Add a source\")")
    fields = find_fields(board, parse_ok)
    if "title" not in fields.selectors:
        raise DetectError(f"{url}: found {describe(board)} but not which text is the title")
    src = SourceConfig(kind="html", url=url, name=name or _name(doc),
                       selectors={"item": item, **fields.selectors},
                       encoding=_pinned_encoding(response))
    found = Detection(source={})
    found.header.append(f"The board: {describe(board)}; left out: {_left_out(boards)}.")
    scripts = "\n".join(s.text or "" for s in doc.iter("script"))
    pager = paging.candidates(doc, response.url, board.elements, scripts)
    guess = next((c.page_param for c in pager if c.page_param), "")
    plan = links.plan(doc, response.url, [links.raw_link(r.link_el) for r in board.rows],
                      scripts, guess)
    if plan is None:
        sample = link_value(src, board.rows[0].el)
        raise DetectError(f"{url}: the article links ({sample[:80]!r}) run a script this page "
                          "does not show how to follow; write link_pattern and link_template "
                          "by hand (README, \"Add a source\")")
    src = dataclasses.replace(src, link_pattern=plan.pattern, link_template=plan.template)
    if plan.how:
        found.notes["link_pattern"] = plan.how
    items, rejected = read_page_rows(src, doc, response.url)
    if not items:
        raise DetectError(f"{url}: found {describe(board)} but none gave a title and link: "
                          f"{rejected[0] if rejected else ''}")
    src, page2 = _paging(src, doc, response.url, items, pager, memo, hosts, found)
    pinned = {i.key for i in items} & {i.key for i in page2}
    src = _details(src, fields, items, pinned, memo, hosts, doc, parse_ok, found,
                   attachments_label)
    _check(src)
    found.source = _table(src)
    _notes(found, fields, board)
    found.preview = _preview(src, items, memo, hosts, tz, attachments_label)
    found.requests = fetcher.stats.requests
    return found


def _board(boards: list[Board], url: str) -> Board:
    if not boards or boards[0].score < 1.0:
        raise DetectError(f"{url}: no board found: no list of three or more rows that link to "
                          "articles with titles (a page built by script shows nothing to read "
                          "here; try the address of the list itself)")
    return boards[0]


def _name(doc: Any) -> str:
    """The board's name: the part of <title> the page also shows as a heading or caption
    ("보도자료 | 시정소식 | 보령시청" and "보령시청 - 보도자료" both give 보도자료)."""
    title = norm(doc.findtext(".//title") or "")
    parts = [p.strip() for p in re.split(r"\s[|:>\-–·<]\s|\s*[|>]\s*", title) if p.strip()]
    headings = [norm(h.text_content()) for h in doc.iter("h1", "h2", "h3", "h4", "h5", "caption",
                                                          "legend")]
    for part in parts:
        if any(h == part or h.startswith(part + " ") for h in headings):
            return part[:60]
    body = doc.find("body")
    shown = " ".join(body.xpath(".//text()")) if body is not None else ""
    for part in parts:   # in the page's text ("HOME > 시정소식 > 군정소식"), not only in a logo
        if part in shown:
            return part[:60]
    return (parts[0] if parts else "")[:60]


def _pinned_encoding(response: Response) -> str:
    """``cp949`` when the page does not say what it is in and detection had to guess."""
    declared = _codec(response.charset) or _codec(sniff_meta_charset(response.body))
    detected = detect_encoding(response.body, response.charset)
    return detected if detected != "utf-8" and detected != declared else ""


def _left_out(boards: list[Board]) -> str:
    others = [b for b in boards[1:4] if b.container is not boards[0].container]
    return "; ".join(describe(b) for b in others) or "nothing else that looked like a list"


def _paging(src: SourceConfig, doc: Any, page_url: str, items: list[Item],
            pager: list[paging.PagingCandidate], memo: _Memo, hosts: set[str],
            found: Detection) -> tuple[SourceConfig, list[Item]]:
    keys = {i.key for i in items}
    for cand in pager:
        trial = dataclasses.replace(src, page_param=cand.page_param, next_page=cand.next_page)
        target = next_page_url(trial, doc, page_url, 1)
        if not target or host_of(target) not in hosts:
            continue
        try:
            page2 = parse_document(memo.get(target, hosts=hosts), src.encoding)
        except (FetchError, SourceError):
            continue
        items2, _rejected = read_page_rows(trial, page2, target)
        new = [i for i in items2 if i.key not in keys]
        if new:
            key = "page_param" if cand.page_param else "next_page"
            found.notes[key] = (f"checked: page 2 shows {len(items2)} rows, {len(new)} of them "
                                "not on page 1")
            return trial, items2
    found.notes["max_pages"] = "no paging found: only the first page is read"
    return dataclasses.replace(src, max_pages=1), []


def _details(src: SourceConfig, fields: Fields, items: list[Item], pinned: set[str],
             memo: _Memo, hosts: set[str], list_doc: Any, parse_ok, found: Detection,
             label: str) -> SourceConfig:
    chosen = [i for i in items if i.key not in pinned and host_of(i.key) in hosts]
    chosen = (chosen or [i for i in items if host_of(i.key) in hosts])[:DETAIL_PAGES]
    pages, failures = [], []
    for item in chosen:
        try:
            response = memo.get(item.key, hosts=hosts)
            doc = parse_document(response, src.encoding)
        except (FetchError, SourceError) as exc:
            failures.append(str(exc))
            continue
        rec = item.record
        pages.append(detail_mod.DetailPage(response.url, doc, title=rec.get("title", ""),
                                           date=find_date(rec.get("published", "")),
                                           department=rec.get("department", "")))
    if not pages:
        if fields.date_needs_detail or "date" not in src.selectors:
            why = failures[0] if failures else "no article page on the list page's host"
            raise DetectError(f"{src.url}: the list shows no full date and no article page "
                              f"could be read for one ({why})")
        found.notes["detail"] = ("no article page could be read"
                                 + (f" ({failures[0]})" if failures else "")
                                 + ": only what the list shows is stored")
        return src
    detail = detail_mod.find_detail(pages, detail_mod.page_texts(list_doc), parse_ok)
    keep = dict(detail.selectors)
    if "department" in src.selectors:
        keep.pop("department", None)
    selectors = dict(src.selectors)
    if fields.date_needs_detail:
        if "date" not in keep:
            raise DetectError(f"{src.url}: the list's dates ({fields.samples.get('date')!r}) "
                              "have no year or day, and no date was found on the article pages")
        selectors.pop("date", None)
    if "date" not in selectors and "date" not in keep:
        raise DetectError(f"{src.url}: no date found on the list or on the article pages")
    found.notes.update({f"detail.{k}": v for k, v in _detail_notes(detail, keep).items()})
    if failures:
        found.warnings.append(f"{len(failures)} article page(s) could not be read: {failures[0]}")
    return dataclasses.replace(src, selectors=selectors, detail=keep)


def _detail_notes(detail: detail_mod.DetailFields, keep: dict[str, str]) -> dict[str, str]:
    return {k: f"e.g. {detail.samples[k]}" for k in keep if k in detail.samples}


def _check(src: SourceConfig) -> None:
    """The block must pass the same checks as config.toml (a failure here is a bug)."""
    try:
        parse_config({"site": {"title": "t", "url": "https://example.org/",
                               "feed_url": "https://example.org/"},
                      "sources": [_table(src)]}, Path("config.toml"))
    except ConfigError as exc:   # pragma: no cover - detection writes only checked values
        raise DetectError(f"{src.url}: the block found does not pass the config checks: {exc}"
                          ) from None


def _table(src: SourceConfig) -> dict[str, Any]:
    out: dict[str, Any] = {"kind": "html"}
    if src.name:
        out["name"] = src.name
    out["url"] = src.url
    for key in ("page_param", "next_page", "link_pattern", "link_template", "encoding"):
        if getattr(src, key):
            out[key] = getattr(src, key)
    if src.max_pages != SourceConfig.max_pages:
        out["max_pages"] = src.max_pages
    out["selectors"] = dict(src.selectors)
    if src.detail:
        out["detail"] = dict(src.detail)
    return out


def _notes(found: Detection, fields: Fields, board: Board) -> None:
    for key, sample in fields.samples.items():
        found.notes.setdefault(f"selectors.{key}", f"e.g. {sample}")
    found.notes["selectors.item"] = describe(board)
    if fields.date_needs_detail:
        found.notes["selectors.date"] = (f"the list shows {fields.samples.get('date')!r} "
                                         f"({fields.date_form}): the date comes from the "
                                         "article page")
    if fields.titles_cut:
        found.notes["selectors.title"] = "the list cuts long titles: the article page has them"


def _preview(src: SourceConfig, items: list[Item], memo: _Memo, hosts: set[str], tz: ZoneInfo,
             label: str) -> list[dict[str, str]]:
    out = []
    for item in items[:PREVIEW]:
        row = {"url": item.key}
        if src.detail and host_of(item.key) in hosts:
            try:
                merge_detail(src, item, parse_document(memo.get(item.key, hosts=hosts),
                                                       src.encoding), label)
            except (FetchError, SourceError) as exc:
                row["error"] = f"article page: {exc}"
        try:
            article = normalize_record(item.record, tz, src.category, item.base_url)
        except RecordError as exc:
            row.setdefault("error", str(exc))
            row["title"] = norm(str(item.record.get("title", "")))
        else:
            row.update(title=article.title, published=article.published.isoformat(),
                       department=article.category, url=article.url)
        out.append(row)
    return out
