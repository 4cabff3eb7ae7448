"""An image's media type from its URL, where the URL says it (a file extension).

Shared by the feeds (:mod:`feedkit.site.feeds`, which need a type for an RSS enclosure) and
``update`` (:mod:`feedkit.ingest.images`, which asks the image's server once when the URL does
not say it: ``fileDownload.do?fileId=…``).
"""

from __future__ import annotations

from urllib.parse import urlsplit

_IMAGE_TYPES = {".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png",
                ".gif": "image/gif", ".webp": "image/webp"}


def image_type_of_url(url: str) -> str | None:
    """``image/…`` from the URL path's extension, or None when it names no image type."""
    path = urlsplit(url).path.lower()
    for ext, mime in _IMAGE_TYPES.items():
        if path.endswith(ext):
            return mime
    import mimetypes

    guess = mimetypes.guess_type(path)[0]
    return guess if guess and guess.startswith("image/") else None
