"""A build after any change makes what a build from nothing makes, and reads only what changed.

The digest archive keeps its weeks in the store and a build recounts only the weeks whose hours
the store noted as changed (feedkit.store.archive_table, feedkit.site.weeks). These tests run a
sequence of changes (imports old and new, edits that move an article to another week or
department, withdraw and restore, an exported withdrawal imported, an editor's note, time
passing, config, template, language and timezone changes) on two stores alike, build one
incrementally and the other from nothing each time, and compare every byte; and they pin that a
one-article change reads one week, not the store.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from _digest_support import SEOUL, config_for, korean_articles

from feedkit.editorial import decisions, withdrawals
from feedkit.ingest.importer import FileSpec, import_files
from feedkit.site.build import build
from feedkit.site.output import MANIFEST, read_manifest
from feedkit.text.templating import bundled_templates_dir

W24 = datetime(2024, 6, 10, tzinfo=SEOUL)          # Monday of 2024-W24
NOW = datetime(2024, 7, 3, 12, 0, tzinfo=SEOUL)     # Wednesday of 2024-W27
CATS = ("세무과", "관광과", "복지정책과", "대천1동", "웅천읍")


def _tree(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _articles() -> list:
    """Six weeks of news, one week with a single article, one article in the week in
    progress and one dated next year."""
    out = []
    for week in range(6):
        if week == 3:
            continue
        out += korean_articles(9, W24 - timedelta(days=7 * (week + 1)), categories=CATS,
                               seed=week, prefix=f"w{week}-")
    out += korean_articles(1, W24 - timedelta(days=7 * 4), categories=("관광과",),
                           prefix="lonely-")
    out += korean_articles(1, NOW - timedelta(days=1), prefix="now-")
    out += korean_articles(1, datetime(2025, 3, 1, tzinfo=SEOUL), prefix="future-")
    return out


class Twin:
    """The same changes applied to two stores: one built incrementally into one folder, the
    other built from nothing (no kept weeks, no earlier outputs) each time."""

    def __init__(self, tmp_path: Path, backend, cold_backend):
        self.tmp = tmp_path
        self.backends = (backend, cold_backend)
        self.stores = (backend.open_store(), cold_backend.open_store())
        self.sections: dict = {"digest": {"archive": True}}
        self.now = NOW
        self.round = 0

    def config(self, i: int):
        return config_for(self.tmp / ("inc" if i == 0 else "cold"), self.backends[i],
                          **self.sections)

    def each(self, change) -> None:
        for store in self.stores:
            change(store)

    def upsert(self, articles) -> None:
        def go(store):
            with store.transaction():
                store.upsert(list(articles))
        self.each(go)

    def check(self) -> None:
        """Build both; every file of the build from nothing is in the incremental output with
        the same bytes, and the incremental output holds nothing else (but a category folder
        a [categories] change stopped making, which keeps its last feeds by design)."""
        self.round += 1
        inc_out = self.tmp / "inc-public"
        build(self.config(0), self.stores[0], inc_out, now=self.now)
        cold = self.stores[1]
        with cold.transaction():
            for sql in ("DELETE FROM archive_weeks", "DELETE FROM changed_hours",
                        "DELETE FROM meta WHERE key = 'archive_weeks'", "DELETE FROM outputs"):
                cold.db.execute(sql)
        cold_out = self.tmp / f"cold-public-{self.round}"
        build(self.config(1), cold, cold_out, now=self.now)
        inc, fresh = _tree(inc_out), _tree(cold_out)
        # Each folder's list of what feedkit wrote there names exactly the files it holds (the
        # incremental one may hold more: see below).
        for tree, folder in ((inc, inc_out), (fresh, cold_out)):
            del tree[MANIFEST]
            assert read_manifest(folder) == set(tree), f"round {self.round}: {folder.name}"
        differ = sorted(k for k in fresh if inc.get(k) != fresh[k])
        assert differ == [], f"round {self.round}: differ from a cold build: {differ}"
        extra = sorted(k for k in inc if k not in fresh)
        assert all(k.startswith("category/") for k in extra), \
            f"round {self.round}: only in the incremental output: {extra}"

    def close(self) -> None:
        for store in self.stores:
            store.close()


@pytest.fixture
def twin(tmp_path, backend):
    with backend.another(tmp_path / "cold-store") as cold_backend:
        pair = Twin(tmp_path, backend, cold_backend)
        try:
            yield pair
        finally:
            pair.close()


def test_every_change_builds_what_a_cold_build_makes(twin: Twin, tmp_path: Path) -> None:
    articles = _articles()
    twin.upsert(articles)
    twin.check()
    twin.check()                                             # nothing changed
    # today's news, and an old article found late (a week long past)
    twin.upsert(korean_articles(3, NOW - timedelta(days=3), prefix="new-"))
    twin.upsert(korean_articles(1, W24 - timedelta(days=40), prefix="late-"))
    twin.check()
    # an edit in place, and an edit that moves an article to another week and department
    edited = dataclasses.replace(articles[0], title=articles[0].title + " (수정)")
    moved = dataclasses.replace(articles[12], published=articles[12].published
                                - timedelta(days=9), category="새로운과")
    twin.upsert([edited, moved])
    twin.check()
    # the only article of its week withdrawn: the week leaves the archive, its neighbours
    # link past it; then restored
    lonely = next(a for a in articles if a.id.endswith("lonely-0000"))
    twin.each(lambda s: withdrawals.withdraw(s, lonely.id, "정정 요청", NOW))
    twin.check()
    assert not (tmp_path / "inc-public" / "digest" / "2024-W20.html").exists()
    twin.each(lambda s: withdrawals.restore(s, lonely.url))
    twin.check()
    # an exported withdrawal imported over the live article
    exported = tmp_path / "withdrawn.jsonl"
    gone = articles[20]
    exported.write_text(json.dumps({
        "id": gone.id, "url": gone.url, "title": gone.title,
        "published": gone.published.isoformat(), "category": gone.category,
        "withdrawn": {"at": "2024-07-01T00:00:00+00:00", "reason": "법적 요청"}},
        ensure_ascii=False) + "\n", encoding="utf-8")
    twin.each(lambda s: import_files(s, [FileSpec(exported)], SEOUL))
    twin.check()
    # an editor's note on a past week, then time passes: the week in progress joins
    twin.each(lambda s: decisions.set_note(s, "2024-W25", "**알림**: 휴관", NOW))
    twin.check()
    twin.now = NOW + timedelta(days=7)
    twin.check()


def test_config_template_language_and_timezone_changes(twin: Twin, tmp_path: Path) -> None:
    twin.upsert(_articles())
    twin.check()
    twin.sections["categories"] = {"exclude_from_digest": ["웅천읍"],
                                   "names": {"읍·면·동 소식": ["*동", "*읍"]}}
    twin.check()
    twin.upsert(korean_articles(2, W24 - timedelta(days=3), categories=("웅천읍",),
                                prefix="hidden-"))
    twin.check()
    mine = tmp_path / "templates"
    mine.mkdir()
    html = (bundled_templates_dir() / "digest.html.j2").read_text(encoding="utf-8")
    (mine / "digest.html.j2").write_text(html.replace("<body", "<!-- mine --><body"),
                                         encoding="utf-8")
    twin.sections["build"] = {"out": "public", "templates": str(mine)}
    twin.check()
    assert "<!-- mine -->" in (tmp_path / "inc-public" / "digest" / "2024-W24.html").read_text(
        encoding="utf-8")
    twin.sections["site"] = {"title": "Boryeong News", "url": "https://www.brcn.go.kr/",
                             "feed_url": "https://news.example.org/boryeong/",
                             "language": "en"}
    twin.check()
    twin.sections["site"] = {**twin.sections["site"], "timezone": "America/St_Johns"}
    twin.check()


def test_one_change_reads_and_renders_only_its_week(tmp_path, backend, monkeypatch) -> None:
    """Without timing: after a build, one withdrawn article (or a few new ones) makes the next
    build read that week's rows only, render that week's page only, and make the digest feed's
    item of that week only, from the same read (the other weeks' items are kept). No read of
    every article."""
    import feedkit.site.archive as archive
    from feedkit.digest.render import DigestRenderer
    from feedkit.store import archive_table

    articles = []
    for week in range(10):
        articles += korean_articles(12, W24 - timedelta(days=7 * week), seed=week,
                                    prefix=f"w{week}-")
    config = config_for(tmp_path, backend, digest={"archive": True})
    out = tmp_path / "public"
    with backend.open_store() as store:
        with store.transaction():
            store.upsert(articles)
        build(config, store, out, now=NOW)

        reads: list[tuple[str, int]] = []
        rendered: list[str] = []
        loaded: list[str] = []

        def counted(name, rows):
            n = 0
            for row in rows:
                n += 1
                yield row
            reads.append((name, n))

        real_between, real_every = archive_table.articles_between, archive_table.every_article
        monkeypatch.setattr(archive_table, "articles_between",
                            lambda *a: counted("week", real_between(*a)))
        monkeypatch.setattr(archive_table, "every_article",
                            lambda *a: counted("every", real_every(*a)))
        real_page, real_load = DigestRenderer.web_page, archive.load_digest
        monkeypatch.setattr(DigestRenderer, "web_page", lambda self, digest, nav=None: (
            rendered.append(digest.week.label) or real_page(self, digest, nav)))
        monkeypatch.setattr(archive, "load_digest", lambda config, store, week, until=None: (
            loaded.append(week.label) or real_load(config, store, week, until)))

        victim = articles[5 * 12 + 4]            # in 2024-W19
        withdrawals.withdraw(store, victim.id, "정정", NOW)
        report = build(config, store, out, now=NOW)
        assert reads == [("week", 11)]           # the week's 11 articles left, nothing else
        assert rendered == ["2024-W19"]
        assert loaded == ["2024-W19"]           # once: its page and its feed item
        assert sorted(w for w in report.written if w.startswith("digest/")) == [
            "digest/2024-W19.html", "digest/feed.xml", "digest/index.html"]

        reads.clear(), rendered.clear(), loaded.clear()
        with store.transaction():
            store.upsert(korean_articles(3, W24 + timedelta(days=14), prefix="today-"))
        build(config, store, out, now=NOW)
        # a new week: its page, and the page before it, whose "next" link now points at it
        assert reads == [("week", 3)] and sorted(rendered) == ["2024-W24", "2024-W26"]
        assert sorted(loaded) == ["2024-W24", "2024-W26"]


def test_kept_category_counts_match_a_count_of_the_articles(tmp_path, backend) -> None:
    """The counts the writers keep (feedkit.store.changes) against a count of the rows, after
    a random run of inserts, edits moving articles between departments and dates, withdrawals,
    restores and imported withdrawals, at several publication cutoffs."""
    import random

    rng = random.Random(26)
    cats = ("세무과", "관광과", "", "복지정책과")
    start = datetime(2024, 1, 1, tzinfo=SEOUL)
    live: dict[str, object] = {}
    withdrawn: list[str] = []
    cutoffs = [None] + [int((start + timedelta(days=d)).timestamp()) for d in (3, 40, 200)]

    def counted(store, until):
        cut = "" if until is None else f" AND published_ts <= {until}"
        return [(c, n, first, last) for c, n, first, last in store.db.execute(
            "SELECT category, count(*), min(published_ts), max(published_ts) FROM articles "
            f"WHERE category != ''{cut} GROUP BY category ORDER BY count(*) DESC, category")]

    def kept(store, until):
        return [(c.name, c.count, int(c.first.timestamp()), int(c.last.timestamp()))
                for c in store.categories(until)]

    with backend.open_store() as store:
        for step in range(60):
            action = rng.random()
            if action < 0.5 or not live:
                batch = [dataclasses.replace(
                    a, category=rng.choice(cats),
                    published=start + timedelta(days=rng.randrange(300), hours=rng.random()))
                    for a in korean_articles(rng.randrange(1, 8), start, seed=step,
                                             prefix=f"s{step}-")]
                edits = [dataclasses.replace(live[i], category=rng.choice(cats),
                                             published=live[i].published
                                             + timedelta(days=rng.choice((0, 0, 5, -30))),
                                             title=f"고침 {step}")
                         for i in rng.sample(sorted(live), min(len(live), 3))]
                batch += [dataclasses.replace(a, updated=a.published) for a in edits]
                with store.transaction():
                    store.upsert(batch)
                live.update({a.id: a for a in batch})
            elif action < 0.75:
                victim = rng.choice(sorted(live))
                withdrawals.withdraw(store, victim, "정정", NOW)
                withdrawn.append(victim)
                del live[victim]
            elif action < 0.9 and withdrawn:
                back = withdrawn.pop(rng.randrange(len(withdrawn)))
                withdrawals.restore(store, back)
                live[back] = store.get(back)
            else:
                victim = rng.choice(sorted(live))
                with store.transaction():
                    withdrawals.put_withdrawn(store, live.pop(victim), "법적 요청",
                                              "2024-07-01T00:00:00+00:00")
                withdrawn.append(victim)
            for until in cutoffs:
                assert kept(store, until) == counted(store, until), (step, until)


def test_writes_during_a_fresh_count_are_not_lost(tmp_path, backend, monkeypatch) -> None:
    """A fresh count of the weeks reads every article outside any transaction, so an import
    may land meanwhile (a second process, its own connection): the kept weeks still hold it,
    and a later build equals one from nothing."""
    from feedkit.store import archive_table

    config = config_for(tmp_path, backend, digest={"archive": True})
    out = tmp_path / "public"
    with backend.open_store() as store, backend.open_store() as other:
        with store.transaction():
            store.upsert(_articles())
        real = archive_table.every_article
        late = korean_articles(2, W24 - timedelta(days=3), prefix="during-")

        def reading_while_others_write(*args):
            rows = real(*args)
            for i, row in enumerate(rows):
                if i == 3:
                    with other.transaction():
                        other.upsert(late)
                yield row

        monkeypatch.setattr(archive_table, "every_article", reading_while_others_write)
        build(config, store, out, now=NOW)
        monkeypatch.undo()
        counts = dict(store.db.execute("SELECT week, articles FROM archive_weeks"))
        expected: dict[str, int] = {}
        for (ts,) in store.db.execute("SELECT published_ts FROM articles"):
            year, week, _ = datetime.fromtimestamp(ts, SEOUL).isocalendar()
            label = f"{year}-W{week:02d}"
            expected[label] = expected.get(label, 0) + 1
        assert counts == expected and counts["2024-W23"] == 9 + 1   # one of the two landed there
        assert archive_table.changed_hours(store) == []
        build(config, store, out, now=NOW)
        fresh = tmp_path / "fresh"
        with store.transaction():
            for sql in ("DELETE FROM archive_weeks", "DELETE FROM changed_hours",
                        "DELETE FROM meta WHERE key = 'archive_weeks'", "DELETE FROM outputs"):
                store.db.execute(sql)
        build(config, store, fresh, now=NOW)
        assert _tree(out) == _tree(fresh)
