"""The endpoint's parts on their own: the rate-limit window, the [web] config checks, the app
refusing to start without what its links need. No server needed for these."""

from __future__ import annotations

import pytest
from _digest_support import config_for

from feedkit.errors import ConfigError
from feedkit.web.limits import SlidingWindow


class FakeClock:
    def __init__(self):
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def test_a_sliding_window_counts_per_key_and_frees_a_slot_as_each_event_ages_out():
    clock = FakeClock()
    w = SlidingWindow(2, 100, clock=clock)
    assert w.hit("a") and w.hit("b")
    clock.t = 10
    assert w.hit("a")
    assert not w.hit("a")                  # third within 100 s
    assert w.retry_after("a") == 90        # the first event (t=0) leaves at t=100
    clock.t = 99.5
    assert not w.hit("a")
    clock.t = 100
    assert w.hit("a")                      # t=0 aged out; t=10 and t=100 now in the window
    assert not w.hit("a")
    assert w.hit("b")                      # b has one event: its own count
    assert SlidingWindow(0, 100, clock=clock).hit("x")     # 0: no limit


def test_a_flood_of_distinct_keys_keeps_memory_bounded():
    clock = FakeClock()
    w = SlidingWindow(1, 100, clock=clock, max_keys=10)
    for i in range(1000):
        clock.t = i
        w.hit(f"k{i}")
    assert len(w._events) <= 10


@pytest.mark.parametrize(("web", "message"), [
    ({"url": "ftp://x.example/"}, "[web] url: expected an http(s) URL"),
    ({"url": "https://x.example/list?a=1"}, "[web] url: must not have a query"),
    ({"address_limit": -1}, "[web] address_limit: must not be negative"),
    ({"client_limit": -5}, "[web] client_limit: must not be negative"),
    ({"proxy_hops": 9}, "[web] proxy_hops: expected 0 to 5"),
    ({"consent_version": " "}, "[web] consent_version: must not be empty"),
    ({"nonsense": 1}, "nonsense"),
])
def test_bad_web_settings_are_one_line_config_errors(tmp_path, web, message):
    with pytest.raises(ConfigError) as info:
        config_for(tmp_path, web=web)
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_web_url_is_canonical_and_defaults_are_safe(tmp_path):
    config = config_for(tmp_path, web={"url": "HTTPS://News.Example.org"})
    assert config.web.url == "https://news.example.org/"
    web = config_for(tmp_path).web
    assert (web.url, web.address_limit, web.client_limit, web.proxy_hops) == ("", 3, 20, 0)


def test_the_app_refuses_to_start_without_url_or_secret(tmp_path, monkeypatch):
    from feedkit.web.app import create_app

    with pytest.raises(ConfigError, match=r"\[web\] url is not set"):
        create_app(config_for(tmp_path), secret="s" * 32)
    monkeypatch.delenv("FEEDKIT_SECRET", raising=False)
    with pytest.raises(ConfigError, match=r"\$FEEDKIT_SECRET is not set"):
        create_app(config_for(tmp_path, web={"url": "https://news.example.org/list/"}))
