"""When an article may be published: not before its own date.

A record dated 2099-01-01 (a typo, or a notice scheduled ahead) would otherwise sit at the top of
every feed for 70 years and open a ``2099-W01`` digest page. As Hugo does by default
(``buildFuture = false``), a build leaves such articles out of the feeds, the index, the digest
and its archive until their time comes; ``[build] publish_future = true`` publishes them at once.

Every selection goes through :func:`visible_until`, so the feeds and the digest archive agree on
what exists. "Now" is passed in (``feedkit build --now``) rather than read deep inside, so a test
or a reproducible rebuild pins it; the same store, config and ``--now`` give the same bytes.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from feedkit.config import Config

# The W3C validator calls a date before 1990 implausible (ImplausibleDate); so does import.
EARLIEST_PLAUSIBLE = datetime(1990, 1, 1, tzinfo=UTC)
# A clock a few minutes apart from the source's is not "the future" worth a warning.
FUTURE_SLACK = timedelta(minutes=10)


def build_time(now: datetime | None = None) -> datetime:
    """The instant a build publishes as of: ``now`` if given, else the clock; whole seconds
    (the store sorts and compares on whole seconds)."""
    return (now or datetime.now(UTC)).replace(microsecond=0)


def visible_until(config: Config, now: datetime) -> int | None:
    """Unix seconds of the newest ``published`` a build may show (inclusive), or None when the
    site publishes ahead (``[build] publish_future``)."""
    if config.build.publish_future:
        return None
    return int(now.timestamp())


def date_warning(published: datetime, now: datetime) -> str | None:
    """What import says about an implausible date (the article is kept either way)."""
    if published > now + FUTURE_SLACK:
        return (f"dated {published.isoformat()}, in the future: kept, but left out of the "
                "feeds, the index and the digest until then ([build] publish_future = true "
                "publishes ahead)")
    if published < EARLIEST_PLAUSIBLE:
        return (f"dated {published.isoformat()}, before 1990: kept; check the source's date "
                "(feed validators call it implausible)")
    return None
