"""The editor's commands at their edges: what mutation testing (bench/mutation.py, group
``editorial``) found no test for. Each test is about something an editor or a CI workflow sees:
a message that names the mistake, a committed file a person can read, a time that means the
same everywhere, a withdrawal imported whole, a note that reaches the archive page.

Through the CLI on the bundled sample (conftest ``Site``), the store read back with sqlite3.
"""

from __future__ import annotations

import json
import time
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from conftest import Site

from feedkit.editorial import withdrawals

WEEK = "2024-W51"
NOW = "2024-12-31T12:00"


@pytest.fixture
def site(tmp_path) -> Site:
    site = Site(tmp_path / "site")
    site.run("import")
    return site


def _an_article(site: Site) -> tuple[str, str]:
    """(id, url) of a sample article outside WEEK."""
    return site.rows("SELECT id, url FROM articles WHERE published < '2024-12-01' "
                     "ORDER BY id LIMIT 1")[0]


def _editorial(tmp_path, *lines: str, bom: bool = False):
    path = tmp_path / "editorial.jsonl"
    path.write_bytes(("\ufeff" if bom else "").encode() + "".join(
        line + "\n" for line in lines).encode("utf-8"))
    return path


# -- approvals and notes as committed text -------------------------------------------------------


def test_the_committed_decisions_file_is_readable_utf8(site, tmp_path):
    """The file goes into git and is read in reviews: Korean stays Korean, not \\uXXXX."""
    site.run("digest", "note", "--week", WEEK, "--now", "2024-12-23 07:00", "이번 주 소식")
    out = tmp_path / "decisions.jsonl"
    site.run("export", "--out", str(tmp_path / "store.jsonl"), "--editorial", str(out))
    assert "이번 주 소식".encode() in out.read_bytes()
    assert b"\\u" not in out.read_bytes()


@pytest.mark.parametrize("line, says", [
    ('{"week": "2024-W5", "kind": "approval", "approved": true, '
     '"changed_at": "2024-12-23T00:00:00+00:00"}',
     "week: expected an ISO week like 2024-W51, got '2024-W5'"),
    ('[1, 2]', "not an editorial record (expected a JSON object)"),
    ('{"week": "2024-W51", "kind": "approval", "approved": true, "changed_at": 5}',
     "changed_at: expected an ISO 8601 time with its offset, got 5"),
    ('{"week": "2024-W51", "kind": "note", "markdown": 5, '
     '"changed_at": "2024-12-23T00:00:00+00:00"}', "markdown: expected a string, got 5"),
    ('{"week": "2024-W51", "kind": "note", "markdown": "벨\\u0007소리", '
     '"changed_at": "2024-12-23T00:00:00+00:00"}', "the note contains a control character"),
])
def test_a_bad_decision_names_its_file_line_and_mistake(site, tmp_path, line, says):
    path = _editorial(tmp_path, '{"week": "2024-W50", "kind": "approval", "approved": true, '
                                '"changed_at": "2024-12-23T00:00:00+00:00"}', line)
    result = site.run("import", "--editorial", str(path), ok=False)
    assert result.exit_code == 1
    assert f"{path}:2: {says}" in result.stderr
    assert "Traceback" not in result.output
    assert site.rows("SELECT count(*) FROM digest_approvals") == [(0,)]   # all or nothing


def test_a_decisions_file_saved_with_a_bom_imports(site, tmp_path):
    """Windows Notepad writes a byte-order mark at the start of a UTF-8 file."""
    path = _editorial(tmp_path, '{"week": "2024-W51", "kind": "approval", "approved": true, '
                                '"changed_at": "2024-12-23T00:00:00+00:00"}', bom=True)
    result = site.run("-v", "import", "--editorial", str(path))
    assert f"{path}: 1 editorial records" in result.output
    assert site.rows("SELECT week, approved FROM digest_approvals") == [(WEEK, 1)]


def test_a_missing_decisions_file_imports_nothing_and_says_so(site, tmp_path):
    path = tmp_path / "never-written.jsonl"
    result = site.run("-v", "import", "--editorial", str(path))
    assert f"{path}: 0 editorial records" in result.output


def test_an_imported_newer_note_reaches_the_archive_page_at_the_next_build(site, tmp_path):
    """The build skips work when the store has not changed; an imported note is a change."""
    site.run("digest", "note", "--week", WEEK, "--now", "2024-12-23 07:00", "처음 메모")
    site.run("build", "--now", NOW)
    page = site.out / "digest" / f"{WEEK}.html"
    assert "처음 메모" in page.read_text(encoding="utf-8")
    path = _editorial(tmp_path, json.dumps({"week": WEEK, "kind": "note", "markdown": "고친 메모",
                                            "changed_at": "2024-12-24T00:00:00+00:00"},
                                           ensure_ascii=False))
    site.run("import", "--editorial", str(path))
    site.run("build", "--now", NOW)
    text = page.read_text(encoding="utf-8")
    assert "고친 메모" in text and "처음 메모" not in text


# -- withdraw and restore ------------------------------------------------------------------------


def test_a_withdrawal_is_stamped_in_utc_whatever_the_machines_time_zone(site, monkeypatch):
    """The time lands in the committed export: it must mean the same on every machine."""
    monkeypatch.setenv("TZ", "Asia/Seoul")
    time.tzset()
    try:
        article_id, _url = _an_article(site)
        with site.store() as store:
            seoul = datetime(2024, 12, 31, 9, 30, tzinfo=ZoneInfo("Asia/Seoul"))
            found, _new = withdrawals.withdraw(store, article_id, "정정", now=seoul)
        assert found.at == "2024-12-31T00:30:00+00:00"
        assert withdrawals.stamp().endswith("+00:00")
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()


def test_restoring_what_was_never_there_says_so(site):
    result = site.run("restore", "https://nope.example/1", ok=False)
    assert result.exit_code == 2
    assert "https://nope.example/1: no withdrawn article with this id or URL" in result.stderr


def test_an_imported_withdrawal_replaces_the_stores_earlier_one_whole(site, tmp_path):
    """A store rebuilt from a newer export: the withdrawn record there (the article as it was
    when withdrawn, the reason, the time) wins over the one this store holds."""
    article_id, url = _an_article(site)
    site.run("withdraw", url, "--reason", "처음 이유", "--no-build", "--now", NOW)
    export = tmp_path / "store.jsonl"
    site.run("export", "--out", str(export))
    lines = export.read_text(encoding="utf-8").splitlines()
    records = [json.loads(line) for line in lines]
    [mine] = [r for r in records if r["id"] == article_id]
    mine.update(url="https://www.brcn.go.kr/moved/1", title="바뀐 제목",
                withdrawn={"at": "2025-01-02T03:04:05+00:00", "reason": "다른 이유"})
    export.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records),
                      encoding="utf-8")
    site.run("import", str(export))
    assert site.rows("SELECT url, title, reason, withdrawn_at FROM withdrawn WHERE id = ?",
                     article_id) == [("https://www.brcn.go.kr/moved/1", "바뀐 제목", "다른 이유",
                                      "2025-01-02T03:04:05+00:00")]


@pytest.mark.parametrize("mark, says", [
    ({"at": 5, "reason": "정정"}, 'withdrawn "at" and "reason" must be strings'),
    ({"at": "2024-06-02T00:00:00+00:00", "reason": 5},
     'withdrawn "at" and "reason" must be strings'),
    ({"at": "2024-06-02T00:00:00", "reason": "정정"},
     "withdrawn \"at\" needs a UTC offset: '2024-06-02T00:00:00'"),
    ({"at": "2024-06-02T00:00:00+00:00", "reason": " \n "},
     "withdrawn reason: say why the article is withdrawn (it is kept with it)"),
    ({"at": "2024-06-02T00:00:00+00:00", "reason": "이" * 501},
     "withdrawn reason: 501 characters; at most 500"),
])
def test_a_bad_imported_withdrawal_names_its_line_and_mistake(site, tmp_path, mark, says):
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"url": "https://a.example/1", "title": "하나",
                               "published": "2024-06-01", "withdrawn": mark},
                              ensure_ascii=False) + "\n", encoding="utf-8")
    result = site.run("import", str(bad), ok=False)
    assert f"bad.jsonl:1: {says}" in result.stderr
    assert "Traceback" not in result.output
    assert site.rows("SELECT count(*) FROM withdrawn") == [(0,)]


def test_withdraw_rebuilds_the_folder_it_is_given_and_says_what_it_wrote(site, tmp_path):
    _article_id, url = _an_article(site)
    other = tmp_path / "elsewhere"
    result = site.run("-v", "withdraw", url, "--reason", "정정", "--out", str(other),
                      "--now", NOW)
    assert (other / "index.html").is_file() and not site.out.exists()
    assert f"{other}: " in result.output and " written, " in result.output
    assert "wrote index.html" in result.output
    assert url not in (other / "feed.xml").read_text(encoding="utf-8")


def _rows_file(tmp_path, *records: dict):
    path = tmp_path / "rows.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), "utf-8")
    return path


def test_withdraw_and_restore_by_url_when_ids_are_not_urls(site, tmp_path):
    """Sources with ids of their own (board numbers): the editor gives the URL they see."""
    site.run("import", str(_rows_file(
        tmp_path,
        {"id": "board-1", "url": "https://a.example/only", "title": "하나",
         "published": "2024-06-03", "department": "세무과"},
        {"id": "board-2", "url": "https://a.example/twice", "title": "둘",
         "published": "2024-06-03"},
        {"id": "board-3", "url": "https://a.example/twice", "title": "셋",
         "published": "2024-06-04"})))
    done = site.run("withdraw", "https://a.example/only", "--reason", "정정", "--no-build",
                    "--now", NOW)
    assert "하나" in done.output
    [w] = json.loads(site.run("stats", "--json").stdout)["withdrawals"]
    assert (w["id"], w["url"], w["category"], w["published"]) == (
        "board-1", "https://a.example/only", "세무과", "2024-06-03T00:00:00+09:00")
    for key in ("board-2", "board-3"):
        site.run("withdraw", key, "--reason", "중복", "--no-build", "--now", NOW)
    both = site.run("restore", "https://a.example/twice", "--no-build", ok=False)
    assert both.exit_code == 2
    assert ("https://a.example/twice: 2 withdrawn articles have this URL; give one of their "
            "ids: board-2, board-3") in both.stderr
    site.run("restore", "board-3", "--no-build")
    site.run("restore", "https://a.example/twice", "--no-build")   # one left: the URL is enough
    assert site.rows("SELECT id FROM withdrawn") == [("board-1",)]


def test_a_reason_is_one_printable_line_of_at_most_500_characters(site):
    _article_id, url = _an_article(site)
    site.run("withdraw", url, "--reason", "법원\x07 요청\n\t에 따라", "--no-build", "--now", NOW)
    assert site.rows("SELECT reason FROM withdrawn") == [("법원 요청 에 따라",)]
    site.run("restore", url, "--no-build")
    site.run("withdraw", url, "--reason", "가" * 500, "--no-build", "--now", NOW)
    assert site.rows("SELECT length(reason) FROM withdrawn") == [(500,)]


def test_approving_twice_says_when_it_was_approved(site):
    site.run("digest", "approve", "--week", WEEK, "--now", "2024-12-23 07:00")
    again = site.run("digest", "approve", "--week", WEEK, "--now", "2024-12-23 07:30")
    assert f"{WEEK}" in again.output
    assert "already approved (2024-12-22T22:00:00+00:00); nothing changed" in again.output


def test_approve_says_when_the_send_hour_comes(site):
    """With [digest] send_hour = 10, an approval at 09:00 on the send day is sent at 10:00."""
    site.config.write_text(site.config.read_text(encoding="utf-8") + "\n[digest]\nsend_hour = 10\n",
                           encoding="utf-8")
    result = site.run("digest", "approve", "--week", WEEK, "--now", "2024-12-23 09:00")
    assert "'feedkit digest send' sends it once due (2024-12-23 10:00, Asia/Seoul)" in \
        result.output


def test_a_note_is_stored_with_plain_line_ends_and_an_empty_one_is_refused(site, tmp_path):
    site.run("digest", "note", "--week", WEEK, "첫 줄\r\n둘째 줄\r셋째 줄\r\n")
    assert site.rows("SELECT markdown FROM digest_notes") == [("첫 줄\n둘째 줄\n셋째 줄",)]
    empty = site.run("digest", "note", "--week", WEEK, "  \n ", ok=False)
    assert empty.exit_code == 2
    assert "the note is empty (use --clear to remove a week's note)" in empty.stderr


def test_decisions_are_stamped_in_utc_whatever_the_machines_time_zone(site, monkeypatch):
    """Equal-time comparisons on import compare these strings: every machine writes UTC."""
    from feedkit.editorial import decisions

    monkeypatch.setenv("TZ", "Asia/Seoul")
    time.tzset()
    try:
        seoul = datetime(2024, 12, 23, 7, 0, tzinfo=ZoneInfo("Asia/Seoul"))
        with site.store() as store:
            decisions.set_approval(store, WEEK, True, seoul)
            decisions.set_note(store, WEEK, "메모", seoul)
        assert site.rows("SELECT changed_at FROM digest_approvals") == \
            site.rows("SELECT changed_at FROM digest_notes") == [("2024-12-22T22:00:00+00:00",)]
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()


@pytest.mark.parametrize("args, line", [
    (("digest", "note", "--week", WEEK, "  "),
     "the note is empty (use --clear to remove a week's note)"),
    (("digest", "note", "--week", WEEK, "가" * 2001),
     "the note is 2001 characters long; at most 2000 fit at the top of a digest (link to a "
     "longer text instead)"),
    (("digest", "note", "--week", WEEK, "벨\x07소리"), "the note contains a control character"),
    (("withdraw", "https://nope.example/1", "--reason", "x"),
     "https://nope.example/1: no article with this id or URL in the store (see 'feedkit "
     "export' for the ids)"),
    (("withdraw", "https://nope.example/1", "--reason", " "),
     "--reason: say why the article is withdrawn (it is kept with it)"),
    (("restore", "https://nope.example/1"),
     "https://nope.example/1: no withdrawn article with this id or URL"),
])
def test_an_editors_mistake_is_one_whole_line(site, args, line):
    """The whole line, exactly: what the editor reads is all of it."""
    result = site.run(*args, ok=False)
    assert result.exit_code == 2
    assert result.stderr == f"feedkit: error: {line}\n"
