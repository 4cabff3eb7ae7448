"""`feedkit stats`: counts come from the store (SQLite or PostgreSQL: each test runs on both),
read independently with sqlite3 / psycopg."""

from __future__ import annotations

import json

import pytest
from conftest import Site


@pytest.fixture
def built_site(built_backend_site: Site) -> Site:
    return built_backend_site


def test_stats_json_matches_the_store(built_site: Site) -> None:
    data = json.loads(built_site.run("stats", "--json").stdout)
    assert data["articles"] == built_site.rows("SELECT count(*) FROM articles")[0][0]
    expected = dict(built_site.rows(
        "SELECT category, count(*) FROM articles WHERE category != '' GROUP BY category"))
    assert {c["name"]: c["articles"] for c in data["categories"]} == expected
    assert data["uncategorised"] == built_site.rows(
        "SELECT count(*) FROM articles WHERE category = ''")[0][0]
    assert data["first"] == "2023-12-28" and data["last"] == "2024-12-20"
    assert data["last_import"]  # set by the import
    assert data["digests"] == []


def test_stats_text_is_readable(built_site: Site) -> None:
    out = built_site.run("stats").stdout
    assert "articles: 7" in out
    assert "세무과" in out and "(no category)" in out
    assert "digests sent: none" in out
