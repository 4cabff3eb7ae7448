"""The ``[[sources]]`` block detection prints, and adding it to ``config.toml``.

The block is ordinary configuration, written for a person to read and change: each selector
with a comment saying what it found (a sample value, how many rows, how the link or the paging
was worked out). It has no date or time in it, so running detection again on an unchanged board
prints the same bytes.

Everything in it that came from the page (sample titles in comments, selectors made of its
class names, the board's name) is written so it cannot end the comment or the string early:
comments lose their line breaks and control characters, strings are TOML-escaped. ``--write``
appends the block after the file's last line, keeps every byte before it, and checks that the
result parses to the old configuration plus exactly this one source.
"""

from __future__ import annotations

import re
import tomllib
from typing import Any

from feedkit.errors import ConfigError

_CONTROL = re.compile(r"[\x00-\x1f\x7f\u0085\u2028\u2029]+")
_ORDER = ("kind", "name", "url", "page_param", "next_page", "max_pages", "link_pattern",
          "link_template", "encoding")
_SELECTOR_ORDER = ("item", "title", "link", "date", "department", "summary", "image",
                   "author", "body", "attachments")


def comment(text: str, limit: int = 90) -> str:
    """One line of comment text, whatever the page put in it."""
    flat = " ".join(_CONTROL.sub(" ", text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def toml_string(value: str) -> str:
    """A TOML string: a literal '...' for a regular expression that needs no escape (easier to
    read and to edit), else a basic "..." with every needed escape."""
    if "\\" in value and "'" not in value and not _CONTROL.search(value):
        return f"'{value}'"
    out = []
    for ch in value:
        if ch in ('"', "\\"):
            out.append("\\" + ch)
        elif ord(ch) < 0x20 or ord(ch) == 0x7F or ch in "\u0085\u2028\u2029":
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    return toml_string(str(value))


def render(source: dict[str, Any], notes: dict[str, str], header: list[str]) -> str:
    """The commented ``[[sources]]`` block (ends with a newline)."""
    lines = ["# Found by `feedkit source detect`: check the selectors and the preview, then run",
             "# `feedkit update`. Where detection picked the wrong cell, change the selector",
             "# (README, \"Add a source\")."]
    lines += [f"# {comment(h, 96)}" for h in header]
    lines.append("[[sources]]")
    for key in _ORDER:
        if key in source:
            lines += _line(key, source[key], notes.get(key))
    for table in ("selectors", "detail"):
        values = source.get(table) or {}
        if not values:
            if notes.get(table):
                lines.append(f"# [sources.{table}]: {comment(notes[table])}")
            continue
        lines.append("")
        lines.append(f"[sources.{table}]")
        for key in sorted(values, key=lambda k: (_SELECTOR_ORDER.index(k)
                                                 if k in _SELECTOR_ORDER else 99, k)):
            lines += _line(key, values[key], notes.get(f"{table}.{key}"))
    return "\n".join(lines) + "\n"


def _line(key: str, value: Any, note: str | None) -> list[str]:
    out = [f"# {comment(note)}"] if note else []
    out.append(f"{key} = {_value(value)}")
    return out


def add_source(config_text: str, block: str, name: str = "config.toml") -> str:
    """``config_text`` with ``block`` appended, checked; raises :class:`ConfigError` when the
    file cannot take it (it does not parse, already reads this URL, or keeps its sources in a
    way an appended ``[[sources]]`` table would break)."""
    try:
        before = tomllib.loads(config_text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{name}: invalid TOML, not changed: {exc}") from None
    new = tomllib.loads(block)["sources"][0]
    sources = before.get("sources", [])
    if not isinstance(sources, list):
        raise ConfigError(f"{name}: 'sources' is not an array of tables; add the block by hand")
    for old in sources:
        if isinstance(old, dict) and old.get("url") == new["url"]:
            label = old.get("name") or old["url"]
            raise ConfigError(f"{name}: already has a source with this url ({label}); not "
                              "changed: edit that source with the block printed here, or "
                              "remove it and run again")
    newline = "\r\n" if "\r\n" in config_text else "\n"
    text = config_text
    if text and not text.endswith("\n"):
        text += newline
    text += (newline if text else "") + block.replace("\n", newline)
    try:
        after = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{name}: the block cannot be appended ({exc}); add it by hand"
                          ) from None
    rest_before = {k: v for k, v in before.items() if k != "sources"}
    rest_after = {k: v for k, v in after.items() if k != "sources"}
    if rest_after != rest_before or after.get("sources") != [*sources, new]:
        raise ConfigError(f"{name}: appending the block would change other settings (the file "
                          "ends inside a table the block would extend); add it by hand")
    return text
