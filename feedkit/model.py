"""The one record every stage speaks: :class:`Article`.

Readers produce articles, the store keeps them, generators turn a selection of them into bytes.
An ``Article`` is always *normalised*: aware datetimes, absolute http(s) URLs, plain-text title and
summary, sanitised HTML. Only :mod:`feedkit.ingest.normalize` builds one from untrusted input, so
every later stage may trust its fields.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Article:
    id: str
    url: str
    title: str
    published: datetime
    updated: datetime
    summary: str = ""
    content_html: str = ""
    author: str = ""
    category: str = ""
    tags: tuple[str, ...] = field(default_factory=tuple)
    image: str = ""
    # The licence code (feedkit.editorial.licenses): "" for the site's ([site] license).
    license: str = ""
    # The lead image's media type when its URL does not say it (fileDownload.do?...): what the
    # image's server answered when `update` asked once ("image/jpeg"), "" when never asked.
    image_type: str = ""

    def to_record(self) -> dict:
        """The JSON-ready form used by export and the store.

        Dates keep their UTC offset (``2024-06-11T14:30:00+09:00``) so a round trip through
        export and import gives back the same instant *and* the same local wall-clock time.
        """
        return {
            "id": self.id,
            "url": self.url,
            "title": self.title,
            "summary": self.summary,
            "content_html": self.content_html,
            "published": self.published.isoformat(),
            "updated": self.updated.isoformat(),
            "author": self.author,
            "category": self.category,
            "tags": list(self.tags),
            "image": self.image,
            # only when set: an export of a store without them stays byte-identical
            **({"license": self.license} if self.license else {}),
            **({"image_type": self.image_type} if self.image_type else {}),
        }

    def content_hash(self) -> str:
        """A digest of every field, so the store can tell "unchanged" from "updated" cheaply."""
        values = (self.id, self.url, self.title, self.summary, self.content_html,
                  self.published.isoformat(), self.updated.isoformat(), self.author,
                  self.category, "\x1e".join(self.tags), self.image)
        # Each value followed by a separator (("ab", "c") and ("a", "bc") must differ), hashed
        # in one call: the same bytes, so the same digest, as one update per value was.
        text = "\x1f".join(values) + "\x1f"
        # Newer fields count only when set, so an article without them keeps its old hash (and
        # a store upgraded in place does not see every article as changed).
        for name, value in (("license", self.license), ("image_type", self.image_type)):
            if value:
                text += f"{name}={value}\x1f"
        return hashlib.blake2b(text.encode("utf-8"), digest_size=16).hexdigest()
