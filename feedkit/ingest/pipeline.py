"""The records of an import, read and normalised, in this process or in a second one.

Most of an import's time goes to reading JSON and normalising each record (sanitising its HTML
above all); writing it to the store is the smaller part. A large import (a city's archive, a
province's: a million records) therefore reads and normalises in a second process while this
one checks for duplicates and writes: with a core to spare, a fifth less time at 200,000
records (16.5 s instead of 20.7 s, measured), for a third more processor time in all (the
records cross a pipe). Below 64 MB of input (20,000 records gained 5 %), on a single core or a
busy machine (the load average leaves no core free) the records are read here: without a free
core the second process only adds the pipe's cost.

Both ways give the same stream, in the input's order, so what the import stores and reports is
the same: ``("record", line, withdrawn, payload)`` per record (``payload`` the
:class:`~feedkit.model.Article`, or why the record was rejected; ``withdrawn`` the record's
``withdrawn`` field, or None) and ``("end", unknown fields)`` after each file. A file that
cannot be read on (a broken JSON array) raises :class:`~feedkit.errors.FeedkitError` here, in
the importing process, as it would without the second one. The second process is a fresh
Python running this module: it shares no store connection, and works the same on every system.
"""

from __future__ import annotations

import os
import traceback
from collections.abc import Iterator, Sequence
from dataclasses import fields
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from feedkit.errors import FeedkitError
from feedkit.ingest.files import read_records
from feedkit.ingest.normalize import KNOWN_FIELDS, RecordError, normalize_record
from feedkit.model import Article

PARALLEL_BYTES = 64 << 20  # inputs from this size on (~40,000 records) use a second process
CHUNK = 200                # records per message between the processes
AHEAD = 8                  # messages the reader may be ahead (memory: a few MB at most)


_FIELDS = tuple(f.name for f in fields(Article))
_DATES = tuple(i for i, f in enumerate(fields(Article)) if f.type in ("datetime", datetime))


def _pack(item: tuple) -> tuple:
    """A stream item as plain values for the pipe (an Article's fields, its dates as ISO text:
    a third of the cost of pickling the objects)."""
    if item[0] != "record" or not isinstance(item[3], Article):
        return item
    values = [getattr(item[3], name) for name in _FIELDS]
    for i in _DATES:
        values[i] = values[i].isoformat()
    return (*item[:3], tuple(values))


def _unpack(item: tuple) -> tuple:
    if item[0] != "record" or not isinstance(item[3], tuple):
        return item
    values = list(item[3])
    for i in _DATES:
        values[i] = datetime.fromisoformat(values[i])
    return (*item[:3], Article(*values))


def normalised(record: dict[str, Any] | str, line: int, tz: ZoneInfo,
               default_category: str, default_license: str = "") -> tuple:
    """One record as the stream carries it (see the module docstring); ``default_license``:
    the source's licence code, for a record that names none."""
    if isinstance(record, str):
        return ("record", line, None, record)
    withdrawn = record.get("withdrawn")
    try:
        return ("record", line, withdrawn,
                normalize_record(record, tz, default_category,
                                 default_license=default_license))
    except RecordError as exc:
        return ("record", line, withdrawn, str(exc))


def _unknown(record: dict[str, Any] | str, found: set[str]) -> None:
    if isinstance(record, dict):
        found.update(k for k in record if k not in KNOWN_FIELDS and k != "withdrawn")


def _stream(specs: Sequence, tz: ZoneInfo) -> Iterator[tuple]:
    for spec in specs:
        unknown: set[str] = set()
        for line, record in read_records(spec.path, spec.kind):
            _unknown(record, unknown)
            yield normalised(record, line, tz, spec.default_category, spec.license)
        yield ("end", tuple(sorted(unknown)))


def records(specs: Sequence, tz: ZoneInfo, parallel: bool | None = None) -> Iterator[tuple]:
    """The import's stream; ``parallel`` None: a second process when the files are large and
    there is a second core."""
    if parallel is None:
        size = sum(spec.path.stat().st_size for spec in specs)
        parallel = size >= PARALLEL_BYTES and _spare_core()
    if not parallel:
        return _stream(specs, tz)
    return _from_worker(specs, tz)


def _spare_core() -> bool:
    """Whether a second process would have a core to itself: this process may run on two or
    more (a container's share, where the system says) and the load average leaves one free.
    On a busy machine the second process only adds the pipe's cost (measured: a quarter more
    processor time, and no sooner done)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):   # not on every system
        cores = os.cpu_count() or 1
    try:
        load = os.getloadavg()[0]
    except (AttributeError, OSError):   # no load average (Windows): stay in one process
        return False
    return cores > 1 and load <= cores - 1


def _from_worker(specs: Sequence, tz: ZoneInfo) -> Iterator[tuple]:
    """The stream from a second Python running this module (``python -m``): not
    :mod:`multiprocessing`, whose fresh processes import the caller's main script again (a
    program calling the import without an ``if __name__ == "__main__"`` guard would run twice).
    Messages are length-prefixed pickles on its standard output. A thread here reads them as
    they come into a queue of :data:`AHEAD` messages: the pipe alone (64 KiB) holds less than
    one, and the reader would wait for this process at every message instead of working on."""
    import pickle
    import subprocess
    import sys

    import feedkit

    env = dict(os.environ)
    here = os.path.dirname(os.path.dirname(os.path.abspath(feedkit.__file__)))
    env["PYTHONPATH"] = os.pathsep.join(p for p in (here, env.get("PYTHONPATH")) if p)
    worker = subprocess.Popen([sys.executable, "-m", "feedkit.ingest.pipeline"],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env)
    assert worker.stdin is not None and worker.stdout is not None
    frames, stop = _read_frames(worker.stdout)
    try:
        pickle.dump((list(specs), tz), worker.stdin)
        worker.stdin.close()
        while True:
            frame = frames.get()
            if frame is None:
                raise FeedkitError(f"the import's reading process stopped (exit code "
                                   f"{worker.wait()}); nothing was imported")
            kind, body = pickle.loads(frame)
            if kind == "items":
                for item in body:
                    yield _unpack(item)
            elif kind == "done":
                return
            elif kind == "error":
                raise FeedkitError(body)
            else:   # a bug in the reader: its traceback, as the importing process would show
                raise RuntimeError(f"the import's reading process failed:\n{body}")
    finally:
        stop.set()
        if worker.poll() is None:
            worker.kill()
        worker.wait()
        worker.stdout.close()


def _read_frames(pipe):
    """A daemon thread putting each length-prefixed frame of ``pipe`` into a bounded queue
    (None at the end); setting the returned event makes it stop."""
    import queue
    import threading

    frames: queue.Queue = queue.Queue(maxsize=AHEAD)
    stop = threading.Event()

    def put(frame: bytes | None) -> None:
        while not stop.is_set():
            try:
                frames.put(frame, timeout=0.2)
                return
            except queue.Full:
                continue

    def run() -> None:
        try:
            while not stop.is_set():
                head = pipe.read(4)
                if len(head) < 4:
                    break
                size = int.from_bytes(head, "big")
                frame = pipe.read(size)
                if len(frame) < size:
                    break
                put(frame)
        except (OSError, ValueError):   # the pipe closed under us: the import is over
            pass
        put(None)

    threading.Thread(target=run, name="feedkit import frames", daemon=True).start()
    return frames, stop


def _serve() -> None:
    """The second process: read what to import from standard input, write the stream."""
    import pickle
    import sys

    specs, tz = pickle.load(sys.stdin.buffer)
    out = sys.stdout.buffer

    def send(message: tuple) -> None:
        frame = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
        out.write(len(frame).to_bytes(4, "big") + frame)
        out.flush()

    try:
        chunk: list[tuple] = []
        for item in _stream(specs, tz):
            chunk.append(_pack(item))
            if len(chunk) >= CHUNK or item[0] == "end":
                send(("items", chunk))
                chunk = []
        send(("done", None))
    except FeedkitError as exc:
        send(("error", str(exc)))
    except BrokenPipeError:   # the importing process stopped reading (it failed): so do we
        return
    except BaseException:   # reported to the importing process, traceback and all
        send(("crash", traceback.format_exc()))


if __name__ == "__main__":
    _serve()
