"""Personal digests (``[digest] audience = "subscribers"``): each reader gets only their
departments, one render per distinct choice, the send log's exactly-once per subscriber (also
after SIGKILL), bounces counted at send time. Real aiosmtpd on loopback, real store; what a
reader got is read back with the stdlib email parser."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from _digest_support import (
    SEOUL,
    SITE_AND_SENDER_TOML,
    Behaviour,
    config_for,
    korean_articles,
    smtp_server,
    store_with,
    write_config_toml,
)
from click.testing import CliRunner

from feedkit.cli import cli
from feedkit.digest.compose import load_digest
from feedkit.digest.render import PREFERENCES_PLACEHOLDER, DigestRenderer
from feedkit.digest.week import Week
from feedkit.mail.message import MessageFactory, build_message, message_bytes
from feedkit.mail.personal import send_subscribers
from feedkit.subscribers import repo

W24 = datetime(2024, 6, 10, tzinfo=SEOUL)
NOW = datetime(2024, 6, 17, 9, 0, tzinfo=SEOUL)
T0 = datetime(2024, 6, 1, tzinfo=UTC)
WEEK = Week.parse("2024-W24", SEOUL)
ARTICLES = korean_articles(12, W24)   # 세무과, 관광과, 복지정책과, 도서관: three each


@pytest.fixture(autouse=True)
def _secrets(monkeypatch):
    monkeypatch.setenv("FEEDKIT_SECRET", "subscriber-send-secret-0123456789")
    monkeypatch.setenv("FEEDKIT_UNSUBSCRIBE_SECRET", "unsubscribe-secret-0123456789")


def _config(tmp_path: Path, port: int, backend=None, **sections):
    digest = {"audience": "subscribers", "to": [],
              "unsubscribe": ["mailto:leave@lists.example.org",
                              "https://news.example.org/u/{token}"],
              **sections.pop("digest", {})}
    return config_for(tmp_path, backend, smtp={"port": port, "connections": 2},
                      digest=digest, **sections)


def _add(store, address: str, cats=(), status: str = "active") -> int:
    sub, _ = repo.add(store, address, cats, "ko", "command", "v1", T0, T0)
    if status == "unsubscribed":
        repo.unsubscribe(store, sub.id, T0, "link")
    return sub.id


def _urls_in(msg) -> set[str]:
    """The article links a reader got, from the HTML part as a mail client decodes it."""
    html = msg.get_body(("html",)).get_content()
    return set(re.findall(r"https://www\.brcn\.go\.kr/news/a\d{4}", html))


def _wanted(*cats: str) -> set[str]:
    return {a.url for a in ARTICLES if not cats or a.category in cats}


def test_each_reader_gets_only_their_departments_and_each_choice_is_rendered_once(
        tmp_path, backend):
    with smtp_server() as (server, port):
        config = _config(tmp_path, port, backend)
        store = store_with(tmp_path, ARTICLES, backend)
        _add(store, "a@example.org", ["세무과", "관광과"])
        _add(store, "b@example.org", ["관광과", "세무과"])        # the same choice as a
        _add(store, "c@example.org")                            # every department
        _add(store, "d@example.org", ["없는과"])                 # no news there: nothing
        _add(store, "e@example.org", ["세무과", "없는과"])        # only 세무과 had news
        _add(store, "f@example.org", ["세무과"], "unsubscribed")
        repo.request(store, "g@example.org", [], "ko", "form", "v1", T0)   # pending
        report = send_subscribers(config, store, WEEK, now=NOW)
        assert report.ok and sorted(report.sent) == ["a@example.org", "b@example.org",
                                                     "c@example.org", "e@example.org"]
        assert (report.editions, report.nothing_for, report.recipients) == (3, 1, 5)
        got = {r.rcpt[0]: r.message for r in server.received}
        assert _urls_in(got["a@example.org"]) == _wanted("세무과", "관광과")
        assert _urls_in(got["b@example.org"]) == _wanted("세무과", "관광과")
        assert _urls_in(got["c@example.org"]) == _wanted()
        assert _urls_in(got["e@example.org"]) == _wanted("세무과")
        text = got["e@example.org"].get_body(("plain",)).get_content()
        assert "== 세무과 3건 ==" in text and "관광과" not in text
        # a re-run sends nothing and renders nothing: everyone has the week
        again = send_subscribers(config, store, WEEK, now=NOW)
        assert (again.sent, again.already, again.editions) == ([], 4, 0)
        store.close()
    assert len(server.received) == 4


def test_personal_links_without_a_web_endpoint_come_from_digest_unsubscribe(tmp_path):
    with smtp_server() as (server, port):
        config = _config(tmp_path, port)
        store = store_with(tmp_path, ARTICLES)
        _add(store, "a@example.org", ["세무과"])
        _add(store, "b@example.org", ["세무과"])
        send_subscribers(config, store, WEEK, now=NOW)
        store.close()
    heads = {r.rcpt[0]: str(r.message["List-Unsubscribe"]) for r in server.received}
    assert heads["a@example.org"] != heads["b@example.org"]   # each their own token
    for r in server.received:
        # no endpoint ([web] url) takes a one-click POST: none is offered (issue 22)
        assert r.message["List-Unsubscribe-Post"] is None
        token = re.search(r"https://news\.example\.org/u/(\w+)", heads[r.rcpt[0]]).group(1)
        assert token in r.message.get_body(("plain",)).get_content()


def test_the_fast_build_with_personal_links_equals_the_email_package(tmp_path):
    """A subscriber's own List-Unsubscribe URLs and preferences link, substituted into the
    shared bytes, give exactly what the email package builds; '&' in a link is '&amp;' in
    the HTML and '&' in the text, after base64 and CRLF."""
    config = config_for(tmp_path, web={"url": "https://news.example.org/list/"})
    store = store_with(tmp_path, ARTICLES)
    digest = load_digest(config, store, WEEK)
    store.close()
    renderer = DigestRenderer(config)
    body = renderer.email(digest, preferences=True, reserve=60)
    factory = MessageFactory(config, digest, body, renderer.subject(digest), NOW)
    urls = ["https://news.example.org/list/unsubscribe/eyJ1Ijo3fQ.abc?x=1&y=2",
            "mailto:leave@lists.example.org"]
    prefs = "https://news.example.org/list/preferences/eyJ1Ijo3fQ.def?a=1&b=2"
    extra = {PREFERENCES_PLACEHOLDER: prefs}
    _mid, fast = factory.message("kim@example.org", "k:1", urls=urls, extra=extra)
    reference = message_bytes(build_message(config, digest, body, renderer.subject(digest),
                                            "kim@example.org", NOW, key="k:1", urls=urls,
                                            extra=extra))
    assert fast == reference
    from email import message_from_bytes
    from email.policy import default

    msg = message_from_bytes(fast, policy=default)
    html = msg.get_body(("html",)).get_content()
    text = msg.get_body(("plain",)).get_content()
    assert 'href="https://news.example.org/list/preferences/eyJ1Ijo3fQ.def?a=1&amp;b=2"' in html
    assert "eyJ1Ijo3fQ.abc?x=1&amp;y=2" in html
    assert f"수신 설정 변경: {prefs}" in text and urls[0] in text
    assert "invalid" not in html + text   # no placeholder left
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert str(msg["List-Unsubscribe"]).startswith(f"<{urls[0]}>")
    assert b"\r\n" in fast and b"\n" not in fast.replace(b"\r\n", b"")


def test_permanent_failures_count_as_bounces_once_a_week_and_a_quiet_delivery_resets(
        tmp_path, backend):
    """Refused at RCPT: counted at once. An accepted digest starts the count again only at the
    next send, once no report came back about it (tests/test_bounces_async.py)."""
    articles = korean_articles(21, W24, days=21)   # news in W24, W25 and W26
    refuse = {"gone@example.org", "flaky@example.org"}
    behaviour = Behaviour(on_rcpt=lambda a: "550 5.1.1 no such user" if a in refuse else None)
    weeks = [Week.parse(f"2024-W{n}", SEOUL) for n in (24, 25, 26)]
    with smtp_server(behaviour) as (server, port):
        config = _config(tmp_path, port, backend, bounces={"max_consecutive": 2})
        store = store_with(tmp_path, articles, backend)
        gone = _add(store, "gone@example.org")
        flaky = _add(store, "flaky@example.org")
        _add(store, "fine@example.org")
        first = send_subscribers(config, store, weeks[0], now=NOW)
        assert sorted(a for a, _ in first.failed) == ["flaky@example.org", "gone@example.org"]
        assert "gone@" not in repo.get(store, gone).last_bounce
        # a re-run of the same week fails again but counts once
        send_subscribers(config, store, weeks[0], now=NOW)
        assert repo.get(store, gone).bounces == 1
        refuse.discard("flaky@example.org")
        second = send_subscribers(config, store, weeks[1], now=NOW + timedelta(days=7))
        assert second.bounced == [gone]
        assert repo.get(store, gone).status == "bounced"
        assert repo.get(store, flaky).bounces == 1          # accepted: a report may come
        third = send_subscribers(config, store, weeks[2], now=NOW + timedelta(days=14))
        assert sorted(third.sent) == ["fine@example.org", "flaky@example.org"]
        assert repo.get(store, flaky).bounces == 0          # none came: the count starts again
        store.close()
    assert "gone@example.org" not in {r.rcpt[0] for r in server.received[-2:]}


def test_a_re_run_of_an_older_week_counts_its_refusal_once(tmp_path, backend):
    """Each (week, reader) failure counts once, also when an older week is sent again after a
    newer one was counted (``digest send --week`` to catch up): before, only the latest week
    was remembered, and the older week's refusal counted a second time."""
    articles = korean_articles(14, W24, days=14)
    behaviour = Behaviour(on_rcpt=lambda a: "550 5.1.1 no such user" if a.startswith("gone")
                          else None)
    weeks = [Week.parse(f"2024-W{n}", SEOUL) for n in (24, 25)]
    with smtp_server(behaviour) as (_server, port):
        config = _config(tmp_path, port, backend, bounces={"max_consecutive": 3})
        store = store_with(tmp_path, articles, backend)
        gone = _add(store, "gone@example.org")
        _add(store, "fine@example.org")
        for week, days in ((weeks[0], 0), (weeks[1], 7), (weeks[0], 8)):
            report = send_subscribers(config, store, week, now=NOW + timedelta(days=days))
            assert [a for a, _ in report.failed] == ["gone@example.org"]
        assert (repo.get(store, gone).bounces, repo.get(store, gone).status) == (2, "active")
        store.close()


def test_a_server_refusing_everyone_counts_no_bounce(tmp_path, backend):
    behaviour = Behaviour(on_rcpt=lambda a: "550 5.7.1 relaying denied")
    with smtp_server(behaviour) as (_server, port):
        config = _config(tmp_path, port, backend, bounces={"max_consecutive": 1})
        store = store_with(tmp_path, ARTICLES, backend)
        ids = [_add(store, f"r{i}@example.org") for i in range(3)]
        report = send_subscribers(config, store, WEEK, now=NOW)
        assert len(report.failed) == 3 and report.bounced == []
        assert any("no bounce counted" in w for w in report.warnings)
        assert [repo.get(store, i).status for i in ids] == ["active"] * 3
        store.close()


def _toml(port: int, extra: str = "", backend=None) -> str:
    store = "\n" + backend.store_lines() if backend is not None else ""
    return SITE_AND_SENDER_TOML + f"""\
audience = "subscribers"
unsubscribe = "mailto:leave@lists.example.org"

[smtp]
host = "127.0.0.1"
port = {port}
tls = "none"
retry_delay = 0.01
timeout = 5
connections = 1
{extra}{store}"""


def test_cli_send_names_no_address_and_exits_3_when_one_failed(tmp_path, backend):
    behaviour = Behaviour(on_rcpt=lambda a: "550 no such user" if a.startswith("x") else None)
    with smtp_server(behaviour) as (server, port):
        path = write_config_toml(tmp_path, _toml(port, backend=backend))
        store = store_with(tmp_path, ARTICLES, backend)
        for a in ("kim.chul@example.org", "xavier.lee@example.org"):
            _add(store, a, ["도서관"])
        _add(store, "park.nobody@example.org", ["없는과"])
        store.close()
        r = CliRunner().invoke(cli, ["--config", str(path), "digest", "send", "--week",
                                     "2024-W24"])
    assert r.exit_code == 3, r.output
    assert "1 sent, 0 already sent, 1 failed" in r.output
    assert "1 reader(s) with no news in their departments" in r.output
    for name in ("kim.chul", "xavier", "park.nobody"):
        assert name not in r.output
    assert len(server.received) == 1


def test_no_active_subscriber_sends_nothing_and_exits_0(tmp_path, backend):
    with smtp_server() as (server, port):
        path = write_config_toml(tmp_path, _toml(port, backend=backend))
        store_with(tmp_path, ARTICLES, backend).close()
        r = CliRunner().invoke(cli, ["--config", str(path), "digest", "send", "--week",
                                     "2024-W24"])
    assert r.exit_code == 0, r.output
    assert "0 sent" in r.output and server.received == []
    # ... and says why, so a CI run whose store was rebuilt without subscribers is not silent
    assert "no active subscriber, so nobody gets this digest" in r.stderr


def test_a_send_killed_half_way_resumes_with_each_subscriber_once(tmp_path, backend):
    readers = [f"sub{i}@example.org" for i in range(6)]
    proc_box: dict[str, subprocess.Popen] = {}
    seen: list[str] = []

    def hook(rcpt):
        seen.append(rcpt)
        if len(seen) == 4 and "proc" in proc_box:
            os.kill(proc_box["proc"].pid, signal.SIGKILL)

    with smtp_server(Behaviour(hook_rcpt=hook)) as (server, port):
        path = write_config_toml(tmp_path, _toml(port, backend=backend))
        store = store_with(tmp_path, ARTICLES, backend)
        for i, a in enumerate(readers):
            _add(store, a, [["세무과"], ["도서관"], []][i % 3])
        store.close()
        cmd = [sys.executable, "-m", "feedkit", "--config", str(path), "digest", "send",
               "--week", "2024-W24"]
        env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        proc_box["proc"] = proc
        proc.communicate(timeout=60)
        assert proc.returncode == -signal.SIGKILL
        assert len(server.received) == 3
        proc_box.clear()
        rerun = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=60)
        assert rerun.returncode == 0, rerun.stderr
    assert server.count_by_recipient() == dict.fromkeys(readers, 1)
    statuses = {r[0] for r in backend.rows("SELECT status FROM send_log")}
    rows = backend.rows("SELECT recipient FROM send_log")
    assert statuses == {"sent"} and len(rows) == 6
    assert all(r[0].startswith("hmac-sha256:") for r in rows)


def test_categories_shown_names_and_exclusions_apply_to_personal_digests(tmp_path, backend):
    """A reader may have chosen a department or the name [categories] shows it under; a
    department left out of the digest gives nobody a digest of nothing."""
    with smtp_server() as (server, port):
        config = _config(tmp_path, port, backend,
                         categories={"names": {"문화관광": ["관광과", "도서관"]},
                                     "exclude_from_digest": ["세무과"]})
        store = store_with(tmp_path, ARTICLES, backend)
        _add(store, "shown@example.org", ["문화관광"])
        _add(store, "raw@example.org", ["도서관"])
        _add(store, "excluded@example.org", ["세무과"])
        report = send_subscribers(config, store, WEEK, now=NOW)
        store.close()
    assert sorted(report.sent) == ["raw@example.org", "shown@example.org"]
    assert report.nothing_for == 1
    got = {r.rcpt[0]: r.message for r in server.received}
    assert _urls_in(got["shown@example.org"]) == _wanted("관광과", "도서관")
    assert _urls_in(got["raw@example.org"]) == _wanted("도서관")


def test_an_edition_that_cannot_render_stops_the_run_before_anyone_is_logged(tmp_path, backend):
    """Editions render in the background while the first ones are sent; one that cannot be
    made (here: the footer alone is over the size budget) stops the run with one line, and
    nobody is logged as sending a message that never existed."""
    with smtp_server() as (server, port):
        path = write_config_toml(tmp_path, _toml(port, backend=backend).replace(
            'audience = "subscribers"',
            'audience = "subscribers"\nmax_html_bytes = 10000\nreason = "' + "x" * 9000 + '"'))
        store = store_with(tmp_path, ARTICLES, backend)
        _add(store, "a@example.org", ["세무과"])
        store.close()
        r = CliRunner().invoke(cli, ["--config", str(path), "digest", "send", "--week",
                                     "2024-W24"])
    assert r.exit_code == 1, r.output
    assert "not even one article fits" in r.stderr and "Traceback" not in r.output
    assert server.received == []
    assert backend.rows("SELECT count(*) FROM send_log") == [(0,)]


def test_with_the_web_endpoint_each_reader_gets_their_own_signed_links(tmp_path, backend):
    """[web] url: List-Unsubscribe is the reader's own one-click https link (then the mailto of
    [digest] unsubscribe), and the footer carries it and the preferences link; each token
    reads back (feedkit.subscribers.tokens, the endpoint's own reader) as that subscriber."""
    from feedkit.subscribers.tokens import read_token

    secret = os.environ["FEEDKIT_SECRET"]
    with smtp_server() as (server, port):
        config = _config(tmp_path, port, backend, web={"url": "https://news.example.org/list/"})
        store = store_with(tmp_path, ARTICLES, backend)
        ids = {a: _add(store, a, ["세무과"]) for a in ("a@example.org", "b@example.org")}
        keys = {sid: repo.get(store, sid).link_key for sid in ids.values()}
        send_subscribers(config, store, WEEK, now=NOW)
        store.close()
    assert len(server.received) == 2
    for r in server.received:
        sid, msg = ids[r.rcpt[0]], r.message
        head = " ".join(str(msg["List-Unsubscribe"]).split())
        found = re.fullmatch(r"<https://news\.example\.org/list/unsubscribe/([\w.-]+)>, "
                             r"<mailto:leave@lists\.example\.org>", head)
        assert found, head
        assert read_token(secret, "unsubscribe", found.group(1), key=keys[sid]) == sid
        assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        html = msg.get_body(("html",)).get_content()
        text = msg.get_body(("plain",)).get_content()
        pref = re.search(r'href="https://news\.example\.org/list/preferences/([\w.-]+)"', html)
        assert read_token(secret, "preferences", pref.group(1), key=keys[sid]) == sid
        assert f"https://news.example.org/list/unsubscribe/{found.group(1)}" in html + text
        assert f"https://news.example.org/list/preferences/{pref.group(1)}" in text
        assert "수신 설정 변경" in html and "u/" not in head   # not the [digest] https template
