"""The fields of a board's rows: which cell is the title, the date, the department, the teaser
and the thumbnail, and the selector that reads each.

The rows' text pieces are lined up into columns by their place in the row (``td`` 3, the
second ``span`` of ``dd.etc``), then each column is judged on what it holds in *every* row:

* the title is where the rows' title links are (:mod:`.rows` found them);
* a date column holds a date in most rows; its form says whether the list alone will do
  (``2024.06.14``, ``24.06.14``) or the article page must give the year or day (``06-14``,
  ``16:20``); a ``수정일`` column loses to a ``등록일`` one;
* a department column holds short names that end the way Korean offices do (과, 실, 팀, 동,
  읍, 센터, ...) or sits under a header such as ``담당부서``; a writer column of people's names
  does not qualify;
* a teaser is a long text that is not the title; a thumbnail is an image whose address
  changes from row to row (icons and "new" badges repeat, so they never qualify).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from statistics import median
from typing import Any

from feedkit.ingest.detect.css import (
    common_classes,
    first_with_text,
    norm,
    nth_child,
    relative_path,
    select,
    simple,
    text_of,
)
from feedkit.ingest.detect.dates import EDIT_LABEL, FULL, SHORT, DateHit, find_date
from feedkit.ingest.detect.rows import Board, Row, link_around
from feedkit.ingest.html_source import department_text

DEPT_LABEL = re.compile(r"부서|담당|작성자|글쓴이|등록자|작성처|기관|소관")
_DEPT_SUFFIX = re.compile(r"(?:과|실|팀|소|관|단|국|원|센터|본부|사업소|면|동|읍|청|부|처|"
                          r"위원회|담당관|사무소|의회|재단|공단|공사|협의회|지원단|추진단)$")
# Icons and badges (looked for in the file name, not the folders: "ybmodule.file/" is a photo).
_ICON = re.compile(r"icon|ico_|_ico|btn|bullet|blank|spacer|new|badge|arrow|file|attach|"
                   r"notice|lock|reply|comment|\.gif$", re.I)
# The "..." (or "…") a list puts after a title it cut short.
CUT = re.compile(r"(?:\.{2,}|…)\s*$")


def is_department(text: str) -> bool:
    """Whether ``text`` reads like a Korean office's name (관광과, 기획감사실, 대천1동)."""
    return 2 <= len(text) <= 25 and not text.isdigit() and bool(_DEPT_SUFFIX.search(text))


@dataclass
class Column:
    key: tuple[tuple[str, int], ...]
    cells: dict[int, Any] = field(default_factory=dict)     # row number -> element
    label: str = ""

    def texts(self) -> list[str]:
        return [norm(el.text_content()) for el in self.cells.values()]


@dataclass
class Fields:
    """The selectors found for a board's rows, and what they read on this page."""

    selectors: dict[str, str] = field(default_factory=dict)
    samples: dict[str, str] = field(default_factory=dict)     # one value each, for comments
    date_needs_detail: bool = False   # the list shows no year (06-14) or only a time (16:20)
    date_form: str = ""
    titles_cut: bool = False          # some titles end in "..." and no title attribute has all
    labels: list[str] = field(default_factory=list)           # the table's column headers


def _base(el: Any, row: Row) -> tuple[Any, str]:
    """What a cell hangs from: the row itself (prefix ""), or one of a <dt> row's <dd>s (prefix
    "dt + dd", "dt + dd + dd": the reader starts from the row, and CSS reaches its siblings)."""
    for k, comp in enumerate(row.companions, 1):
        if el is comp or comp in el.iterancestors():
            return comp, " + ".join([row.el.tag, *(c.tag for c in row.companions[:k])])
    return row.el, ""


def _key(el: Any, row: Row) -> tuple:
    base, prefix = _base(el, row)
    steps = []
    node = el
    while node is not None and node is not base:
        steps.append((node.tag, nth_child(node)))
        node = node.getparent()
    return (prefix, *reversed(steps))


def field_element(leaf: Any, row: Row) -> Any:
    """Where a text piece is read from: its link when the link holds nothing else of note
    (``<a><strong>제목</strong></a>`` and ``<a>제목</a>`` are one column), else itself."""
    link = link_around(leaf, row.el, tuple(row.companions))
    if link is not None and link is not row.el and len(text_of(link)) <= len(text_of(leaf)) + 8:
        return link
    return leaf


def columns(board: Board) -> list[Column]:
    by_key: dict[tuple, Column] = {}
    for n, row in enumerate(board.rows):
        seen = set()
        for leaf, _text in row.leaves:
            el = field_element(leaf, row)
            if el in seen:
                continue
            seen.add(el)
            key = _key(el, row)
            col = by_key.setdefault(key, Column(key))
            col.cells.setdefault(n, el)
    return list(by_key.values())


def header_labels(board: Board) -> dict[int, str]:
    """Column position (the row's n-th child) → its header text (번호, 제목, 담당부서, ...)."""
    container = board.container
    candidates = [c for c in container if isinstance(c.tag, str) and c not in board.elements]
    prev = container.getprevious()
    if prev is not None:
        candidates.append(prev)
    if container.tag == "tbody" and container.getparent() is not None:
        candidates += list(container.getparent().iter("thead"))
    for cand in candidates:
        if cand.tag == "thead":
            cand = next(cand.iter("tr"), cand)
        cells = [c for c in cand if isinstance(c.tag, str)]
        texts = [norm(c.text_content()) for c in cells]
        if len(cells) >= 2 and all(len(t) <= 12 for t in texts) and sum(map(bool, texts)) >= 2:
            return {i + 1: t for i, t in enumerate(texts)}
    return {}


def find_fields(board: Board, parse_ok) -> Fields:
    """``parse_ok(text)``: whether ``update`` reads ``text`` as a date (normalize.parse_date)."""
    out = Fields()
    cols = columns(board)
    labels = header_labels(board)
    out.labels = [labels[k] for k in sorted(labels)]
    for col in cols:
        if labels and len(col.key) > 1 and not col.key[0]:
            col.label = labels.get(col.key[1][1], "")
    rows = board.rows
    title = _title_column(board, cols)
    if title is None:
        return out
    _title(board, title, out)
    rest = [c for c in cols if c is not title and not _inside(c, title)]
    date = _date_column(rest, len(rows))
    if date is not None:
        _date(board, date, out, parse_ok)
        rest = [c for c in rest if c is not date]
    dept = _department_column(rest, len(rows))
    if dept is not None:
        css = _relative_selector(board, dept.cells)
        if css:
            out.selectors["department"] = css
            out.samples["department"] = department_text(dept.texts()[0])
        rest = [c for c in rest if c is not dept]
    summary = _summary_column(rest, title, len(rows))
    if summary is not None and (css := _relative_selector(board, summary.cells)):
        out.selectors["summary"] = css
        out.samples["summary"] = summary.texts()[0][:40]
    image = _image(board)
    if image:
        out.selectors["image"] = image
    return out


def _inside(col: Column, title: Column) -> bool:
    """A piece inside the title's own element (a badge in the link)."""
    return all(any(t is el or t in el.iterancestors() for t in title.cells.values())
               for el in col.cells.values())


def _title_column(board: Board, cols: list[Column]) -> Column | None:
    best, best_n = None, 0
    for col in cols:
        n = sum(1 for i, row in enumerate(board.rows)
                if i in col.cells and row.title_el is not None and (
                    col.cells[i] is row.title_el
                    or col.cells[i] is field_element(row.title_el, row)))
        if n > best_n:
            best, best_n = col, n
    return best if best_n >= max(2, len(board.rows) // 2) else None


def _title(board: Board, col: Column, out: Fields) -> None:
    css = _relative_selector(board, col.cells)
    texts = col.texts()
    out.samples["title"] = texts[0]
    cut = [t for t in texts if CUT.search(t)]
    out.titles_cut = bool(cut)
    if cut and css:
        holders = {}
        for n, el in col.cells.items():
            holder = el if el.get("title") else next(
                (a for a in el.iterancestors() if a.get("title")), None)
            if holder is None:
                break
            full = norm(holder.get("title"))
            shown = norm(el.text_content())
            stem = CUT.sub("", shown).strip()
            if not full.startswith(stem) or (stem == shown and full != shown):
                break
            holders[n] = holder
        else:
            attr_css = _relative_selector(board, holders, text=False)
            if attr_css:
                out.titles_cut = False
                css = f"{attr_css}@title"
    if css:
        out.selectors["title"] = css
    links = {i: row.link_el for i, row in enumerate(board.rows) if row.link_el is not None}
    # The reader takes the link from the title's element, unless the title is an attribute
    # (then it would read that) or the link is elsewhere in the row.
    if "@" in css or any(not _related(links[i], col.cells.get(i)) for i in links):
        link_css = _relative_selector(board, links, text=False)
        if link_css:
            out.selectors["link"] = link_css


def _related(link: Any, el: Any) -> bool:
    """Whether the reader finds ``link`` from the title element ``el`` (itself, an <a> around
    it, or an <a> inside it); a clickable row (<tr onclick>) needs its own link selector."""
    if el is None:
        return True
    return link is el or (link.tag == "a" and link in el.iterancestors()) or (
        el in link.iterancestors())


def _date_column(cols: list[Column], n_rows: int) -> Column | None:
    best, best_score = None, 0.0
    for order, col in enumerate(cols):
        hits = [find_date(t) for t in col.texts()]
        good = [h for h in hits if h is not None]
        if len(good) < max(2, 0.7 * len(col.cells)) or len(col.cells) < 0.6 * n_rows:
            continue
        score = len(good) / n_rows
        if all(h.kind in (FULL, SHORT) for h in good):
            score += 1.0
        if any(h.has_time for h in good):
            score += 0.2
        if EDIT_LABEL.search(col.label) or any(EDIT_LABEL.search(t) for t in col.texts()):
            score -= 0.8
        score -= 0.01 * order
        if score > best_score:
            best, best_score = col, score
    return best


def _date(board: Board, col: Column, out: Fields, parse_ok) -> None:
    css = _relative_selector(board, col.cells)
    if not css:
        return
    texts = col.texts()
    times = {n: t for n, el in col.cells.items()
             if (t := el if el.tag == "time" else el.find(".//time")) is not None
             and (t.get("datetime") or "").strip()}
    if len(times) == len(col.cells) and all(parse_ok(t.get("datetime")) for t in times.values()):
        # <time datetime="2024-06-14T10:21">6월 14일</time>: the attribute has the whole date.
        attr_css = _relative_selector(board, times, text=False)
        if attr_css:
            out.selectors["date"] = f"{attr_css}@datetime"
            out.samples["date"] = next(iter(times.values())).get("datetime")
            out.date_form = "datetime attribute"
            return
    hits: list[DateHit | None] = [find_date(t) for t in texts]
    out.samples["date"] = texts[0]
    out.date_form = ", ".join(sorted({h.kind for h in hits if h}))
    readable = all(parse_ok(t) for t in texts)
    out.date_needs_detail = not readable
    out.selectors["date"] = css


def _department_column(cols: list[Column], n_rows: int) -> Column | None:
    best, best_score = None, 0.0
    for col in cols:
        texts = [department_text(t) for t in col.texts()]
        if len(col.cells) < 0.6 * n_rows or not texts:
            continue
        if any(len(t) > 25 or len(t) < 2 or find_date(t) or t.isdigit() for t in texts):
            continue
        share = sum(1 for t in texts if _DEPT_SUFFIX.search(t)) / len(texts)
        labelled = bool(DEPT_LABEL.search(col.label)) or any(
            DEPT_LABEL.search(t) for t in col.texts())
        score = share + (0.4 if labelled else 0.0)
        if share >= 0.5 and score > best_score and score >= 0.7:
            best, best_score = col, score
    return best


def _summary_column(cols: list[Column], title: Column, n_rows: int) -> Column | None:
    title_len = median(len(t) for t in title.texts())
    best, best_len = None, 0.0
    for col in cols:
        texts = col.texts()
        if len(col.cells) < 0.5 * n_rows:
            continue
        length = median(len(t) for t in texts)
        if length >= max(30, title_len * 1.2) and length > best_len:
            best, best_len = col, length
    return best


def _image(board: Board) -> str:
    """``img`` selector of a thumbnail whose address differs from row to row."""
    by_key: dict[tuple, dict[int, Any]] = {}
    for n, row in enumerate(board.rows):
        for img in row.el.iter("img"):
            src = img.get("src") or img.get("data-src") or img.get("data-original") or ""
            if src and not _ICON.search(src.split("?")[0].rsplit("/", 1)[-1]):
                by_key.setdefault(_key(img, row), {}).setdefault(n, img)
    best: dict[int, Any] = {}
    best_attr = ""
    for cells in by_key.values():
        if len(cells) < 0.5 * len(board.rows) or len(cells) <= len(best):
            continue
        # A lazy-loading list shows one "loading" picture in src and the photo in data-src.
        for attr in ("src", "data-src", "data-original", "data-lazy-src"):
            srcs = {c.get(attr) or "" for c in cells.values()} - {""}
            if len(srcs) >= 0.5 * len(cells):
                best, best_attr = cells, attr
                break
    if not best:
        return ""
    css = _relative_selector(board, best, text=False)
    return f"{css}@{best_attr}" if css and best_attr != "src" else css


def _relative_selector(board: Board, cells: dict[int, Any], *, text: bool = True) -> str:
    """A selector that, in every row, finds that row's cell (the first match with text, as the
    reader takes it; or the first match at all, for links and images)."""
    if not cells:
        return ""
    rows: list[Row] = board.rows
    elements = list(cells.values())
    first = elements[0]
    base, prefix = _base(first, rows[next(iter(cells))])
    names = _plain(common_classes(elements))
    parents = [e.getparent() for e in elements]
    parent_names = _plain(common_classes([p for p in parents if p is not None]))
    candidates = []
    if names:
        candidates.append(simple(first, names, use_id=False))
    if parents[0] is not None and parents[0] is not base and first is not base:
        p = simple(parents[0], parent_names, use_id=False)
        candidates.append(f"{p} > {simple(first, names, use_id=False)}")
        if len({nth_child(e) for e in elements}) == 1:
            candidates.append(f"{p} > {first.tag}:nth-child({nth_child(first)})")
        candidates.append(f"{p} {first.tag}")
    loose = _loose_path(first, base)
    if loose:
        candidates.append(loose)
    candidates.append(relative_path(first, base))
    candidates.append(first.tag)
    if prefix:   # a <dd>'s cell: reached from the <dt> row through its sibling
        candidates = [prefix if c == base.tag and first is base else f"{prefix} {c}"
                      for c in candidates]
    candidates = list(dict.fromkeys(candidates))
    # Best a short selector that finds only that cell in each row; then a short one whose first
    # match with text is the cell (what the reader takes); long positional paths last.
    ranked = sorted(candidates, key=lambda c: (c.count(":nth-child") >= 3, ))
    for only in (True, False):
        for css in ranked:
            if css.count(":nth-child") < 3 and _works(css, rows, cells, text, only=only):
                return css
    for css in ranked:
        if _works(css, rows, cells, text):
            return css
    return ""


def _plain(names: list[str]) -> list[str]:
    """Class names without digits: "member_4", "document_123_4" name one thing, not a role."""
    return [n for n in names if not any(ch.isdigit() for ch in n)]


def _loose_path(el: Any, row: Any) -> str:
    """``td:nth-child(2) a``: the row's cell by position, then tags (shorter than a full path)."""
    chain = []
    node = el
    while node is not None and node.getparent() is not row:
        chain.append(node)
        node = node.getparent()
    if node is None:
        return ""
    head = f"{node.tag}:nth-child({nth_child(node)})"
    return " ".join([head, *(n.tag for n in reversed(chain))]) if chain else head


def _works(css: str, rows: list[Row], cells: dict[int, Any], text: bool, *,
           only: bool = False) -> bool:
    for n, row in enumerate(rows):
        want = cells.get(n)
        if only and want is not None:
            found = select(row.el, css)
            if len(found) != 1 or found[0] is not want:
                return False
            continue
        if text:
            got = first_with_text(row.el, css)
        else:
            found = select(row.el, css)
            got = found[0] if found else None
        if want is None:
            continue
        if got is None:
            return False
        if got is not want and not (text and norm(got.text_content()) == norm(want.text_content())
                                     and got.tag == want.tag):
            return False
    return True
