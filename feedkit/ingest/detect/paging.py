"""The board's paging: the query parameter that numbers its list pages, or its "next" link.

Read from the pager the way a person reads it: the links numbered 2, 3, 4 (or the one that says
다음 / next / ›) and where they go. A plain link gives the parameter directly
(``?page=2``, ``&pageIndex=2``); a ``javascript:fn_egov_link_page(2)`` link is followed into the
page's script like an article link (:mod:`.links`), to the form field it sets. Candidates are
only candidates: :mod:`.run` reads page 2 with each and keeps the first that shows other
articles than page 1.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urljoin, urlsplit

from feedkit.ingest.detect.css import norm, select, unique_in
from feedkit.ingest.detect.links import call_of, is_plain, resolve_function

# A pager's "next": arrows, 다음, and the "더보기" (more) button of lists that grow (a widget's
# 더보기 to another board is ruled out when page 2 is read and checked).
_NEXT = re.compile(r"^(?:다음|다음\s*페이지|다음\s*목록|next|next\s*page|›|»|>|▶|▷|〉|→|더\s*보기|"
                   r"더\s*불러오기|more|load\s*more)$", re.I)
_NEXT_CLASS = re.compile(r"next", re.I)
_NUMBER = re.compile(r"^[\[(]?\s*(\d{1,3})\s*[\])]?\s*(?:페이지|page)?$", re.I)


@dataclass
class PagingCandidate:
    page_param: str = ""
    next_page: str = ""
    how: str = ""


def _label(el: Any) -> str:
    text = norm(el.text_content())
    if not text:
        img = next(el.iter("img"), None)
        text = norm(img.get("alt") if img is not None else "") or norm(el.get("title"))
    return text


def candidates(doc: Any, page_url: str, board_rows: list[Any], scripts: str) -> list[
        PagingCandidate]:
    """Ways to reach page 2, most likely first."""
    inside = {e for row in board_rows for e in row.iter()}
    params: Counter[str] = Counter()
    next_links = []
    here = urlsplit(page_url)
    for el in _pager_links(doc):
        if el in inside:
            continue
        href = (el.get("href") or "").strip()
        onclick = el.get("onclick") or ""
        label = _label(el)
        m = _NUMBER.match(label)
        numbered = int(m.group(1)) if m else 0
        if href and is_plain(href):
            target = urlsplit(urljoin(page_url, href))
            if target.netloc != here.netloc:
                continue
            for key, value in parse_qsl(target.query):
                if value.isdigit() and 2 <= int(value) <= 1000 and (
                        numbered == int(value) or _is_next(el, label)):
                    params[key] += 2 if value == "2" else 1
            if _is_next(el, label):
                next_links.append(el)
            continue
        js = onclick or (href if href.lower().startswith("javascript:") else "")
        call = call_of(js)
        if call and len(call[1]) >= 1 and call[1][-1].isdigit() and (numbered or _is_next(
                el, label)):
            resolved = resolve_function(doc, scripts, call[0], page_url)
            if resolved is None:
                continue
            query = parse_qsl(urlsplit(resolved[0]).query)
            slot = "{" + str(len(call[1])) + "}"
            for key, value in query:
                if value == slot:
                    params[key] += 2 if call[1][-1] == "2" else 1
    out = [PagingCandidate(page_param=p, how=f"page links set {p}=N")
           for p, _n in params.most_common()]
    for el in next_links:
        css = _next_selector(doc, el)
        if css:
            out.append(PagingCandidate(next_page=css, how="the pager's next link"))
            break
    return out


# Links and buttons that could be a pager's, found by the XPath engine (a 2 MB portal page has
# tens of thousands of links; a pager's say "2", "[3]", "4페이지", "다음", or are marked "next").
_PAGER_XPATH = (
    "//*[self::a or self::button or self::span or self::li or @onclick]"
    "[(string-length(normalize-space(.)) <= 8 and string-length(normalize-space(.)) > 0"
    " and translate(normalize-space(.), '0123456789[]() 페이지pagePAGE', '') = '')"
    " or contains(., '다음') or contains(translate(@class, 'NEXT', 'next'), 'next')"
    " or contains(., '더보기') or contains(., '더 보기') or contains(@class, 'more')"
    " or contains(@title, '다음') or contains(., '›') or contains(., '»') or contains(., '▶')"
    " or normalize-space(.) = '>' or normalize-space(.) = '〉' or .//img[contains(@alt, '다음')]"
    " or contains(translate(normalize-space(.), 'NEXT', 'next'), 'next')]")


def _pager_links(doc: Any) -> list[Any]:
    return doc.xpath(_PAGER_XPATH)


def _is_next(el: Any, label: str) -> bool:
    if _NEXT.match(label):
        return True
    words = f"{el.get('class') or ''} {el.get('title') or ''}"
    return bool(_NEXT_CLASS.search(words)) and "last" not in words.lower() and "end" not in \
        words.lower()


def _next_selector(doc: Any, el: Any) -> str:
    """A selector whose first match with an address is this link (what the reader follows)."""
    for css in unique_in(doc, el):
        found = [m for m in select(doc, css) if is_plain(m.get("href") or "")]
        if found and found[0] is el:
            return css
    return ""
