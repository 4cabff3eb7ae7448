"""The weekly digest is sent by whichever run first finds it due (default Monday 08:00 in the
site's timezone); earlier runs say "not due until …", later ones are no-ops via the send log."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from _digest_support import (
    SEOUL,
    SITE_AND_SENDER_TOML,
    korean_articles,
    smtp_server,
    store_with,
    write_config_toml,
)
from click.testing import CliRunner

from feedkit.cli import cli
from feedkit.errors import UsageError
from feedkit.mail.schedule import due_digest, parse_now, pinned_now

LONDON = ZoneInfo("Europe/London")


@pytest.mark.parametrize(("now", "week", "due_at", "is_due"), [
    # 2024-06-17 is a Monday; the week before it is 2024-W24 (June 10-16).
    (datetime(2024, 6, 17, 7, 59, tzinfo=SEOUL), "2024-W24", "2024-06-17 08:00", False),
    (datetime(2024, 6, 17, 8, 0, tzinfo=SEOUL), "2024-W24", "2024-06-17 08:00", True),
    (datetime(2024, 6, 17, 9, 0, tzinfo=SEOUL), "2024-W24", "2024-06-17 08:00", True),
    (datetime(2024, 6, 22, 23, 0, tzinfo=SEOUL), "2024-W24", "2024-06-17 08:00", True),
    # Sunday 23:30 in Seoul: W24 is still the week in progress, W23's digest is long due.
    (datetime(2024, 6, 16, 23, 30, tzinfo=SEOUL), "2024-W23", "2024-06-10 08:00", True),
    # Sunday 23:00 UTC is Monday 08:00 in Seoul: the UTC clock of a CI runner is converted.
    (datetime(2024, 6, 16, 23, 0, tzinfo=UTC), "2024-W24", "2024-06-17 08:00", True),
    (datetime(2024, 6, 16, 22, 59, tzinfo=UTC), "2024-W24", "2024-06-17 08:00", False),
    # Across a year: Monday 2024-12-30 is in ISO week 2025-W01.
    (datetime(2024, 12, 30, 8, 30, tzinfo=SEOUL), "2024-W52", "2024-12-30 08:00", True),
])
def test_due_time_of_last_weeks_digest(now, week, due_at, is_due) -> None:
    due = due_digest(now, SEOUL)
    assert due.week.label == week
    assert due.at.strftime("%Y-%m-%d %H:%M") == due_at and due.at.tzinfo == SEOUL
    assert due.is_due is is_due


def test_configured_day_and_hour_in_another_timezone() -> None:
    # Due Tuesday 06:00 London time; 2024-04-02 is the Tuesday after the clocks went forward
    # (31 March), so 06:00 there is 05:00 UTC.
    due = due_digest(datetime(2024, 4, 2, 4, 59, tzinfo=UTC), LONDON, "Tuesday", 6)
    assert due.week.label == "2024-W13" and not due.is_due   # 05:59 BST
    assert due.at == datetime(2024, 4, 2, 5, 0, tzinfo=UTC)
    assert due_digest(datetime(2024, 4, 2, 5, 0, tzinfo=UTC), LONDON, "tuesday", 6).is_due
    sunday = due_digest(datetime(2024, 6, 23, 18, 0, tzinfo=SEOUL), SEOUL, "sunday", 18)
    assert sunday.week.label == "2024-W24" and sunday.is_due


def test_now_parsing() -> None:
    assert parse_now("2024-06-17 08:00", SEOUL) == datetime(2024, 6, 17, 8, tzinfo=SEOUL)
    assert parse_now("2024-06-16T23:00:00+00:00", SEOUL) == datetime(2024, 6, 16, 23,
                                                                     tzinfo=UTC)
    with pytest.raises(UsageError, match="--now"):
        parse_now("monday morning", SEOUL)
    # --today pins the day as reached: its last minute.
    assert pinned_now(None, date(2024, 6, 17), SEOUL) == datetime(2024, 6, 17, 23, 59,
                                                                  tzinfo=SEOUL)


SITE = SITE_AND_SENDER_TOML + """to = ["a@example.com", "b@example.com"]
{extra}

[smtp]
host = "127.0.0.1"
port = {port}
tls = "none"
timeout = 5
"""


def _send(config: Path, *args: str):
    return CliRunner().invoke(cli, ["--config", str(config), "digest", "send", *args])


def test_hourly_runs_send_once_when_due_and_catch_up_a_missed_hour(tmp_path: Path, monkeypatch,
                                                                  backend) -> None:
    """On SQLite, and on PostgreSQL with the URL from $FEEDKIT_STORE_URL (a CI secret) and the
    schema from config.toml, as a scheduled job on a shared store runs it."""
    monkeypatch.setenv("FEEDKIT_SECRET", "test-secret-0123456789abcdef")  # send-log key
    for name, value in backend.env({}).items():
        monkeypatch.setenv(name, value)
    with smtp_server() as (server, port):
        config = write_config_toml(tmp_path, SITE.format(port=port, extra="")
                                   + "\n" + backend.store_lines(with_url=False))
        store_with(tmp_path, korean_articles(5, datetime(2024, 6, 10, tzinfo=SEOUL)),
                   backend).close()
        early = _send(config, "--now", "2024-06-17 07:17")
        assert early.exit_code == 0, early.output
        assert "2024-W24: not due until 2024-06-17 08:00 (Asia/Seoul); nothing sent" in \
            early.stdout
        assert server.received == []
        # The 08:00 run never happened (GitHub dropped it); the 09:17 run catches up.
        late = _send(config, "--now", "2024-06-17 09:17")
        assert late.exit_code == 0, late.output
        assert server.count_by_recipient() == {"a@example.com": 1, "b@example.com": 1}
        assert all("2024-W24" in got.message["Message-ID"] for got in server.received)
        # Every later run that week is a no-op.
        for hour in ("10:17", "23:17"):
            again = _send(config, "--now", f"2024-06-17 {hour}")
            assert again.exit_code == 0 and "0 sent, 2 already sent" in again.stdout
        assert len(server.received) == 2
        # Next Monday before 08:00: W25's digest is not due yet, and W24 is not sent again.
        monday = _send(config, "--now", "2024-06-24 07:59")
        assert "2024-W25: not due until 2024-06-24 08:00" in monday.stdout
        assert len(server.received) == 2
    # ... and the send log that made them no-ops is in the backend's store.
    assert backend.rows("SELECT week, status, count(*) FROM send_log GROUP BY week, status") == [
        ("2024-W24", "sent", 2)]


def test_send_day_and_hour_from_config_and_explicit_week_ignores_them(tmp_path: Path,
                                                                     monkeypatch) -> None:
    monkeypatch.setenv("FEEDKIT_SECRET", "test-secret-0123456789abcdef")  # send-log key
    with smtp_server() as (server, port):
        config = write_config_toml(tmp_path, SITE.format(
            port=port, extra='send_day = "wednesday"\nsend_hour = 14'))
        store_with(tmp_path, korean_articles(5, datetime(2024, 6, 10, tzinfo=SEOUL))).close()
        result = _send(config, "--today", "2024-06-18")   # a Tuesday: the whole day reached
        assert "not due until 2024-06-19 14:00" in result.stdout
        assert server.received == []
        explicit = _send(config, "--week", "2024-W24", "--now", "2024-06-18 09:00")
        assert explicit.exit_code == 0 and len(server.received) == 2


def test_bad_send_day_or_hour_is_a_config_error(tmp_path: Path) -> None:
    for extra, key in (('send_day = "mon"', "send_day"), ("send_hour = 24", "send_hour")):
        config = write_config_toml(tmp_path, SITE.format(port=25, extra=extra))
        result = _send(config)
        assert result.exit_code == 2 and f"[digest] {key}" in result.stderr
