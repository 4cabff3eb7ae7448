"""The entry points: one document (:func:`validate_feed`) or a built folder
(:func:`validate_dir`, with file discovery and the cross-file checks)."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import quote, unquote, urljoin, urlsplit

from lxml import etree

from feedkit.validate.atom import AtomChecks
from feedkit.validate.checker import _split
from feedkit.validate.jsonfeed import JsonChecks
from feedkit.validate.problems import Problem, _Result
from feedkit.validate.rss import RssChecks
from feedkit.validate.uris import _same_uri
from feedkit.validate.vocab import ATOM_NS

#: The W3C service refuses (``ValidatorLimit``, an error) anything longer than this many bytes.
MAX_FEED_BYTES = 5_000_000


class _Checker(RssChecks, AtomChecks, JsonChecks):
    """Validates one document of any of the three formats: detects which (JSON or XML, then
    ``<rss>`` or Atom ``<feed>``) and runs that format's checks; ``self.result`` holds problems
    and facts for cross-file checks."""

    def run(self, expected_self_url: str | None, content_type: str | None) -> _Result:
        if len(self.data) > MAX_FEED_BYTES:
            self.add(self.name, "ValidatorLimit",
                     f"feed is {len(self.data):,} bytes; the W3C validator stops at "
                     f"{MAX_FEED_BYTES:,}")
        head = self.data.lstrip(b"\xef\xbb\xbf \t\r\n")
        if head.startswith((b"{", b"[")):
            self.result.kind = "json"
            self._check_json()
        else:
            self._check_xml()
        if self.result.kind and content_type:
            self._check_content_type(content_type)
        if expected_self_url and self.result.kind:
            self.check_self_location(expected_self_url)
        return self.result

    # -- XML --------------------------------------------------------------------------------

    def _check_xml(self) -> None:
        declared = self._declared_encoding()
        if declared and declared.upper() not in ("UTF-8", "UTF-16"):
            common = {"US-ASCII", "ISO-8859-1", "EUC-JP", "ISO-8859-2", "ISO-8859-15",
                      "ISO-8859-7", "KOI8-R", "SHIFT_JIS", "WINDOWS-1250", "WINDOWS-1251",
                      "WINDOWS-1252", "WINDOWS-1254", "WINDOWS-1255", "WINDOWS-1256", "GB18030"}
            if declared.upper() not in common:
                self.add(self.name, "ObscureEncoding",
                         f"obscure XML character encoding {declared} (use UTF-8)")
        version = re.match(rb"""\s*<\?xml\s+version\s*=\s*["']([-\w.:]*)["']""", self.data)
        if version and version.group(1) != b"1.0":
            self.add(self.name, "BadXmlVersion", f"XML version {version.group(1).decode()}")
        parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                                 huge_tree=False, remove_comments=False)
        try:
            root = etree.fromstring(self.data, parser)
        except etree.XMLSyntaxError as exc:
            code = "UndefinedNamedEntity" if "Entity" in str(exc) else "SAXError"
            line = exc.lineno or 0
            self.add(f"{self.name}:{line}", code, f"XML parsing error: {exc.msg}")
            head = self.data[:2048]
            self.result.kind = "atom" if b"<feed" in head else "rss" if b"<rss" in head else None
            return
        encoding = root.getroottree().docinfo.encoding or "utf-8"
        try:
            text = self.data.decode(encoding)
        except (LookupError, UnicodeDecodeError):
            text = self.data.decode("utf-8", "replace")
        self.hex_lines = {n for n, line in enumerate(text.split("\n"), 1) if "&#x" in line}
        self._check_characters(text)
        ns, local = _split(root.tag)
        if local == "rss" and ns == "":
            self.result.kind = "rss"
            self.default_ns = ""
            self._scan_namespaces(root, atom=False)
            self._check_rss(root)
        elif local == "feed" and ns == ATOM_NS:
            self.result.kind = "atom"
            self.default_ns = ATOM_NS
            self._scan_namespaces(root, atom=True)
            self._check_atom(root)
        elif local == "feed" and ns == "http://purl.org/atom/ns#":
            self.result.kind = "atom"
            self.flag(root, "ObsoleteNamespace", "Atom 0.3 namespace; use Atom 1.0")
        else:
            self.add(self.name, "NotAFeed", f"root element <{local}> is not <rss> or Atom <feed>")


def validate_feed(data: bytes, name: str, expected_self_url: str | None = None, *,
                  content_type: str | None = None) -> list[Problem]:
    """Validate one feed (RSS 2.0, Atom 1.0 or JSON Feed 1.1, detected from the bytes).

    ``name`` prefixes every problem's path. ``expected_self_url`` is where the feed will be
    published; when given, the self link (``atom:link rel="self"`` / JSON ``feed_url``) must
    name that address (``SelfDoesntMatchLocation``). ``content_type`` is the HTTP Content-Type it
    will be served with, if known (``UnexpectedContentType`` and friends).
    """
    result = _Checker(data, name).run(expected_self_url, content_type)
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
        result = _Checker(data, rel).run(None, None)
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
