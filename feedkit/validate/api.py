"""The entry points: one document (:func:`validate_feed`) or a built folder
(:func:`validate_dir`, with file discovery and the cross-file checks)."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import quote, unquote, urljoin, urlsplit

from feedkit.validate.document import Document
from feedkit.validate.problems import Problem, _Result
from feedkit.validate.uris import _same_uri


def validate_feed(data: bytes, name: str, expected_self_url: str | None = None, *,
                  content_type: str | None = None) -> list[Problem]:
    """Validate one feed (RSS 2.0, Atom 1.0 or JSON Feed 1.1, detected from the bytes).

    ``name`` prefixes every problem's path. ``expected_self_url`` is where the feed will be
    published; when given, the self link (``atom:link rel="self"`` / JSON ``feed_url``) must
    name that address (``SelfDoesntMatchLocation``). ``content_type`` is the HTTP Content-Type it
    will be served with, if known (``UnexpectedContentType`` and friends).
    """
    result = Document(data, name).run(expected_self_url, content_type)
    return sorted(result.problems, key=_sort_key)


def validate_dir(path: Path, base_url: str | None = None) -> list[Problem]:
    """Validate every ``*.xml`` and ``*.json`` feed under a built output folder.

    XML files that are not feeds (sitemaps, OPML, ...) are skipped; every JSON file must be a JSON
    Feed. Each feed's self link must end with the feed's path inside the folder, and all of them
    must share one public base URL: ``base_url`` if given, else the one the top-level feed
    (``feed.xml``) claims, else the most common. Atom feeds must not share a feed ``id``.
    Each file is read and parsed once. Problems come back sorted by path (file, then line).
    """
    root = Path(path)
    results: dict[str, _Result] = {}
    problems: list[Problem] = []
    for file in candidate_files(root):
        if file.suffix.lower() not in (".xml", ".json"):
            continue
        rel = file.relative_to(root).as_posix()
        data = file.read_bytes()
        if file.suffix.lower() == ".xml" and not _looks_like_feed(data):
            continue
        result = Document(data, rel).run(None, None)
        results[rel] = result
        problems.extend(result.problems)
    problems.extend(_cross_checks(results, base_url))
    return sorted(problems, key=_sort_key)


SKIPPED_DIRS = frozenset({"node_modules", "site-packages", "__pycache__"})


def candidate_files(root: Path) -> list[Path]:
    """Every file under ``root``, sorted, skipping hidden folders (``.git``, ``.venv``) and any
    virtual environment (a folder with ``pyvenv.cfg``) or package folder: ``feedkit validate .``
    in a site checks the site's feeds, not the JSON files of the tools installed beside it."""
    import os

    found = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if not d.startswith(".") and d not in SKIPPED_DIRS
                   and not os.path.exists(os.path.join(folder, d, "pyvenv.cfg"))]
        found += [Path(folder) / f for f in files]
    return sorted(found)


def _looks_like_feed(data: bytes) -> bool:
    head = re.sub(rb"<!--.*?-->", b"", data[:4096], flags=re.S)[:2048]
    return any(marker in head for marker in (b"<rss", b"<feed", b"<rdf:RDF", b":feed"))


def _cross_checks(results: dict[str, _Result], base_url: str | None) -> Iterable[Problem]:
    found: list[Problem] = []
    bases: dict[str, str] = {}
    for rel, result in results.items():
        url = result.self_url
        if not url or not result.kind:
            continue
        parts = urlsplit(url)
        if not parts.scheme or not parts.netloc:
            continue  # RelativeSelf / InvalidFullLink already reported
        path = unquote(parts.path)
        if path.endswith("/" + rel):
            base_path = quote(path[: len(path) - len(rel)])
            bases[rel] = f"{parts.scheme}://{parts.netloc}{base_path}"
        else:
            found.append(Problem(rel, f"self link {url!r} does not end with this file's path "
                                 f"{rel!r}", "warning", "SelfDoesntMatchLocation"))
    base = base_url
    if base is None and bases:
        top = [rel for rel in bases if "/" not in rel]
        preferred = next((rel for rel in ("feed.xml", "atom.xml", "feed.json", "index.xml",
                                          "rss.xml") if rel in bases), top[0] if top else None)
        base = bases[preferred] if preferred else Counter(bases.values()).most_common(1)[0][0]
    if base is not None:
        if not base.endswith("/"):
            base += "/"
        for rel in bases:
            expected = urljoin(base, quote(rel))
            if not _same_uri(results[rel].self_url or "", expected):
                found.append(Problem(rel, f"self link {results[rel].self_url!r} is not where "
                                     f"the feed is published ({expected!r})", "warning",
                                     "SelfDoesntMatchLocation"))
    owners: dict[str, str] = {}
    for rel, result in results.items():
        if result.kind == "atom" and result.feed_id:
            if result.feed_id in owners:
                found.append(Problem(rel, f"feed id {result.feed_id!r} is also the id of "
                                     f"{owners[result.feed_id]}; every feed needs its own id",
                                     "warning", "DuplicateFeedId"))
            else:
                owners[result.feed_id] = rel
    return found


def _sort_key(problem: Problem) -> tuple[str, int, str]:
    file, _, rest = problem.path.partition(":")
    m = re.match(r"(\d+)", rest)
    return file, int(m.group(1)) if m else -1, problem.path
