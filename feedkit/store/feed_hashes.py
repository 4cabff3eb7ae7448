"""Which feeds changed in a build, kept in the store's ``meta`` table (WebSub, issue 28).

Per feed file (its path in the output folder, ``feed.xml``, ``category/semugwa/atom.xml``,
``digest/feed.xml``), two SHA-256 digests of its bytes: the one the latest build wrote
(``feed-built:<path>``) and the one last announced to the WebSub hubs
(``feed-announced:<path>``). A feed is *pending* while they differ: its bytes changed and no hub
has been told yet. Bytes, not clocks: the same store and config give the same record, and a
rebuild that writes identical bytes changes nothing.

A workflow that rebuilds its store every run carries the built digests over in ``feedkit export
--state``; ``import --state`` reads them back as built *and* announced (that run's workflow
announced them itself, from its own list), so a new run announces only what its own build
changed.
"""

from __future__ import annotations

import json

from feedkit.store.articles import Store

BUILT = "feed-built:"
ANNOUNCED = "feed-announced:"


def _digests(store: Store, prefix: str) -> dict[str, str]:
    rows = store.db.execute("SELECT key, value FROM meta WHERE key >= ? AND key < ?",
                            (prefix, prefix[:-1] + chr(ord(prefix[-1]) + 1)))
    return {key[len(prefix):]: value for key, value in rows}


def record_built(store: Store, digests: dict[str, str]) -> list[str]:
    """Remember the digest of each feed a build rendered; the paths whose bytes changed (new
    feeds too), sorted. Call inside the build's transaction."""
    before = _digests(store, BUILT)
    changed = sorted(path for path, digest in digests.items() if before.get(path) != digest)
    for path in changed:
        store.set_meta(BUILT + path, digests[path])
    return changed


def pending(store: Store) -> list[str]:
    """The feeds whose latest bytes no hub has been told of, sorted."""
    announced = _digests(store, ANNOUNCED)
    return sorted(path for path, digest in _digests(store, BUILT).items()
                  if announced.get(path) != digest)


def mark_announced(store: Store, paths: list[str]) -> None:
    """Every hub took the news of these feeds: they are no longer pending."""
    built = _digests(store, BUILT)
    with store.transaction():
        for path in paths:
            if path in built:
                store.set_meta(ANNOUNCED + path, built[path])


def export_lines(store: Store) -> list[str]:
    """The built digests as sorted JSON lines for ``export --state``."""
    return [json.dumps({"feed": path, "sha256": digest}, sort_keys=True) + "\n"
            for path, digest in sorted(_digests(store, BUILT).items())]


def import_record(store: Store, record: dict) -> None:
    """One line of :func:`export_lines`: built and, by the workflow's own hand, announced."""
    path, digest = str(record["feed"]), str(record["sha256"])
    store.set_meta(BUILT + path, digest)
    store.set_meta(ANNOUNCED + path, digest)
