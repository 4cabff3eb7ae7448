"""Finding the board: the repeating article rows among a portal page's noise.

Every group of three or more like siblings (``tr`` in a ``tbody``, ``li`` in a ``ul``, ``dl``
or ``div`` in a ``div``) is a candidate, and each is scored by how much it looks like a list of
articles rather than a menu, a "most read" box, a banner strip or a footer:

* how many of its rows carry a link whose text is long enough to be a title (menus say
  "시정소식", boards say "보령시, 제27회 머드축제 준비 상황 점검 회의 개최");
* how many rows show a date, and how many separate cells a row has (number, department,
  date, views: a board row is a record, a menu entry is one link);
* whether it sits in the page's navigation, header, footer or a side widget (by tag and by
  the words sites use for them: ``gnb``, ``lnb``, ``footer``, ``rank``, ``banner``, ...), and
  whether a pager follows it.

Nothing here names one CMS: the same few measures pick the rows of a table, a card list or a
``<dl>`` list.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from statistics import median
from typing import Any

from lxml import etree

from feedkit.ingest.detect.css import (
    NO_TEXT,
    classes,
    common_classes,
    norm,
    own_text,
    select,
    simple,
    unique_in,
)
from feedkit.ingest.detect.dates import find_date

MIN_ROWS = 3
PAGER_CHECKED = 12            # candidates looked at for a pager after them
MAX_CANDIDATES = 40           # read in full at most (the rest cannot beat the best anyway)
SHOWN = 4                     # read in full in any case (the runners-up are named in a comment)
MAX_ROW_ELEMENTS = 400        # a board row is small; a layout cell holding a page is not
TITLE_MIN = 6                 # characters: shorter link texts are menu entries and buttons
_NOISE_TOKENS = frozenset("""gnb lnb snb tnb nav navi navigation menu menus allmenu footer foot
    header quick banner banners aside side sidebar rank ranking popular best hot most widget
    family familysite util utility breadcrumb location sitemap slide slider sns share related
    skip lang language""".split())
_NOISE_TAGS = frozenset({"nav", "header", "footer", "aside"})
_PAGER_TOKENS = re.compile(r"pag|^pg$|^pg_|paginate|page_?num|page_?link", re.I)
_NUMBER = re.compile(r"^\d{1,3}$")


@dataclass
class Row:
    """What one candidate row shows, for scoring and for the fields."""

    el: Any
    title: str = ""               # the longest title-like link text
    title_el: Any = None          # the element holding it
    link_el: Any = None           # the <a> (or onclick element) it is in
    leaves: list[tuple[Any, str]] = field(default_factory=list)   # (element, own text)
    dated: bool = False
    companions: list[Any] = field(default_factory=list)   # a <dt>'s <dd>s: part of the row


@dataclass
class Board:
    container: Any
    tag: str
    rows: list[Row]
    others: list[Any]             # same-tag siblings that are not articles (header, "no posts")
    score: float
    date_share: float
    item: str = ""                # the item selector, once built
    via: str = ""                 # a grid: rows are <td>s of several <tr>s (container > via > tag)
    companion: str = ""           # <dt> rows whose facts are in the <dd>s after them

    @property
    def elements(self) -> list[Any]:
        return [r.el for r in self.rows]


def _tokens(el: Any) -> set[str]:
    words = f"{el.get('id') or ''} {el.get('class') or ''}".lower()
    return set(re.split(r"[\s_\-]+", words)) - {""}


def _is_link(el: Any) -> bool:
    if el.tag == "a":
        return bool((el.get("href") or "").strip() or el.get("onclick"))
    return bool(el.get("onclick"))


def leaves_of(row: Any) -> list[tuple[Any, str]]:
    """(element, own text) for every element in ``row`` that holds text itself."""
    out = []
    stack = [row]
    while stack:
        el = stack.pop()
        if not isinstance(el.tag, str) or el.tag in NO_TEXT:
            continue
        text = own_text(el)
        if text:
            out.append((el, text))
        stack.extend(reversed([c for c in el if isinstance(c.tag, str)]))
    return out


def link_around(el: Any, row: Any, stops: tuple[Any, ...] = ()) -> Any | None:
    """The link (an <a>, or an element with onclick) ``el`` is in, inside ``row`` (or inside
    one of ``stops``, the row's companions)."""
    for node in [el, *el.iterancestors()]:
        if _is_link(node):
            return node
        if node is row or node in stops:
            break
    return None


# Attachments' file types: a link text ending so is a file, not a title.
FILE_TYPES = r"hwpx?|pdf|docx?|xlsx?|pptx?|zip|jpe?g|png|gif"
_FILE_NAME = re.compile(rf"\.(?:{FILE_TYPES})\s*(?:\(.*\))?$", re.I)


def _titleish(text: str) -> bool:
    return (len(text) >= TITLE_MIN and not _NUMBER.match(text) and not _date_like(text)
            and not _FILE_NAME.search(text))


def companions_of(el: Any) -> list[Any]:
    """The <dd>s after a <dt>, up to the next <dt>: in a <dl> list they are its row too."""
    out = []
    if el.tag != "dt":
        return out
    for sib in el.itersiblings():
        if not isinstance(sib.tag, str):
            continue
        if sib.tag != "dd":
            break
        out.append(sib)
    return out


def read_row(el: Any, companions: list[Any] | None = None) -> Row:
    """The row's text pieces, and its title: the first title-like text of each link (a card's
    link holds title, teaser and date, in that order), the longest of them over the row's links
    (a row also links its comments "[2]", its author, its files)."""
    row = Row(el, companions=list(companions or []))
    row.leaves = leaves_of(el)
    for extra in row.companions:
        row.leaves += leaves_of(extra)
    pieces: dict[Any, list[tuple[Any, str]]] = {}
    for leaf, text in row.leaves:
        link = link_around(leaf, el, tuple(row.companions))
        if link is not None and _titleish(text):
            pieces.setdefault(link, []).append((leaf, text))
    for link, found in pieces.items():
        leaf, text = next(((lf, t) for lf, t in found if len(t) >= 10), found[0])
        if len(text) > len(row.title) and len(text) <= 300:
            row.title, row.title_el, row.link_el = text, leaf, link
    row.dated = any(find_date(t) for leaf, t in row.leaves if leaf is not row.title_el)
    return row


def _date_like(text: str) -> bool:
    hit = find_date(text)
    return hit is not None and hit.whole


_QUICK_DATE = re.compile(r"\d{1,4}\s*[-./년]\s*\d{1,2}|\d{1,2}:\d{2}|\d{1,2}\s*월\s*\d{1,2}")


def find_boards(doc: Any) -> list[Board]:
    """Every promising candidate list of articles on the page, best first.

    One pass over the page measures each element (its size, the longest link text in it,
    whether a date-like text is in it); that bounds each candidate's score from above, and
    candidates are read in full in the order of that bound, until no bound can beat the best
    found. A portal page of 2 MB is mostly menus whose bound is far below a board's.
    """
    body = doc.find("body")
    root = body if body is not None else doc
    nodes = list(root.iter(etree.Element))
    links = set(root.xpath(".//a[@href or @onclick] | .//*[@onclick]"))
    own_chars: dict[Any, int] = {}
    dated: set[Any] = set()
    for text in root.xpath(".//text()"):
        holder = text.getparent()
        if text.is_tail:
            holder = holder.getparent()
        if holder is None:
            continue
        own_chars[holder] = own_chars.get(holder, 0) + len(text.strip())
        if _QUICK_DATE.search(text):
            el = holder
            while el is not None and el not in dated:
                dated.add(el)
                el = el.getparent()
    sizes: dict[Any, int] = {}
    chars: dict[Any, int] = {}
    link_len: dict[Any, int] = {}
    for el in reversed(nodes):
        size, total, longest = 1, own_chars.get(el, 0), 0
        for c in el.iterchildren(etree.Element):
            size += sizes[c]
            total += chars[c]
            if link_len[c] > longest:
                longest = link_len[c]
        sizes[el], chars[el] = size, total
        link_len[el] = max(longest, total) if el in links else longest
    noisy = {el for el in nodes if el.tag in _NOISE_TAGS or _tokens(el) & _NOISE_TOKENS}

    def bound_of(parent: Any, linked: list[Any], extra: dict[Any, list[Any]]) -> float:
        row_sizes = [sizes[c] + sum(sizes[x] for x in extra.get(c, ())) for c in linked]
        dates = sum(c in dated or any(x in dated for x in extra.get(c, ())) for c in linked)
        bound = (len(linked) * (0.25 + dates / len(linked))
                 * min(1.0, median(link_len[c] for c in linked) / 14) ** 2 * 2.2
                 * _alike(row_sizes) * 1.5)
        if 2 * sum(c in noisy for c in linked) >= len(linked):
            bound *= 0.3
        if len(linked) > 30:
            # A long run of rows: a board page shows 10 to 30; more is usually a site map or
            # a copied block. Their first links' texts tell (sampled: it costs text reads).
            sample = linked[:: max(1, len(linked) // 12)]
            firsts = {norm(a.text_content()) for c in sample if (a := c.find(".//a")) is not None}
            bound *= len(firsts) / len(sample)
        return bound

    groups = []
    cousins: dict[tuple[Any, str, str], list[tuple[Any, list[Any]]]] = {}
    for parent in nodes:
        if parent.tag in NO_TEXT:
            continue
        by_tag: dict[str, list[Any]] = {}
        for child in parent:
            if isinstance(child.tag, str):
                by_tag.setdefault(child.tag, []).append(child)
        for tag, children in by_tag.items():
            if tag in NO_TEXT:
                continue
            small = [c for c in children if sizes[c] <= MAX_ROW_ELEMENTS]
            linked = [c for c in small if link_len[c] >= TITLE_MIN]
            if linked and parent.getparent() is not None:
                cousins.setdefault((parent.getparent(), parent.tag, tag), []).append(
                    (parent, small))
            if len(linked) < MIN_ROWS:
                continue
            extra = {c: companions_of(c) for c in small} if tag == "dt" else {}
            groups.append((bound_of(parent, linked, extra), parent, tag, small,
                           [c for c in children if c not in small], "", extra))
    # A grid (a table of photos, three to a <tr>): rows are the <td>s of all the <tr>s.
    for (grand, via, tag), parts in cousins.items():
        if len(parts) < 2 or max(len(p[1]) for p in parts) < 2:
            continue
        small = [c for _parent, cells in parts for c in cells]
        linked = [c for c in small if link_len[c] >= TITLE_MIN]
        if len(linked) >= MIN_ROWS:
            groups.append((bound_of(grand, linked, {}), grand, tag, small, [], via, {}))
    groups.sort(key=lambda g: -g[0])
    boards: list[Board] = []
    best = 0.0
    for n, (bound, parent, tag, small, big, via, extra) in enumerate(groups):
        if n >= MAX_CANDIDATES or (n >= SHOWN and bound < best):
            break   # sorted by bound: nothing after this can beat the best
        if bound * _noise(parent) < best:
            continue
        board = _score(parent, tag, small, big, sizes, extra)
        if board is not None:
            board.via = via
            board.companion = "dd" if any(extra.values()) else ""
            boards.append(board)
            best = max(best, board.score)
    boards.sort(key=lambda b: -b.score)
    # Whether a pager follows: looked at only for the leaders (it costs a walk of the page).
    for board in boards[:PAGER_CHECKED]:
        board.score *= _pager_near(board.container, sizes)
    boards.sort(key=lambda b: -b.score)
    return boards


def _alike(row_sizes: list[int]) -> float:
    """Rows of one board are alike in size; the blocks of a page layout (menu, content, side
    column) are not."""
    return max(0.2, min(1.0, 1.5 * median(row_sizes) / max(row_sizes)))


def _score(parent: Any, tag: str, children: list[Any], big: list[Any],
           sizes: dict[Any, int], extra: dict[Any, list[Any]]) -> Board | None:
    if sum(1 for c in children if _is_link(c) or c.find(".//a") is not None) < MIN_ROWS:
        return None
    rows, others = [], list(big)
    for child in children:
        row = read_row(child, extra.get(child))
        (rows if row.title else others).append(row if row.title else child)
    if len(rows) < MIN_ROWS:
        return None
    title_len = median(len(r.title) for r in rows)
    date_share = sum(r.dated for r in rows) / len(rows)
    cells = median(min(len(r.leaves), 8) for r in rows)
    # A board's rows lead to different articles with different titles; copies of one block
    # (a site map repeated, a slider's cloned slides) do not.
    distinct = min(len({_target(r) for r in rows}), len({r.title for r in rows})) / len(rows)
    # Rows that are themselves a menu, a banner or a side box ("li.banner", "div.sitemap").
    noisy_rows = sum(1 for r in rows if r.el.tag in _NOISE_TAGS or _tokens(r.el) & _NOISE_TOKENS)
    alike = _alike([sizes.get(r.el, 1) + sum(sizes.get(x, 1) for x in r.companions)
                    for r in rows])
    score = (len(rows) * (0.25 + date_share) * min(1.0, title_len / 14) ** 2
             * (1 + 0.2 * min(cells, 6)) * distinct * alike * _noise(parent)
             * (0.3 if noisy_rows * 2 >= len(rows) else 1.0))
    return Board(parent, tag, rows, others, score, date_share)


def _target(row: Row) -> str:
    link = row.link_el
    return norm((link.get("href") or "") + (link.get("onclick") or "")) + row.title


def _noise(el: Any) -> float:
    factor = 1.0
    for node in [el, *el.iterancestors()]:
        if not isinstance(node.tag, str):
            continue
        if node.tag in _NOISE_TAGS or _tokens(node) & _NOISE_TOKENS:
            factor *= 0.3
            if factor < 0.05:
                break
    return factor


def _pager_near(el: Any, sizes: dict[Any, int]) -> float:
    """1.5 when a pager (links numbered 1, 2, 3 or a "paging" box) follows the list: the next
    few siblings of the list and of its parents, each no bigger than a pager is."""
    node = el
    for _ in range(4):
        for n, sib in enumerate(node.itersiblings()):
            if n >= 3:
                break
            if not isinstance(sib.tag, str) or sizes.get(sib, 0) > 300:
                continue
            if any(_PAGER_TOKENS.search(t) for t in _tokens(sib)):
                return 1.5
            numbers = sum(1 for a in sib.iter("a", "strong")
                          if _NUMBER.match(own_text(a)))
            if numbers >= 2:
                return 1.5
        node = node.getparent()
        if node is None or node.tag == "body":
            break
    return 1.0


# ---------------------------------------------------------------------------------------------
# The item selector


def item_selector(doc: Any, board: Board) -> str:
    """A selector that matches exactly the board's rows (checked on this page)."""
    rows = board.elements
    want = set(map(id, rows))
    containers = [c for c in unique_in(doc, board.container)
                  if [id(m) for m in select(doc, c)] == [id(board.container)]]
    row_names = common_classes(rows)
    other_names = {n for o in board.others for n in classes(o)}
    for container in containers:
        if board.via:
            container = f"{container} > {board.via}"
        tails = [board.tag]
        distinct = [n for n in row_names if n not in other_names]
        if distinct:
            tails.append(f"{board.tag}.{distinct[0]}")
        tails += [f"{board.tag}:has(a)", f"{board.tag}:has(td)", f"{board.tag}:has(dt)"]
        for tail in tails:
            css = f"{container} > {tail}"
            if set(map(id, select(doc, css))) == want:
                return css
    return ""


def describe(board: Board) -> str:
    """"12 rows in table.board_list" for a comment."""
    return f"{len(board.rows)} rows ({board.tag}) in {simple(board.container)}"
