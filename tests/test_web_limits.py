"""Issue 22 item 8: the mail-bomb limits of ``feedkit web`` cannot be walked round.

The per-address limit keyed on the exact address, so ``victim+1@``, ``v.ictim@gmail.com`` and
full-width spellings each counted as new, and the per-client limit was per single IP (four
loopback addresses sent 80 confirmations to one inbox). Now: per mailbox (tags, Gmail dots, NFKC
folded, for the limit only), per client network (/24, /64), and overall per hour; requests never
confirmed are deleted once their link has expired, as the privacy notice says.

Everything through the real endpoint under waitress, mail to aiosmtpd; clients connect from
several loopback addresses (127.0.0.0/8 is all loopback) or, behind a trusted proxy, are named
by X-Forwarded-For (the IPv6 cases).
"""

from __future__ import annotations

import pytest
from _web_support import Client, endpoint, links_in, path_of
from test_web_parts import FakeClock

from feedkit.web.limits import SlidingWindow, client_network, mailbox_of

SPELLINGS = ("victim@gmail.com", "victim+1@gmail.com", "v.ictim@gmail.com",
             "V.I.C.T.I.M+news@googlemail.com", "Victim@GMAIL.com", "victim+2@ｇｍａｉｌ.ｃｏｍ",
             "ｖｉｃｔｉｍ@gmail.com", "ｖ.ｉｃｔｉｍ＋３@gmail.com")


def test_the_spellings_of_one_inbox_fold_to_one_mailbox_and_distinct_ones_do_not() -> None:
    assert {mailbox_of(s) for s in SPELLINGS} == {"victim@gmail.com"}
    # Dots matter outside Gmail; a tag is dropped everywhere; IDNA domains fold too.
    assert mailbox_of("v.ictim@example.org") != mailbox_of("victim@example.org")
    assert mailbox_of("kim+city@example.org") == mailbox_of("KIM@example.org")
    assert mailbox_of("kim@예시.한국") == mailbox_of("KIM+x@xn--vv4b11d.xn--3e0b707e")
    assert client_network("203.0.113.77") == "203.0.113.0/24"
    assert client_network("::ffff:203.0.113.9") == "203.0.113.0/24"
    assert client_network("2001:db8:1:2:aaaa::1") == "2001:db8:1:2::/64"


def test_one_inbox_in_many_spellings_gets_at_most_the_limit(tmp_path) -> None:
    with endpoint(tmp_path, address_limit=3, client_limit=0) as ep:
        answers = set()
        for spelling in SPELLINGS:
            reply = ep.client().subscribe(spelling)
            answers.add((reply.status, reply.header("Location")))
        assert answers == {(303, "/subscribe/sent?lang=ko")}   # the same answer every time
        mails = ep.mails(3)
        assert len(mails) == 3 and {m.rcpt[0] for m in mails} <= set(SPELLINGS)
        # A day later the mailbox may ask again; another mailbox was never held back.
        assert ep.client().subscribe("neighbour@gmail.com").status == 303
        assert len(ep.mails(4)) == 4
        ep.clock.advance(24 * 3600 + 1)
        ep.client().subscribe("victim+later@gmail.com")
        assert len(ep.mails(5)) == 5


def test_a_client_network_shares_one_limit_over_its_addresses(tmp_path) -> None:
    with endpoint(tmp_path, client_limit=4) as ep:
        posts = [Client(ep.port, source=f"127.0.0.{n}") for n in (1, 2, 3, 4)]
        for n, client in enumerate(posts):
            assert client.subscribe(f"reader{n}@example.org").status == 303
        for client in posts:   # the fifth post from 127.0.0.0/24, whatever the address
            over = client.subscribe("another@example.org")
            assert over.status == 429 and over.header("Retry-After") == "3600"
        assert len(ep.mails(4)) == 4
        # Another /24 has its own count.
        assert Client(ep.port, source="127.0.1.9").subscribe("b@example.org").status == 303


def test_ipv6_clients_count_per_64(tmp_path) -> None:
    def through_proxy(ip: str) -> Client:
        return Client(ep.port, headers={"X-Forwarded-For": ip, "X-Forwarded-Proto": "https",
                                        "X-Forwarded-Host": "news.example.org"})

    with endpoint(tmp_path, client_limit=2, proxy_hops=1) as ep:
        assert through_proxy("2001:db8:1:2::a").subscribe("a@example.org").status == 303
        assert through_proxy("2001:db8:1:2:ffff::b").subscribe("b@example.org").status == 303
        assert through_proxy("2001:db8:1:2::c").subscribe("c@example.org").status == 429
        assert through_proxy("2001:db8:1:3::a").subscribe("d@example.org").status == 303


def test_the_endpoint_sends_at_most_emails_per_hour_in_all(tmp_path) -> None:
    with endpoint(tmp_path, emails_per_hour=3, client_limit=0) as ep:
        for n in range(3):
            assert ep.client().subscribe(f"reader{n}@example.org").status == 303
        over = ep.client().subscribe("reader3@example.org")
        assert over.status == 429 and over.header("Retry-After") == "3600"
        assert "신청이 많아" in over.body
        assert len(ep.mails(3)) == 3
        ep.state.outbox.join()
        with ep.store() as store:
            from feedkit.subscribers import repo

            assert repo.find(store, "reader3@example.org") is None
        ep.clock.advance(3600)
        assert ep.client().subscribe("reader3@example.org").status == 303
        assert len(ep.mails(4)) == 4


@pytest.mark.parametrize("language, says", [
    ("ko", "확인하지 않은 신청은 확인 링크가 만료되는 7일 뒤에 삭제됩니다"),
    ("en", "A request you do not confirm is deleted when its confirmation link expires, "
           "after 7 days."),
])
def test_the_privacy_notice_says_unconfirmed_requests_are_deleted(tmp_path, language,
                                                                   says) -> None:
    with endpoint(tmp_path, site={"language": language}) as ep:
        assert says in ep.client().get("/subscribe").body


def test_requests_never_confirmed_are_deleted_when_their_link_expires(tmp_path, backend):
    with endpoint(tmp_path, backend=backend) as ep:
        client = ep.client()
        client.subscribe("forgot@example.org")
        client.subscribe("confirmed@example.org")
        [link] = [u for u in links_in(ep.mails(2)[1].message.get_content()) if "/confirm/" in u]
        assert client.post(path_of(link)).status == 200
        ep.clock.advance(3 * 24 * 3600)
        client.subscribe("later@example.org")
        ep.state.outbox.join()
        rows = "SELECT address, status FROM subscribers ORDER BY id"
        assert len(backend.rows(rows)) == 3
        ep.clock.advance(4 * 24 * 3600 + 1)      # the first request's week is over
        assert client.get("/subscribe").status == 200
        assert backend.rows(rows) == [("confirmed@example.org", "active"),
                                      ("later@example.org", "pending")]
        # The expired link does nothing now; the later request goes when its week is over.
        ep.clock.advance(3 * 24 * 3600)
        client.get("/subscribe")
        assert backend.rows(rows) == [("confirmed@example.org", "active")]


def test_retry_after_is_zero_under_the_limit_and_whole_seconds_up_to_the_window_over_it():
    clock = FakeClock()
    window = SlidingWindow(2, 3600, clock=clock)
    assert window.retry_after("unknown") == 0
    assert window.hit("a")
    assert window.retry_after("a") == 0            # one of two: may try now
    assert window.hit("a") and not window.hit("a")
    assert window.retry_after("a") == 3600
    clock.t = 3599.5
    assert window.retry_after("a") == 1             # half a second left: one whole second
    clock.t = 3600
    assert window.retry_after("a") == 1             # the oldest leaves now: at least 1
    assert window.hit("a")                          # ... and then there is room again


def test_a_full_table_forgets_expired_keys_then_the_oldest_half_never_a_key_in_its_window():
    """A flood of distinct keys fills the table: keys with no event left in the window go
    first; if it is still full, the half whose last event is oldest (by time, not by name)."""
    clock = FakeClock()
    window = SlidingWindow(1, 100, clock=clock, max_keys=4)
    for t, key in enumerate(("d", "c", "b", "a")):   # d is the oldest, a the newest
        clock.t = t
        assert window.hit(key)
    clock.t = 4
    assert window.hit("e")            # full: nothing expired, so d and c are forgotten
    assert not window.hit("b") and not window.hit("a") and not window.hit("e")
    assert window.hit("c")            # forgotten: its limit starts again (room for one more key)


def test_a_full_table_keeps_every_key_still_in_its_window_when_expired_ones_make_room():
    clock = FakeClock()
    window = SlidingWindow(1, 10, clock=clock, max_keys=3)
    clock.t = 0
    assert window.hit("old")
    clock.t = 5
    assert window.hit("x") and window.hit("y")
    clock.t = 10                    # "old" has left its window; x and y have not
    assert window.hit("new")
    assert not window.hit("x") and not window.hit("y") and not window.hit("new")


def test_more_spellings_of_one_inbox_and_of_one_client():
    # Every tag after the first +, a domain written with its root dot, an @ in a quoted local
    # part (the domain is what follows the last @).
    assert mailbox_of("victim+a+b@example.org") == "victim@example.org"
    assert mailbox_of("Victim@Example.org.") == "victim@example.org"
    assert mailbox_of("kim@예시..한국.") == "kim@예시..한국"   # no IDNA form (an empty label)
    assert mailbox_of('"v.ictim@x"@gmail.com') == '"victim@x"@gmail.com'
    # A bracketed IPv6 address, and a link-local one with its zone.
    assert client_network("[2001:db8:1:2::9]") == "2001:db8:1:2::/64"
    assert client_network("fe80::1%eth0") == "fe80::/64"
    assert client_network("not an address") == "not an address"
