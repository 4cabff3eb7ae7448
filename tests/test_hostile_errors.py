"""Mistakes and broken surroundings (issue 14, items 5 and 6): one line naming the file or key and
what to do, the documented exit code (2 configuration, 1 run time), never a traceback; and a
store that two processes can create at once and that is never silently replaced by an empty one.

The commands run as real processes (``python -m feedkit``), so what is asserted is exactly what
a cron log would show. Broken surroundings are real too: a read-only and a full tmpfs mounted
in a private mount namespace (``unshare``), a write lock held by another process, bytes
overwritten in the middle of a store file.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from conftest import SAMPLE, Site

REPO = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONPATH": str(REPO)}


def feedkit(site: Site, *args: str, wrap: list[str] | None = None) -> tuple[int, str]:
    """Run the real command; (exit code, stderr)."""
    cmd = [sys.executable, "-m", "feedkit", "--config", str(site.config), *args]
    if wrap:
        cmd = [*wrap[:-1], wrap[-1] + " " + " ".join(f"'{c}'" for c in cmd)]
    proc = subprocess.run(cmd, env=ENV, capture_output=True, text=True, timeout=120)
    return proc.returncode, proc.stderr


def assert_one_line(stderr: str, *fragments: str) -> None:
    assert "Traceback" not in stderr, stderr
    errors = [line for line in stderr.splitlines() if line.startswith("feedkit: error:")]
    assert len(errors) == 1, stderr
    for fragment in fragments:
        assert fragment in errors[0], (fragment, errors[0])


# -- configuration mistakes: exit 2 ---------------------------------------------------------------

@pytest.mark.parametrize("section,key,line", [
    ("site", "title", 'title = "보령시\\r\\nBcc: victim@example.org"'),
    ("digest", "subject", 'subject = "주간 소식\\nBcc: x@example.org"'),
    ("digest", "reply_to", 'reply_to = "a@example.org\\r\\nX-Evil: 1"'),
    ("digest", "list_id", 'list_id = "news <news.example.org>\\n"'),
    ("digest", "from", 'from = "보령시 <news@example.org>\\rBcc: x@example.org"'),
])
def test_line_breaks_in_header_keys_are_refused_when_the_config_loads(site, section, key, line):
    if section == "site":
        site.edit_config(('title = "보령시 새소식"', line))
    else:
        site.config.write_text(site.config.read_text(encoding="utf-8")
                               + f"\n[digest]\n{line}\n", encoding="utf-8")
    code, err = feedkit(site, "build")   # any command: the config is read first
    assert code == 2
    assert_one_line(err, f"config.toml: [{section}] {key}: must be one line")


def test_an_integer_too_large_for_anything_is_a_config_error(site):
    site.edit_config(("limit = 50", "limit = 99999999999999999999"))
    code, err = feedkit(site, "build")
    assert code == 2
    assert_one_line(err, "[feeds] limit: 99999999999999999999 is out of range")


def test_output_folder_that_is_a_file(site):
    assert feedkit(site, "import")[0] == 0
    site.edit_config(('out = "public"', 'out = "/etc/passwd"'))
    before = Path("/etc/passwd").read_bytes()
    code, err = feedkit(site, "build")
    assert code == 2
    assert_one_line(err, "/etc/passwd is a file, not a folder", "[build] out")
    assert Path("/etc/passwd").read_bytes() == before
    # A file further up the path is the same mistake.
    code, err = feedkit(site, "build", "--out", "/etc/passwd/public")
    assert code == 2
    assert_one_line(err, "/etc/passwd is a file, not a folder")


# -- broken surroundings: exit 1 ----------------------------------------------------------------

def _can_mount_privately() -> str | None:
    if not shutil.which("unshare"):
        return "unshare is not installed"
    probe = subprocess.run(["unshare", "-rm", "sh", "-c", "mount -t tmpfs tmpfs /mnt"],
                           capture_output=True, text=True)
    if probe.returncode != 0:
        return f"cannot mount a tmpfs in a private namespace here: {probe.stderr.strip()}"
    return None


NO_MOUNT = _can_mount_privately()


@pytest.mark.skipif(NO_MOUNT is not None, reason=str(NO_MOUNT))
def test_read_only_output_folder(site):
    """EROFS for real: the output folder is a read-only tmpfs (in this process tree only)."""
    assert feedkit(site, "import")[0] == 0
    site.out.mkdir()
    mount = f"mount -t tmpfs -o ro tmpfs '{site.out}' && exec"
    code, err = feedkit(site, "build", wrap=["unshare", "-rm", "sh", "-c", mount])
    assert code == 1
    assert_one_line(err, str(site.out), "Read-only file system",
                    "point the output ([build] out or --out) at a writable folder")


@pytest.mark.skipif(NO_MOUNT is not None, reason=str(NO_MOUNT))
def test_full_output_folder(site):
    """ENOSPC for real: a tmpfs of 16 KiB, too small for the site."""
    assert feedkit(site, "import")[0] == 0
    site.out.mkdir()
    mount = f"mount -t tmpfs -o size=16k tmpfs '{site.out}' && exec"
    code, err = feedkit(site, "build", wrap=["unshare", "-rm", "sh", "-c", mount])
    assert code == 1
    assert_one_line(err, "No space left on device", "the disk is full")


def test_store_locked_by_another_writer_beyond_the_busy_timeout(site):
    assert feedkit(site, "import")[0] == 0
    site.config.write_text(site.config.read_text(encoding="utf-8").replace(
        'path = "articles.db"', 'path = "articles.db"\nbusy_timeout = 0.5'), encoding="utf-8")
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import sqlite3, sys, time
        db = sqlite3.connect({str(site.db)!r}, isolation_level=None)
        db.execute("BEGIN IMMEDIATE")
        db.execute("INSERT INTO meta (key, value) VALUES ('holder', 'x')")
        print("locked", flush=True)
        time.sleep(30)
        """)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        started = time.monotonic()
        code, err = feedkit(site, "import", str(SAMPLE))
        elapsed = time.monotonic() - started
    finally:
        holder.kill()
        holder.wait()
    assert code == 1
    assert_one_line(err, str(site.db), "database is locked", "another process")
    assert elapsed < 20   # gave up after the configured 0.5 s, not the default 30 s


def test_garbage_in_the_middle_of_the_store(site):
    # Enough articles for the store to span many pages, then overwrite its middle.
    lines = SAMPLE.read_text(encoding="utf-8").splitlines()
    import json

    many = site.root / "many.jsonl"
    with many.open("w", encoding="utf-8") as fh:
        for i in range(400):
            record = json.loads(lines[i % len(lines)])
            record["url"] = f"https://www.brcn.go.kr/news/{i}"
            record.pop("id", None)
            record["content_html"] = "<p>" + "보령 " * 300 + "</p>"
            fh.write(json.dumps(record, ensure_ascii=False) + "\n")
    assert feedkit(site, "import", str(many))[0] == 0
    size = site.db.stat().st_size
    assert size > 200_000
    with site.db.open("r+b") as fh:
        fh.seek(size // 2 // 4096 * 4096)   # a page boundary in the middle: its header too
        fh.write(b"\xde\xad" * 32 * 1024)
    code, err = feedkit(site, "export")
    assert code == 1
    assert_one_line(err, str(site.db), "database disk image is malformed",
                    "the file is damaged; restore it from a backup")


def test_garbage_inside_a_text_cell(site):
    """Bytes that are not UTF-8 where the store keeps a title: the same kind of damage."""
    assert feedkit(site, "import")[0] == 0
    with sqlite3.connect(site.db) as db:
        db.execute("UPDATE articles SET title = CAST(? AS TEXT) WHERE rowid = 1",
                   (b"\xff\xfe garbage \xc3",))
    code, err = feedkit(site, "export")
    assert code == 1
    assert_one_line(err, str(site.db), "malformed text in the store", "title",
                    "the file is damaged; restore it from a backup")
    assert len(err) < 600


# -- the store file itself (item 6) ---------------------------------------------------------------

def test_an_empty_store_file_is_refused_and_left_alone(site):
    site.db.write_bytes(b"")
    code, err = feedkit(site, "import")
    assert code == 1
    assert_one_line(err, str(site.db), "empty file (0 bytes)", "restore it from a backup")
    assert site.db.stat().st_size == 0
    # With the file gone, a new store is made as usual.
    site.db.unlink()
    assert feedkit(site, "import")[0] == 0


RACER = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    go = Path(sys.argv[1])
    while not go.exists():
        time.sleep(0.001)
    from feedkit.cli import cli
    cli(["--config", sys.argv[2], "-q", "import", sys.argv[3]])
""")


@pytest.mark.parametrize("start", ["no file", "an empty SQLite database"])
def test_processes_importing_into_a_new_store_at_once(site, start):
    """Eight real processes released together, each importing its own file into a store that
    does not exist yet (or is a valid database with no tables, so that every one of them tries
    to migrate it): all succeed and every article lands."""
    import json

    if start != "no file":
        sqlite3.connect(site.db).execute("PRAGMA journal_mode=WAL").close()
        assert site.db.stat().st_size > 0
    files = []
    for p in range(8):
        path = site.root / f"part{p}.jsonl"
        path.write_text("".join(json.dumps(
            {"title": f"기사 {p}-{i}", "url": f"https://www.brcn.go.kr/{p}/{i}",
             "published": "2025-01-02T09:00:00+09:00"}, ensure_ascii=False) + "\n"
            for i in range(20)), encoding="utf-8")
        files.append(path)
    go = site.root / "go"
    racers = [subprocess.Popen([sys.executable, "-c", RACER, str(go), str(site.config),
                                str(f)], env=ENV, stderr=subprocess.PIPE, text=True)
              for f in files]
    time.sleep(1.0)   # every racer is waiting for the signal
    go.touch()
    results = [(r.wait(timeout=60), r.stderr.read()) for r in racers]
    for code, err in results:
        assert code == 0 and "Traceback" not in err, err
    assert site.rows("SELECT count(*) FROM articles") == [(160,)]
    assert site.rows("PRAGMA user_version")[0][0] >= 1
    leftovers = [p.name for p in site.root.iterdir() if p.name.startswith(".articles.db")]
    assert leftovers == []
