"""``feedkit subscribers``: add, remove, list, count, import, export through the real CLI and
the real store; exit codes of the contract; no address in the output of the commands that
change the list. Every test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import csv
import json
import os
import stat
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from feedkit.subscribers import repo

CSV_HEAD = "email,consent,categories,language\n"
SEOUL = ZoneInfo("Asia/Seoul")
NOW = datetime(2026, 12, 1, tzinfo=UTC)


@pytest.fixture
def site(site, backend):
    """The conftest site, on SQLite and on PostgreSQL."""
    return site.use(backend)


def test_add_count_list_and_remove(site) -> None:
    r = site.run("subscribers", "add", "Kim.Chul@Example.org", "--category", "세무과",
                 "--category", "관광과", "--consent-at", "2024-05-01")
    assert r.output.strip() == "subscriber #1: added"
    assert "Kim" not in r.output
    site.run("subscribers", "add", "lee@example.org")
    assert site.run("subscribers", "count").output.strip() == \
        "0 pending, 2 active, 0 unsubscribed, 0 bounced"
    listed = json.loads(site.run("subscribers", "list", "--json").output)
    assert [(s["email"], s["categories"], s["consent_via"], s["consent_at"])
            for s in listed] == [
        ("Kim.Chul@Example.org", ["관광과", "세무과"], "command", "2024-04-30T15:00:00+00:00"),
        ("lee@example.org", [], "command", listed[1]["consent_at"])]
    assert listed[0]["language"] == "ko"
    r = site.run("subscribers", "remove", "KIM.CHUL@example.org")
    assert r.output.strip() == "subscriber #1: unsubscribed"
    assert json.loads(site.run("subscribers", "count", "--json").output) == \
        {"pending": 0, "active": 1, "unsubscribed": 1, "bounced": 0}
    # someone who left is not added back by the operator
    r = site.run("subscribers", "add", "kim.chul@example.org", ok=False)
    assert r.exit_code == 1 and "only the reader can subscribe again" in r.stderr
    text = site.run("subscribers", "list", "--status", "active").output
    assert text.splitlines() == ["#2\tactive\tlee@example.org\t*\tko"]
    r = site.run("subscribers", "remove", "lee@example.org", "--erase")
    assert r.output.strip() == "subscriber #2: erased"
    assert site.rows("SELECT count(*) FROM subscribers WHERE normalised LIKE 'lee%'") == [(0,)]


def test_bad_input_exits_with_the_contract_codes(site) -> None:
    r = site.run("subscribers", "add", "not-an-address", ok=False)
    assert r.exit_code == 2 and "not a usable email address" in r.stderr
    assert "Traceback" not in r.output
    r = site.run("subscribers", "add", "a@example.org", "--consent-at", "yesterday", ok=False)
    assert r.exit_code == 2 and "--consent-at" in r.stderr
    r = site.run("subscribers", "remove", "nobody@example.org", ok=False)
    assert r.exit_code == 1 and "no subscriber with that address" in r.stderr
    assert "nobody" not in r.stderr


def test_import_names_bad_rows_imports_the_rest_and_is_idempotent(site) -> None:
    path = site.root / "list.csv"
    path.write_text(CSV_HEAD
                    + "kim@example.org,2023-03-01,세무과;관광과,ko\n"
                    + "bad address,2023-03-01,,\n"
                    + "lee@example.org,,,\n"
                    + "\n"
                    + "park@example.org,2023-03-01 14:05:00+09:00,,en\n"
                    + "choi@example.org,March 1st,,\n", encoding="utf-8")
    r = site.run("subscribers", "import", str(path), ok=False)
    assert r.exit_code == 3
    assert r.stderr.splitlines() == [
        "list.csv:3: not a usable email address (not an email address), skipped",
        "list.csv:4: empty consent: a reader without a consent record cannot be imported, "
        "skipped",
        "list.csv:7: consent is not a date (expected YYYY-MM-DD or an ISO 8601 date-time), "
        "skipped"]
    assert "2 added, 0 updated, 0 unchanged" in r.output
    with site.store() as store:
        kim = repo.find(store, "kim@example.org")
        park = repo.find(store, "park@example.org")
    assert (kim.categories, kim.consent_at, kim.consent_via, kim.consent_version) == \
        (("관광과", "세무과"), "2023-02-28T15:00:00+00:00", "import", "import")
    assert (park.language, park.consent_at) == ("en", "2023-03-01T05:05:00+00:00")
    before = site.rows("SELECT * FROM subscribers ORDER BY id")
    r = site.run("subscribers", "import", str(path), ok=False)
    assert "0 added, 0 updated, 2 unchanged" in r.output
    assert site.rows("SELECT * FROM subscribers ORDER BY id") == before


def test_import_of_only_bad_rows_fails_and_a_file_without_consent_is_a_usage_error(site):
    path = site.root / "bad.csv"
    path.write_text(CSV_HEAD + "nope,2023-01-01,,\n", encoding="utf-8")
    assert site.run("subscribers", "import", str(path), ok=False).exit_code == 1
    path.write_text("email,name\nkim@example.org,Kim\n", encoding="utf-8")
    r = site.run("subscribers", "import", str(path), ok=False)
    assert r.exit_code == 2 and "bad.csv:1: the header has no consent column" in r.stderr
    r = site.run("subscribers", "import", str(site.root / "missing.csv"), ok=False)
    assert r.exit_code == 2


def test_a_mailchimp_audience_export_imports(site) -> None:
    path = site.root / "members.csv"
    path.write_text('\ufeff"Email Address","First Name",MEMBER_RATING,OPTIN_TIME,CONFIRM_TIME\n'
                    '"kim@example.org","Kim",2,"2022-01-05 10:00:00","2022-01-05 10:03:00"\n',
                    encoding="utf-8")
    site.run("subscribers", "import", str(path))
    with site.store() as store:
        kim = repo.find(store, "kim@example.org")
    # CONFIRM_TIME (the confirmed opt-in) is the consent; the site's timezone reads it
    assert (kim.status, kim.consent_at) == ("active", "2022-01-05T01:03:00+00:00")


def _new_store(site) -> None:
    """Throw the site's store away: the next command starts a new, empty one."""
    if site.is_pg:
        site.backend.execute(f'DROP SCHEMA "{site.backend.schema}" CASCADE')
    else:
        site.db.unlink()
        for extra in ("-wal", "-shm"):
            (site.root / f"articles.db{extra}").unlink(missing_ok=True)


def test_export_is_explicit_private_and_round_trips(site) -> None:
    site.run("subscribers", "add", "kim@example.org", "--category", "세무과")
    site.run("subscribers", "add", "lee@example.org", "--language", "en")
    site.run("subscribers", "remove", "lee@example.org")
    r = site.run("subscribers", "export", ok=False)
    assert r.exit_code == 2 and "--out" in r.output + r.stderr
    r = site.run("subscribers", "export", "--out", str(site.out / "list.csv"), ok=False)
    assert r.exit_code == 2 and "output folder" in r.stderr
    assert not (site.out / "list.csv").exists()
    target = site.root / "private" / "list.csv"
    site.run("subscribers", "export", "--out", str(target))
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o600
    rows = list(csv.DictReader(target.open(encoding="utf-8", newline="")))
    assert [(r["email"], r["status"], r["categories"], r["language"]) for r in rows] == [
        ("kim@example.org", "active", "세무과", "ko"),
        ("lee@example.org", "unsubscribed", "", "en")]
    # into a new store: the same readers, the same consent record
    _new_store(site)
    site.run("subscribers", "import", str(target))
    with site.store() as store:
        kim = repo.find(store, "kim@example.org")
        lee = repo.find(store, "lee@example.org")
    assert (kim.categories, kim.consent_via) == (("세무과",), "import")
    assert kim.consent_at == rows[0]["consent"]
    assert lee.status == "unsubscribed"   # the status column keeps them off the list


FORMULA_ADDRESS = "=cmd|'/C_calc'!A0@example.org"   # a valid address (RFC 5322 atext)


def test_export_neutralises_formula_cells_and_import_reads_them_back(site) -> None:
    """Issue 22: a city office opens the export in a spreadsheet; cells that start with = + -
    @ (a form's address, a source's department name) must be text there, not formulas."""
    site.run("subscribers", "add", FORMULA_ADDRESS, "--category", "=1+1",
             "--category", "@SUM(A1)")
    site.run("subscribers", "add", "--category", "+82 세무과", "--consent-version", "'=quoted",
             "--", "-kim@example.org")
    site.run("subscribers", "add", "lee@example.org", "--category", "－1")
    site.run("subscribers", "add", "k-lee@example.org", "--category", "A+B")   # harmless
    target = site.root / "private" / "list.csv"
    site.run("subscribers", "export", "--out", str(target))
    cells = [c for row in csv.reader(target.open(encoding="utf-8", newline="")) for c in row]
    dangerous = [c for c in cells if c[:1] in set("=+-@\t\r＝＋－＠")]
    assert dangerous == []
    assert "k-lee@example.org" in cells and "A+B" in cells   # only a formula's start is marked
    assert "'" + FORMULA_ADDRESS in cells and "'=1+1;@SUM(A1)" in cells
    assert "''=quoted" in cells and "'－1" in cells
    # The round trip is exact: into a new store, the same readers and departments.
    _new_store(site)
    site.run("subscribers", "import", str(target))
    with site.store() as store:
        got = {s.address: (s.categories, s.consent_version) for s in repo.listing(store)}
    assert got[FORMULA_ADDRESS][0] == ("=1+1", "@SUM(A1)")
    assert got["-kim@example.org"] == (("+82 세무과",), "'=quoted")
    assert got["lee@example.org"][0] == ("－1",)


def test_list_json_gives_every_field_of_each_reader(site) -> None:
    """`subscribers list --json` is what scripts read: every field, by its documented name."""
    site.run("subscribers", "add", "kim@example.org", "--category", "세무과", "--consent-at",
             "2024-05-01", "--consent-version", "2024-01")
    site.run("subscribers", "add", "lee@example.org", "--language", "en")
    site.run("subscribers", "remove", "lee@example.org")
    kim, lee = json.loads(site.run("subscribers", "list", "--json").output)
    assert set(kim) == {"id", "email", "status", "categories", "language", "consent_at",
                        "consent_via", "consent_version", "bounces", "created_at", "updated_at"}
    assert (kim["id"], kim["email"], kim["status"], kim["categories"], kim["consent_version"],
            kim["bounces"]) == (1, "kim@example.org", "active", ["세무과"], "2024-01", 0)
    assert (lee["id"], lee["status"], lee["language"]) == (2, "unsubscribed", "en")
    stored = dict(site.rows("SELECT id, updated_at FROM subscribers"))
    assert lee["updated_at"] == stored[2] and kim["updated_at"] == stored[1]
    assert kim["created_at"] <= lee["created_at"] <= lee["updated_at"]


def test_export_makes_its_folders_replaces_the_last_export_and_leaves_no_temporary_file(
        site, monkeypatch) -> None:
    """The list is written beside its target and renamed into place (atomic on one file
    system: never half-written), so the system's temporary folder plays no part."""
    import tempfile

    site.run("subscribers", "add", "kim@example.org")
    target = site.root / "private" / "lists" / "2026" / "list.csv"
    monkeypatch.setattr(tempfile, "tempdir", str(site.root / "no-such-temporary-folder"))
    site.run("subscribers", "export", "--out", str(target))
    site.run("subscribers", "add", "lee@example.org")
    r = site.run("subscribers", "export", "--out", str(target))
    assert r.stdout == f"{target}: 2 subscriber(s) written\n"
    assert os.listdir(target.parent) == ["list.csv"]
    rows = list(csv.DictReader(target.open(encoding="utf-8", newline="")))
    assert [(row["email"], row["bounces"]) for row in rows] == [("kim@example.org", "0"),
                                                                ("lee@example.org", "0")]
    assert target.read_bytes().count(b"\r\n") == 3 and b"\n" not in target.read_bytes().replace(
        b"\r\n", b"")


def test_an_export_that_cannot_be_put_in_place_is_one_line_and_leaves_nothing(site) -> None:
    """A folder where the file should go (the command refuses that before it starts; the
    library is asked here): the error names the target and why, and no temporary file with
    the addresses stays behind."""
    from feedkit.errors import FeedkitError
    from feedkit.subscribers.listfile import export_csv

    site.run("subscribers", "add", "kim@example.org")
    target = site.root / "private" / "list.csv"
    target.mkdir(parents=True)
    with site.store() as store, pytest.raises(FeedkitError) as caught:
        export_csv(store, target, out_dir=site.out)
    assert str(caught.value) == f"{target}: cannot write: Is a directory"
    assert os.listdir(target.parent) == ["list.csv"] and os.listdir(target) == []


def test_an_export_git_would_commit_is_written_with_a_warning(site) -> None:
    """The file holds every address: inside a git work tree and not ignored, the export says
    so; once .gitignore lists it, it says nothing."""
    import shutil
    import subprocess

    if shutil.which("git") is None:
        pytest.skip("git is not installed: nothing could commit the file")
    subprocess.run(["git", "init", "-q", str(site.root)], check=True)
    site.run("subscribers", "add", "kim@example.org")
    target = site.root / "private" / "list.csv"
    r = site.run("subscribers", "export", "--out", str(target))
    assert r.stderr == (f"{target}: WARNING: inside the git work tree {site.root.resolve()} and "
                        "not ignored: a commit would publish every address; move it or list it "
                        "in .gitignore\n")
    assert r.stdout == f"{target}: 1 subscriber(s) written\n"
    (site.root / ".gitignore").write_text("private/\n", encoding="utf-8")
    r = site.run("subscribers", "export", "--out", str(target))
    assert r.stderr == "" and target.is_file()


def test_import_reads_what_spreadsheets_save_and_names_each_bad_row(site) -> None:
    """Blank lines before the header, a BOM saved twice, comment rows (indented too), rows
    shorter than the header: read as a person means them. A bad row is named by file:line and
    why, without its text; the good rows around it are imported."""
    path = site.root / "list.csv"
    path.write_text("\n \n"
                    "email,consent,categories,language,status\n"
                    "# exported 2026-12-01\n"
                    "kim@example.org,2024-05-01\n"                       # shorter than the header
                    "  # an indented comment\n"
                    "lee@example.org,2024-05-01,세무과,en,paused\n"       # line 7: bad status
                    "park@example.org,2024-05-01,세무과;관광과,en,active\n",
                    encoding="utf-8")
    r = site.run("subscribers", "import", str(path), ok=False)
    assert r.exit_code == 3, r.output   # the contract's "some records were bad"
    assert r.stderr.splitlines()[0] == ("list.csv:7: status must be one of pending, active, "
                                        "unsubscribed, bounced, skipped")
    # A list saved with its byte-order mark twice (a spreadsheet that added its own).
    twice = site.root / "twice.csv"
    twice.write_text("\ufeff\ufeffemail,consent\nchoi@example.org,2024-05-01\n",
                     encoding="utf-8")
    site.run("subscribers", "import", str(twice))
    with site.store() as store:
        got = {s.address: (s.categories, s.language) for s in repo.listing(store)}
    assert got == {"kim@example.org": ((), "ko"),
                   "park@example.org": (("관광과", "세무과"), "en"),
                   "choi@example.org": ((), "ko")}
    with site.store() as store:
        kim = repo.find(store, "kim@example.org")
    assert kim.consent_at == "2024-04-30T15:00:00+00:00"   # a date alone: midnight in Seoul


@pytest.mark.parametrize("content, message", [
    (b"", "empty file (expected a header row and one row per reader)"),
    (b"\n \n,,\n", "empty file (expected a header row and one row per reader)"),
    (b"email,consent\n\xff\xfe,2024\n",
     "not UTF-8 (invalid start byte); save the list as UTF-8 CSV"),
])
def test_an_unreadable_list_is_one_line_naming_the_file(site, content, message) -> None:
    path = site.root / "list.csv"
    path.write_bytes(content)
    r = site.run("subscribers", "import", str(path), ok=False)
    assert r.exit_code in (1, 2) and r.stderr == f"feedkit: error: {path}: {message}\n"


def test_a_missing_or_unreadable_list_file_is_one_line(site) -> None:
    from feedkit.errors import FeedkitError, UsageError
    from feedkit.subscribers.listfile import import_csv

    missing = site.root / "missing.csv"
    r = site.run("subscribers", "import", str(missing), ok=False)
    assert r.exit_code == 2 and r.stderr == f"feedkit: error: {missing}: no such file\n"
    folder = site.root / "a-folder.csv"   # the command refuses it first; the library says why
    folder.mkdir()
    with site.store() as store, pytest.raises(FeedkitError) as caught:
        import_csv(store, folder, tz=SEOUL, language="ko", consent_version="1", now=NOW)
    assert not isinstance(caught.value, UsageError)
    assert str(caught.value) == f"{folder}: cannot read: Is a directory"
