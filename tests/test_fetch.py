"""The polite HTTP client, against a real server on 127.0.0.1."""

from __future__ import annotations

import gzip
import sqlite3
import time

import pytest
from loopback_server import Site, serve

from feedkit.ingest.charset import decode_html, detect_encoding
from feedkit.ingest.fetch import Fetcher, FetchError, FetchSettings, HttpCache
from feedkit.store.articles import Store

FAST = FetchSettings(user_agent="feedkit/test (+mailto:ops@example.org)", delay=0, timeout=2,
                     retries=2, backoff=0, max_bytes=100_000, max_redirects=3)


@pytest.fixture
def site():
    s = Site()
    with serve(s):
        yield s


def fetcher(cache: HttpCache | None = None, **changes) -> Fetcher:
    settings = FetchSettings(**{**FAST.__dict__, **changes})
    # The test server is on 127.0.0.1: as a configured source written by its address would be.
    return Fetcher(settings, cache, private_hosts={"127.0.0.1"})


def test_sends_user_agent_with_contact_and_reads_body(site):
    site.page("/a", "<p>안녕</p>")
    response = fetcher().get(site.url("/a"))
    assert response.status == 200
    assert response.text() == "<p>안녕</p>"
    hit = site.hits("/a")[0]
    assert hit.headers["user-agent"] == "feedkit/test (+mailto:ops@example.org)"


def test_user_agent_from_config_names_feedkit_and_contact(tmp_path):
    from feedkit import __version__
    from feedkit.config import parse_config

    data = {"site": {"title": "t", "url": "https://city.example/",
                     "feed_url": "https://feeds.example/", "email": "news@example.org"}}
    cfg = parse_config(data, tmp_path / "config.toml")
    assert FetchSettings.from_config(cfg).user_agent == \
        f"feedkit/{__version__} (+news@example.org)"
    data["fetch"] = {"contact": "https://feeds.example/about", "delay": 0}
    cfg = parse_config(data, tmp_path / "config.toml")
    settings = FetchSettings.from_config(cfg)
    assert settings.user_agent.endswith("(+https://feeds.example/about)")
    assert settings.delay == 0.0 and settings.robots_token == "feedkit"


def test_robots_disallow_is_honoured_and_never_requested(site):
    site.page("/robots.txt", "User-agent: *\nDisallow: /private\n", content_type="text/plain")
    site.page("/private/news", "secret")
    site.page("/public", "ok")
    f = fetcher()
    with pytest.raises(FetchError, match=r"/private/news: disallowed by .*robots\.txt"):
        f.get(site.url("/private/news"))
    assert f.get(site.url("/public")).body == b"ok"
    assert site.hits("/private/news") == []
    assert len(site.hits("/robots.txt")) == 1   # read once per site, not per request


def test_robots_group_for_feedkit(site):
    site.page("/robots.txt", "User-agent: feedkit\nDisallow: /\n\nUser-agent: *\nAllow: /\n",
              content_type="text/plain")
    site.page("/a", "x")
    with pytest.raises(FetchError, match="disallowed"):
        fetcher().get(site.url("/a"))


def test_robots_server_error_means_stay_away(site):
    site.page("/robots.txt", "oops", status=503)
    site.page("/a", "x")
    with pytest.raises(FetchError, match=r"robots\.txt could not be read"):
        fetcher().get(site.url("/a"))
    assert site.hits("/a") == []


def _hang_up(handler):
    """Close the connection without answering (a crashed or overloaded server)."""
    handler.close_connection = True


def test_robots_unreachable_means_stay_away(site):
    """RFC 9309 2.3.1.4: robots.txt that cannot be fetched (the connection drops) means the
    whole site is off limits, not "no rules"."""
    site.handler("/robots.txt", _hang_up)
    site.page("/a", "x")
    f = fetcher(retries=1)
    # The network failure is named first (it is what to fix); robots.txt is where it showed.
    with pytest.raises(FetchError, match=r"/a: network error: .* after 2 attempts \(asking for "
                                         r".*/robots\.txt, which is read first; nothing on the "
                                         r"site was fetched\)$"):
        f.get(site.url("/a"))
    with pytest.raises(FetchError, match=r"/b: network error: .*robots\.txt"):
        f.get(site.url("/b"))           # remembered for the run: not asked again
    assert site.hits("/a") == [] and site.hits("/b") == []
    assert len(site.hits("/robots.txt")) == 2     # one request and its one retry


@pytest.mark.parametrize("status", [400, 404, 403, 410, 499])
def test_robots_client_error_means_no_rules(site, status):
    """RFC 9309 2.3.1.3: a 4xx robots.txt is "unavailable": crawling is allowed."""
    site.page("/robots.txt", "Disallow: /", status=status, content_type="text/plain")
    site.page("/a", "허용")
    assert fetcher().get(site.url("/a")).text() == "허용"


@pytest.mark.parametrize("status", [500, 503])
def test_robots_server_errors_all_mean_stay_away(site, status):
    site.page("/robots.txt", "oops", status=status)
    with pytest.raises(FetchError, match=rf"robots\.txt could not be read .*HTTP {status}"):
        fetcher(retries=0).get(site.url("/a"))


def test_no_robots_file_means_no_crawl_delay(site):
    site.page("/a", "a")
    site.page("/b", "b")
    slept: list[float] = []
    f = Fetcher(FetchSettings(**{**FAST.__dict__, "delay": 0}), sleep=slept.append,
                private_hosts={"127.0.0.1"})
    f.get(site.url("/a"))
    f.get(site.url("/b"))
    assert slept == []
    g = Fetcher(FetchSettings(**{**FAST.__dict__, "delay": 0}), sleep=slept.append,
                private_hosts={"127.0.0.1"})
    g.get(site.url("/a"), check_robots=False)        # robots.txt never read: no delay either
    g.get(site.url("/b"), check_robots=False)
    assert slept == []


def test_a_refusal_names_the_robots_file_and_the_token(site):
    site.page("/robots.txt", "User-agent: feedkit\nDisallow: /x\n", content_type="text/plain")
    with pytest.raises(FetchError) as info:
        fetcher().get(site.url("/x/1"))
    assert str(info.value) == (f"{site.url('/x/1')}: disallowed by {site.base}/robots.txt "
                               "for 'feedkit'")


def test_one_attempt_is_not_called_attempts(site):
    site.page("/down", "no", status=503)
    with pytest.raises(FetchError, match=r"/down: HTTP 503 Service Unavailable$"):
        fetcher(retries=0).get(site.url("/down"))


def test_delay_between_requests_to_one_host(site):
    site.page("/a", "a")
    site.page("/b", "b")
    f = fetcher(delay=0.3)
    f.get(site.url("/a"))
    f.get(site.url("/b"))
    gap = site.hits("/b")[0].time - site.hits("/a")[0].time
    assert gap >= 0.28


def test_crawl_delay_from_robots_wins_when_larger(site):
    # Python's robots parser reads whole seconds only.
    site.page("/robots.txt", "User-agent: *\nCrawl-delay: 1\n", content_type="text/plain")
    site.page("/a", "a")
    slept: list[float] = []
    f = Fetcher(FetchSettings(**{**FAST.__dict__, "delay": 0.1}), sleep=slept.append,
                private_hosts={"127.0.0.1"})
    f.get(site.url("/a"))
    # robots.txt, then /a: the second request to the host waited for the Crawl-delay.
    assert len(slept) == 1 and 0.9 < slept[0] <= 1.0


def test_conditional_get_with_etag_and_last_modified(site, tmp_path):
    site.page("/feed", "<rss/>", etag='"v1"', last_modified="Wed, 10 Dec 2025 08:00:00 GMT")
    with Store(tmp_path / "a.db") as store:
        cache = HttpCache(store.db)
        first = fetcher(cache).get(site.url("/feed"))
        assert first.status == 200
        # Staged only: nothing in the table until the caller commits.
        assert store.db.execute("SELECT count(*) FROM http_cache").fetchone()[0] == 0
        cache.commit()
        second = fetcher(cache).get(site.url("/feed"))
        assert second.not_modified and second.body == b""
    hit = site.hits("/feed")[1]
    assert hit.headers["if-none-match"] == '"v1"'
    assert hit.headers["if-modified-since"] == "Wed, 10 Dec 2025 08:00:00 GMT"
    row = sqlite3.connect(tmp_path / "a.db").execute(
        "SELECT etag, last_modified FROM http_cache WHERE url = ?", (site.url("/feed"),)).fetchone()
    assert row == ('"v1"', "Wed, 10 Dec 2025 08:00:00 GMT")


def test_unconditional_when_asked(site, tmp_path):
    site.page("/p", "x", etag='"v1"')
    with Store(tmp_path / "a.db") as store:
        cache = HttpCache(store.db)
        fetcher(cache).get(site.url("/p"))
        cache.commit()
        assert fetcher(cache).get(site.url("/p"), conditional=False).status == 200
    assert "if-none-match" not in site.hits("/p")[1].headers


def test_500_recovers_on_retry(site):
    calls = []

    def flaky(handler):
        calls.append(1)
        if len(calls) < 3:
            return 500, {"Content-Type": "text/plain"}, b"busy"
        return 200, {"Content-Type": "text/html; charset=utf-8"}, "복구됨".encode()

    site.handler("/flaky", flaky)
    f = fetcher(retries=3)
    assert f.get(site.url("/flaky")).text() == "복구됨"
    assert len(calls) == 3 and f.stats.retries == 2


def test_500_gives_up_after_retries(site):
    site.page("/down", "no", status=503)
    with pytest.raises(FetchError, match=r"/down: HTTP 503 Service Unavailable after 3 attempts"):
        fetcher(retries=2).get(site.url("/down"))
    assert len(site.hits("/down")) == 3


def test_backoff_doubles(site):
    site.page("/down", "no", status=500)
    slept: list[float] = []
    f = Fetcher(FetchSettings(**{**FAST.__dict__, "retries": 3, "backoff": 0.5}),
                sleep=slept.append, private_hosts={"127.0.0.1"})
    with pytest.raises(FetchError, match=r"/down: HTTP 500 Internal Server Error after 4 attempts"):
        f.get(site.url("/down"))
    assert slept == [0.5, 1.0, 2.0]


def _busy_then_ok(retry_after: str):
    calls = []

    def reply(handler):
        calls.append(1)
        if len(calls) == 1:
            return 503, {"Content-Type": "text/plain", "Retry-After": retry_after}, b"busy"
        return 200, {"Content-Type": "text/plain"}, b"ok"
    return reply


@pytest.mark.parametrize(("retry_after", "backoff", "slept"), [
    ("3", 0.5, [3.0]),         # the server asks for longer than the backoff: wait what it asks
    ("1", 2.0, [2.0]),         # shorter than the backoff: the backoff still holds
    ("100000", 0, [120.0]),    # absurd: capped at two minutes
    ("Fri, 31 Dec 2100 23:59:59 GMT", 0, [120.0]),   # an HTTP date far ahead: capped too
    ("Thu, 01 Jan 1970 00:00:00 GMT", 0.5, [0.5]),   # a date in the past: no extra wait
    ("soon", 0.5, [0.5]),      # unreadable: ignored
])
def test_retry_after_is_honoured(site, retry_after, backoff, slept):
    site.handler("/busy", _busy_then_ok(retry_after))
    waits: list[float] = []
    f = Fetcher(FetchSettings(**{**FAST.__dict__, "retries": 2, "backoff": backoff}),
                sleep=waits.append, private_hosts={"127.0.0.1"})
    assert f.get(site.url("/busy")).body == b"ok"
    assert waits == slept
    assert len(site.hits("/busy")) == 2


def test_retry_after_on_429(site):
    calls = []

    def limited(handler):
        calls.append(1)
        if len(calls) == 1:
            return 429, {"Retry-After": "7"}, b"slow down"
        return 200, {}, b"ok"

    site.handler("/limited", limited)
    waits: list[float] = []
    f = Fetcher(FetchSettings(**{**FAST.__dict__, "retries": 1}), sleep=waits.append,
                private_hosts={"127.0.0.1"})
    assert f.get(site.url("/limited")).body == b"ok"
    assert waits == [7.0]


def test_404_is_not_retried(site):
    with pytest.raises(FetchError, match=r"/gone: HTTP 404 Not Found$"):
        fetcher(retries=3).get(site.url("/gone"))
    assert len(site.hits("/gone")) == 1


def test_hanging_server_times_out(site):
    def hang(handler):
        site.release.wait(10)
        return 200, {}, b"late"

    site.handler("/hang", hang)
    started = time.monotonic()
    with pytest.raises(FetchError, match=r"/hang: timed out after 1 s"):
        fetcher(timeout=1, retries=0).get(site.url("/hang"))
    assert 0.9 <= time.monotonic() - started < 3


def test_network_error_is_reported_with_url():
    # A port nobody listens on: connection refused, retried, then a clear message.
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}/x"
    with pytest.raises(FetchError, match=rf"{url}: network error: .*after 2 attempts"):
        fetcher(retries=1).get(url, check_robots=False)


def test_redirect_followed_and_final_url_kept(site):
    site.page("/old", "", status=301, headers={"Location": "/new"})
    site.page("/new", "here")
    response = fetcher().get(site.url("/old"))
    assert response.url == site.url("/new") and response.body == b"here"


def test_redirect_loop_is_an_error(site):
    site.page("/a", "", status=302, headers={"Location": "/b"})
    site.page("/b", "", status=302, headers={"Location": "/a"})
    with pytest.raises(FetchError, match="redirect loop"):
        fetcher().get(site.url("/a"))
    assert len(site.hits("/a")) == 1 and len(site.hits("/b")) == 1


def test_too_many_redirects(site):
    for i in range(6):
        site.page(f"/r{i}", "", status=302, headers={"Location": f"/r{i + 1}"})
    site.page("/r6", "end")
    with pytest.raises(FetchError, match="more than 3 redirects"):
        fetcher(max_redirects=3).get(site.url("/r0"))


def test_redirect_target_checked_against_robots(site):
    site.page("/robots.txt", "User-agent: *\nDisallow: /private\n", content_type="text/plain")
    site.page("/go", "", status=302, headers={"Location": "/private/x"})
    with pytest.raises(FetchError, match="disallowed"):
        fetcher().get(site.url("/go"))
    assert site.hits("/private/x") == []


def test_oversized_response_with_content_length(site):
    site.page("/big", b"x" * 200_000)
    with pytest.raises(FetchError, match=r"/big: response of 200,000 bytes is larger than"):
        fetcher().get(site.url("/big"))


def test_oversized_response_without_content_length(site):
    def stream(handler):   # no Content-Length: the cap must hold while reading
        handler.send_response(200)
        handler.send_header("Content-Type", "text/html")
        handler.end_headers()
        try:
            for _ in range(40):
                handler.wfile.write(b"y" * 10_000)
        except (BrokenPipeError, ConnectionResetError):
            pass

    site.handler("/stream", stream)
    with pytest.raises(FetchError, match="larger than the limit of 100,000 bytes"):
        fetcher().get(site.url("/stream"))


def test_gzip_is_decoded_and_capped(site):
    page = ("<p>" + "보령 " * 1000 + "</p>").encode()
    site.page("/gz", gzip.compress(page), headers={"Content-Encoding": "gzip"})
    assert fetcher().get(site.url("/gz")).body == page
    assert site.hits("/gz")[0].headers["accept-encoding"] == "gzip"
    bomb = gzip.compress(b"0" * 5_000_000)   # small on the wire, huge inflated
    site.page("/bomb", bomb, headers={"Content-Encoding": "gzip"})
    with pytest.raises(FetchError, match="larger than the limit"):
        fetcher().get(site.url("/bomb"))


# -- character sets ------------------------------------------------------------------------------

KOREAN = "보령시 새소식: 똠방각하 햏 - 머드축제 개막"  # 똠 and 햏 exist only in CP949, not EUC-KR


def test_http_charset_euc_kr_read_as_cp949():
    data = f"<html><body>{KOREAN}</body></html>".encode("cp949")
    assert KOREAN in decode_html(data, "euc-kr")


def test_meta_charset_used_without_http_charset():
    data = f'<html><head><meta charset="euc-kr"></head><body>{KOREAN}</body></html>'.encode(
        "cp949")
    assert detect_encoding(data, "") == "cp949"
    assert KOREAN in decode_html(data)


def test_http_equiv_meta():
    data = ('<meta http-equiv="Content-Type" content="text/html; charset=ks_c_5601-1987">'
            f"{KOREAN}").encode("cp949")
    assert KOREAN in decode_html(data)


def test_weak_latin1_header_loses_to_the_page():
    # Apache's default "charset=ISO-8859-1" on a CP949 page is how mojibake happens.
    data = f"<html><body>{KOREAN}</body></html>".encode("cp949")
    assert KOREAN in decode_html(data, "iso-8859-1")
    assert KOREAN in decode_html(f'<meta charset="euc-kr">{KOREAN}'.encode("cp949"), "iso-8859-1")


def test_detection_without_any_declaration():
    long_text = (KOREAN + " 시민 여러분의 많은 참여 바랍니다. ") * 20
    assert KOREAN in decode_html(long_text.encode("cp949"))
    assert KOREAN in decode_html(long_text.encode("utf-8"))


def test_wrong_declaration_does_not_produce_mojibake():
    data = f'<meta charset="utf-8"><p>{KOREAN}</p>'.encode("cp949")
    assert KOREAN in decode_html(data, "utf-8")


def test_override_wins():
    data = f"<p>{KOREAN}</p>".encode("cp949")
    assert KOREAN in decode_html(data, "utf-8", override="euc-kr")


def test_utf8_bom():
    assert decode_html("\ufeff<p>보령</p>".encode()) == "<p>보령</p>"
