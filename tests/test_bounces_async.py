"""Bounces that come later: a relay that accepts every message at SMTP time and only afterwards
sends a delivery status notification (DSN) for a mailbox that is gone.

Everything is the real thing, week after week with ``--now``: ``feedkit digest send`` in
subscriber mode to aiosmtpd on 127.0.0.1 (which accepts everything, like a queueing relay),
then a DSN about the very message a reader's relay received (RFC 3464, the original attached,
as Postfix writes one) delivered to a real Dovecot mailbox (tests/test_subscribers_bounces.py
starts it; skipped without dovecot) and read by ``feedkit subscribers bounces``; on SQLite and
PostgreSQL.

The rule under test (README, "When the count starts again"): an accepted message is no proof of
delivery, so a counted failure is forgiven only by a later digest that was accepted and about
which no report came before the next send. Before, every accepted message set the count back
to 0, so with such a relay it went 1, 0, 1, 0 ... and a dead address was mailed forever.
"""

from __future__ import annotations

import pytest
from _digest_support import Behaviour, smtp_server
from test_subscribers_bounces import (  # noqa: F401  (dovecot, bounce_env: fixtures)
    _deliver,
    _sent_site,
    bounce_env,
    dovecot,
    dsn,
)

# News in 2026-W44, W45, W47 and W48; W46 was quiet (no digest that week). Each week is sent
# the Monday after it, at 09:00 Seoul time.
NEWS_WEEKS = (44, 45, 47, 48)
SEND_AT = {44: "2026-11-02 09:00", 45: "2026-11-09 09:00", 46: "2026-11-16 09:00",
           47: "2026-11-23 09:00", 48: "2026-11-30 09:00"}
GONE = "gone@example.org"        # a mailbox that no longer exists: every digest bounces
ONCE = "once@example.org"        # bounced once (a full mailbox, a glitch), then fine
KIM = "kim@example.org"          # always fine


@pytest.fixture
def imap(dovecot, bounce_env):  # noqa: F811  (the fixtures imported above)
    """The bounce mailbox's IMAP port, its password and the send log's key set."""
    return dovecot


def _site(site, backend, smtp_port: int, imap_port: int, limit: int, readers) -> None:
    """Subscriber mode, news in :data:`NEWS_WEEKS`, ``readers``, max_consecutive ``limit``."""
    _sent_site(site, backend, smtp_port, imap_port, weeks=NEWS_WEEKS, readers=readers,
               limit=limit)


def _send(site, smtp, n: int, *, ok: bool = True) -> dict[str, bytes]:
    """``digest send`` of 2026-W``n`` as the Monday run does it; each reader's message as the
    relay received it."""
    before = len(smtp.received)
    r = site.run("digest", "send", "--week", f"2026-W{n}", "--now", SEND_AT[n], ok=ok)
    assert "@" not in r.output   # the summary names nobody
    return {m.rcpt[0]: m.data for m in smtp.received[before:]}


def _bounce(site, dovecot_port: int, *copies: tuple[str, bytes]) -> str:
    """The relay's reports about ``copies`` ((reader, the digest they were sent) as the
    relay received it) arrive; the hourly ``subscribers bounces`` reads them."""
    _deliver(dovecot_port, *(dsn(address, original=data) for address, data in copies))
    return site.run("subscribers", "bounces").output


def _copy(week: dict[str, bytes], address: str) -> tuple[str, bytes]:
    return address, week[address]


def _state(site, address: str) -> tuple[int, str]:
    return site.rows("SELECT bounces, status FROM subscribers WHERE address = ?", address)[0]


def test_a_relay_that_reports_later_still_stops_a_dead_address(site, imap, backend):
    """The bug: the DSN of week W was counted, the accepted send of W+1 reset the count before
    W+1's DSN came; the count never reached the limit. Now: bounced after ``max_consecutive``
    digests (a quiet week in between neither counts nor forgives), not mailed after."""
    with smtp_server() as (smtp, smtp_port):
        _site(site, backend, smtp_port, imap, 3, (GONE, KIM))
        seen = []   # (count after the send, count after that week's report)
        for n in (44, 45, 46, 47):
            got = _send(site, smtp, n)
            after_send = _state(site, GONE)[0]
            if n == 46:
                # No news: no digest, nothing reported, nothing forgiven. (A rule on calendar
                # weeks, "forgive unless the last failure is of the week before", would forgive
                # at W47's send, on nothing but W47's own acceptance.)
                assert got == {}
                seen.append((after_send, _state(site, GONE)[0]))
                continue
            assert sorted(got) == [GONE, KIM]
            out = _bounce(site, imap, _copy(got, GONE))
            assert "1 hard bounce(s) counted" in out and "@" not in out
            seen.append((after_send, _state(site, GONE)[0]))
        # Before: [(0, 1), (0, 1), (1, 1), (0, 1)]: each accepted send reset the count.
        assert seen == [(0, 1), (1, 2), (2, 2), (2, 3)]
        assert "1 marked bounced" in out
        # A re-run of the last send changes nothing: no second count, nothing forgiven.
        assert _send(site, smtp, 47) == {}
        assert _state(site, GONE) == (3, "bounced")
        last = _send(site, smtp, 48)
    assert sorted(last) == [KIM]          # the dead address is not mailed any more
    assert _state(site, KIM) == (0, "active")


def test_a_failure_is_forgiven_once_a_later_digest_was_accepted_and_nothing_came_back(
        site, imap, backend):
    """A reader who bounced once, then two accepted digests with no report: the count starts
    again (at the send after the first quiet digest; a quiet calendar week is no digest)."""
    with smtp_server() as (smtp, smtp_port):
        _site(site, backend, smtp_port, imap, 2, (ONCE, KIM))
        w44 = _send(site, smtp, 44)
        _bounce(site, imap, _copy(w44, ONCE))
        assert _state(site, ONCE) == (1, "active")
        assert sorted(_send(site, smtp, 45)) == [KIM, ONCE]
        # Accepted, but a report about W45 may still come: not forgiven yet.
        assert _state(site, ONCE) == (1, "active")
        assert _send(site, smtp, 46) == {}
        assert _state(site, ONCE) == (1, "active")
        # W47 is sent: W45 was accepted and nothing came back about it in the weeks since.
        w47 = _send(site, smtp, 47)
        assert _state(site, ONCE) == (0, "active")
        assert _send(site, smtp, 47) == {}   # a re-run: nothing forgiven or counted twice
        # The count really started again: one more failure is one, not the second in a row.
        # (the W44 report comes once more, too)
        out = _bounce(site, imap, _copy(w47, ONCE), _copy(w44, ONCE))
        assert "1 hard bounce(s) counted" in out and "1 already counted" in out
        assert _state(site, ONCE) == (1, "active")
        assert sorted(_send(site, smtp, 48)) == [KIM, ONCE]


@pytest.fixture
def relay():
    """aiosmtpd that refuses the addresses in ``refused`` at RCPT TO (a synchronous 550) and
    accepts everything else."""
    refused: set[str] = set()
    behaviour = Behaviour(on_rcpt=lambda a: "550 5.1.1 <x>: user unknown"
                          if a in refused else None)
    with smtp_server(behaviour) as (smtp, port):
        yield smtp, port, refused


def test_refusals_at_send_time_and_later_reports_count_in_one_row(site, imap, backend,
                                                                relay):
    """Synchronous failures still count at once; one followed by an accepted digest whose
    report comes later is the second in a row (the relay began to queue: it used to be reset
    to 0 by the acceptance); one followed by quiet accepted digests starts again one send
    later than it used to."""
    moved, late = "moved@example.org", "late@example.org"
    smtp, smtp_port, refused = relay
    _site(site, backend, smtp_port, imap, 2, (moved, late, KIM))
    refused.update({moved, late})
    w44 = _send(site, smtp, 44, ok=False)     # exit 3: two refused, kim has it
    assert sorted(w44) == [KIM]
    assert _state(site, moved) == _state(site, late) == (1, "active")
    assert _send(site, smtp, 44, ok=False) == {}   # a re-run: refused again, counted once
    assert _state(site, moved) == _state(site, late) == (1, "active")

    refused.clear()    # the relay now queues everything and reports later
    w45 = _send(site, smtp, 45)
    assert sorted(w45) == [KIM, late, moved]
    assert _state(site, moved) == _state(site, late) == (1, "active")
    assert "1 marked bounced" in _bounce(site, imap, _copy(w45, moved))
    assert _state(site, moved) == (2, "bounced")

    w47 = _send(site, smtp, 47)
    assert sorted(w47) == [KIM, late]          # moved is not mailed any more
    assert _state(site, late) == (0, "active")  # W45 accepted, nothing came back
