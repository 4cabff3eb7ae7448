"""Fetch rules left unchecked by the mutation run (issue 12): what a site's server sees of
feedkit (the headers of a first request, robots.txt read in full every run, the Crawl-delay of
feedkit's own robots group) and the one-line error of a single failed attempt. Real HTTP on
127.0.0.1 (tests/loopback_server.py); the server's own log is what is checked."""

from __future__ import annotations

import socket

import pytest
from loopback_server import Site, serve

from feedkit.ingest.fetch import Fetcher, FetchError, FetchSettings, HttpCache
from feedkit.store.articles import Store

FAST = FetchSettings(user_agent="feedkit/test (+mailto:ops@example.org)", delay=0, timeout=2,
                     retries=0, backoff=0, max_bytes=100_000, max_redirects=3)


@pytest.fixture
def site():
    s = Site()
    with serve(s):
        yield s


def _fetcher(cache: HttpCache | None = None, sleep=None) -> Fetcher:
    extra = {"sleep": sleep} if sleep else {}
    return Fetcher(FAST, cache, private_hosts={"127.0.0.1"}, **extra)


def test_the_first_request_for_a_url_carries_no_validators(site, tmp_path):
    """Nothing cached yet: no If-None-Match and no If-Modified-Since, not even empty ones."""
    site.page("/feed", "<rss/>", etag='"v1"', last_modified="Wed, 10 Dec 2025 08:00:00 GMT")
    with Store(tmp_path / "a.db") as store:
        assert _fetcher(HttpCache(store.db)).get(site.url("/feed")).status == 200
    (hit,) = site.hits("/feed")
    assert "if-none-match" not in hit.headers and "if-modified-since" not in hit.headers


def test_robots_txt_is_read_in_full_on_every_run(site, tmp_path):
    """A robots.txt with an ETag is still asked for without validators on the next run (a 304
    would leave no rules to obey), and its Disallow still holds then."""
    site.page("/robots.txt", "User-agent: *\nDisallow: /private\n", content_type="text/plain",
              etag='"r1"', last_modified="Wed, 10 Dec 2025 08:00:00 GMT")
    site.page("/public", "ok")
    site.page("/private/a", "secret")
    with Store(tmp_path / "a.db") as store:
        for _run in range(2):
            cache = HttpCache(store.db)
            assert _fetcher(cache).get(site.url("/public")).status == 200
            with pytest.raises(FetchError, match="disallowed"):
                _fetcher(cache).get(site.url("/private/a"))
            cache.commit()
    robots = site.hits("/robots.txt")
    assert len(robots) == 4   # two fetchers per run, each reads it once
    assert all("if-none-match" not in h.headers and "if-modified-since" not in h.headers
               for h in robots)
    assert site.hits("/private/a") == []


def test_feedkits_own_robots_group_sets_its_crawl_delay(site):
    """A site asking feedkit for 3 s between requests and everyone else for 1 s: feedkit waits
    3 s (the injected sleep records the wait)."""
    site.page("/robots.txt", "User-agent: feedkit\nCrawl-delay: 3\n\n"
                             "User-agent: *\nCrawl-delay: 1\n", content_type="text/plain")
    site.page("/a", "a")
    slept: list[float] = []
    _fetcher(sleep=slept.append).get(site.url("/a"))
    assert len(slept) == 1 and 2.9 < slept[0] <= 3.0


def test_a_network_error_on_the_only_attempt_is_not_after_attempts():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]   # closed again: nothing listens there
    url = f"http://127.0.0.1:{port}/x"
    with pytest.raises(FetchError) as caught:
        _fetcher().get(url, check_robots=False)
    assert str(caught.value) == f"{url}: network error: Connection refused"
