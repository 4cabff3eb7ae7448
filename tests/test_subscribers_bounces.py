"""Bounces: DSNs (RFC 3464) parsed by the stdlib email package, and ``feedkit subscribers
bounces`` against a real Dovecot IMAP server started here on a loopback port (throwaway config
in a temporary folder, passwd-file login; skipped cleanly without dovecot).

A report counts only when it proves to be about a digest this store sent to that reader (the
send log's Message-ID for the reader's key), once: the digests here are really sent (aiosmtpd)
and the genuine reports are made from the messages the server received, as a relay would."""

from __future__ import annotations

import grp
import imaplib
import json
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from datetime import UTC, date, datetime
from datetime import time as dt_time
from pathlib import Path

import pytest
from _digest_support import SEOUL, korean_articles, smtp_server
from tools import executable

from feedkit.privacy import recipient_key
from feedkit.store.articles import Store
from feedkit.subscribers import repo
from feedkit.subscribers.bounces import parse_dsn
from feedkit.subscribers.mailbox import KEYWORD

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
PASSWORD = "bounce-mailbox-pw"
SECRET = "bounce-test-send-log-secret-0123"
MADE_UP = "<digest.2026-W44.0123456789abcdef01234567@example.org>"


def dsn(recipient: str | list[str], *, action: str = "failed", status: str = "5.1.1",
        message_id: str | None = MADE_UP, headers_only: bool = False,
        original: bytes | None = None, report_id: str = "") -> bytes:
    """A DSN as Postfix writes one (three parts: human text, delivery-status, original): one
    block per recipient; ``original`` the returned message's bytes (a genuine report), else
    headers with ``message_id``; ``message_id=None`` leaves the original out altogether."""
    recipients = [recipient] if isinstance(recipient, str) else recipient
    returned = original is not None or message_id is not None
    if original is None:
        original = (f"From: news@example.org\r\nTo: {recipients[0]}\r\n"
                    f"Message-ID: {message_id}\r\n"
                    "Subject: =?utf-8?b?67O066C57IucIOyjvOqwhCDshozsi50=?=\r\n\r\nbody\r\n"
                    ).encode()
    if headers_only:
        original = original.split(b"\r\n\r\n", 1)[0] + b"\r\n"
        last = b"Content-Type: text/rfc822-headers\r\n\r\n" + original
    else:
        last = b"Content-Type: message/rfc822\r\n\r\n" + original
    blocks = "".join(
        f"Final-Recipient: rfc822; {r}\r\n"
        f"Original-Recipient: rfc822;{r}\r\n"
        f"Action: {action}\r\n"
        f"Status: {status}\r\n"
        f"Diagnostic-Code: smtp; {status[0]}50 {status} <{r}>: Recipient address\r\n"
        "    rejected: User unknown\r\n\r\n" for r in recipients)
    head = ("From: MAILER-DAEMON@relay.example.org (Mail Delivery System)\r\n"
            "To: bounces@example.org\r\n"
            + (f"Message-ID: {report_id}\r\n" if report_id else "")
            + "Subject: Undelivered Mail Returned to Sender\r\n"
            "MIME-Version: 1.0\r\n"
            "Content-Type: multipart/report; report-type=delivery-status;\r\n"
            ' boundary="BOUND"\r\n\r\n'
            "--BOUND\r\nContent-Type: text/plain\r\n\r\nI'm sorry to have to inform you...\r\n"
            "--BOUND\r\nContent-Type: message/delivery-status\r\n\r\n"
            "Reporting-MTA: dns; relay.example.org\r\n"
            "Arrival-Date: Mon, 2 Nov 2026 08:00:01 +0900\r\n\r\n" + blocks)
    parts = [head.encode(), b"--BOUND\r\n"]
    if returned:
        parts.append(last + b"\r\n")
    return b"".join(parts) + b"--BOUND--\r\n"


def test_a_hard_bounce_is_parsed_with_its_recipient_status_and_week() -> None:
    [n] = parse_dsn(dsn("kim@example.org"))
    assert (n.recipient, n.action, n.status, n.week, n.message_id, n.hard) == \
        ("kim@example.org", "failed", "5.1.1", "2026-W44", MADE_UP, True)
    assert "User unknown" in n.diagnostic
    [soft] = parse_dsn(dsn("kim@example.org", action="delayed", status="4.4.1",
                           headers_only=True))
    assert (soft.hard, soft.week) == (False, "2026-W44")
    assert parse_dsn(b"From: a@b.org\r\nSubject: out of office\r\n\r\nback Monday\r\n") == []
    # No original message: the blocks are read, but nothing ties them to a digest.
    blocks = parse_dsn(dsn(["a@example.org", "b@example.org"], message_id=None))
    assert [(b.recipient, b.message_id, b.week) for b in blocks] == [
        ("a@example.org", "", ""), ("b@example.org", "", "")]


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
    yield from _dovecot()


@pytest.fixture
def dovecot_without_move():
    """The same Dovecot announcing no MOVE (RFC 6851) after login, as older servers: feedkit
    must then copy, flag \\Deleted and expunge."""
    yield from _dovecot("imap_capability = IMAP4rev1 LITERAL+ UIDPLUS IDLE NAMESPACE\n")


def _dovecot(extra: str = ""):
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
{extra}""")
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


def _bounce_site(site, port: int, extra: str = "", *, limit: int = 2) -> None:
    site.config.write_text(site.config.read_text(encoding="utf-8") + f"""
[bounces]
host = "127.0.0.1"
port = {port}
tls = "none"
user = "bounces"
max_consecutive = {limit}
{extra}
""", encoding="utf-8")


@pytest.fixture
def bounce_env(monkeypatch):
    monkeypatch.setenv("FEEDKIT_BOUNCES_PASSWORD", PASSWORD)
    monkeypatch.setenv("FEEDKIT_SECRET", SECRET)


READERS = ("kim@example.org", "lee@example.org", "park@example.org", "choi@example.org")


def _sent_site(site, backend, smtp_port: int, imap_port: int, *,
               weeks: tuple[int, ...] = (44, 45), readers: tuple[str, ...] = READERS,
               limit: int = 2) -> None:
    """A site in subscriber mode with articles in 2026-W44 and W45 (or ``weeks``) and four
    readers (or ``readers``); ``limit`` is [bounces] max_consecutive."""
    site.use(backend)
    data = site.root / "weeks.jsonl"
    articles = [a for n in weeks for a in korean_articles(
        8, datetime.combine(date.fromisocalendar(2026, n, 1), dt_time(), SEOUL),
        prefix=f"w{n}-")]
    data.write_text("".join(json.dumps(a.to_record(), ensure_ascii=False) + "\n"
                            for a in articles), "utf-8")
    site.config.write_text(site.config.read_text(encoding="utf-8") + f"""
[digest]
from = "보령시 소식 <news@example.org>"
audience = "subscribers"
unsubscribe = ["mailto:leave@lists.example.org"]

[smtp]
host = "127.0.0.1"
port = {smtp_port}
tls = "none"
retry_delay = 0.01
""", encoding="utf-8")
    _bounce_site(site, imap_port, limit=limit)
    site.run("import", str(data))
    for address in readers:
        site.run("subscribers", "add", address)


def _send(site, smtp, week: str, now: str) -> dict[str, bytes]:
    """Send ``week``'s digest; each reader's message as the server received it."""
    before = len(smtp.received)
    site.run("digest", "send", "--week", week, "--now", now)
    return {m.rcpt[0]: m.data for m in smtp.received[before:]}


def test_only_reports_about_a_sent_digest_count_and_each_once(site, dovecot, bounce_env,
                                                              backend):
    with smtp_server() as (smtp, smtp_port):
        _sent_site(site, backend, smtp_port, dovecot)
        w44 = _send(site, smtp, "2026-W44", "2026-11-02 09:00")
        w45 = _send(site, smtp, "2026-W45", "2026-11-09 09:00")
    assert set(w44) == set(w45) == set(READERS)
    kim = w44["kim@example.org"]
    kim_id = parse_dsn(dsn("kim@example.org", original=kim))[0].message_id
    assert kim_id.startswith("<digest.2026-W44.")
    genuine = dsn("kim@example.org", original=kim, report_id="<r1@relay.example.org>")
    _deliver(dovecot,
             genuine,
             # the same report again, and re-sent as a new message
             genuine,
             dsn("kim@example.org", original=kim, headers_only=True,
                 report_id="<r2@relay.example.org>"),
             # one report, no original message, three readers who were never bounced
             dsn(["lee@example.org", "park@example.org", "choi@example.org"], message_id=None),
             # a made-up Message-ID of the digest's form
             dsn("lee@example.org", message_id="<digest.2026-W44.x@example.org>"),
             dsn("lee@example.org", message_id=MADE_UP),
             # kim's genuine Message-ID, but naming other readers
             dsn(["park@example.org", "choi@example.org"], message_id=kim_id),
             # a genuine soft bounce, a stranger, and not a report at all
             dsn("park@example.org", action="delayed", status="4.2.2",
                 original=w44["park@example.org"]),
             dsn("stranger@example.org"),
             b"From: kim@example.org\r\nSubject: Re: digest\r\n\r\nthanks!\r\n")
    r = site.run("subscribers", "bounces")
    assert ("10 new message(s): 1 hard bounce(s) counted, 1 soft (not counted), 0 for addresses "
            "not on the list, 8 ignored (not about a digest this store sent to that reader), "
            "2 already counted, 1 not a delivery report") in r.output
    for address in (*READERS, "stranger"):
        assert address.split("@")[0] + "@" not in r.output
    assert all(KEYWORD in f for f in _flags(dovecot))
    assert site.rows("SELECT bounces, status FROM subscribers ORDER BY id") == [
        (1, "active"), (0, "active"), (0, "active"), (0, "active")]
    assert "kim@" not in site.scalar("SELECT last_bounce FROM subscribers WHERE id = 1")
    assert "User unknown" in site.scalar("SELECT last_bounce FROM subscribers WHERE id = 1")
    # a re-run finds nothing new: nothing counted twice
    assert "0 new message(s)" in site.run("subscribers", "bounces").output

    # The next week's digest to kim bounces too: the second in a row, max_consecutive = 2.
    _deliver(dovecot, dsn("kim@example.org", original=w45["kim@example.org"]))
    assert "1 marked bounced" in site.run("subscribers", "bounces").output
    with site.store() as store:
        assert repo.find(store, "kim@example.org").status == "bounced"
        assert [s.address for s in repo.active(store)] == list(READERS[1:])
        # A delivered digest starts lee's count again (W45 was accepted and, at the next
        # send, nothing had come back about it); the W44 report replayed later is still not
        # counted again (it was counted once, when it came).
        lee_report = dsn("lee@example.org", original=w44["lee@example.org"])
    _deliver(dovecot, lee_report)
    site.run("subscribers", "bounces")
    with site.store() as store:
        lee = repo.find(store, "lee@example.org")
        assert lee.bounces == 1
        assert repo.forgive_bounces(store, {lee.id: recipient_key(lee.address)}, "2026-W46",
                                    T0) == 1
    _deliver(dovecot, lee_report, lee_report)
    r = site.run("subscribers", "bounces")
    assert "0 hard bounce(s) counted" in r.output and "2 already counted" in r.output
    assert site.scalar("SELECT bounces FROM subscribers WHERE address = ?",
                       "lee@example.org") == 0
    assert site.scalar("SELECT count(*) FROM bounce_reports") == 3
    assert site.rows("SELECT recipient FROM bounce_reports WHERE recipient LIKE '%@%'") == []


def test_without_the_send_log_key_reports_are_not_read(site, dovecot, bounce_env,
                                                       monkeypatch):
    _bounce_site(site, dovecot)
    _deliver(dovecot, dsn("kim@example.org"))
    monkeypatch.delenv("FEEDKIT_SECRET")
    r = site.run("subscribers", "bounces", ok=False)
    assert r.exit_code == 2 and "$FEEDKIT_SECRET" in r.stderr
    assert all(KEYWORD not in f for f in _flags(dovecot))


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
    monkeypatch.setenv("FEEDKIT_SECRET", SECRET)
    monkeypatch.setenv("FEEDKIT_BOUNCES_PASSWORD", "wrong")
    r = site.run("subscribers", "bounces", ok=False)
    assert r.exit_code == 1 and "login as 'bounces' refused" in r.stderr
    assert "Traceback" not in r.output
    monkeypatch.delenv("FEEDKIT_BOUNCES_PASSWORD")
    r = site.run("subscribers", "bounces", ok=False)
    assert r.exit_code == 2 and "$FEEDKIT_BOUNCES_PASSWORD" in r.stderr


def test_apply_notices_counts_each_kind_in_one_report_and_goes_on_after_each(tmp_path):
    """One report can name many readers: every block is counted by its own kind, and none stops
    the blocks after it. The library function, on a store whose send log says which digest
    went to whom (as a send writes it)."""
    from feedkit.subscribers.bounces import BounceReport, Notice, apply_notices

    secret = b"s" * 32
    when = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    with Store(tmp_path / "articles.db") as store:
        ids = {}
        for address in ("kim@example.org", "lee@example.org", "park@example.org"):
            ids[address] = repo.add(store, address, (), "ko", "command", "1", when, when)[0].id
        for week in ("2026-W44", "2026-W45"):
            for address in ("kim@example.org", "lee@example.org", "park@example.org",
                            "gone1@example.org", "gone2@example.org"):
                store.record_send(week, recipient_key(address, secret),
                                  f"<digest.{week}.{address[:4]}@example.org>", "sent")

        def block(address: str, week: str = "2026-W44", action: str = "failed",
                  status: str = "5.1.1", message_id: str | None = None) -> Notice:
            mid = f"<digest.{week}.{address[:4]}@example.org>" if message_id is None \
                else message_id
            return Notice(recipient=address, action=action, status=status,
                          diagnostic=f"smtp; 550 {status} <{address}>: User unknown",
                          week=week, message_id=mid)

        notices = [block("kim@example.org", action="delayed", status="4.2.2"),   # soft
                   block("lee@example.org", status="4.4.1"),                    # soft
                   block("park@example.org", action="delivered", status="2.0.0"),   # neither
                   block("park@example.org", message_id=""),                    # not proven
                   block("kim@example.org"),                                    # hard
                   block("kim@example.org"),                                    # again
                   block("gone1@example.org"),                                  # not on the list
                   block("gone2@example.org"),                                  # not on the list
                   block("lee@example.org"),                                    # hard
                   block("kim@example.org", week="2026-W45")]                   # hard, bounced
        report = BounceReport(messages=1)
        apply_notices(store, notices, report, limit=1, now=when, secret=secret)
    assert (report.soft, report.ignored, report.hard, report.repeated, report.unknown) == \
        (2, 1, 3, 1, 2)
    # Marked bounced now: each reader once, when they became bounced (limit 1), in that order.
    assert report.bounced == [ids["kim@example.org"], ids["lee@example.org"]]
    assert report.summary() == (
        "1 new message(s): 3 hard bounce(s) counted, 2 soft (not counted), 2 for addresses not "
        "on the list, 1 ignored (not about a digest this store sent to that reader), 1 already "
        "counted, 0 not a delivery report, 2 marked bounced")
    assert BounceReport().summary().endswith(", 0 not a delivery report")
    reasons = [r[0] for r in _sqlite(tmp_path / "articles.db",
                                     "SELECT last_bounce FROM subscribers ORDER BY id")]
    assert reasons[:2] == ["5.1.1 smtp; 550 5.1.1 <recipient>: User unknown"] * 2
    assert reasons[2] == ""   # park: nothing counted


def _sqlite(db, sql: str) -> list[tuple]:
    import sqlite3

    with sqlite3.connect(db) as conn:
        return conn.execute(sql).fetchall()


def _report(blocks: str, original: bytes, kind: str = "message/rfc822") -> bytes:
    """A DSN with the given per-recipient blocks and returned message (``kind`` its part)."""
    return ("From: MAILER-DAEMON@relay.example.org\r\nTo: bounces@example.org\r\n"
            "MIME-Version: 1.0\r\nContent-Type: multipart/report; "
            'report-type=delivery-status; boundary="B"\r\n\r\n'
            "--B\r\nContent-Type: text/plain\r\n\r\nDelivery failed.\r\n"
            "--B\r\nContent-Type: message/delivery-status\r\n\r\n"
            "Reporting-MTA: dns; relay.example.org\r\n\r\n" + blocks
            + f"--B\r\nContent-Type: {kind}\r\n\r\n").encode() + original + b"\r\n--B--\r\n"


def test_each_recipient_block_is_read_on_its_own_terms():
    """A block without an Action is skipped and the next still read; an address with or
    without its type and angle brackets; missing Status, Diagnostic-Code or Original-Recipient
    are empty, never "None"; the returned message may be message/global (RFC 6533)."""
    from feedkit.subscribers.bounces import Notice

    mid = "<digest.2026-W44.0123456789abcdef01234567@example.org>"
    blocks = ("Final-Recipient: rfc822; <kim@example.org>\r\n"
              "Original-Recipient: rfc822;Kim@Example.org\r\n"
              "Action: FAILED\r\nStatus: 5.1.1 (bad mailbox)\r\n"
              "Diagnostic-Code: smtp; 550 5.1.1 User\r\n    unknown\r\n\r\n"
              "Final-Recipient: rfc822; park@example.org\r\nStatus: 5.0.0\r\n\r\n"
              "Final-Recipient: lee@example.org\r\nAction: delayed\r\n\r\n")
    original = f"From: news@example.org\r\nMessage-ID: {mid}\r\n\r\nbody\r\n".encode()
    expected = [Notice("kim@example.org", "failed", "5.1.1", "smtp; 550 5.1.1 User unknown",
                       "2026-W44", mid, "Kim@Example.org"),
                Notice("lee@example.org", "delayed", "", "", "2026-W44", mid, "")]
    assert parse_dsn(_report(blocks, original)) == expected
    assert parse_dsn(_report(blocks, original, "message/global")) == expected
    assert parse_dsn(_report(blocks, original.split(b"\r\n\r\n")[0] + b"\r\n\r\n",
                             "message/global-headers")) == expected


def test_a_returned_message_without_a_message_id_or_empty_proves_nothing():
    blocks = "Final-Recipient: rfc822; kim@example.org\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n"
    for original in (b"From: news@example.org\r\n\r\nbody\r\n", b""):
        [notice] = parse_dsn(_report(blocks, original))
        assert (notice.week, notice.message_id, notice.hard) == ("", "", True)


def test_without_move_processed_reports_are_copied_flagged_deleted_and_expunged(
        site, dovecot_without_move, bounce_env):
    port = dovecot_without_move
    _bounce_site(site, port, 'processed_folder = "Processed"')
    with Store(site.db) as store:
        repo.add(store, "kim@example.org", [], "ko", "command", "v1", T0, T0)
    _deliver(port, dsn("kim@example.org"), b"Subject: hello\r\n\r\nnot a report\r\n")
    assert "2 new message(s)" in site.run("subscribers", "bounces").output
    assert len(_flags(port)) == 1                         # the report left INBOX (expunged)
    [moved] = _flags(port, "Processed")
    assert KEYWORD in moved and "\\Deleted" not in moved   # the copy is flagged processed
    assert "0 new message(s)" in site.run("subscribers", "bounces").output


@pytest.mark.parametrize("move", [True, False])
def test_a_processed_folder_the_server_refuses_is_one_line_naming_the_command(
        site, dovecot, dovecot_without_move, bounce_env, move):
    """A processed_folder the server cannot create (a '/' in its name here): the move, or the
    copy, is refused; the run stops with one line saying which IMAP command failed. The report
    was read (its result stored) and flagged before the move, so the next run does not read it
    again."""
    port = dovecot if move else dovecot_without_move
    _bounce_site(site, port, 'processed_folder = "Processed/2026"')
    with Store(site.db) as store:
        repo.add(store, "kim@example.org", [], "ko", "command", "v1", T0, T0)
    _deliver(port, dsn("kim@example.org"))
    r = site.run("subscribers", "bounces", ok=False)
    assert r.exit_code == 1
    command = "MOVE" if move else "COPY"
    assert r.stderr.startswith(f"feedkit: error: IMAP {command} failed: [CANNOT] Invalid "
                               "mailbox name"), r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
    assert "0 new message(s)" in site.run("subscribers", "bounces").output
