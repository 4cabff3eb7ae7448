"""An editor's note for one digest week: Markdown in, sanitised HTML and plain text out.

Markdown because an editor writes a note as text ("**이번 주**에는 …", a link, a short list),
not as HTML; CommonMark (markdown-it-py) because it is the specification every Markdown editor
and GitHub preview follows, so the note looks in the email the way it looked where it was
written. Raw HTML in the Markdown is not passed through (``html: False``): the note's markup is
what Markdown makes. The result then goes through the same nh3 allow-list as article bodies
(:func:`feedkit.ingest.normalize.sanitize_html`): two independent locks on one door, and relative
links made absolute against the city's site, since a mail client has no page to resolve them
against.

The text part shows the Markdown itself: Markdown was designed to read as plain text, and it
keeps every link's address visible, which a text-only reader needs.

A note is short (:data:`MAX_NOTE_CHARS`), so a week's digest still fits its size budget with
it: the budget (:meth:`feedkit.digest.render.DigestRenderer.email`) measures the whole email,
note included, and shows fewer articles if it must.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from feedkit.errors import UsageError

MAX_NOTE_CHARS = 2000
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_LINE_END = re.compile(r"\r\n?")


def check_note(text: str) -> str:
    """The note as it is stored: NFC, LF line ends, no surrounding blank lines. Refuses (one
    line, exit 2) a note that is empty, too long, or carries control characters."""
    text = unicodedata.normalize("NFC", _LINE_END.sub("\n", text)).strip()
    if not text:
        raise UsageError("the note is empty (use --clear to remove a week's note)")
    if _CONTROL.search(text):
        raise UsageError("the note contains a control character")
    if len(text) > MAX_NOTE_CHARS:
        raise UsageError(f"the note is {len(text)} characters long; at most {MAX_NOTE_CHARS} "
                         "fit at the top of a digest (link to a longer text instead)")
    return text


@lru_cache(maxsize=1)
def _markdown():
    from markdown_it import MarkdownIt

    # breaks: a line break the editor typed is a line break in the email, as in a chat or a
    # GitHub comment (CommonMark alone would join the lines).
    return MarkdownIt("commonmark", {"html": False, "breaks": True})


def note_html(markdown: str, base_url: str) -> str:
    """The note as sanitised HTML ("" for no note)."""
    from feedkit.text.clean import sanitize_html

    if not markdown.strip():
        return ""
    return sanitize_html(_markdown().render(markdown), base_url)


def note_text(markdown: str) -> str:
    """The note for the plain-text part: its Markdown (see the module docstring)."""
    return markdown.strip()
