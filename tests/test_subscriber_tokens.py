"""Tokens in subscriber links: a purpose each, confirm tokens expire, nothing forged passes."""

from __future__ import annotations

import time

import pytest

from feedkit.errors import ConfigError
from feedkit.subscribers.links import confirm_url, personal_urls, subscribe_url
from feedkit.subscribers.tokens import (
    CONFIRM_MAX_AGE,
    PURPOSES,
    BadToken,
    env_secret,
    make_token,
    read_token,
)

SECRET = "a-test-secret-that-is-long-enough"


@pytest.mark.parametrize("purpose", PURPOSES)
def test_a_token_reads_back_as_its_subscriber(purpose):
    assert read_token(SECRET, purpose, make_token(SECRET, purpose, 42)) == 42
    assert read_token(SECRET, purpose, make_token(SECRET, purpose, 7)) == 7


@pytest.mark.parametrize("made_for", PURPOSES)
@pytest.mark.parametrize("read_as", PURPOSES)
def test_a_token_for_one_purpose_never_works_for_another(made_for, read_as):
    token = make_token(SECRET, made_for, 42)
    if made_for == read_as:
        assert read_token(SECRET, read_as, token) == 42
    else:
        with pytest.raises(BadToken):
            read_token(SECRET, read_as, token)


@pytest.mark.parametrize("purpose", PURPOSES)
def test_another_secret_or_a_changed_character_is_refused(purpose):
    token = make_token(SECRET, purpose, 42)
    with pytest.raises(BadToken):
        read_token("another-secret-just-as-long-xx", purpose, token)
    # Flip one character of the signature (the last part), and one of the payload (the first).
    for i in (len(token) - 3, 0):
        flipped = token[:i] + ("A" if token[i] != "A" else "B") + token[i + 1:]
        with pytest.raises(BadToken):
            read_token(SECRET, purpose, flipped)
    for junk in ("", "x", "....", "42", "eyJ"):
        with pytest.raises(BadToken):
            read_token(SECRET, purpose, junk)


def test_confirm_tokens_expire_after_a_week_by_default():
    t0 = 1_780_000_000
    token = make_token(SECRET, "confirm", 42, now=t0)
    assert CONFIRM_MAX_AGE == 7 * 24 * 3600
    assert read_token(SECRET, "confirm", token, now=t0 + 7 * 24 * 3600) == 42
    with pytest.raises(BadToken) as info:
        read_token(SECRET, "confirm", token, now=t0 + 7 * 24 * 3600 + 1)
    assert info.value.expired
    # A shorter limit a caller asks for holds too.
    with pytest.raises(BadToken):
        read_token(SECRET, "confirm", token, max_age=60, now=t0 + 61)


def test_a_confirm_token_made_eight_days_ago_fails_on_the_real_clock():
    old = make_token(SECRET, "confirm", 42, now=int(time.time()) - 8 * 24 * 3600)
    with pytest.raises(BadToken):
        read_token(SECRET, "confirm", old)
    assert read_token(SECRET, "confirm", make_token(SECRET, "confirm", 42)) == 42


def test_unsubscribe_and_preferences_tokens_never_expire_and_stay_the_same():
    a = make_token(SECRET, "unsubscribe", 42)
    assert make_token(SECRET, "unsubscribe", 42) == a
    assert make_token(SECRET, "unsubscribe", 43) != a
    # read ten years on
    assert read_token(SECRET, "unsubscribe", a, max_age=1,
                      now=int(time.time()) + 10 * 365 * 24 * 3600) == 42


def test_an_unknown_purpose_or_an_empty_secret_is_a_programming_or_config_error():
    with pytest.raises(ValueError):
        make_token(SECRET, "login", 1)
    with pytest.raises(ConfigError):
        make_token("", "confirm", 1)


def test_the_secret_comes_from_the_environment_and_must_be_long(monkeypatch):
    monkeypatch.delenv("FEEDKIT_SECRET", raising=False)
    with pytest.raises(ConfigError, match=r"\$FEEDKIT_SECRET is not set"):
        env_secret()
    monkeypatch.setenv("FEEDKIT_SECRET", "short")
    with pytest.raises(ConfigError, match="shorter than 16"):
        env_secret()
    monkeypatch.setenv("FEEDKIT_SECRET", SECRET)
    assert env_secret() == SECRET


def test_personal_links_point_at_the_endpoint_and_carry_their_own_purpose():
    urls = personal_urls("https://news.example.org/list/", SECRET, 42)
    assert set(urls) == {"unsubscribe", "preferences"}
    prefix = "https://news.example.org/list/unsubscribe/"
    assert urls["unsubscribe"].startswith(prefix)
    assert read_token(SECRET, "unsubscribe", urls["unsubscribe"].removeprefix(prefix)) == 42
    prefix = "https://news.example.org/list/preferences/"
    assert read_token(SECRET, "preferences", urls["preferences"].removeprefix(prefix)) == 42
    link = confirm_url("https://news.example.org/list", SECRET, 42)
    prefix = "https://news.example.org/list/confirm/"
    assert read_token(SECRET, "confirm", link.removeprefix(prefix)) == 42
    assert subscribe_url("https://news.example.org/list/") == (
        "https://news.example.org/list/subscribe")
    # Nothing in a link needs quoting in a URL or a List-Unsubscribe header.
    for url in [*urls.values(), link]:
        assert all(c.isalnum() or c in "-_.:/" for c in url), url


def test_a_confirm_token_tells_when_it_was_issued():
    from feedkit.subscribers.tokens import read_token_issued

    t0 = 1_780_000_000
    token = make_token(SECRET, "confirm", 42, now=t0)
    assert read_token_issued(SECRET, "confirm", token, now=t0 + 5) == (42, t0)
    assert read_token_issued(SECRET, "unsubscribe", make_token(SECRET, "unsubscribe", 9)) == (
        9, None)


def test_why_a_token_failed_is_said_and_only_an_expired_one_is_expired():
    t0 = 1_780_000_000
    token = make_token(SECRET, "confirm", 42, now=t0)
    with pytest.raises(BadToken) as expired:
        read_token(SECRET, "confirm", token, now=t0 + CONFIRM_MAX_AGE + 1)
    assert (str(expired.value), expired.value.expired) == ("the confirm link has expired", True)
    with pytest.raises(BadToken) as forged:
        read_token(SECRET, "unsubscribe", token[:-2] + "xx")
    assert (str(forged.value), forged.value.expired) == ("not a valid unsubscribe link", False)


@pytest.mark.parametrize("value", [0, -3, True, "42", 4.2, None])
def test_a_well_signed_token_naming_no_subscriber_is_refused(value):
    """Defence in depth: a token signed with the right key but holding something other than a
    subscriber id (which only a bug, or a leaked secret, could make) names nobody."""
    from feedkit.subscribers.tokens import _serializer, token_subject

    for purpose in PURPOSES:
        token = _serializer(SECRET, purpose, None).dumps(value)
        with pytest.raises(BadToken) as info:
            read_token(SECRET, purpose, token)
        assert str(info.value) == f"not a valid {purpose} link" and not info.value.expired
        assert token_subject(SECRET, purpose, token) is None


def test_a_secret_of_exactly_the_minimum_length_is_enough(monkeypatch):
    from feedkit.subscribers.tokens import MIN_SECRET_LENGTH

    monkeypatch.setenv("FEEDKIT_SECRET", "s" * MIN_SECRET_LENGTH)
    assert env_secret() == "s" * 16
    monkeypatch.setenv("FEEDKIT_SECRET", "s" * 15)
    with pytest.raises(ConfigError) as short:
        env_secret()
    assert str(short.value) == (
        "$FEEDKIT_SECRET is shorter than 16 characters: subscriber links are signed with it "
        "(make one with: python -c \"import secrets; print(secrets.token_urlsafe(32))\")")
