"""List mode's unsubscribe mailbox (issue 22, item 2).

The ``mailto:`` unsubscribe address is a mailbox feedkit reads over IMAP: a real Dovecot on
loopback (the fixture of tests/test_subscribers_bounces.py), mail put there with IMAP APPEND as
a delivery would. A reader's request carries their unsubscribe token (the mailto: link's
subject); ``feedkit digest unsubscribes`` puts their keyed hash, never the address, on the
unsubscribe list; ``digest send`` skips them; the committed export holds only hashes. The
mailbox is hostile input: forged From lines, made-up tokens, auto-replies and delivery reports
that quote a token, and broken messages unsubscribe nobody.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import subprocess
from datetime import datetime
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
import test_subscribers_bounces
from _digest_support import SEOUL, korean_articles, smtp_server, store_with
from click.testing import CliRunner
from test_subscribers_bounces import PASSWORD, _deliver, _flags

from feedkit.cli import cli
from feedkit.mail.unsubscribes import requester, token_map
from feedkit.subscribers.mailbox import KEYWORD

W24 = datetime(2024, 6, 10, tzinfo=SEOUL)
TOKEN_SECRET = "unsubscribe-token-secret-0123456789"
SECRETS = {"FEEDKIT_SECRET": "send-log-secret-0123456789abcdef",
           "FEEDKIT_UNSUBSCRIBE_SECRET": TOKEN_SECRET,
           "FEEDKIT_UNSUBSCRIBES_PASSWORD": PASSWORD}
READERS = ["kim@example.com", "lee@example.org", "park@example.net"]
LINK = "mailto:leave@example.org?subject=unsubscribe%20{token}"
dovecot = test_subscribers_bounces.dovecot   # the throw-away Dovecot fixture of the bounce tests


def token(address: str) -> str:
    """The reader's token, computed here without feedkit (HMAC-SHA256, first 32 hex)."""
    return hmac.new(TOKEN_SECRET.encode(), address.lower().encode(),
                    hashlib.sha256).hexdigest()[:32]


def message(subject: str, body: str = "", *, sender: str = "someone@example.com",
            headers: dict[str, str] | None = None) -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = "leave@example.org"
    msg["Subject"] = subject
    for k, v in (headers or {}).items():
        msg[k] = v
    msg.set_content(body or "unsubscribe")
    return bytes(msg)


def request_from(received: bytes) -> bytes:
    """What a mail client's unsubscribe button sends for a digest: a message to the mailto:
    address of List-Unsubscribe, with that link's subject, from the reader."""
    from email import message_from_bytes
    from email.policy import default

    got = message_from_bytes(received, policy=default)
    url = re.search(r"<(mailto:[^>]+)>", str(got["List-Unsubscribe"]))[1]
    parts = urlsplit(url)
    subject = unquote(dict(p.split("=", 1) for p in parts.query.split("&"))["subject"])
    return message(subject, sender=str(got["To"]))


# -- what proves a request ------------------------------------------------------------------


@pytest.fixture
def tokens(monkeypatch):
    monkeypatch.setenv("FEEDKIT_UNSUBSCRIBE_SECRET", TOKEN_SECRET)
    return token_map(READERS)


def test_only_a_readers_own_token_proves_a_request(tokens) -> None:
    kim, lee = token("kim@example.com"), token("lee@example.org")
    assert requester(message(f"unsubscribe {kim}"), tokens) == ("kim@example.com", "request")
    # The From line is never what counts: the token is (a forwarded copy carries it too).
    assert requester(message(f"unsubscribe {kim}", sender="lee@example.org"), tokens)[0] == \
        "kim@example.com"
    # Pasted into the body by hand works; the subject wins when both have one.
    assert requester(message("please", f"remove me: {lee}"), tokens)[0] == "lee@example.org"
    # A forged request: the right From, no token, or a token nobody has.
    assert requester(message("unsubscribe", sender="kim@example.com"), tokens) == \
        (None, "unproven")
    assert requester(message("unsubscribe " + "0" * 32, sender="kim@example.com"), tokens) == \
        (None, "unproven")
    # Two readers' tokens in one message: not one request, nobody is unsubscribed.
    assert requester(message("unsubscribe", f"{kim}\n{lee}"), tokens) == (None, "unproven")
    # An auto-reply or a bounce quoting a digest (and so a token) is not a request.
    assert requester(message(f"Re: {kim}", headers={"Auto-Submitted": "auto-replied"}),
                     tokens) == (None, "automatic")
    report = (b"From: MAILER-DAEMON@example.org\r\nContent-Type: multipart/report; "
              b"report-type=delivery-status; boundary=B\r\n\r\n--B\r\nContent-Type: "
              b"text/plain\r\n\r\n" + kim.encode() + b"\r\n--B--\r\n")
    assert requester(report, tokens) == (None, "automatic")
    # Broken input is nothing, not a crash.
    for raw in (b"", b"\xff\xfe\x00garbage", b"Subject: =?x-unknown?q?" + kim.encode() +
                b"?=\r\nContent-Type: text/plain; charset=no-such\r\n\r\n\xff" + kim.encode()):
        reader, kind = requester(raw, tokens)
        assert kind in ("unproven", "request") and reader in (None, "kim@example.com")


# -- the command, against Dovecot ---------------------------------------------------------


def _site(folder: Path, dovecot_port: int, smtp_port: int, extra: str = "") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "config.toml"
    path.write_text(f"""
[site]
title = "보령시 새소식"
url = "https://www.brcn.go.kr/"
feed_url = "https://news.example.org/boryeong/"

[digest]
from = "보령시 소식 <news@example.org>"
to = {READERS!r}
unsubscribe = ["{LINK}"]

[smtp]
host = "127.0.0.1"
port = {smtp_port}
tls = "none"

[unsubscribes]
host = "127.0.0.1"
port = {dovecot_port}
tls = "none"
user = "bounces"
{extra}""".replace("'", '"'), encoding="utf-8")
    return path


def _run(config: Path, *args: str):
    return CliRunner().invoke(cli, ["--config", str(config), *args], env=SECRETS)


def test_a_reader_who_mails_the_address_is_never_sent_to_again(tmp_path, dovecot) -> None:
    with smtp_server() as (server, smtp_port):
        config = _site(tmp_path, dovecot, smtp_port, 'processed_folder = "Done"')
        store_with(tmp_path, korean_articles(3, W24)).close()
        first = _run(config, "digest", "send", "--week", "2024-W24")
        assert first.exit_code == 0 and "3 sent" in first.output, first.output
        kims = next(r.data for r in server.received if r.rcpt == ["kim@example.com"])
        _deliver(dovecot,
                 request_from(kims),                                         # kim's button
                 message("unsubscribe", sender="lee@example.org"),           # forged, no token
                 message("unsubscribe " + "a" * 32, sender="park@example.net"),  # made up
                 message(f"Out of office: {token('park@example.net')}",
                         headers={"Auto-Submitted": "auto-replied"}))
        read = _run(config, "digest", "unsubscribes")
        assert read.exit_code == 0, read.output
        assert ("4 new message(s): 1 reader(s) unsubscribed, 0 already unsubscribed, 2 without "
                "a valid unsubscribe token (left in the mailbox for a person), 1 automatic"
                ) in read.output
        assert "@" not in read.output
        # Every message is flagged read; only the honoured request moved out of the inbox.
        assert len(_flags(dovecot)) == 3 and all(KEYWORD in f for f in _flags(dovecot))
        assert len(_flags(dovecot, "Done")) == 1
        assert "0 new message(s)" in _run(config, "digest", "unsubscribes").output

        # The next send skips kim, and says so (the address only with -v).
        store_with(tmp_path, korean_articles(3, datetime(2024, 6, 17, tzinfo=SEOUL),
                                             prefix="b")).close()
        dry = _run(config, "-v", "digest", "send", "--week", "2024-W25", "--dry-run")
        assert "unsubscribed, not sent: kim@example.com (remove it from the list)" in dry.output
        server.received.clear()
        second = _run(config, "digest", "send", "--week", "2024-W25")
        assert second.exit_code == 0, second.output
        assert "2024-W25: 2 sent, 0 already sent, 0 failed, 0 deferred, 1 unsubscribed " \
               "(not sent)" in second.output
        assert sorted(r.rcpt[0] for r in server.received) == ["lee@example.org",
                                                               "park@example.net"]
        # What is kept as text: one keyed hash, no address.
        out = tmp_path / "unsubscribed.jsonl"
        assert _run(config, "export", "--out", str(tmp_path / "s.jsonl"), "--unsubscribed",
                    str(out)).exit_code == 0
        text = out.read_text(encoding="utf-8")
        assert text.count("hmac-sha256:") == 1 and "@" not in text and '"via": "mailto"' in text
        # Kim asks to come back: off the list, mailed again.
        back = _run(config, "digest", "unsubscribes", "--forget", "Kim@Example.com")
        assert "taken off the unsubscribe list" in back.output
        again = _run(config, "digest", "send", "--week", "2024-W25", "--dry-run")
        assert "would send to 1 of 3 recipient(s) (2 already sent)" in again.output


def test_the_mailbox_is_checked_and_its_errors_are_one_line(tmp_path, dovecot) -> None:
    config = _site(tmp_path, dovecot, 2525)
    _deliver(dovecot, message("hello"))
    lines = {ln[6:].split(":", 1)[0]: ln for ln in _run(config, "check").output.splitlines()}
    assert lines["unsubscribe mailbox"] == (
        f"ok    unsubscribe mailbox: IMAP 127.0.0.1:{dovecot}: login as 'bounces' and INBOX "
        "accepted; 1 new message(s) waiting")
    wrong = CliRunner().invoke(cli, ["--config", str(config), "digest", "unsubscribes"],
                               env={**SECRETS, "FEEDKIT_UNSUBSCRIBES_PASSWORD": "wrong"})
    assert wrong.exit_code == 1 and "login as 'bounces' refused" in wrong.stderr
    assert "Traceback" not in wrong.output
    # No mailto: link with {token}: no request could be proven, so it refuses to guess.
    config.write_text(config.read_text("utf-8").replace(LINK, "mailto:leave@example.org"),
                      encoding="utf-8")
    bare = _run(config, "digest", "unsubscribes")
    assert bare.exit_code == 2 and "no mailto: link with {token}" in bare.stderr
    assert _flags(dovecot) and not any(KEYWORD in f for f in _flags(dovecot))


# -- the scheduled workflow: what is committed ---------------------------------------------


@pytest.mark.slow
def test_the_workflow_reads_the_mailbox_skips_the_reader_and_commits_only_hashes(
        tmp_path: Path, dovecot) -> None:
    from test_site_workflow import FILE_SITE, RECIPIENTS, SECRET_LIST, git, new_site, run_workflow

    remote = tmp_path / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(remote)], check=True)
    secrets = {"FEEDKIT_SECRET": SECRETS["FEEDKIT_SECRET"], "FEEDKIT_RECIPIENTS": SECRET_LIST,
               "FEEDKIT_UNSUBSCRIBE_SECRET": TOKEN_SECRET,
               "FEEDKIT_UNSUBSCRIBES_PASSWORD": PASSWORD}
    with smtp_server() as (server, port):
        config = FILE_SITE.format(port=port).replace(
            'unsubscribe = "mailto:leave@example.org"', f'unsubscribe = "{LINK}"') + f"""
[unsubscribes]
host = "127.0.0.1"
port = {dovecot}
tls = "none"
user = "bounces"
"""
        new_site(tmp_path, remote, config)
        leaving = RECIPIENTS[1]                     # Lee.Reader@Example.org, any case
        for now in ("2025-01-06 09:17", "2025-01-13 09:17"):
            checkout = tmp_path / f"run-{now[8:10]}"
            git("clone", "-q", str(remote), str(checkout), cwd=tmp_path)
            steps = {s.name: s for s in run_workflow(checkout, secrets, now, tmp_path)}
            for s in steps.values():
                assert s.code == 0, f"{now} {s.name} exited {s.code}:\n{s.stdout}\n{s.stderr}"
            if now.startswith("2025-01-06"):
                # The reader presses their client's unsubscribe button on the first digest;
                # the city publishes another week's news.
                theirs = next(r.data for r in server.received
                              if r.rcpt[0].lower() == leaving.lower())
                _deliver(dovecot, request_from(theirs))
                news = checkout / "data" / "articles.jsonl"
                news.write_text(news.read_text("utf-8") + '{"title": "둘째 주 소식", "url": '
                                '"https://www.brcn.go.kr/news/2", "published": "2025-01-08 '
                                '10:00"}\n', encoding="utf-8")
                git("-c", "user.name=t", "-c", "user.email=t@example.org", "commit", "-qam",
                    "news", cwd=checkout)
                git("push", "-q", cwd=checkout)
        second = steps
    read = second["Read unsubscribe requests"]
    assert "1 new message(s): 1 reader(s) unsubscribed" in read.stdout, read.stdout + read.stderr
    assert ("2025-W02: 2 sent, 0 already sent, 0 failed, 0 deferred, 1 unsubscribed (not sent)"
            in second["Send the weekly digest once it is due"].stdout)
    week2 = [r.rcpt[0].lower() for r in server.received if "2025-W02" in
             r.message["Message-ID"]]
    assert sorted(week2) == sorted(a.lower() for a in RECIPIENTS if a != leaving)
    # Committed: the reader's keyed hash only; no address anywhere in the history.
    kept = git("show", "main:data/unsubscribed.jsonl", cwd=remote)
    assert kept.count("hmac-sha256:") == 1 and "@" not in kept
    everything = subprocess.run(["git", "cat-file", "--batch-all-objects", "--batch"],
                                cwd=remote, capture_output=True, check=True).stdout
    everything = everything.decode("utf-8", "replace").lower()
    assert "unsubscribed.jsonl" in everything
    for address in RECIPIENTS:
        assert address.lower() not in everything and address.split("@")[0].lower() not in \
            everything
