"""WebSub (W3C, 2018): tell the hubs which feeds changed, so readers get news within a minute.

A static site is only polled; a reader that polls a small feed every few hours sees a story
hours late. With ``[feeds] websub_hubs`` every feed names the hubs (``rel="hub"``, JSON Feed
``hubs``: :mod:`feedkit.site.feeds`), readers such as Feedly, Inoreader, NewsBlur and FreshRSS
subscribe there, and after a deploy the publisher pings each hub once per changed feed
(``hub.mode=publish``); the hub fetches the feed and pushes it to its subscribers.

Which feeds changed is decided by their bytes, at build time: the output plan takes each feed's
SHA-256 as it is rendered (:attr:`feedkit.site.output.OutputPlan.hashed`, set to :func:`is_feed`
by the build) and :mod:`feedkit.store.feed_hashes` records them; a build that rewrites a feed
with the same bytes announces nothing. Announcing is a separate step (``feedkit announce``, or
``update --announce`` where the output folder is what the web server serves) because the hubs
fetch the feed at once: on GitHub Pages it must come after the deploy, or the hub would fetch
the old feed.

The W3C recommendation leaves the publish request to the hub; hubs agree on a form POST with
``hub.mode=publish`` and the topic, which older hubs (Google's, Superfeedr) read from
``hub.url`` and newer ones (Switchboard, Flask-WebSub) from ``hub.topic``: both are sent.
"""

from __future__ import annotations

import http.client
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from feedkit import __version__
from feedkit.config import FEED_FILENAMES, Config
from feedkit.errors import UsageError

FEED_NAMES = frozenset(FEED_FILENAMES.values())
TIMEOUT = 20.0


def is_feed(rel: str) -> bool:
    """Whether an output path is a feed: ``feed.xml``, ``atom.xml``, ``feed.json`` at the top,
    in a category folder, and the digest feed ``digest/feed.xml``."""
    return rel.rsplit("/", 1)[-1] in FEED_NAMES


def topic(config: Config, rel: str) -> str:
    """The public URL of a feed: what its ``rel="self"`` says, what readers subscribe to."""
    return config.site.feed_url + rel


def paths_of(config: Config, urls: Iterable[str]) -> list[str]:
    """Feed URLs given on the command line as output paths; only this site's feeds."""
    base = config.site.feed_url
    paths = []
    for url in urls:
        rel = url[len(base):] if url.startswith(base) else ""
        if not rel or not is_feed(rel):
            raise UsageError(f"{url}: not one of this site's feeds (they start with {base} and "
                             f"end with {', '.join(sorted(FEED_NAMES))})")
        paths.append(rel)
    return paths


@dataclass
class AnnounceReport:
    announced: list[str] = field(default_factory=list)   # paths every hub accepted
    failed: list[str] = field(default_factory=list)      # "HUB: FEED: why"
    hubs: int = 0

    def summary(self) -> str:
        if not self.announced and not self.failed:
            return "nothing to announce: no feed changed since the last announcement"
        text = f"announced {len(self.announced)} feed(s) to {self.hubs} hub(s)"
        return text + (f", {len(self.failed)} failed" if self.failed else "")


Post = Callable[[str, bytes], tuple[int, str]]


def announce(config: Config, paths: Iterable[str], post: Post | None = None) -> AnnounceReport:
    """``hub.mode=publish`` for each feed to each hub; a feed counts as announced once every hub
    accepted it (2xx). A hub that fails is named per feed, and the others are still told."""
    post = post or _post
    hubs = config.feeds.websub_hubs
    report = AnnounceReport(hubs=len(hubs))
    paths = sorted(set(paths))
    if not hubs or not paths:
        return report
    for rel in paths:
        url = topic(config, rel)
        body = urllib.parse.urlencode([("hub.mode", "publish"), ("hub.url", url),
                                       ("hub.topic", url)]).encode("ascii")
        ok = True
        for hub in hubs:
            status, why = post(hub, body)
            if not 200 <= status < 300:
                ok = False
                report.failed.append(f"{hub}: {url}: {why}")
        if ok:
            report.announced.append(rel)
    return report


def _post(hub: str, body: bytes) -> tuple[int, str]:
    """One publish request; (status, why) with status 0 for a network error. One retry after a
    network error or a 5xx: hubs are busy services."""
    headers = {"Content-Type": "application/x-www-form-urlencoded",
               "User-Agent": f"feedkit/{__version__}"}
    result = (0, "")
    for _attempt in range(2):
        request = urllib.request.Request(hub, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
                return response.status, f"HTTP {response.status}"
        except urllib.error.HTTPError as exc:
            reason = http.client.responses.get(exc.code, "")
            result = (exc.code, f"HTTP {exc.code} {reason}".rstrip())
            if exc.code < 500:
                return result
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            result = (0, f"cannot reach the hub ({reason})")
    return result
