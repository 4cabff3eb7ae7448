"""Bounces: DSNs (RFC 3464) parsed by the stdlib email package, and ``feedkit subscribers
bounces`` against a real Dovecot IMAP server started here on a loopback port (throwaway config
in a temporary folder, passwd-file login; skipped cleanly without dovecot)."""

from __future__ import annotations

import grp
import imaplib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from tools import executable

from feedkit.store.articles import Store
from feedkit.subscribers import repo
from feedkit.subscribers.bounces import KEYWORD, parse_dsn

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
PASSWORD = "bounce-mailbox-pw"


def dsn(recipient: str, *, action: str = "failed", status: str = "5.1.1",
        week: str = "2026-W44", headers_only: bool = False) -> bytes:
    """A DSN as Postfix writes one (three parts: human text, delivery-status, original)."""
    original = (f"From: news@example.org\r\nTo: {recipient}\r\n"
                f"Message-ID: <digest.{week}.0123456789abcdef01234567@example.org>\r\n"
                "Subject: =?utf-8?b?67O066C57IucIOyjvOqwhCDshozsi50=?=\r\n")
    last = (("Content-Type: text/rfc822-headers\r\n\r\n" + original) if headers_only else
            ("Content-Type: message/rfc822\r\n\r\n" + original + "\r\nbody\r\n"))
    return ("From: MAILER-DAEMON@relay.example.org (Mail Delivery System)\r\n"
            "To: bounces@example.org\r\n"
            "Subject: Undelivered Mail Returned to Sender\r\n"
            "MIME-Version: 1.0\r\n"
            "Content-Type: multipart/report; report-type=delivery-status;\r\n"
            ' boundary="BOUND"\r\n\r\n'
            "--BOUND\r\nContent-Type: text/plain\r\n\r\nI'm sorry to have to inform you...\r\n"
            "--BOUND\r\nContent-Type: message/delivery-status\r\n\r\n"
            "Reporting-MTA: dns; relay.example.org\r\n"
            "Arrival-Date: Mon, 2 Nov 2026 08:00:01 +0900\r\n\r\n"
            f"Final-Recipient: rfc822; {recipient}\r\n"
            f"Original-Recipient: rfc822;{recipient}\r\n"
            f"Action: {action}\r\n"
            f"Status: {status}\r\n"
            f"Diagnostic-Code: smtp; {status[0]}50 {status} <{recipient}>: Recipient address\r\n"
            "    rejected: User unknown\r\n\r\n"
            f"--BOUND\r\n{last}\r\n--BOUND--\r\n").encode()


def test_a_hard_bounce_is_parsed_with_its_recipient_status_and_week() -> None:
    [n] = parse_dsn(dsn("kim@example.org"))
    assert (n.recipient, n.action, n.status, n.week, n.hard) == \
        ("kim@example.org", "failed", "5.1.1", "2026-W44", True)
    assert "User unknown" in n.diagnostic
    [soft] = parse_dsn(dsn("kim@example.org", action="delayed", status="4.4.1",
                           headers_only=True))
    assert (soft.hard, soft.week) == (False, "2026-W44")
    assert parse_dsn(b"From: a@b.org\r\nSubject: out of office\r\n\r\nback Monday\r\n") == []


# -- a real Dovecot ------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def dovecot():
    """Dovecot on 127.0.0.1:PORT with one user ``bounces``. As root its login processes must
    run as another user (nobody) and mail may not belong to uid 0; as anyone else everything
    runs as the current user, without the chroots only root may make."""
    binary = executable("dovecot", "dovecot-imapd")
    root = Path(tempfile.mkdtemp(prefix="feedkit-dovecot-"))
    os.chmod(root, 0o755)
    uid, gid = os.getuid(), os.getgid()
    me = pwd.getpwuid(uid).pw_name
    if uid == 0:
        nobody = pwd.getpwnam("nobody")
        login_user, mail_uid, mail_gid = "nobody", nobody.pw_uid, nobody.pw_gid
    else:
        login_user, mail_uid, mail_gid = me, uid, gid
    for sub in ("run", "state", "mail", "home"):
        (root / sub).mkdir()
    if uid == 0:
        for sub in ("mail", "home"):
            os.chown(root / sub, mail_uid, mail_gid)
    (root / "passwd").write_text(f"bounces:{{PLAIN}}{PASSWORD}::::::\n")
    port = _free_port()
    conf = root / "dovecot.conf"
    conf.write_text(f"""
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
default_internal_user = {me}
default_internal_group = {grp.getgrgid(gid).gr_name}
default_login_user = {login_user}
mail_location = maildir:{root}/mail/%u
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = static
  args = uid={mail_uid} gid={mail_gid} home={root}/home/%u
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
service pop3-login {{
  inet_listener pop3 {{
    port = 0
  }}
}}
service submission-login {{
  inet_listener submission {{
    port = 0
  }}
}}
""")
    proc = subprocess.Popen([binary, "-F", "-c", str(conf)], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                conn = imaplib.IMAP4("127.0.0.1", port, timeout=5)
                conn.login("bounces", PASSWORD)
                conn.logout()
                break
            except (OSError, imaplib.IMAP4.error):
                if proc.poll() is not None or time.monotonic() > deadline:
                    log = (root / "dovecot.log").read_text(errors="replace") \
                        if (root / "dovecot.log").exists() else ""
                    pytest.fail(f"dovecot did not start: {log[-2000:]}")
                time.sleep(0.2)
        yield port
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(root, ignore_errors=True)


def _deliver(port: int, *messages: bytes) -> None:
    conn = imaplib.IMAP4("127.0.0.1", port, timeout=10)
    conn.login("bounces", PASSWORD)
    for m in messages:
        assert conn.append("INBOX", None, None, m)[0] == "OK"
    conn.logout()


def _flags(port: int, folder: str = "INBOX") -> list[str]:
    conn = imaplib.IMAP4("127.0.0.1", port, timeout=10)
    conn.login("bounces", PASSWORD)
    conn.select(folder)
    _typ, data = conn.fetch("1:*", "(FLAGS)")
    conn.logout()
    return [d.decode() for d in data if d]


def _bounce_site(site, port: int, extra: str = "") -> None:
    site.config.write_text(site.config.read_text(encoding="utf-8") + f"""
[bounces]
host = "127.0.0.1"
port = {port}
tls = "none"
user = "bounces"
max_consecutive = 2
{extra}
""", encoding="utf-8")


@pytest.fixture
def bounce_env(monkeypatch):
    monkeypatch.setenv("FEEDKIT_BOUNCES_PASSWORD", PASSWORD)


def test_bounces_from_dovecot_count_once_and_mark_a_reader_bounced(site, dovecot, bounce_env,
                                                                   backend):
    site.use(backend)
    _bounce_site(site, dovecot)
    with site.store() as store:
        for a in ("kim@example.org", "lee@example.org"):
            repo.add(store, a, [], "ko", "command", "v1", T0, T0)
    _deliver(dovecot,
             dsn("kim@example.org", week="2026-W44"),
             dsn("lee@example.org", action="delayed", status="4.2.2"),
             dsn("stranger@example.org"),
             b"From: kim@example.org\r\nSubject: Re: digest\r\n\r\nthanks!\r\n")
    r = site.run("subscribers", "bounces")
    assert ("4 new message(s): 1 hard bounce(s) counted, 1 soft (not counted), 1 for addresses "
            "not on the list, 1 not a delivery report") in r.output
    assert "kim@" not in r.output and "stranger" not in r.output
    assert all(KEYWORD in f for f in _flags(dovecot))
    # a re-run finds nothing new: nothing counted twice
    r = site.run("subscribers", "bounces")
    assert "0 new message(s)" in r.output
    with site.store() as store:
        kim = repo.find(store, "kim@example.org")
        lee = repo.find(store, "lee@example.org")
    assert (kim.bounces, kim.status, lee.bounces) == (1, "active", 0)
    assert "User unknown" in kim.last_bounce and "kim@" not in kim.last_bounce
    # the next week's digest bounces too: the second in a row, max_consecutive = 2
    _deliver(dovecot, dsn("kim@example.org", week="2026-W45"))
    r = site.run("subscribers", "bounces")
    assert "1 marked bounced" in r.output
    with site.store() as store:
        assert repo.find(store, "kim@example.org").status == "bounced"
        assert [s.address for s in repo.active(store)] == ["lee@example.org"]


def test_processed_reports_can_move_to_a_folder(site, dovecot, bounce_env):
    _bounce_site(site, dovecot, 'processed_folder = "Processed"')
    with Store(site.db) as store:
        repo.add(store, "kim@example.org", [], "ko", "command", "v1", T0, T0)
    _deliver(dovecot, dsn("kim@example.org"), b"Subject: hello\r\n\r\nnot a report\r\n")
    site.run("subscribers", "bounces")
    assert len(_flags(dovecot)) == 1               # the non-report stays, flagged
    assert len(_flags(dovecot, "Processed")) == 1  # the report moved
    assert "0 new message(s)" in site.run("subscribers", "bounces").output


def test_a_wrong_password_or_missing_settings_are_one_line_errors(site, dovecot, monkeypatch):
    _bounce_site(site, dovecot)
    monkeypatch.setenv("FEEDKIT_BOUNCES_PASSWORD", "wrong")
    r = site.run("subscribers", "bounces", ok=False)
    assert r.exit_code == 1 and "login as 'bounces' refused" in r.stderr
    assert "Traceback" not in r.output
    monkeypatch.delenv("FEEDKIT_BOUNCES_PASSWORD")
    r = site.run("subscribers", "bounces", ok=False)
    assert r.exit_code == 2 and "$FEEDKIT_BOUNCES_PASSWORD" in r.stderr
