"""Text and CSS helpers for detection: normalised text, stable class names, and selectors that
read like what a person writes (``table.board_list > tbody > tr``, ``td:nth-child(3)``) and that
:mod:`feedkit.ingest.html_source` evaluates exactly as they are checked here.

Every selector is checked, never trusted: a candidate is kept only if, on every page and row it
was built from, it finds the element it was built for (the reader takes the first match with
text, so that is what is checked).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache
from typing import Any

from lxml.cssselect import CSSSelector

_WS = re.compile(r"\s+")
_SAFE_TOKEN = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]{0,39}$")
# Classes that say how an element looks right now, not what it is.
_STATE = frozenset("""on off active selected current cur first last odd even over hover open
    show hide hidden is-active clearfix clear fl fr left right center tc tl tr bold""".split())
NO_TEXT = frozenset({"script", "style", "noscript", "template", "select", "option", "textarea",
                     "button"})


def norm(text: str | None) -> str:
    return _WS.sub(" ", text or "").strip()


def text_of(el: Any) -> str:
    """The element's visible text, whitespace collapsed (script and form controls left out)."""
    parts: list[str] = []
    _collect(el, parts)
    return norm(" ".join(parts))


def _collect(el: Any, parts: list[str]) -> None:
    if not isinstance(el.tag, str) or el.tag in NO_TEXT:
        return
    if el.text:
        parts.append(el.text)
    for child in el:
        _collect(child, parts)
        if child.tail:
            parts.append(child.tail)


def own_text(el: Any) -> str:
    """Only the text directly in ``el`` (its text and its children's tails)."""
    if not isinstance(el.tag, str) or el.tag in NO_TEXT:
        return ""
    parts = [el.text or ""] + [c.tail or "" for c in el]
    return norm(" ".join(parts))


def classes(el: Any) -> list[str]:
    """The element's class names worth naming in a selector, in their order."""
    out = []
    for token in (el.get("class") or "").split():
        if _SAFE_TOKEN.match(token) and token.lower() not in _STATE and token not in out:
            out.append(token)
    return out


def stable_id(el: Any) -> str:
    value = (el.get("id") or "").strip()
    return value if _SAFE_TOKEN.match(value) else ""


@lru_cache(maxsize=1024)
def compiled(css: str) -> CSSSelector:
    return CSSSelector(css)


def select(root: Any, css: str) -> list[Any]:
    try:
        return compiled(css)(root)
    except Exception:
        return []


def simple(el: Any, names: Sequence[str] | None = None, *, use_id: bool = True) -> str:
    """``tag#id`` or ``tag.class1.class2`` (``names``: the classes to use, default its own)."""
    tag = el.tag if isinstance(el.tag, str) else "*"
    if use_id and (ident := stable_id(el)):
        return f"{tag}#{ident}"
    names = classes(el) if names is None else names
    return tag + "".join(f".{n}" for n in names[:2])


def nth_child(el: Any) -> int:
    """1-based position among the parent's element children (what ``:nth-child`` counts)."""
    parent = el.getparent()
    if parent is None:
        return 1
    n = 0
    for child in parent:
        if isinstance(child.tag, str):
            n += 1
        if child is el:
            return n
    return n


def first_with_text(root: Any, css: str) -> Any | None:
    """What the reader's ``_value`` reads: the first match whose text is not blank."""
    for match in select(root, css):
        if match.text_content().strip():
            return match
    return None


def unique_in(doc: Any, el: Any, *, common: Callable[[Any], list[str]] | None = None) -> list[str]:
    """Candidate selectors for ``el`` in ``doc``, most readable first (not yet checked)."""
    names = common(el) if common else classes(el)
    bare = not names and not stable_id(el)
    out = [] if bare else [simple(el, names)]
    if names:
        out.append(simple(el, names[:1]))
    parent = el.getparent()
    if parent is not None and bare:
        parent_css = simple(parent, common(parent) if common else None)
        if parent_css == parent.tag:   # a bare parent too: name the nearest ancestor that has one
            for anc in parent.iterancestors():
                if anc.tag in ("html", "body"):
                    break
                if stable_id(anc) or (common(anc) if common else classes(anc)):
                    out.append(f"{simple(anc, common(anc) if common else None)} {parent.tag} > "
                               f"{simple(el, names)}")
                    break
        out.append(f"{parent_css} > {simple(el, names)}")
    ancestors = list(el.iterancestors())
    for anc in ancestors[:6]:
        if not isinstance(anc.tag, str) or anc.tag in ("html", "body"):
            break
        anc_names = common(anc) if common else classes(anc)
        if stable_id(anc) or anc_names:
            out.append(f"{simple(anc, anc_names)} {simple(el, names)}")
            out.append(f"{simple(anc, anc_names)} > {simple(el, names)}")
    if bare:
        out.append(simple(el, names))
    for anc in ancestors[:8]:   # the nearest named ancestor, then positions down from it
        if not isinstance(anc.tag, str) or anc.tag in ("html", "body"):
            break
        anc_names = common(anc) if common else classes(anc)
        if stable_id(anc) or anc_names:
            out.append(f"{simple(anc, anc_names)} > {child_path(el, anc)}")
            break
    out.append(child_path(el, None))
    return list(dict.fromkeys(out))


def child_path(el: Any, stop: Any | None) -> str:
    """``div#x > ul:nth-child(2) > li:nth-child(1)``: from the nearest ancestor with an id (or
    from ``stop``, excluded) down to ``el``."""
    steps = []
    node = el
    while node is not None and node is not stop:
        if node is not el and stable_id(node) and stop is None:
            steps.append(f"{node.tag}#{stable_id(node)}")
            break
        if node.tag in ("html", "body") and stop is None:
            steps.append(node.tag)
            break
        steps.append(f"{node.tag}:nth-child({nth_child(node)})")
        node = node.getparent()
    return " > ".join(reversed(steps))


def relative_path(el: Any, row: Any) -> str:
    """``td:nth-child(2) > a:nth-child(1)`` from ``row`` (excluded) down to ``el``."""
    if el is row:
        return row.tag
    return child_path(el, row)


def common_classes(elements: Iterable[Any]) -> list[str]:
    """The class names every one of ``elements`` has, in the first one's order."""
    elements = list(elements)
    if not elements:
        return []
    shared = set(classes(elements[0]))
    for el in elements[1:]:
        shared &= set(classes(el))
    return [c for c in classes(elements[0]) if c in shared]
