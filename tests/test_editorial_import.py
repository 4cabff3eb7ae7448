"""Importing an editor's decisions (``feedkit import --editorial``): per week the newer decision
wins, an older one never does, and equal times keep what the store has (issue 27, item 3).

Why equal times must keep the store's: an editor who approves and then imports the committed
file written by the very same decision (or by another machine in the same second) must not have
it flipped by a line that is no newer than their own. Every case goes through the CLI, on SQLite
and on PostgreSQL (the ``backend`` fixture), and the store is read back with sqlite3 / psycopg.
"""

from __future__ import annotations

import json

import pytest
from conftest import Site

WEEK = "2024-W51"
# The store's decision: made at 07:00 in Seoul, 22:00 UTC the day before.
AT_LOCAL = "2024-12-23 07:00"
SAME_UTC = "2024-12-22T22:00:00+00:00"
SAME_SEOUL = "2024-12-23T07:00:00+09:00"      # the same instant, written with Seoul's offset
ONE_SECOND_LATER = "2024-12-22T22:00:01+00:00"
ONE_SECOND_EARLIER = "2024-12-22T21:59:59+00:00"


@pytest.fixture
def site(tmp_path, backend) -> Site:
    site = Site(tmp_path / "site")
    site.use(backend)
    site.run("import")
    return site


def _import(site: Site, tmp_path, *records: dict) -> None:
    path = tmp_path / "editorial.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), "utf-8")
    site.run("import", "--editorial", str(path))


def _approval(site: Site) -> tuple:
    return tuple(site.rows("SELECT approved, changed_at FROM digest_approvals WHERE week = ?",
                           WEEK)[0])


def _note(site: Site) -> tuple:
    return tuple(site.rows("SELECT markdown, changed_at FROM digest_notes WHERE week = ?",
                           WEEK)[0])


@pytest.mark.parametrize("at", [SAME_UTC, SAME_SEOUL])
def test_an_approval_at_the_same_time_keeps_the_stores(site, tmp_path, at):
    site.run("digest", "approve", "--week", WEEK, "--now", AT_LOCAL)
    assert _approval(site) == (1, SAME_UTC)
    _import(site, tmp_path, {"week": WEEK, "kind": "approval", "approved": False,
                             "changed_at": at})
    assert _approval(site) == (1, SAME_UTC)
    # ... and the other way round: the store's revocation stands against an equal approval.
    site.run("digest", "approve", "--week", WEEK, "--revoke", "--now", "2024-12-23 08:00")
    _import(site, tmp_path, {"week": WEEK, "kind": "approval", "approved": True,
                             "changed_at": "2024-12-22T23:00:00+00:00"})
    assert _approval(site) == (0, "2024-12-22T23:00:00+00:00")


def test_an_approval_newer_by_a_second_wins_and_an_older_one_never(site, tmp_path):
    site.run("digest", "approve", "--week", WEEK, "--now", AT_LOCAL)
    _import(site, tmp_path, {"week": WEEK, "kind": "approval", "approved": False,
                             "changed_at": ONE_SECOND_EARLIER})
    assert _approval(site) == (1, SAME_UTC)
    _import(site, tmp_path, {"week": WEEK, "kind": "approval", "approved": False,
                             "changed_at": ONE_SECOND_LATER})
    assert _approval(site) == (0, ONE_SECOND_LATER)
    # The revocation now in the store: an approval as old as the first one cannot undo it.
    _import(site, tmp_path, {"week": WEEK, "kind": "approval", "approved": True,
                             "changed_at": SAME_UTC})
    assert _approval(site) == (0, ONE_SECOND_LATER)


@pytest.mark.parametrize("at", [SAME_UTC, SAME_SEOUL])
def test_a_note_at_the_same_time_keeps_the_stores(site, tmp_path, at):
    site.run("digest", "note", "--week", WEEK, "--now", AT_LOCAL, "편집자의 **메모**")
    assert _note(site) == ("편집자의 **메모**", SAME_UTC)
    _import(site, tmp_path, {"week": WEEK, "kind": "note", "markdown": "다른 메모",
                             "changed_at": at})
    assert _note(site) == ("편집자의 **메모**", SAME_UTC)
    # A cleared note is a decision too: an equal-time note does not bring text back.
    site.run("digest", "note", "--week", WEEK, "--clear", "--now", "2024-12-23 08:00")
    _import(site, tmp_path, {"week": WEEK, "kind": "note", "markdown": "되살린 메모",
                             "changed_at": "2024-12-22T23:00:00+00:00"})
    assert _note(site) == ("", "2024-12-22T23:00:00+00:00")


def test_a_note_newer_by_a_second_wins_and_an_older_one_never(site, tmp_path):
    site.run("digest", "note", "--week", WEEK, "--now", AT_LOCAL, "처음 메모")
    _import(site, tmp_path, {"week": WEEK, "kind": "note", "markdown": "오래된 메모",
                             "changed_at": ONE_SECOND_EARLIER})
    assert _note(site) == ("처음 메모", SAME_UTC)
    _import(site, tmp_path, {"week": WEEK, "kind": "note", "markdown": "새 메모",
                             "changed_at": ONE_SECOND_LATER})
    assert _note(site) == ("새 메모", ONE_SECOND_LATER)
    # The digest shows the imported note, and the export carries it on.
    text = site.run("digest", "render", "--week", WEEK, "--text", "-").stdout
    assert "새 메모" in text and "처음 메모" not in text
    out = site.root / "again.jsonl"
    site.run("export", "--out", str(site.root / "store.jsonl"), "--editorial", str(out))
    assert json.loads(out.read_text("utf-8")) == {
        "week": WEEK, "kind": "note", "markdown": "새 메모", "changed_at": ONE_SECOND_LATER}


def test_one_file_with_both_kinds_is_decided_per_week_and_kind(site, tmp_path):
    """An approval newer than the store's and a note older than the store's, in one file:
    the approval is taken, the note is not."""
    site.run("digest", "approve", "--week", WEEK, "--now", AT_LOCAL)
    site.run("digest", "note", "--week", WEEK, "--now", AT_LOCAL, "그대로")
    _import(site, tmp_path,
            {"week": WEEK, "kind": "approval", "approved": False, "changed_at": ONE_SECOND_LATER},
            {"week": WEEK, "kind": "note", "markdown": "바뀜", "changed_at": ONE_SECOND_EARLIER})
    assert _approval(site) == (0, ONE_SECOND_LATER)
    assert _note(site) == ("그대로", SAME_UTC)


def _generation(site: Site) -> int:
    rows = site.rows("SELECT value FROM meta WHERE key = 'generation'")
    return int(rows[0][0]) if rows else 0


def test_only_a_note_taken_moves_the_stores_generation(site, tmp_path):
    """A note decides what a week's archive page says, so a note the import takes moves the
    store's generation (the build renders that page again); an approval, or a note no newer
    than the store's, moves nothing (no page changed: nothing to render again)."""
    site.run("digest", "note", "--week", WEEK, "--now", AT_LOCAL, "처음 메모")
    before = _generation(site)
    _import(site, tmp_path,
            {"week": WEEK, "kind": "approval", "approved": True, "changed_at": ONE_SECOND_LATER},
            {"week": WEEK, "kind": "note", "markdown": "오래된 메모",
             "changed_at": ONE_SECOND_EARLIER})
    assert _generation(site) == before
    _import(site, tmp_path, {"week": WEEK, "kind": "note", "markdown": "새 메모",
                             "changed_at": ONE_SECOND_LATER})
    assert _generation(site) == before + 1
