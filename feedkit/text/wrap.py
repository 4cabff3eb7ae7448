"""Plain text wrapped for a terminal: the digest's text part, readable at 72 columns.

Columns, not characters: a Hangul syllable (and any East Asian wide character) takes two
columns in a terminal, so a Korean line of 72 characters would be 144 columns wide. Lines break
at spaces only, as Korean is written (keep-all: a word is never split); a word wider than the
line (a long address) stands alone on its line rather than being cut, so it stays clickable.
"""

from __future__ import annotations

import unicodedata

WIDTH = 72


def columns(text: str) -> int:
    """How many terminal columns ``text`` takes: wide and full-width characters two, combining
    marks and zero-width characters none, everything else one."""
    total = 0
    for ch in text:
        if unicodedata.combining(ch) or ch in "\u200b\u200c\u200d\ufeff":
            continue
        total += 2 if unicodedata.east_asian_width(ch) in "WF" else 1
    return total


def wrap(text: str, width: int = WIDTH, indent: str = "", first: str | None = None) -> str:
    """``text`` as lines of at most ``width`` columns, each starting with ``indent`` (the first
    with ``first`` when given: a list marker such as ``"* "``). Whitespace runs become one space;
    an empty text gives ""."""
    words = text.split()
    if not words:
        return ""
    lead = indent if first is None else first
    lines: list[str] = []
    line, used = lead + words[0], columns(lead + words[0])
    for word in words[1:]:
        need = columns(word)
        if used + 1 + need > width:
            lines.append(line)
            line, used = indent + word, columns(indent) + need
        else:
            line, used = f"{line} {word}", used + 1 + need
    lines.append(line)
    return "\n".join(lines)
