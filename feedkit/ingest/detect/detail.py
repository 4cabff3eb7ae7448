"""The article's own page: body, full title, date and time, department, lead image, attachments.

Two or three article pages of one board are built from one template: what is the same on all
of them (and on the list page) is the portal around the article, what differs is the article.
So the body is the element that holds the most text found on only one page, and as little
shared text and link text as possible (menus, "이전글 / 다음글" titles, the attachment list stay
out). The title, date and department are found by what the list already said about the same
article (its title, its day, its department), which also tells them apart from the
neighbouring articles' titles and dates in the page's prev/next links.

Every selector is checked on every page fetched: it must find the same kind of thing on each.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from feedkit.ingest.detect.css import (
    NO_TEXT,
    classes,
    first_with_text,
    norm,
    select,
    stable_id,
    unique_in,
)
from feedkit.ingest.detect.dates import EDIT_LABEL, FULL, SHORT, DateHit, find_date, same_day
from feedkit.ingest.detect.fields import CUT, DEPT_LABEL, is_department
from feedkit.ingest.detect.rows import FILE_TYPES
from feedkit.ingest.html_source import department_text

_FILE = re.compile(rf"\.(?:{FILE_TYPES}|txt|odt|csv)\b", re.I)
_DOWNLOAD = re.compile(r"down|atch|file_?srl|fileid|file_?no|filesn|/files?/|attach", re.I)
_PREVIEW = re.compile(r"미리\s*보기|바로\s*보기|뷰어|viewer|preview", re.I)


@dataclass
class DetailPage:
    url: str
    doc: Any
    title: str = ""                       # what the list shows for this article
    date: DateHit | None = None
    department: str = ""


@dataclass
class DetailFields:
    selectors: dict[str, str] = field(default_factory=dict)
    samples: dict[str, str] = field(default_factory=dict)


def find_detail(pages: list[DetailPage], list_texts: set[str], parse_ok) -> DetailFields:
    """``list_texts``: the list page's text pieces (its chrome is the article pages' too);
    ``parse_ok(text)``: whether ``update`` reads the text as a date."""
    out = DetailFields()
    bodies = [p.doc.find("body") if p.doc.find("body") is not None else p.doc for p in pages]
    taken: list[list[Any]] = [[] for _ in pages]
    title = [_title_element(b, p) for b, p in zip(bodies, pages, strict=True)]
    if all(t is not None for t in title):
        css = _doc_selector(pages, title, "text")
        if css:
            out.selectors["title"] = css
            out.samples["title"] = norm(title[0].text_content())
            for i, t in enumerate(title):
                taken[i].append(t)
    date = [_date_element(b, p, parse_ok) for b, p in zip(bodies, pages, strict=True)]
    if len(pages) >= 2 and all(p.date is None for p in pages) and all(
            d is not None for d in date) and len({norm(d.text_content()) for d in date}) == 1:
        date = [None]    # one date on every article page, and no list date to check: chrome
    if all(d is not None for d in date):
        css = _time_attribute(pages, date, parse_ok) or _doc_selector(
            pages, date, "text", check=lambda el: parse_ok(el.text_content()))
        if css:
            out.selectors["date"] = css
            out.samples["date"] = norm(date[0].text_content())
            for i, d in enumerate(date):
                taken[i].append(d)
    dept = [_department_element(b, p) for b, p in zip(bodies, pages, strict=True)]
    if all(d is not None for d in dept):
        css = _doc_selector(pages, dept, "text", check=lambda el: is_department(
            department_text(norm(el.text_content()))))
        if css:
            out.selectors["department"] = css
            out.samples["department"] = department_text(norm(dept[0].text_content()))
            for i, d in enumerate(dept):
                taken[i].append(d)
    body = _body(pages, bodies, taken, list_texts)
    if body:
        out.selectors["body"] = body
        image = _image(pages, body)
        if image:
            out.selectors["image"] = image
    files = _attachments(pages, bodies)
    if files:
        out.selectors["attachments"] = files
    return out


# ---------------------------------------------------------------------------------------------
# Title, date, department: found by what the list said


def _visible(body: Any):
    stack = [body]
    while stack:
        el = stack.pop()
        if not isinstance(el.tag, str) or el.tag in NO_TEXT:
            continue
        yield el
        stack.extend(reversed([c for c in el if isinstance(c.tag, str)]))


def _in_link(el: Any) -> bool:
    return any(a.tag == "a" and (a.get("href") or "").strip() not in ("", "#")
               and not (a.get("href") or "").startswith("#")
               for a in [el, *el.iterancestors()])


def _link_text_only(el: Any) -> bool:
    """Whether all of ``el``'s text is inside links (a list of other articles, a menu)."""
    return el.find(".//a") is not None and all(link for _e, _t, link in _pieces(el))


def _title_element(body: Any, page: DetailPage) -> Any | None:
    want = norm(page.title)
    stem = CUT.sub("", want).strip()
    cut = stem != want
    best = None
    for el in _visible(body):
        if _in_link(el) or _link_text_only(el):
            continue
        text = norm(el.text_content())
        if text == want or (cut and text.startswith(stem) and len(text) > len(stem)
                            and len(text) < len(stem) + 200):
            best = el    # the deepest (last in document order among nested matches)
    return best


def _date_element(body: Any, page: DetailPage, parse_ok) -> Any | None:
    best, best_score = None, -9.0
    for order, el in enumerate(_visible(body)):
        text = norm(el.text_content())
        if not text or len(text) > 60 or _in_link(el):
            continue
        hit = find_date(text)
        if hit is None or hit.kind not in (FULL, SHORT):
            continue
        if page.date is not None and not same_day(hit, page.date):
            continue
        if not parse_ok(text):
            continue
        label = text + " " + norm(_label_before(el))
        score = (1.0 if hit.has_time else 0.0) - (2.0 if EDIT_LABEL.search(label) else 0.0) \
            - 0.001 * order - 0.002 * len(text)
        if score > best_score:
            best, best_score = el, score
    return best


def _time_attribute(pages: list[DetailPage], dates: list[Any], parse_ok) -> str:
    """``time@datetime`` when the date shown is a <time> whose attribute has the full date and
    time ("2024년 6월 14일" on the page, "2024-06-14T10:21:00+09:00" in the attribute)."""
    times = [d if d.tag == "time" else d.find(".//time") for d in dates]
    if any(t is None or not parse_ok(t.get("datetime") or "") for t in times):
        return ""
    css = _doc_selector(pages, times, "text")
    return f"{css}@datetime" if css else ""


def _label_before(el: Any) -> str:
    prev = el.getprevious()
    return prev.text_content() if prev is not None else ""


def _department_element(body: Any, page: DetailPage) -> Any | None:
    want = page.department
    best = None
    for el in _visible(body):
        text = norm(el.text_content())
        if not text or len(text) > 40:
            continue
        value = department_text(text)
        if want:
            if value == want and (best is None or best in el.iterancestors()):
                best = el
            continue
        labelled = DEPT_LABEL.search(text[: len(text) - len(value)] or "") or DEPT_LABEL.search(
            norm(_label_before(el)))
        if labelled and (value != text or el.tag in ("td", "dd")) and is_department(value) \
                and best is None:
            best = el
    return best


# ---------------------------------------------------------------------------------------------
# Selectors over several pages


def _plain_classes(el: Any) -> list[str]:
    return [c for c in classes(el) if not any(ch.isdigit() for ch in c)]


def _doc_selector(pages: list[DetailPage], els: list[Any], mode: str, check=None) -> str:
    """A selector that finds ``els[i]`` on page ``i``: as the first match with text ("text"),
    or as the one and only match ("only")."""
    def common(el: Any) -> list[str]:
        return _plain_classes(el)

    for css in unique_in(pages[0].doc, els[0], common=common):
        ok = True
        for page, el in zip(pages, els, strict=True):
            if mode == "only":
                found = select(page.doc, css)
                good = len(found) == 1 and found[0] is el
            else:
                got = first_with_text(page.doc, css)
                good = got is not None and (got is el or norm(got.text_content()) == norm(
                    el.text_content()))
                good = good and (check is None or check(got))
            if not good:
                ok = False
                break
        if ok:
            return css
    return ""


# ---------------------------------------------------------------------------------------------
# Body


def _signature(el: Any) -> tuple:
    out = []
    for node in [el, *el.iterancestors()]:
        if not isinstance(node.tag, str) or node.tag in ("html", "body"):
            break
        ident = stable_id(node)
        if any(ch.isdigit() for ch in ident):
            ident = ""     # "post-123": this article's number, not the template's place
        out.append((node.tag, ident, tuple(_plain_classes(node))))
    return tuple(reversed(out))


def _body(pages: list[DetailPage], bodies: list[Any], taken: list[list[Any]],
          list_texts: set[str]) -> str:
    texts_per_page = []
    for body in bodies:
        texts_per_page.append({t for _el, t, _link in _pieces(body)})
    counts: dict[str, int] = {}
    for texts in texts_per_page:
        for t in texts:
            counts[t] = counts.get(t, 0) + 1
    shared = {t for t, n in counts.items() if n >= 2 and len(pages) >= 2} | list_texts
    scores: dict[tuple, list[float]] = {}
    first_el: list[dict[tuple, Any]] = []
    for i, body in enumerate(bodies):
        skip = {e for t in taken[i] for e in t.iter()}
        vary: dict[Any, float] = {}
        for el, text, link in _pieces(body):
            if el in skip:
                continue
            weight = -2.0 * len(text) if (link or text in shared) else float(len(text))
            for node in [el, *el.iterancestors()]:
                vary[node] = vary.get(node, 0.0) + weight
        seen: dict[tuple, Any] = {}
        for el in body.iter():
            if not isinstance(el.tag, str) or el.tag in NO_TEXT:
                continue
            sig = _signature(el)
            if sig not in seen:
                seen[sig] = el
                scores.setdefault(sig, [0.0] * len(bodies))[i] = vary.get(el, 0.0)
        first_el.append(seen)
    best, best_score = None, 0.0
    for sig, per_page in scores.items():
        if not all(sig in seen for seen in first_el):
            continue
        score = min(per_page) + 0.1 * sum(per_page)
        if score > best_score or (score == best_score and best is not None and len(sig) > len(
                best)):
            best, best_score = sig, score
    if best is None or best_score < 20:
        return ""
    els = [seen[best] for seen in first_el]
    return _doc_selector(pages, els, "only")


def _pieces(body: Any):
    """(element, text, inside a link) for every text node under ``body``."""
    for el in _visible(body):
        link = _in_link(el)
        if el.text and el.text.strip():
            yield el, norm(el.text), link
        for child in el:
            if child.tail and child.tail.strip():
                yield el, norm(child.tail), link


def _image(pages: list[DetailPage], body_css: str) -> str:
    css = f"{body_css} img"
    srcs = []
    for page in pages:
        imgs = [i for i in select(page.doc, css) if (i.get("src") or "").strip()]
        srcs.append(imgs[0].get("src") if imgs else None)
    present = [s for s in srcs if s]
    if len(present) >= 1 and len(set(present)) == len(present):
        return css
    return ""


# ---------------------------------------------------------------------------------------------
# Attachments


def _is_file(a: Any) -> bool:
    href = a.get("href") or ""
    text = norm(a.text_content())
    if not href.strip() or href.startswith("#") or _PREVIEW.search(text + " " + href):
        return False
    return bool(_FILE.search(text) or _FILE.search(href.split("?")[0]) or (
        _DOWNLOAD.search(href) and text))


def _attachments(pages: list[DetailPage], bodies: list[Any]) -> str:
    found = [[a for a in body.iter("a") if _is_file(a)] for body in bodies]
    seen: dict[str, int] = {}
    for files in found:
        for href in {a.get("href") for a in files}:
            seen[href] = seen.get(href, 0) + 1
    # A file linked from every article page is the portal's (a guide, a filter program).
    found = [[a for a in files if seen[a.get("href")] == 1 or len(pages) == 1] for files in found]
    if not any(found):
        return ""
    page_i = next(i for i, files in enumerate(found) if files)
    sample = found[page_i]
    container = _common_ancestor(sample)
    if container is None:
        return ""
    names = [n for n in _plain_classes(sample[0]) if all(n in classes(a) for a in sample)]
    token = _href_token([a.get("href") or "" for files in found for a in files])
    options = []
    for c_css in unique_in(pages[page_i].doc, container, common=_plain_classes):
        if names:
            options.append(f"{c_css} a.{names[0]}")
        if token:   # download links share an address ("/fileDownload.do"), previews do not
            options.append(f"{c_css} a[href*='{token}']")
        options.append(f"{c_css} a")
    for css in options:
        if all({a for a in select(page.doc, css) if (a.get("href") or "").strip()
                and not (a.get("href") or "").startswith("#")} == set(files)
               for page, files in zip(pages, found, strict=True) if files):
            return css
    return ""


def _href_token(hrefs: list[str]) -> str:
    """The last path segment every attachment address shares ("fileDownload.do", "download.php"),
    when it is a plain word a selector can quote."""
    paths = {urlsplit(h).path.rstrip("/").rsplit("/", 1)[-1] for h in hrefs}
    token = paths.pop() if len(paths) == 1 else ""
    return token if re.fullmatch(r"[\w.-]{4,60}", token) else ""


def _common_ancestor(els: list[Any]) -> Any | None:
    chains = [list(e.iterancestors()) for e in els]
    for anc in chains[0]:
        if all(anc in chain for chain in chains[1:]):
            return anc if len(els) > 1 else _file_box(anc)
    return None


def _file_box(el: Any) -> Any:
    """For a lone attachment, a box that would also hold a second one (its list, not its li)."""
    node = el
    while node.tag in ("li", "p", "span", "dd", "strong") and node.getparent() is not None:
        node = node.getparent()
    return node


def page_texts(doc: Any) -> set[str]:
    body = doc.find("body")
    return {t for _el, t, _link in _pieces(body if body is not None else doc)}
