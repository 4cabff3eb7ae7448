"""The subscribe endpoint, served by a real waitress server on 127.0.0.1 with a real aiosmtpd
server for its emails (see _web_support). Every test here goes over HTTP through waitress:
what is tested is what a browser, a bot or a mail provider gets.

Expected values are written by hand: the department counts come from how the fixture spreads
its 35 articles, the statuses from the double opt-in rules of issue 15.
"""

from __future__ import annotations

import logging
import re
import sqlite3

import pytest
from _web_support import NOW, SECRET, WEB_URL, Client, endpoint, links_in, parse_forms, path_of

from feedkit.subscribers import repo
from feedkit.subscribers.tokens import make_token

ADDRESS = "kim.minji@example.org"


@pytest.fixture
def ep(tmp_path):
    with endpoint(tmp_path) as running:
        yield running


def rows(ep) -> list[tuple]:
    """Every subscriber row, every column: what 'nothing changed' is compared on."""
    ep.state.outbox.join()   # form posts are recorded off the request thread
    with sqlite3.connect(ep.config.store_path) as db:
        return db.execute("SELECT * FROM subscribers ORDER BY id").fetchall()


def status_of(ep, address: str) -> str | None:
    ep.state.outbox.join()   # form posts are recorded off the request thread
    with ep.store() as store:
        sub = repo.find(store, address)
        return sub.status if sub else None


def subscriber(ep, address: str):
    ep.state.outbox.join()   # form posts are recorded off the request thread
    with ep.store() as store:
        return repo.find(store, address)


def confirm_link(mail) -> str:
    found = [u for u in links_in(mail.message.get_content()) if "/confirm/" in u]
    assert len(found) == 1, mail.message.get_content()
    return found[0]


def subscribe_and_confirm(ep, client: Client, address: str, categories=()) -> None:
    before = len(ep.mails())
    assert client.subscribe(address, categories).status == 303
    mail = ep.mails(before + 1)[before]
    assert client.post(path_of(confirm_link(mail))).status == 200
    assert status_of(ep, address) == "active"


# -- the form -------------------------------------------------------------------------------


def test_the_form_lists_departments_with_their_counts_and_the_consent_notice(ep):
    page = ep.client().get("/subscribe")
    assert page.status == 200
    assert page.header("Content-Type") == "text/html; charset=utf-8"
    body = page.body
    # 35 articles cycled over the fixture's seven-slot pattern: 15 / 10 / 5 / 5, largest first.
    for name, n in [("세무과", 15), ("관광과", 10), ("복지정책과", 5), ("도서관", 5)]:
        assert f'value="{name}"> {name} <span class="count">(소식 {n}건)</span>' in body
    assert body.index('value="세무과"') < body.index('value="관광과"') < body.index(
        'value="도서관"')
    form = page.form()
    assert form["categories"] == []            # nothing ticked: everything by default
    assert set(form) >= {"csrf", "language", "address", "website", "categories", "consent"}
    # The notice the law asks for: purpose, items, retention, right to refuse; consent required.
    for heading in ("수집·이용 목적", "수집 항목", "보유 및 이용 기간",
                    "동의를 거부할 권리 및 불이익"):
        assert f"<dt>{heading}</dt>" in body
    assert '<input type="checkbox" name="consent" value="yes" required>' in body
    # Works without JavaScript: there is none.
    assert "<script" not in body.lower()
    assert 'method="post" action="/subscribe"' in body


def test_the_form_sets_its_csrf_cookie_http_only_and_same_site(ep):
    page = ep.client().get("/subscribe")
    cookie = page.header("Set-Cookie")
    assert cookie.startswith("feedkit_csrf=")
    attrs = {a.strip().split("=")[0].lower() for a in cookie.split(";")[1:]}
    assert {"httponly", "path", "samesite"} <= attrs
    assert "samesite=lax" in cookie.lower()


def test_every_page_forbids_framing_caching_and_the_referrer(ep):
    for reply in (ep.client().get("/subscribe"), ep.client().get("/confirm/nonsense")):
        assert reply.header("Cache-Control") == "no-store"
        assert reply.header("Referrer-Policy") == "same-origin"
        assert "frame-ancestors 'none'" in reply.header("Content-Security-Policy")


# -- double opt-in --------------------------------------------------------------------------


def test_subscribing_sends_a_confirmation_and_only_the_post_confirms(ep):
    client = ep.client()
    reply = client.subscribe(ADDRESS, ["세무과", "관광과"])
    assert reply.status == 303
    assert reply.header("Location") == "/subscribe/sent?lang=ko"
    sent_page = client.get(reply.header("Location"))
    assert sent_page.status == 200 and "메일함을 확인해 주세요" in sent_page.body
    assert ADDRESS not in sent_page.body

    sub = subscriber(ep, ADDRESS)
    assert (sub.status, sub.categories, sub.consent_via, sub.consent_version, sub.language) == (
        "pending", ("관광과", "세무과"), "form", "1", "ko")
    assert sub.consent_at == "2026-11-20T03:00:00+00:00"

    [mail] = ep.mails(1)
    msg = mail.message
    assert mail.rcpt == [ADDRESS]
    assert msg["To"] == ADDRESS
    assert msg["From"].addresses[0].addr_spec == "news@example.org"
    assert msg["Subject"] == "보령시 주간 소식 구독 확인"
    assert msg["Auto-Submitted"] == "auto-replied"
    assert "List-Unsubscribe" not in msg
    link = confirm_link(mail)
    assert link.startswith(WEB_URL + "confirm/")

    page = client.get(path_of(link))
    assert page.status == 200 and "<button" in page.body
    assert status_of(ep, ADDRESS) == "pending"          # a GET (a link scanner) confirms nobody
    done = client.post(path_of(link))
    assert done.status == 200 and "구독되었습니다" in done.body
    assert status_of(ep, ADDRESS) == "active"
    # The success page links to the reader's preferences, under [web] url, and the link works
    # (signed with this subscription's own key).
    [prefs] = re.findall(re.escape(WEB_URL) + r'preferences/[^"\s<]+', done.body)
    opened = client.get(path_of(prefs))
    assert opened.status == 200 and 'name="categories"' in opened.body


def test_a_confirm_link_from_another_browser_or_twice_still_works(ep):
    ep.client().subscribe(ADDRESS)
    link = confirm_link(ep.mails(1)[0])
    other = Client(ep.port)                   # the phone that opens the email has no cookie
    assert other.post(path_of(link)).status == 200
    assert other.post(path_of(link)).status == 200
    assert status_of(ep, ADDRESS) == "active"
    assert len(ep.mails()) == 1


def test_the_same_answer_whether_or_not_the_address_is_known(ep):
    with ep.store() as store:
        repo.add(store, "active@example.org", (), "ko", "command", "1", NOW, NOW)
        repo.request(store, "pending@example.org", (), "ko", "form", "1", NOW)
        left, _ = repo.add(store, "left@example.org", (), "ko", "command", "1", NOW, NOW)
        repo.unsubscribe(store, left.id, NOW, "link")
    answers = {}
    for address in ("new@example.org", "active@example.org", "pending@example.org",
                    "left@example.org"):
        reply = ep.client().subscribe(address, ["세무과"])
        answers[address] = (reply.status, reply.header("Location"), reply.body,
                            reply.header("Set-Cookie"))
    assert len(set(answers.values())) == 1, answers
    assert answers["new@example.org"][:2] == (303, "/subscribe/sent?lang=ko")

    mails = {m.rcpt[0]: m.message for m in ep.mails(4)}
    assert set(mails) == set(answers)
    # New, pending and left get a confirmation; the active reader gets a note with their
    # preferences link (changing an active reader's choice needs their own link).
    for address in ("new@example.org", "pending@example.org", "left@example.org"):
        assert "/confirm/" in mails[address].get_content()
    note = mails["active@example.org"]
    assert note["Subject"] == "이미 보령시 주간 소식 구독 중입니다"
    assert "/preferences/" in note.get_content() and "/confirm/" not in note.get_content()
    assert subscriber(ep, "active@example.org").categories == ()
    assert status_of(ep, "left@example.org") == "pending"


def test_resubscribing_after_unsubscribing_needs_the_new_confirmation(ep):
    client = ep.client()
    client.subscribe(ADDRESS, ["도서관"])
    first = confirm_link(ep.mails(1)[0])
    client.post(path_of(first))
    sub = subscriber(ep, ADDRESS)
    token = make_token(SECRET, "unsubscribe", sub.id, key=sub.link_key)
    unsubscribe = path_of(WEB_URL + "unsubscribe/" + token)
    assert client.post(unsubscribe).status == 200
    assert status_of(ep, ADDRESS) == "unsubscribed"

    ep.clock.advance(3600)
    assert client.subscribe(ADDRESS, ["세무과"]).status == 303
    assert status_of(ep, ADDRESS) == "pending"
    second = confirm_link(ep.mails(2)[1])
    assert second != first
    # The old link (still within its week) does not confirm the new request ...
    old = client.post(path_of(first))
    assert old.status == 400
    assert status_of(ep, ADDRESS) == "pending"
    # ... the new one does, with the new choice.
    assert client.post(path_of(second)).status == 200
    sub = subscriber(ep, ADDRESS)
    assert (sub.status, sub.categories) == ("active", ("세무과",))


# -- GET changes nothing --------------------------------------------------------------------


def test_a_get_or_head_on_every_token_link_changes_nothing(ep):
    client = ep.client()
    client.subscribe(ADDRESS, ["관광과"])
    confirm = path_of(confirm_link(ep.mails(1)[0]))
    sid, key = subscriber(ep, ADDRESS).id, subscriber(ep, ADDRESS).link_key
    unsub = f"/unsubscribe/{make_token(SECRET, 'unsubscribe', sid, key=key)}"
    prefs = f"/preferences/{make_token(SECRET, 'preferences', sid, key=key)}"
    before = rows(ep)
    for path in (confirm, unsub, prefs):
        for method in ("GET", "HEAD"):
            assert client.request(method, path).status == 200
            # a scanner that sends the one-click body on a GET changes nothing either
            assert client.request(method, path + "?List-Unsubscribe=One-Click").status == 200
    assert rows(ep) == before

    client.post(confirm)
    before = rows(ep)
    for path in (confirm, unsub, prefs):
        assert client.get(path).status == 200
    assert rows(ep) == before
    assert status_of(ep, ADDRESS) == "active"


# -- unsubscribe, RFC 8058 ------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["urlencoded", "multipart"])
def test_a_mail_providers_one_click_post_unsubscribes_without_cookie_or_csrf(ep, encoding):
    subscribe_and_confirm(ep, ep.client(), ADDRESS)
    sid, key = subscriber(ep, ADDRESS).id, subscriber(ep, ADDRESS).link_key
    path = f"/unsubscribe/{make_token(SECRET, 'unsubscribe', sid, key=key)}"
    provider = Client(ep.port)                        # no cookie, no form page fetched first
    if encoding == "urlencoded":
        reply = provider.request("POST", path, "List-Unsubscribe=One-Click")
    else:
        boundary = "----feedkit-test"
        body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"List-Unsubscribe\""
                f"\r\n\r\nOne-Click\r\n--{boundary}--\r\n")
        reply = provider.request("POST", path, body, headers={
            "Content-Type": f"multipart/form-data; boundary={boundary}"})
    assert reply.status == 200                        # RFC 8058: no redirect
    assert "Location" not in reply.headers
    sub = subscriber(ep, ADDRESS)
    assert (sub.status, sub.left_via) == ("unsubscribed", "one-click")


def test_the_unsubscribe_page_button_unsubscribes_once(ep):
    client = ep.client()
    subscribe_and_confirm(ep, client, ADDRESS)
    sid, key = subscriber(ep, ADDRESS).id, subscriber(ep, ADDRESS).link_key
    path = f"/unsubscribe/{make_token(SECRET, 'unsubscribe', sid, key=key)}"
    page = client.get(path)
    forms = parse_forms(page.body)
    assert len(forms) == 1 and page.body.count("<button") == 1
    assert client.post(path, {k: v[0] for k, v in forms[0].items()}).status == 200
    sub = subscriber(ep, ADDRESS)
    assert (sub.status, sub.left_via) == ("unsubscribed", "link")
    left_at = sub.left_at
    ep.clock.advance(60)
    assert client.post(path, "List-Unsubscribe=One-Click").status == 200
    assert subscriber(ep, ADDRESS).left_at == left_at     # the first leaving is the record


def test_the_unsubscribe_link_opened_again_after_leaving_says_so(ep):
    """A reader who left and clicks the link in an older digest again used to get the button
    again, as if nothing had happened: now the page says they already left, with no button."""
    client = ep.client()
    subscribe_and_confirm(ep, client, ADDRESS)
    sid, key = subscriber(ep, ADDRESS).id, subscriber(ep, ADDRESS).link_key
    path = f"/unsubscribe/{make_token(SECRET, 'unsubscribe', sid, key=key)}"
    first = client.get(path)
    assert "이미" not in first.body and first.body.count("<button") == 1
    client.post(path, {"List-Unsubscribe": "One-Click", "from": "page"})
    left_at = subscriber(ep, ADDRESS).left_at
    ep.clock.advance(3600)
    for reply in (client.get(path), client.post(path, "List-Unsubscribe=One-Click")):
        assert reply.status == 200
        assert "이미 구독을 해지하셨습니다" in reply.body
        assert "이 주소는 이미" in reply.body and "<form" not in reply.body
        assert "<button" not in reply.body
    assert subscriber(ep, ADDRESS).left_at == left_at


def test_the_list_pages_name_unsubscribing_one_way(ep):
    """The preferences page said both "구독 해지" (its heading) and "수신 거부" (its button) for
    the same act; every page of the list says "구독 해지" now. (The email's footer keeps the
    word Korean mail uses for that link, "수신 거부".)"""
    client = ep.client()
    subscribe_and_confirm(ep, client, ADDRESS)
    sid, key = subscriber(ep, ADDRESS).id, subscriber(ep, ADDRESS).link_key
    prefs = client.get(f"/preferences/{make_token(SECRET, 'preferences', sid, key=key)}").body
    unsub_path = f"/unsubscribe/{make_token(SECRET, 'unsubscribe', sid, key=key)}"
    unsub = client.get(unsub_path).body
    done = client.post(unsub_path, "List-Unsubscribe=One-Click").body
    for body in (prefs, unsub, done, client.get("/subscribe").body):
        assert "수신 거부" not in body and "수신거부" not in body
    assert prefs.count("구독 해지") >= 2          # the heading and the button
    assert unsub.count("구독 해지") >= 2 and "구독이 해지되었습니다" in done


def test_verbose_logs_one_line_per_subscriber_change_preferences_too(ep, caplog):
    """`feedkit web -v` (INFO on feedkit.web) logs every change to a reader's record: the
    README promises it, and a changed choice of departments was missing. An unchanged save is
    no change and logs nothing; no line names an address or a department."""
    caplog.set_level(logging.INFO, logger="feedkit.web")
    client = ep.client()
    subscribe_and_confirm(ep, client, ADDRESS, ["세무과"])
    sid, key = subscriber(ep, ADDRESS).id, subscriber(ep, ADDRESS).link_key
    path = f"/preferences/{make_token(SECRET, 'preferences', sid, key=key)}"
    client.post(path, {"action": "save", "categories": ["세무과"]})       # the same: no change
    client.post(path, {"action": "save", "categories": ["관광과", "도서관"]})
    client.post(path, {"action": "save"})                                # every department
    client.post(path, {"action": "leave"})
    lines = [r.getMessage() for r in caplog.records
             if r.name == "feedkit.web" and r.getMessage().startswith("subscriber ")]
    assert lines == [f"subscriber {sid} confirmed",
                     f"subscriber {sid} changed preferences: 2 department(s)",
                     f"subscriber {sid} changed preferences: every department",
                     f"subscriber {sid} unsubscribed (preferences)"]


# -- tokens that do not work ----------------------------------------------------------------


def test_expired_wrong_purpose_and_forged_links_get_one_page_and_change_nothing(ep):
    client = ep.client()
    # Confirmed first: a request left pending for eight days would be deleted by then.
    subscribe_and_confirm(ep, client, ADDRESS)
    sid, key = subscriber(ep, ADDRESS).id, subscriber(ep, ADDRESS).link_key
    asked = int(NOW.timestamp())
    cases = {
        # issued with the request, read eight days later
        "expired": f"/confirm/{make_token(SECRET, 'confirm', sid, key=key, now=asked)}",
        "unsubscribe token as confirm":
            f"/confirm/{make_token(SECRET, 'unsubscribe', sid, key=key)}",
        "confirm token as unsubscribe":
            f"/unsubscribe/{make_token(SECRET, 'confirm', sid, key=key, now=asked)}",
        "preferences token as unsubscribe":
            f"/unsubscribe/{make_token(SECRET, 'preferences', sid, key=key)}",
        "confirm token as preferences":
            f"/preferences/{make_token(SECRET, 'confirm', sid, key=key, now=asked)}",
        "another secret": f"/unsubscribe/{make_token('x' * 32, 'unsubscribe', sid, key=key)}",
        "another subscription's key": f"/unsubscribe/{make_token(SECRET, 'unsubscribe', sid)}",
        "forged": "/confirm/MQ.aaaaaa.bbbbbbbbbbbbbbbbbbbbbbbbbbb",
    }
    ep.clock.advance(8 * 24 * 3600)
    before = rows(ep)
    bodies = set()
    for name, path in cases.items():
        for method in ("GET", "POST"):
            reply = client.request(method, path, "List-Unsubscribe=One-Click"
                                   if method == "POST" else None)
            assert reply.status == 400, (name, method)
            bodies.add(reply.body)
    assert rows(ep) == before
    assert status_of(ep, ADDRESS) == "active"
    assert len(bodies) == 1     # nothing tells a prober which way a link failed
    assert "이 링크는 사용할 수 없습니다" in bodies.pop()


def test_a_confirm_link_within_its_week_still_works(ep):
    client = ep.client()
    client.subscribe(ADDRESS)
    link = confirm_link(ep.mails(1)[0])
    ep.clock.advance(7 * 24 * 3600)
    assert client.post(path_of(link)).status == 200
    assert status_of(ep, ADDRESS) == "active"


# -- CSRF -----------------------------------------------------------------------------------


def test_csrf_a_post_without_the_pair_the_form_set_is_refused(ep):
    good = ep.client()
    field = good.get("/subscribe").form()["csrf"][0]
    cookie = good.cookies["feedkit_csrf"]
    form = {"csrf": field, "address": ADDRESS, "consent": "yes", "language": "ko"}

    no_cookie = Client(ep.port)
    assert no_cookie.post("/subscribe", form).status == 400
    other = Client(ep.port)
    other.get("/subscribe")                            # its own cookie, the first one's field
    assert other.post("/subscribe", form).status == 400
    no_field = Client(ep.port, cookies={"feedkit_csrf": cookie})
    assert no_field.post("/subscribe", {**form, "csrf": ""}).status == 400
    from feedkit.web.csrf import field_for

    forged = Client(ep.port, cookies={"feedkit_csrf": cookie})
    assert forged.post("/subscribe", {**form, "csrf": field_for("y" * 40, cookie)}).status == 400
    cross_site = Client(ep.port, cookies={"feedkit_csrf": cookie})
    refused = cross_site.post("/subscribe", form, headers={"Origin": "https://evil.example"})
    assert refused.status == 400
    assert "양식이 만료되었거나" in refused.body
    opaque = Client(ep.port, cookies={"feedkit_csrf": cookie})   # a sandboxed frame, a data: URL
    assert opaque.post("/subscribe", form, headers={"Origin": "null"}).status == 400
    assert rows(ep) == [] and ep.mails() == []

    # The refused form comes back with a fresh field that works with the browser's cookie.
    retry = refused.form()
    assert good.post("/subscribe", {**form, "csrf": retry["csrf"][0]}).status == 303
    # The real origin is fine (the public one behind the proxy, or the one the browser saw).
    again = Client(ep.port, cookies={"feedkit_csrf": cookie})
    assert again.post("/subscribe", {**form, "address": "b@example.org"},
                      headers={"Origin": "https://news.example.org"}).status == 303
    assert [m.rcpt for m in ep.mails(2)] == [[ADDRESS], ["b@example.org"]]


def test_csrf_the_allowed_origin_comes_from_web_url_never_the_host_header(ep):
    """A page on a name that resolves to this server (DNS rebinding) sends that name as both
    Origin and Host; it could read the form's field, so the origin check must hold alone."""
    page = ep.client()
    form = {"csrf": page.get("/subscribe").form()["csrf"][0], "address": ADDRESS,
            "consent": "yes", "language": "ko"}
    for origin, host in (("http://evil.example", "evil.example"),
                         (f"http://evil.example:{ep.port}", f"evil.example:{ep.port}"),
                         (f"http://localhost:{ep.port}", f"localhost:{ep.port}")):
        reply = page.post("/subscribe", form, headers={"Origin": origin, "Host": host})
        assert reply.status == 400, origin
    assert rows(ep) == [] and ep.mails() == []
    # [web] url's origin passes, and so does the address the server listens on (a look at
    # the form before the proxy is set up), whatever the Host header says.
    assert page.post("/subscribe", form, headers={"Origin": "https://news.example.org",
                                                  "Host": "evil.example"}).status == 303
    assert page.post("/subscribe", {**form, "address": "b@example.org"},
                     headers={"Origin": f"http://127.0.0.1:{ep.port}"}).status == 303
    # An origin is compared without case and without a trailing slash (some clients send one).
    assert page.post("/subscribe", {**form, "address": "c@example.org"},
                     headers={"Origin": "HTTPS://News.Example.org/"}).status == 303
    assert len(ep.mails(3)) == 3


def test_a_form_left_open_over_a_day_asks_again(ep):
    client = ep.client()
    field = client.get("/subscribe").form()["csrf"][0]
    from feedkit.web.csrf import valid

    cookie = client.cookies["feedkit_csrf"]
    assert valid(SECRET, cookie, field)
    assert not valid(SECRET, cookie, field, max_age=-1)


# -- honeypot, consent, bad address ---------------------------------------------------------


def test_a_filled_honeypot_gets_the_normal_answer_and_nothing_happens(ep):
    human = ep.client().subscribe("human@example.org")
    bot = ep.client().subscribe(ADDRESS, ["세무과"], extra={"website": "http://spam.example"})
    assert (bot.status, bot.header("Location"), bot.body) == (
        human.status, human.header("Location"), human.body)
    assert status_of(ep, ADDRESS) is None
    assert [m.rcpt for m in ep.mails(1)] == [["human@example.org"]]


def test_without_consent_or_with_a_bad_address_the_form_comes_back_and_nothing_is_sent(ep):
    client = ep.client()
    no_consent = client.subscribe(ADDRESS, ["세무과"], consent=False)
    assert no_consent.status == 400
    assert "동의란에 표시해 주세요" in no_consent.body
    assert no_consent.form()["categories"] == ["세무과"]    # the choice is kept
    bad = client.subscribe("not-an-address", ["세무과"])
    assert bad.status == 400 and "이메일 주소 형식이 아닌 것 같습니다" in bad.body
    forged = client.subscribe(ADDRESS, ["없는과", "세무과"])   # a department that does not exist
    assert forged.status == 303
    assert subscriber(ep, ADDRESS).categories == ("세무과",)
    assert [m.rcpt for m in ep.mails(1)] == [[ADDRESS]]


# -- rate limits ----------------------------------------------------------------------------


def test_per_address_limit_same_answer_no_more_emails_until_a_day_has_passed(tmp_path):
    with endpoint(tmp_path, address_limit=2) as ep:
        answers = set()
        for spelling in ("kim@example.org", "KIM@Example.ORG", " kim@example.org"):
            reply = ep.client().subscribe(spelling)
            answers.add((reply.status, reply.header("Location"), reply.body))
        assert len(answers) == 1
        assert len(ep.mails(2)) == 2              # the third request sent nothing
        ep.clock.advance(24 * 3600 + 1)
        ep.client().subscribe("kim@example.org")
        assert len(ep.mails(3)) == 3


def test_per_client_limit_answers_429_with_retry_after(tmp_path):
    with endpoint(tmp_path, client_limit=3) as ep:
        client = ep.client()
        for i in range(3):
            assert client.subscribe(f"r{i}@example.org").status == 303
        over = client.subscribe("r3@example.org")
        assert over.status == 429
        assert over.header("Retry-After") == "3600"
        assert status_of(ep, "r3@example.org") is None
        # A forged X-Forwarded-For does not get round it without a trusted proxy.
        client.headers["X-Forwarded-For"] = "203.0.113.9"
        assert client.subscribe("r4@example.org").status == 429
        ep.clock.advance(3600)
        assert client.subscribe("r5@example.org").status == 303


def test_behind_a_trusted_proxy_each_client_has_its_own_limit(tmp_path):
    with endpoint(tmp_path, client_limit=1, proxy_hops=1) as ep:
        a = Client(ep.port, headers={"X-Forwarded-For": "203.0.113.1",
                                     "X-Forwarded-Proto": "https",
                                     "X-Forwarded-Host": "news.example.org"})
        b = Client(ep.port, headers={"X-Forwarded-For": "198.51.100.2",   # another /24
                                     "X-Forwarded-Proto": "https",
                                     "X-Forwarded-Host": "news.example.org"})
        assert a.subscribe("a1@example.org").status == 303
        assert a.subscribe("a2@example.org").status == 429
        assert b.subscribe("b1@example.org").status == 303
        # Seen as https through the proxy, the CSRF cookie is Secure; over plain http not.
        fresh = Client(ep.port, headers=dict(b.headers))
        assert "; secure" in fresh.get("/subscribe").header("Set-Cookie").lower()
        plain = Client(ep.port)
        assert "; secure" not in plain.get("/subscribe").header("Set-Cookie").lower()


def test_behind_a_proxy_under_a_path_prefix_links_and_cookie_keep_the_prefix(tmp_path):
    # nginx: location /list/ { proxy_pass http://127.0.0.1:8080/; X-Forwarded-Prefix /list }
    with endpoint(tmp_path, proxy_hops=1) as ep:
        client = Client(ep.port, headers={"X-Forwarded-For": "203.0.113.1",
                                          "X-Forwarded-Proto": "https",
                                          "X-Forwarded-Host": "news.example.org",
                                          "X-Forwarded-Prefix": "/list"})
        page = client.get("/subscribe")
        assert 'action="/list/subscribe"' in page.body
        assert "; path=/list" in page.header("Set-Cookie").lower()
        assert client.subscribe(ADDRESS).header("Location") == "/list/subscribe/sent?lang=ko"
        assert links_in(ep.mails(1)[0].message.get_content())[0].startswith(
            WEB_URL + "confirm/")


# -- preferences ----------------------------------------------------------------------------


def test_preferences_change_departments_or_leave(ep):
    client = ep.client()
    subscribe_and_confirm(ep, client, ADDRESS, ["세무과"])
    sid, key = subscriber(ep, ADDRESS).id, subscriber(ep, ADDRESS).link_key
    path = f"/preferences/{make_token(SECRET, 'preferences', sid, key=key)}"
    page = client.get(path)
    save, leave = parse_forms(page.body)
    assert save["categories"] == ["세무과"]
    assert leave == {"action": ["leave"]}
    saved = client.post(path, {"action": "save", "categories": ["도서관", "관광과", "없는과"]})
    assert saved.status == 200 and "저장했습니다" in saved.body
    assert subscriber(ep, ADDRESS).categories == ("관광과", "도서관")
    assert parse_forms(saved.body)[0]["categories"] == ["관광과", "도서관"]
    client.post(path, {"action": "save"})                  # none ticked: every department
    assert subscriber(ep, ADDRESS).categories == ()
    assert client.post(path, {"action": "leave"}).status == 200
    sub = subscriber(ep, ADDRESS)
    assert (sub.status, sub.left_via) == ("unsubscribed", "preferences")
    gone = client.get(path)
    assert "구독 중이 아닙니다" in gone.body and "<form" not in gone.body


# -- personal data in logs and pages --------------------------------------------------------


def test_no_address_in_any_log_line_or_page(ep, caplog):
    caplog.set_level(logging.DEBUG)
    client = ep.client()
    pages = [client.get("/subscribe").body]
    reply = client.subscribe(ADDRESS, ["세무과"])
    pages.append(client.get(reply.header("Location")).body)
    link = path_of(confirm_link(ep.mails(1)[0]))
    pages += [client.get(link).body, client.post(link).body]
    client.subscribe(ADDRESS)                               # the already-subscribed note
    ep.mails(2)
    sid, key = subscriber(ep, ADDRESS).id, subscriber(ep, ADDRESS).link_key
    token = make_token(SECRET, 'unsubscribe', sid, key=key)
    pages.append(client.post(f"/unsubscribe/{token}").body)
    # Everything the endpoint's process logs, at any level; aiosmtpd's "mail.log" is the test's
    # own SMTP server (it logs the whole message), not part of feedkit.
    text = "\n".join(r.getMessage() for r in caplog.records if r.name != "mail.log")
    assert "subscription email to #" in text              # it did log, by keyed hash
    for needle in (ADDRESS, "kim.minji", ADDRESS.upper()):
        assert needle not in text
        assert all(needle not in p for p in pages)


def test_a_site_in_another_language_offers_it_and_korean(tmp_path):
    with endpoint(tmp_path, site={"language": "en"}) as ep:
        page = ep.client().get("/subscribe")
        assert 'lang="en"' in page.body and 'href="?lang=ko"' in page.body
        assert "<dt>Purpose</dt>" in page.body and "(15 articles)" in page.body
        korean = ep.client().get("/subscribe?lang=ko").body
        assert "<dt>수집·이용 목적</dt>" in korean and "(소식 15건)" in korean
        assert ep.client().subscribe(ADDRESS, lang="ko").header("Location") == (
            "/subscribe/sent?lang=ko")
        assert subscriber(ep, ADDRESS).language == "ko"
        ep.client().subscribe("en@example.org")
        assert subscriber(ep, "en@example.org").language == "en"
        assert ep.client().get("/subscribe?lang=fr").form()["language"] == ["en"]
        # Each reader's confirmation comes in the language they chose (the digest keeps the
        # name the site gives it).
        subjects = {m.rcpt[0]: m.message["Subject"] for m in ep.mails(2)}
        assert subjects == {ADDRESS: "보령시 새소식 weekly 구독 확인",
                            "en@example.org": "Confirm your subscription to 보령시 새소식 weekly"}


def test_a_temporary_smtp_failure_is_retried_and_a_refusal_is_logged_without_the_address(
        tmp_path, caplog):
    from _digest_support import Behaviour

    def on_data(rcpt: str, attempt: int) -> str | None:
        if rcpt == "busy@example.org" and attempt == 1:
            return "451 try again later"
        if rcpt == "gone@example.org":
            return "550 <gone@example.org>: no such user"
        return None

    caplog.set_level(logging.INFO, logger="feedkit.web")
    with endpoint(tmp_path, behaviour=Behaviour(on_data=on_data),
                  smtp={"retries": 1, "retry_delay": 0.01}) as ep:
        ep.client().subscribe("busy@example.org")
        ep.client().subscribe("gone@example.org")
        assert [m.rcpt for m in ep.mails(1)] == [["busy@example.org"]]
        assert (ep.state.outbox.sent, ep.state.outbox.failed) == (1, 1)
    text = "\n".join(r.getMessage() for r in caplog.records if r.name == "feedkit.web")
    assert "refused: 550 <recipient>: no such user" in text
    assert "gone@" not in text and "busy@" not in text


def test_the_pages_carry_the_sites_branding(tmp_path):
    site = {"logo": "https://www.brcn.go.kr/images/logo.png", "accent_color": "#00704a",
            "contact_department": "홍보담당관", "contact_phone": "041-930-3114"}
    with endpoint(tmp_path, site=site) as ep:
        for path in ("/subscribe", "/confirm/nonsense"):
            body = ep.client().get(path).body
            assert '<img class="logo" src="https://www.brcn.go.kr/images/logo.png"' in body
            assert "button { background: #00704a; }" in body
            assert "홍보담당관" in body and "041-930-3114" in body


def test_every_page_passes_the_nu_html_checker(ep, tmp_path):
    import json
    import subprocess

    import tools

    jar = tools.vnu_jar()
    client = ep.client()
    subscribe_and_confirm(ep, client, ADDRESS, ["세무과"])
    sid, key = subscriber(ep, ADDRESS).id, subscriber(ep, ADDRESS).link_key
    confirm = path_of(confirm_link(ep.mails(1)[0]))
    unsub = f"/unsubscribe/{make_token(SECRET, 'unsubscribe', sid, key=key)}"
    prefs = f"/preferences/{make_token(SECRET, 'preferences', sid, key=key)}"
    pages = {
        "form": client.get("/subscribe").body,
        "form-error": client.subscribe(ADDRESS, consent=False).body,
        "sent": client.get("/subscribe/sent?lang=ko").body,
        "confirm": client.get(confirm).body,
        "confirmed": client.post(confirm).body,
        "preferences": client.get(prefs).body,
        "saved": client.post(prefs, {"action": "save", "categories": ["관광과"]}).body,
        "unsubscribe": client.get(unsub).body,
        "unsubscribed": client.post(unsub).body,
        "already-left": client.get(unsub).body,
        "gone": client.get(prefs).body,
        "bad-link": client.get("/confirm/nonsense").body,
    }
    files = []
    for name, body in pages.items():
        path = tmp_path / f"{name}.html"
        path.write_text(body, encoding="utf-8")
        files.append(str(path))
    done = subprocess.run([tools.java(), "-jar", str(jar), "--format", "json", "--errors-only",
                           *files], capture_output=True, text=True, timeout=300)
    errors = [(m.get("url", "").rsplit("/", 1)[-1], m["message"])
              for m in json.loads(done.stderr)["messages"] if m["type"] == "error"]
    assert errors == []


def test_the_form_offers_the_names_the_digest_shows_under_categories(tmp_path):
    categories = {"names": {"세무 소식": ["세무과"], "생활 소식": ["복지정책과", "도서관"]},
                  "exclude_from_digest": ["관광과"], "order": ["생활 소식"]}
    with endpoint(tmp_path, sections={"categories": categories}) as ep:
        page = ep.client().get("/subscribe")
        offered = [(d, n) for d, n in re.findall(
            r'value="([^"]+)"> [^<]+ <span class="count">\(소식 (\d+)건\)', page.body)]
        # 생활 소식 gathers 복지정책과 5 + 도서관 5 and comes first by [categories] order;
        # 관광과 is kept out of the digest, so nobody can choose it.
        assert offered == [("생활 소식", "10"), ("세무 소식", "15")]
        ep.client().subscribe(ADDRESS, ["생활 소식", "관광과"])
        assert subscriber(ep, ADDRESS).categories == ("생활 소식",)


def test_the_confirmation_emails_are_not_spammy(ep, tmp_path):
    """SpamAssassin (local rules, -L) on both emails the form sends, as the SMTP server got
    them: a confirmation email in the spam folder is a subscriber lost."""
    import os
    import subprocess

    import tools

    spamassassin = tools.spamassassin()
    ep.client().subscribe(ADDRESS, ["세무과"])
    with ep.store() as store:
        repo.add(store, "active@example.org", (), "ko", "command", "1", NOW, NOW)
    ep.client().subscribe("active@example.org")
    for mail in ep.mails(2):
        done = subprocess.run([spamassassin, "-L", "-t"], input=mail.data, capture_output=True,
                              timeout=120, env={**os.environ, "HOME": str(tmp_path)})
        status = re.search(r"^X-Spam-Status: (\w+), score=(-?[\d.]+) required=[\d.]+\s+"
                           r"tests=(.*?)\s+autolearn=", done.stdout.decode("utf-8", "replace"),
                           re.MULTILINE | re.DOTALL)
        assert status, done.stdout[:1500]
        assert status[1] == "No" and float(status[2]) < 1.0, (mail.message["Subject"],
                                                                status.groups())


def test_the_busy_and_bad_link_pages_come_in_the_readers_language(tmp_path):
    """An English site that also offers Korean: a Korean reader over the limit, or with a
    damaged link, reads why in Korean (and the page says lang="ko")."""
    with endpoint(tmp_path, site={"language": "en"}, client_limit=1) as ep:
        client = ep.client()
        assert client.subscribe(ADDRESS, lang="ko").status == 303
        busy = client.subscribe("second@example.org", lang="ko")
        assert busy.status == 429 and '<html lang="ko"' in busy.body
        assert '<html lang="en"' in client.subscribe("third@example.org").body
        bad = client.get("/confirm/not-a-token?lang=ko")
        assert bad.status == 400 and '<html lang="ko"' in bad.body
        assert '<html lang="en"' in client.get("/confirm/not-a-token").body


def test_the_confirmation_email_is_a_standard_message_from_the_lists_domain(tmp_path):
    """CRLF lines, Date in the site's timezone, a Message-ID of the sender's domain naming what
    it is, and the list's Reply-To when one is set."""
    digest = {"from": "보령시 소식 <news@example.org>", "reply_to": "help@boryeong.example.kr",
              "to": [], "unsubscribe": ["mailto:leave@lists.example.org"]}
    with endpoint(tmp_path, sections={"digest": digest}) as ep:
        assert ep.client().subscribe(ADDRESS).status == 303
        [mail] = ep.mails(1)
    msg = mail.message
    assert msg["Reply-To"] == "help@boryeong.example.kr"
    assert msg["Date"].endswith("+0900")                     # Asia/Seoul
    assert re.fullmatch(r"<\d+\.\d+\.\d+\.subscribe@example\.org>", msg["Message-ID"])
    head = mail.data.split(b"\r\n\r\n", 1)[0]
    assert b"\n" not in head.replace(b"\r\n", b"")             # every header line ends in CRLF


def test_the_confirmation_email_is_dkim_signed_when_the_digest_is(tmp_path, monkeypatch):
    """[smtp] dkim_selector signs the endpoint's emails too (a confirmation that fails DMARC
    lands in spam, and the reader never confirms); the body is base64 UTF-8 text."""
    dkim = pytest.importorskip("dkim", reason="DKIM signing needs dkimpy (pip install dkimpy)")
    from test_mail_send import _rsa_key

    pem, txt = _rsa_key(tmp_path)
    monkeypatch.setenv("FEEDKIT_DKIM_KEY", pem.decode())
    with endpoint(tmp_path / "site", smtp={"dkim_selector": "news2024",
                                           "dkim_domain": "example.org"}) as ep:
        assert ep.client().subscribe(ADDRESS).status == 303
        [mail] = ep.mails(1)
    assert mail.data.startswith(b"DKIM-Signature: ")
    assert dkim.verify(mail.data, dnsfunc=lambda name, timeout=5: txt
                       if name == b"news2024._domainkey.example.org." else None)
    part = mail.message
    assert (part.get_content_type(), part.get_content_charset(), part["Content-Transfer-Encoding"]
            ) == ("text/plain", "utf-8", "base64")
