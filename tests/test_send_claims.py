"""Claims (feedkit.mail.claims) in one process, run by run: which run gets which reader, what
another run marked sent meanwhile, and how a killed run's readers are freed.

``tests/test_send_concurrency.py`` runs whole ``digest send`` processes against each other; here
the same rules are checked one step at a time, on SQLite and PostgreSQL (the ``backend``
fixture), each run with its own store connection as separate processes have, and a run that
dies is a real process killed with SIGKILL (its lock dies with it: the kernel's flock on
SQLite, the server's session advisory lock on PostgreSQL). The store is read back with sqlite3 /
psycopg.
"""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from feedkit.mail.claims import Claimant

WEEK = "2024-W24"
KEYS = [f"hmac-sha256:{i:064x}" for i in range(12)]
REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def stores(backend):
    """Two connections to one store, as two sender processes have."""
    first, second = backend.open_store(), backend.open_store()
    yield first, second
    first.close()
    second.close()


def _claims(backend) -> dict[str, str]:
    return dict(backend.rows("SELECT recipient, claimant FROM send_claims WHERE week = ?", WEEK))


def _lock_files(backend) -> list[Path]:
    folder = Path(f"{backend.path.resolve()}.senders")
    return sorted(folder.iterdir()) if folder.exists() else []


def test_each_reader_goes_to_one_run_and_a_reader_sent_meanwhile_is_not_sent_again(
        backend, stores):
    a, b = Claimant(stores[0], WEEK), Claimant(stores[1], WEEK)
    assert a.claim([]) == ([], [])
    before = datetime.now(UTC).replace(microsecond=0)
    assert a.claim(KEYS[4::-1]) == (KEYS[:5], [])        # in key order, whatever was asked
    assert b.claim(KEYS[3:8]) == (KEYS[5:8], [])          # 3 and 4 are a's
    # Another run sent to reader 8 (its log says so) before b got to claim it.
    stores[0].record_send(WEEK, KEYS[8], "<m8@example.org>", "sent")
    assert b.claim(KEYS[8:10]) == ([KEYS[9]], [KEYS[8]])
    claims = _claims(backend)
    assert claims == {**dict.fromkeys(KEYS[:5], a.name), **dict.fromkeys(KEYS[5:10], b.name)}
    # Claims are stamped in UTC, to the second.
    for (at,) in backend.rows("SELECT claimed_at FROM send_claims"):
        when = datetime.fromisoformat(at)
        assert when.utcoffset() == timedelta(0) and at.endswith("+00:00")
        assert before <= when <= datetime.now(UTC) + timedelta(seconds=1)
    # Another week's readers are another matter.
    c = Claimant(stores[1], "2024-W25")
    assert c.claim(KEYS[:2]) == (KEYS[:2], [])

    # Both runs alive: neither frees the other's readers.
    assert b.reap() == 0 and a.reap() == 0
    assert _claims(backend) == claims
    if not backend.is_pg:
        # One lock file per live run, readable by nobody else, beside the store.
        files = _lock_files(backend)
        assert [f.name for f in files] == sorted(f"{r.name}.lock" for r in (a, b, c))
        assert {stat.S_IMODE(f.stat().st_mode) for f in files} == {0o600}

    a.finish()   # a is done: its claims go, b's stay
    assert _claims(backend) == dict.fromkeys(KEYS[5:10], b.name)
    assert b.claim(KEYS[:3]) == (KEYS[:3], [])   # free again for whoever comes
    if not backend.is_pg:
        assert [f.name for f in _lock_files(backend)] == sorted(f"{r.name}.lock" for r in (b, c))
    b.finish()
    c.finish()
    assert _claims(backend) == {}
    if not backend.is_pg:
        assert not Path(f"{backend.path.resolve()}.senders").exists()   # tidied up


_CHILD = textwrap.dedent("""
    import sys, time
    from feedkit.store.articles import Store
    from feedkit.mail.claims import Claimant
    target, schema, week, *keys = sys.argv[1:]
    store = Store(target, schema=schema) if schema else Store(target)
    run = Claimant(store, week)
    mine, _sent = run.claim(keys)
    print(run.name, len(mine), flush=True)
    time.sleep(120)
""")


def test_a_killed_runs_readers_are_freed_for_the_next_run(backend, stores):
    child = subprocess.Popen(
        [sys.executable, "-c", _CHILD, str(backend.target()), backend.schema or "", WEEK,
         *KEYS[:6]], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)})
    try:
        name, count = child.stdout.readline().split()
        assert count == "6", child.stderr.read()
        me = Claimant(stores[0], WEEK)
        # Alive: its readers stay its own, however often the next run looks.
        assert me.reap() == 0 and me.reap() == 0
        assert me.claim(KEYS[:8]) == (KEYS[6:8], [])
        assert _claims(backend) == {**dict.fromkeys(KEYS[:6], name),
                                    **dict.fromkeys(KEYS[6:8], me.name)}
        child.send_signal(signal.SIGKILL)
        child.wait(30)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        child.stdout.close()
        child.stderr.close()
    # Dead (its lock went with the process): the next look frees its six readers, once.
    assert me.reap() == 6
    assert me.reap() == 0
    assert _claims(backend) == dict.fromkeys(KEYS[6:8], me.name)
    assert me.claim(KEYS[:6]) == (KEYS[:6], [])
    if not backend.is_pg:   # the dead run's lock file is gone; only the live one's is left
        assert [f.name for f in _lock_files(backend)] == [f"{me.name}.lock"]
    me.finish()
    assert _claims(backend) == {}


def test_claims_of_runs_that_left_no_lock_are_freed(backend, stores):
    """A store copied from another machine (``feedkit store copy`` copies every table) can hold
    claims of runs that never ran here: no lock file, no session lock. They are free."""
    from datetime import UTC, datetime

    at = datetime.now(UTC).isoformat(timespec="seconds")
    for i, key in enumerate(KEYS[:5]):
        backend.execute("INSERT INTO send_claims (week, recipient, claimant, claimed_at) "
                        "VALUES (?, ?, ?, ?)",
                        WEEK, key, "elsewhere-1" if i < 2 else "elsewhere-2", at)
    me = Claimant(stores[0], WEEK)
    assert me.reap() == 5   # both gone runs' readers, counted together
    assert me.claim(KEYS[:5]) == (KEYS[:5], [])
    me.finish()


def test_a_finished_run_is_gone_at_once_though_its_connection_stays_open(backend, stores):
    """``finish`` lets go of the run's lock itself, not only the process's end does: a process
    that sent and goes on with its store open (the preview's test send, a program calling the
    library) is gone for the next run at once, so a claim of its left behind is freed.
    Finishing twice is harmless."""
    at = datetime.now(UTC).isoformat(timespec="seconds")
    a, b = Claimant(stores[0], WEEK), Claimant(stores[1], WEEK)
    assert a.claim(KEYS[:3]) == (KEYS[:3], [])
    assert b.reap() == 0                       # a is alive: its claims stay
    a.finish()
    a.finish()
    assert _claims(backend) == {}
    backend.execute("INSERT INTO send_claims (week, recipient, claimant, claimed_at) "
                    "VALUES (?, ?, ?, ?)", WEEK, KEYS[0], a.name, at)
    assert b.reap() == 1
    if not backend.is_pg:   # a's lock file went with its finish; b's is the only one
        assert [f.name for f in _lock_files(backend)] == [f"{b.name}.lock"]
    b.finish()
    if not backend.is_pg:   # the last run out takes the folder with it
        assert not Path(f"{backend.path.resolve()}.senders").exists()
