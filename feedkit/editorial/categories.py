"""``[categories]``: the categories as the city wants to show them.

Sources name departments (세무과, 대천1동, 웅천읍 …); a city wants a handful of names readers
understand ("세무 소식", one "읍·면·동 소식" instead of sixteen one-item offices), in its own
order, and some boards (인사 발령, test boards) kept out of the feeds or the digest. The mapping
is applied when the feeds, pages and digests are made, never to the stored articles, so a
change of mind in the config takes effect at the next build and can be undone.

The shape, as a city web team writes it::

    [categories]
    order = ["시정 소식", "읍·면·동 소식"]       # these first, the rest by size
    exclude_from_feeds = ["인사 발령"]           # shown names; no feed, not in the main feed
    exclude_from_digest = ["채용 공고"]
    exclude = ["테스트 게시판"]                  # both

    [categories.names]                           # shown name = departments it gathers
    "세무 소식" = ["세무과"]
    "읍·면·동 소식" = ["대천1동", "*읍", "*면", "*동"]   # * matches any characters

A category feed's URL (``category/<slug>/``) belongs to the name's *first assignment*, the first
department of its list: renaming "세무 소식" to "세금 소식" keeps ``category/semugwa/``, the
address 세무과's feed had before ``[categories]`` existed, and readers subscribed to it keep
their feed. A list that starts with a pattern has no such anchor: its slug is the shown name's.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from feedkit.errors import ConfigError

KEYS = ("order", "exclude_from_feeds", "exclude_from_digest", "exclude", "names")


def _pattern(entry: str) -> re.Pattern[str] | None:
    """A compiled ``*`` pattern, or None for a plain department name."""
    if "*" not in entry:
        return None
    return re.compile(".*".join(re.escape(part) for part in entry.split("*")))


@dataclass(frozen=True)
class CategoryMap:
    """The checked ``[categories]`` section; the empty map changes nothing."""

    names: tuple[tuple[str, tuple[str, ...]], ...] = ()   # (shown, entries) in file order
    order: tuple[str, ...] = ()
    hidden_from_feeds: frozenset[str] = frozenset()     # shown names
    hidden_from_digest: frozenset[str] = frozenset()
    _exact: dict[str, str] = field(default_factory=dict, compare=False, repr=False)
    _patterns: tuple[tuple[re.Pattern[str], str], ...] = field(default=(), compare=False,
                                                                repr=False)

    def __post_init__(self) -> None:
        exact: dict[str, str] = {}
        patterns = []
        for shown, entries in self.names:
            for entry in entries:
                compiled = _pattern(entry)
                if compiled is None:
                    exact.setdefault(entry, shown)
                else:
                    patterns.append((compiled, shown))
        object.__setattr__(self, "_exact", exact)
        object.__setattr__(self, "_patterns", tuple(patterns))

    def __bool__(self) -> bool:
        return bool(self.names or self.order or self.hidden_from_feeds
                    or self.hidden_from_digest)

    def shown(self, department: str) -> str:
        """The name a department is shown under: an exact entry, else the first pattern (in
        file order) that matches the whole name, else the department's own name."""
        if not department:
            return ""
        name = self._exact.get(department)
        if name is not None:
            return name
        for compiled, shown in self._patterns:
            if compiled.fullmatch(department):
                return shown
        return department

    def in_feeds(self, department: str) -> bool:
        return self.shown(department) not in self.hidden_from_feeds

    def in_digest(self, department: str) -> bool:
        return self.shown(department) not in self.hidden_from_digest

    def slug_key(self, shown: str) -> str:
        """Whose slug a shown name's feed uses (the first assignment, see the module doc)."""
        for name, entries in self.names:
            if name == shown:
                return entries[0] if _pattern(entries[0]) is None else shown
        return shown

    def gathers(self, shown: str) -> bool:
        """True when a shown name may gather several departments (a digest item then says
        which one it came from)."""
        for name, entries in self.names:
            if name == shown:
                return len(entries) > 1 or _pattern(entries[0]) is not None
        return False

    def groups(self, departments: Iterable[str]) -> dict[str, list[str]]:
        """``{shown name: [departments]}`` for the given departments (their order kept)."""
        out: dict[str, list[str]] = {}
        for d in departments:
            out.setdefault(self.shown(d), []).append(d)
        return out


def _names_list(key: str, value: object) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"[categories] {key}: must be a list of names in quotes, "
                          f"e.g. {key} = [\"Personnel notices\"]")
    names = tuple(v.strip() for v in value)
    for name in names:
        if not name:
            raise ConfigError(f"[categories] {key}: an empty name")
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise ConfigError(f"[categories] {key}: {name!r} is listed twice")
        seen.add(name)
    return names


def parse_categories(table: Mapping[str, object] | None) -> CategoryMap:
    """Check a ``[categories]`` table and build the :class:`CategoryMap`; every mistake is a
    :class:`ConfigError` naming the key and the name."""
    if not table:
        return CategoryMap()
    unknown = sorted(set(table) - set(KEYS))
    if unknown:
        raise ConfigError(f"[categories] {unknown[0]}: unknown key (known: {', '.join(KEYS)}; "
                          "a shown name and its departments go under [categories.names])")
    raw_names = table.get("names", {})
    if not isinstance(raw_names, Mapping):
        raise ConfigError("[categories] names: must be a table: [categories.names] with lines "
                          "like \"Tax news\" = [\"Tax Division\"]")
    names: list[tuple[str, tuple[str, ...]]] = []
    owner: dict[str, str] = {}   # department or pattern -> the shown name it went to
    for shown, value in raw_names.items():
        key = f"names.{shown!r}" if shown.strip() else "names"
        if not shown.strip():
            raise ConfigError("[categories.names]: a shown name cannot be empty")
        entries = _names_list(key, value)
        if not entries:
            raise ConfigError(f"[categories.names] {shown!r}: list at least one department")
        for entry in entries:
            if entry.strip("*") == "":
                raise ConfigError(f"[categories.names] {shown!r}: {entry!r} would gather every "
                                  "department into one; name them, or use a pattern with a "
                                  "fixed part, like \"*-dong\"")
            if entry in owner:
                raise ConfigError(f"[categories.names] {entry!r} is listed under both "
                                  f"{owner[entry]!r} and {shown!r}; a department is shown "
                                  "under one name")
            owner[entry] = shown
        names.append((shown.strip(), entries))
    shown_names = {n for n, _ in names}
    merged = {entry: shown for entry, shown in owner.items()
              if _pattern(entry) is None and entry != shown}

    lists = {k: _names_list(k, table.get(k, [])) for k in
             ("order", "exclude_from_feeds", "exclude_from_digest", "exclude")}
    for key, values in lists.items():
        for name in values:
            if name in merged and name not in shown_names:
                raise ConfigError(
                    f"[categories] {key}: {name!r} is merged into {merged[name]!r} by "
                    f"[categories.names], so it is not shown under its own name; "
                    f"{'order' if key == 'order' else 'exclude'} {merged[name]!r} instead, "
                    f"or take {name!r} out of the merge")
    both = set(lists["exclude"])
    for key in ("exclude_from_feeds", "exclude_from_digest"):
        twice = both & set(lists[key])
        if twice:
            raise ConfigError(f"[categories] {key}: {sorted(twice)[0]!r} is already in "
                              "exclude (which means both)")
    order_hidden = set(lists["order"]) & (both | (set(lists["exclude_from_feeds"])
                                                  & set(lists["exclude_from_digest"])))
    if order_hidden:
        raise ConfigError(f"[categories] order: {sorted(order_hidden)[0]!r} is excluded from "
                          "both the feeds and the digest, so it is never shown")
    return CategoryMap(
        names=tuple(names),
        order=lists["order"],
        hidden_from_feeds=frozenset(both | set(lists["exclude_from_feeds"])),
        hidden_from_digest=frozenset(both | set(lists["exclude_from_digest"])),
    )


def category_map(config) -> CategoryMap:
    """The config's ``[categories]`` as a :class:`CategoryMap` (checked when the config was
    loaded; the empty map when the section is absent)."""
    c = config.categories
    if not c.is_set():
        return CategoryMap()
    return parse_categories({"names": {k: list(v) for k, v in c.names.items()},
                             "order": list(c.order),
                             "exclude_from_feeds": list(c.exclude_from_feeds),
                             "exclude_from_digest": list(c.exclude_from_digest),
                             "exclude": list(c.exclude)})
