"""``feedkit check``'s look at each source: the first page answers and robots.txt allows it.

Nothing is stored: the page is fetched by the same polite :class:`~feedkit.ingest.fetch.Fetcher`
as ``feedkit update`` (its User-Agent, robots.txt rules, per-host delay, address guard), without
the conditional-GET cache, so an unchanged page still proves it answers. A file source is
checked for being there and readable.
"""

from __future__ import annotations

from feedkit.config import FILE_SOURCE_KINDS, Config
from feedkit.errors import EXIT_FAILURE, Check, FeedkitError


def source_checks(config: Config, fetcher=None) -> list[Check]:
    """One :class:`Check` per ``[[sources]]`` entry (a failure is exit 1: a site that does not
    answer today, or a robots.txt that shuts feedkit out)."""
    from feedkit.errors import check_readable
    from feedkit.ingest.fetch import Fetcher, FetchSettings
    from feedkit.ingest.update import configured_private_hosts

    if not config.sources:
        return [Check("sources", None, f"no [[sources]] in {config.path.name}")]
    if fetcher is None:
        fetcher = Fetcher(FetchSettings.from_config(config),
                          private_hosts=configured_private_hosts(config))
    checks = []
    for src in config.sources:
        name = f"source {src.label}"
        local = src.kind in FILE_SOURCE_KINDS or (src.kind == "feed" and src.path)
        try:
            if local:
                path = config.resolve(src.path)
                check_readable(path)
                checks.append(Check(name, True, f"{src.path}: readable"))
                continue
            response = fetcher.get(src.url, conditional=False)
        except FeedkitError as exc:
            checks.append(Check(name, False, str(exc), EXIT_FAILURE))
            continue
        size = len(response.body)
        moved = f" (from {src.url})" if response.url != src.url else ""
        checks.append(Check(name, True, f"{response.url}{moved}: HTTP {response.status}, "
                                        f"{size:,} bytes, allowed by robots.txt"))
    return checks
