"""The ``WHERE`` clause that picks articles for a feed, a page or the digest archive.

Out of :mod:`feedkit.store.articles` so the store stays one job per module; every clause is served
by the ``articles`` indexes (category, published_ts).
"""

from __future__ import annotations

from collections.abc import Sequence


def article_filter(category: str | Sequence[str] | None, until: int | None,
                   exclude: Sequence[str] = ()) -> tuple[str, list]:
    """``WHERE`` for a category (or several: one shown name gathering departments, see
    :mod:`feedkit.editorial.categories`), categories left out, and/or a publication cutoff."""
    clauses: list[str] = []
    params: list = []
    if isinstance(category, str):
        clauses.append("category = ?")
        params.append(category)
    elif category is not None:
        clauses.append(f"category IN ({','.join('?' * len(category))})")
        params.extend(category)
    if exclude:
        clauses.append(f"category NOT IN ({','.join('?' * len(exclude))})")
        params.extend(exclude)
    if until is not None:
        clauses.append("published_ts <= ?")
        params.append(until)
    return (" WHERE " + " AND ".join(clauses) if clauses else ""), params
