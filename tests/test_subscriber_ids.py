"""Issue 22 item 6: an erased reader's links must never act on the next reader.

On SQLite, ``subscribers remove --erase`` of the newest reader used to free its id (a plain
INTEGER PRIMARY KEY takes max(id) + 1) and the next sign-up got it, so the erased person's
old unsubscribe and preferences links (which never expire) acted on a stranger. Now ids are
never handed out twice on either backend, and each link is signed with its subscription's
random link key, so an erased or re-made subscription's links are dead even if an id came back.
Old readers' links (signed before link keys) keep working after the migration.

Everything runs on SQLite and PostgreSQL (``backend``); the web side through the real endpoint
under waitress, the rows read back with the database's own client.
"""

from __future__ import annotations

import pytest
from _web_support import SECRET, WEB_URL, endpoint, links_in, path_of

from feedkit.store import articles
from feedkit.subscribers import repo
from feedkit.subscribers.links import personal_urls
from feedkit.subscribers.tokens import make_token

ERASED = "erased.reader@example.org"
NEXT = "next.reader@example.org"


def _status(ep, address: str) -> str | None:
    ep.state.outbox.join()
    with ep.store() as store:
        sub = repo.find(store, address)
        return sub.status if sub else None


def _join(ep, address: str, categories=()):
    """Subscribe with the form and confirm with the emailed link; the reader's row."""
    client = ep.client()
    before = len(ep.mails())
    assert client.subscribe(address, categories).status == 303
    mail = ep.mails(before + 1)[before]
    [link] = [u for u in links_in(mail.message.get_content()) if "/confirm/" in u]
    assert client.post(path_of(link)).status == 200
    ep.state.outbox.join()
    with ep.store() as store:
        sub = repo.find(store, address)
    assert sub is not None and sub.status == "active"
    return sub


def _links(sub) -> dict[str, str]:
    """The links the reader's digests carry (the function digests are built with)."""
    return {k: path_of(v) for k, v in personal_urls(WEB_URL, SECRET, sub.id,
                                                    sub.link_key).items()}


def test_an_erased_newest_readers_id_is_never_given_again(backend_site) -> None:
    site = backend_site
    for address in ("first@example.org", ERASED):
        site.run("subscribers", "add", address)
    assert site.rows("SELECT id FROM subscribers ORDER BY id") == [(1,), (2,)]
    assert "subscriber #2: erased" in site.run("subscribers", "remove", "--erase", ERASED).output
    site.run("subscribers", "add", NEXT)
    assert site.rows("SELECT id, address FROM subscribers ORDER BY id") == [
        (1, "first@example.org"), (3, NEXT)]
    # and again: erasing the newest never lowers the next id
    site.run("subscribers", "remove", "--erase", NEXT)
    site.run("subscribers", "add", ERASED)
    assert site.rows("SELECT id FROM subscribers ORDER BY id") == [(1,), (4,)]


@pytest.fixture
def ep(tmp_path, backend):
    with endpoint(tmp_path, backend=backend) as running:
        yield running


def test_an_erased_readers_links_do_not_act_on_the_next_reader(ep, backend) -> None:
    gone = _join(ep, ERASED, ["세무과"])
    old = _links(gone)
    with ep.store() as store:
        assert repo.erase(store, gone.id)
    nxt = _join(ep, NEXT, ["관광과"])
    assert nxt.id > gone.id                         # the id is not handed out again
    # Even if it were (the worst case, forced here): the old links are signed with the erased
    # subscription's key, not the new reader's, and do nothing.
    backend.execute("UPDATE subscribers SET id = ? WHERE id = ?", gone.id, nxt.id)
    client = ep.client()
    for path in old.values():
        assert client.get(path).status == 400
        assert client.post(path, {"action": "leave", "from": "page"}).status == 400
    assert client.request("POST", old["unsubscribe"], "List-Unsubscribe=One-Click").status == 400
    assert backend.rows("SELECT id, status, categories FROM subscribers") == [
        (gone.id, "active", '["관광과"]')]
    # The new reader's own links (their key, whatever their id) do work.
    with ep.store() as store:
        now_theirs = repo.find(store, NEXT)
    assert client.post(_links(now_theirs)["unsubscribe"]).status == 200
    assert _status(ep, NEXT) == "unsubscribed"


def test_leaving_and_coming_back_is_a_new_subscription_with_new_links(ep) -> None:
    first = _join(ep, ERASED)
    old = _links(first)
    client = ep.client()
    assert client.post(old["unsubscribe"], {"from": "page"}).status == 200
    assert _status(ep, ERASED) == "unsubscribed"
    again = _join(ep, ERASED, ["도서관"])
    assert again.id == first.id and again.link_key != first.link_key
    # The links of the subscription that ended are dead; the new ones work.
    assert client.post(old["preferences"], {"action": "leave"}).status == 400
    assert client.post(old["unsubscribe"], {"from": "page"}).status == 400
    assert _status(ep, ERASED) == "active"
    assert client.get(_links(again)["preferences"]).status == 200


def test_a_pending_reader_asking_again_keeps_the_same_subscription(ep) -> None:
    client = ep.client()
    assert client.subscribe(ERASED).status == 303
    ep.state.outbox.join()
    with ep.store() as store:
        key = repo.find(store, ERASED).link_key
    ep.clock.advance(600)
    assert client.subscribe(ERASED, ["세무과"]).status == 303
    ep.state.outbox.join()
    with ep.store() as store:
        assert repo.find(store, ERASED).link_key == key


def _old_store(backend, monkeypatch) -> None:
    """A store as feedkit wrote it before link keys (schema 7), with two readers whose
    links went out without a key, the newest of them (#2) then erased."""
    with monkeypatch.context() as m:
        m.setattr(articles, "MIGRATIONS", articles.MIGRATIONS[:7])
        m.setattr(articles, "SCHEMA_VERSION", 7)
        backend.open_store().close()
    insert = ("INSERT INTO subscribers (address, normalised, status, consent_at, consent_via, "
              "created_at, updated_at, confirmed_at) VALUES (?, ?, 'active', ?, 'form', ?, ?, ?)")
    at = "2026-10-01T00:00:00+00:00"
    for address in ("old.reader@example.org", ERASED):
        backend.execute(insert, address, address, at, at, at, at)
    backend.execute("DELETE FROM subscribers WHERE address = ?", ERASED)


def test_after_the_migration_old_links_work_and_an_erased_readers_stay_dead(
        tmp_path, backend, monkeypatch) -> None:
    _old_store(backend, monkeypatch)
    with endpoint(tmp_path, backend=backend) as ep:      # opening the store migrates it
        assert backend.rows("SELECT id, link_key FROM subscribers") == [(1, "")]
        nxt = _join(ep, NEXT)
        assert nxt.id == (3 if backend.is_pg else 2) and nxt.link_key
        client = ep.client()
        # #2's link, signed before link keys, acts on nobody (on SQLite the id came back
        # before the migration could stop it, but the new reader's key is not the old one's).
        erased = f"/unsubscribe/{make_token(SECRET, 'unsubscribe', 2)}"
        client.request("POST", erased, "List-Unsubscribe=One-Click")
        assert _status(ep, NEXT) == "active"
        # The old reader's links, already in mailboxes, keep working.
        prefs = f"/preferences/{make_token(SECRET, 'preferences', 1)}"
        assert client.get(prefs).status == 200
        unsub = f"/unsubscribe/{make_token(SECRET, 'unsubscribe', 1)}"
        assert client.request("POST", unsub, "List-Unsubscribe=One-Click").status == 200
        assert _status(ep, "old.reader@example.org") == "unsubscribed"
    if not backend.is_pg:
        sql = backend.rows("SELECT sql FROM sqlite_master WHERE name = 'subscribers'")[0][0]
        assert "AUTOINCREMENT" in sql
