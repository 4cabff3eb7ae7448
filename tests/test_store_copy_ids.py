"""``store copy`` into PostgreSQL moves the id sequence past the copied ids, at the boundary too:
a destination whose sequence would hand out exactly the highest copied id next (it gave out
ids before, which the copy replaced) must not give a new subscriber an id already taken.
SQLite file as the source, the test session's PostgreSQL (a fresh schema) as the destination."""

from __future__ import annotations

from datetime import UTC, datetime

import pg
import pytest

from feedkit.store.articles import Store
from feedkit.store.copy import copy_store
from feedkit.subscribers import repo

T0 = datetime(2024, 6, 1, tzinfo=UTC)


@pytest.fixture
def pg_backend(tmp_path, pg_schema) -> pg.Backend:
    return pg.Backend("postgresql", tmp_path, pg_schema)


def test_the_next_subscriber_after_a_copy_gets_a_new_id(tmp_path, pg_backend):
    source = Store(tmp_path / "source.db")
    for n in range(3):
        repo.add(source, f"reader{n}@example.com", [], "ko", "command", "v1", T0, T0)
    destination = pg_backend.open_store()
    for n in range(2):   # the destination's sequence has handed out 1 and 2 already
        repo.add(destination, f"old{n}@example.org", [], "ko", "command", "v1", T0, T0)
    copy_store(source, destination, replace=True)
    assert [s.id for s in repo.listing(destination)] == [1, 2, 3]
    new, what = repo.add(destination, "new@example.com", [], "ko", "command", "v1", T0, T0)
    assert what == "added" and new.id == 4
    source.close()
    destination.close()
