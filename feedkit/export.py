"""``feedkit export``: the store as sorted JSON Lines.

The format is the import format, one article per line, sorted by id with a fixed key order, so
the file is byte-identical for the same store and a change to one article is a one-line diff.
That is what lets a CI workflow keep the store in git as text: export at the end of a run,
commit, and rebuild the SQLite file from it (``feedkit import``) at the start of the next.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

from feedkit.store import Store


def export_lines(store: Store) -> Iterator[str]:
    for article in store.iter_all():
        yield json.dumps(article.to_record(), ensure_ascii=False, separators=(", ", ": ")) + "\n"


def export_bytes(store: Store) -> bytes:
    return "".join(export_lines(store)).encode("utf-8")
