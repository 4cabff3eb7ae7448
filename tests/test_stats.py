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


def test_stats_counts_each_digest_week_from_the_send_log(built_site: Site) -> None:
    rows = [("2024-W24", "a", "sent", "2024-06-17T01:00:00+00:00"),
            ("2024-W24", "b", "failed", "2024-06-17T02:00:00+00:00"),
            ("2024-W24", "c", "sent", "2024-06-17T00:30:00+00:00"),
            ("2024-W25", "a", "deferred", "2024-06-24T01:00:00+00:00")]
    for week, who, status, at in rows:
        built_site.backend.execute(
            "INSERT INTO send_log (week, recipient, message_id, status, attempts, error, "
            "updated_at) VALUES (?, ?, ?, ?, 1, '', ?)",
            week, "hmac-sha256:" + who * 64, f"<{who}@example.org>", status, at)
    data = json.loads(built_site.run("stats", "--json").stdout)
    assert data["digests"] == [
        {"week": "2024-W25", "sent": 0, "failed": 0, "last": "2024-06-24T01:00:00+00:00"},
        {"week": "2024-W24", "sent": 2, "failed": 1, "last": "2024-06-17T02:00:00+00:00"}]
