"""The subscriber table and its functions (feedkit.subscribers.repo): the life cycle the web
endpoint drives, the operator's add/import semantics, bounce counting, and the rule that no
address leaves the store through a build, a feed or an export. Real SQLite and
PostgreSQL (each test runs on both), real CLI."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from feedkit.store.articles import SCHEMA_VERSION
from feedkit.subscribers import repo
from feedkit.subscribers.model import Subscriber

T0 = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)


@pytest.fixture
def store(backend):
    with backend.open_store() as s:
        yield s


@pytest.fixture
def site(site, backend):
    """The conftest site, on SQLite and on PostgreSQL."""
    return site.use(backend)


def test_the_migration_makes_the_table_with_its_consent_record(backend) -> None:
    with backend.open_store() as store:
        assert store.schema_version == SCHEMA_VERSION
    assert {"address", "status", "categories", "language", "consent_at", "consent_via",
            "consent_version", "bounces", "created_at", "updated_at"} <= \
        backend.columns("subscribers")
    insert = ("INSERT INTO subscribers (address, normalised, status, consent_at, consent_via, "
              "created_at, updated_at) VALUES (?, ?, ?, 'x', 'form', 'x', 'x')")
    with pytest.raises(backend.integrity_error):   # the status is one of the four
        backend.execute(insert, "a@b.kr", "a@b.kr", "gone")
    backend.execute(insert, "a@b.kr", "a@b.kr", "pending")
    with pytest.raises(backend.integrity_error):   # one row per (normalised) address
        backend.execute(insert, "A@b.kr", "a@b.kr", "pending")
    assert backend.rows("SELECT address, status FROM subscribers") == [("a@b.kr", "pending")]


def test_a_request_is_pending_until_confirmed(store) -> None:
    sub, send = repo.request(store, "Kim <Kim@Example.ORG>", ["세무과", "관광과", "세무과"], "ko",
                             "form", "2026-11", T0)
    assert send is True
    assert sub == Subscriber(sub.id, "Kim@Example.ORG", "pending", ("관광과", "세무과"), "ko",
                             "2026-11-02T09:30:00+00:00", "form", "2026-11", 0,
                             created_at="2026-11-02T09:30:00+00:00",
                             updated_at="2026-11-02T09:30:00+00:00", link_key=sub.link_key)
    assert len(sub.link_key) == 16   # random, the key its links are signed with
    assert repo.active(store) == []
    later = T0 + timedelta(minutes=5)
    confirmed = repo.confirm(store, sub.id, later)
    assert confirmed is not None and confirmed.status == "active"
    assert confirmed.confirmed_at == "2026-11-02T09:35:00+00:00"
    assert [s.id for s in repo.active(store)] == [sub.id]
    # any spelling of the address finds the one reader
    assert repo.find(store, "kim@example.org").id == sub.id
    assert repo.find(store, "nobody@example.org") is None
    assert repo.find(store, "not an address") is None


def test_an_active_reader_asking_again_gets_no_mail_and_keeps_their_choice(store) -> None:
    sub, _ = repo.request(store, "lee@example.org", ["세무과"], "ko", "form", "v1", T0)
    repo.confirm(store, sub.id, T0)
    again, send = repo.request(store, "LEE@example.org", ["도서관"], "en", "form", "v2", T0)
    assert send is False
    assert (again.status, again.categories, again.language, again.consent_version) == \
        ("active", ("세무과",), "ko", "v1")


def test_leaving_and_coming_back_needs_a_new_confirmation(store) -> None:
    sub, _ = repo.request(store, "park@example.org", [], "ko", "form", "v1", T0)
    repo.confirm(store, sub.id, T0)
    gone = repo.unsubscribe(store, sub.id, T0 + timedelta(days=1), "one-click")
    assert (gone.status, gone.left_via) == ("unsubscribed", "one-click")
    # an old confirmation link does not bring them back
    assert repo.confirm(store, sub.id, T0 + timedelta(days=2)).status == "unsubscribed"
    back, send = repo.request(store, "park@example.org", ["도서관"], "ko", "form", "v2",
                              T0 + timedelta(days=3))
    assert send is True
    assert (back.id, back.status, back.categories, back.consent_version, back.left_at) == \
        (sub.id, "pending", ("도서관",), "v2", "")
    assert repo.confirm(store, sub.id, T0 + timedelta(days=3)).status == "active"


def test_changing_departments_and_counting(store) -> None:
    a, _ = repo.request(store, "a@example.org", [], "ko", "form", "v1", T0)
    b, _ = repo.request(store, "b@example.org", [], "ko", "form", "v1", T0)
    repo.request(store, "c@example.org", [], "ko", "form", "v1", T0)
    repo.confirm(store, a.id, T0)
    repo.confirm(store, b.id, T0)
    repo.unsubscribe(store, b.id, T0, "link")
    assert repo.set_categories(store, a.id, [" 관광과 ", ""], T0).categories == ("관광과",)
    assert repo.count(store) == {"pending": 1, "active": 1, "unsubscribed": 1, "bounced": 0}
    assert repo.get(store, 999) is None
    assert repo.confirm(store, 999, T0) is None


def test_a_bad_address_is_refused_without_repeating_it(store) -> None:
    with pytest.raises(repo.InvalidAddress) as err:
        repo.request(store, "kim at example.org", [], "ko", "form", "v1", T0)
    assert "kim at" not in str(err.value)
    with pytest.raises(repo.InvalidAddress):
        repo.request(store, "a@b.org\r\nBcc: x@y.org", [], "ko", "form", "v1", T0)
    assert repo.count(store)["pending"] == 0


def test_add_is_idempotent_and_never_resubscribes_someone_who_left(store) -> None:
    consent = datetime(2023, 3, 1, tzinfo=UTC)
    s, what = repo.add(store, "a@example.org", ["세무과"], "ko", "import", "paper-2023",
                       consent, T0)
    assert (what, s.status, s.consent_at, s.consent_via) == \
        ("added", "active", "2023-03-01T00:00:00+00:00", "import")
    assert repo.add(store, "A@example.org", ["세무과"], "ko", "import", "paper-2023", consent,
                    T0 + timedelta(days=1))[1] == "unchanged"
    assert repo.add(store, "a@example.org", ["관광과"], "ko", "import", "paper-2023", consent,
                    T0)[1] == "updated"
    repo.unsubscribe(store, s.id, T0, "link")
    kept, what = repo.add(store, "a@example.org", ["관광과"], "ko", "import", "p", consent, T0)
    assert (what, kept.status) == ("kept", "unsubscribed")
    # a pending (never confirmed) reader is made active by an operator who holds consent
    p, _ = repo.request(store, "p@example.org", [], "ko", "form", "v1", T0)
    assert repo.add(store, "p@example.org", [], "ko", "command", "v1", T0, T0)[1] == "updated"
    assert repo.get(store, p.id).status == "active"


def test_erase_removes_the_row(store, backend) -> None:
    s, _ = repo.add(store, "gone@example.org", [], "ko", "command", "v1", T0, T0)
    assert repo.erase(store, s.id) is True
    assert repo.find(store, "gone@example.org") is None
    assert backend.scalar("SELECT count(*) FROM subscribers") == 0
    assert repo.erase(store, s.id) is False


def test_bounces_in_a_row_mark_a_reader_bounced_and_a_quiet_accepted_digest_resets_them(
        store) -> None:
    s, _ = repo.add(store, "b@example.org", [], "ko", "command", "v1", T0, T0)
    key = {s.id: "hmac-sha256:" + "b" * 64}
    assert repo.record_bounce(store, s.id, T0, limit=3, week="2026-W44",
                              reason="550 no such user").bounces == 1
    # the same week again (a re-run, or the DSN of the same message) counts once
    assert repo.record_bounce(store, s.id, T0, limit=3, week="2026-W44", reason="").bounces == 1
    assert repo.record_bounce(store, s.id, T0, limit=3, week="2026-W45", reason="").bounces == 2
    # W46 accepted: no proof yet (a report may come), nothing forgiven at its own send
    store.record_send("2026-W46", key[s.id], "<m46>", "sent")
    assert repo.forgive_bounces(store, key, "2026-W46", T0) == 0
    assert repo.get(store, s.id).bounces == 2
    # at the next send nothing came back about W46: the count starts again
    assert repo.forgive_bounces(store, key, "2026-W47", T0) == 1
    assert repo.get(store, s.id).bounces == 0
    assert repo.forgive_bounces(store, key, "2026-W47", T0) == 0   # a re-run
    for week in ("2026-W47", "2026-W48"):
        repo.record_bounce(store, s.id, T0, limit=3, week=week, reason="")
    assert repo.get(store, s.id).status == "active"
    last = repo.record_bounce(store, s.id, T0, limit=3, week="2026-W49", reason="550 gone")
    assert (last.status, last.bounces, last.last_bounce) == ("bounced", 3, "550 gone")
    # A relay's diagnostic can run long: the first 500 characters are kept.
    long = repo.record_bounce(store, s.id, T0, limit=3, week="2026-W50", reason="5" * 600)
    assert long.last_bounce == "5" * 500
    assert repo.active(store) == []
    # a bounced reader may come back through the form (a new confirmation), bounces reset
    back, send = repo.request(store, "b@example.org", [], "ko", "form", "v2", T0)
    assert send and back.bounces == 0 and back.status == "pending"


def test_only_an_accepted_digest_after_the_last_counted_failure_forgives(store) -> None:
    """What does not forgive: a message whose outcome is unknown (``sending``), refused or
    skipped; a digest of the bounced week or of a week before it; another reader's digest.
    A report about an older digest that comes late keeps the latest week counted."""
    a, _ = repo.add(store, "a@example.org", [], "ko", "command", "v1", T0, T0)
    b, _ = repo.add(store, "b@example.org", [], "ko", "command", "v1", T0, T0)
    keys = {a.id: "hmac-sha256:" + "a" * 64, b.id: "hmac-sha256:" + "b" * 64}
    for sub in (a, b):
        repo.record_bounce(store, sub.id, T0, limit=5, week="2026-W10", reason="")
        repo.record_bounce(store, sub.id, T0, limit=5, week="2026-W12", reason="")
    # a late report about W11
    repo.record_bounce(store, a.id, T0, limit=5, week="2026-W11", reason="")
    assert repo.get(store, a.id).bounce_week == "2026-W12"
    for week, status in (("2026-W11", "sent"), ("2026-W12", "sent"), ("2026-W13", "sending"),
                         ("2026-W14", "failed"), ("2026-W15", "skipped")):
        store.record_send(week, keys[a.id], f"<{week}>", status)
    store.record_send("2026-W13", "hmac-sha256:" + "c" * 64, "<other>", "sent")
    assert repo.forgive_bounces(store, keys, "2026-W16", T0) == 0
    assert [repo.get(store, i).bounces for i in keys] == [3, 2]
    # an accepted digest, but of a week after the one being sent (an old week re-sent)
    store.record_send("2026-W17", keys[b.id], "<b17>", "sent")
    assert repo.forgive_bounces(store, keys, "2026-W16", T0) == 0
    assert repo.forgive_bounces(store, keys, "2026-W18", T0) == 1
    assert [repo.get(store, i).bounces for i in keys] == [3, 0]
    # bounce_week stays: a re-run of W12 refused again would count nothing new
    assert repo.get(store, b.id).bounce_week == "2026-W12"


def test_no_address_reaches_public_the_feeds_or_the_export(site) -> None:
    """The store holds subscribers; build, feeds, export (with the send log) and their output
    lines hold none of their addresses."""
    site.run("import")
    addresses = ["resident.one@example.org", "홍길동구구@예시.한국",
                 "kim.chul+news@mail.example.kr"]
    with site.store() as store:
        for i, a in enumerate(addresses):
            s, _ = repo.request(store, a, ["세무과"] if i else [], "ko", "form", "v1", T0)
            repo.confirm(store, s.id, T0)
    out = [site.run("build").output]
    export = site.root / "export.jsonl"
    out.append(site.run("export", "--out", str(export)).output)
    out.append(site.run("stats").output)
    files = [p for p in site.out.rglob("*") if p.is_file()] + [export]
    assert len(files) > 5
    for a in addresses:
        local = a.split("@")[0].encode()
        for p in files:
            assert local not in p.read_bytes(), (a, p)
        for text in out:
            assert a.split("@")[0] not in text


def test_leaving_again_keeps_when_and_how_the_reader_first_left(store) -> None:
    """A second unsubscribe (the one-click POST after the link was already used, or the
    operator's remove) changes nothing: the record of leaving is the first one."""
    s, _ = repo.add(store, "kim@example.org", [], "ko", "command", "v1", T0, T0)
    first = repo.unsubscribe(store, s.id, T0 + timedelta(days=1), "link")
    again = repo.unsubscribe(store, s.id, T0 + timedelta(days=2), "command")
    assert (again.status, again.left_at, again.left_via) == (
        "unsubscribed", first.left_at, "link")
    assert again.updated_at == first.updated_at
