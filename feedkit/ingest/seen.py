"""Which ids one import has taken, and where each came from, in a few bytes per record.

An import names a record that repeats an id by its own place and the first one's ("FILE:LINE:
duplicate id … (first at FILE:LINE; kept that one)"). Keeping every id and its place as Python
strings cost ~200 bytes a record: 200 MB for a million-article import (issue 26). Here an id is
a 16-byte BLAKE2b digest (two different ids with the same digest: about one chance in 10^25 for
a million ids), kept in one byte array by record number, with the record's line number (4
bytes) and, once per run of records from one file, the file's name; an open-addressing table of
record numbers (4 bytes a slot, at most half full) finds a digest in one or two probes. About
30 bytes a record in all, in three flat arrays and no object per record.
"""

from __future__ import annotations

import hashlib
import sys
from array import array
from bisect import bisect_right

_EMPTY = 0xFFFFFFFF   # a free slot of the table
_NO_LINE = 0xFFFFFFFF  # a place with no number at its end
_ORDER = sys.byteorder  # how _grow reads the digests back (memoryview "Q": native order)


def _split(where: str) -> tuple[str, int]:
    """"data.jsonl:12" -> ("data.jsonl:", 12): the number at the end (kept in 4 bytes) and
    what comes before it (kept once per run); a place without one is kept whole."""
    prefix = where.rstrip("0123456789")
    digits = where[len(prefix):]
    if not digits or (digits[0] == "0" and len(digits) > 1) or len(digits) > 9:
        return where, _NO_LINE
    return prefix, int(digits)


class SeenIds:
    """The ids taken so far in one import, each with where it was taken from."""

    def __init__(self) -> None:
        self._digests = bytearray()                 # 16 bytes per record, by record number
        self._lines = array("I")                    # each record's number, or _NO_LINE
        self._run_starts: list[int] = []            # record number where each run begins
        self._run_prefixes: list[str] = []          # and what its places begin with
        self._slots = array("I", [_EMPTY]) * 1024   # record numbers, by digest
        self._count = 0

    def __len__(self) -> int:
        return self._count

    def take(self, id_: str, where: str) -> str | None:
        """Record ``id_`` as taken at ``where``; if it was taken before, record nothing and
        return where that was."""
        digest = hashlib.blake2b(id_.encode("utf-8"), digest_size=16).digest()
        slots, digests = self._slots, self._digests
        mask = len(slots) - 1
        i = int.from_bytes(digest[:8], _ORDER) & mask
        while True:
            n = slots[i]
            if n == _EMPTY:
                break
            if digests[16 * n:16 * n + 16] == digest:
                return self._where(n)
            i = (i + 1) & mask
        n = self._count
        slots[i] = n
        digests += digest
        prefix, line = _split(where)
        if not self._run_prefixes or self._run_prefixes[-1] != prefix:
            self._run_starts.append(n)
            self._run_prefixes.append(prefix)
        self._lines.append(line)
        self._count = n + 1
        if 2 * self._count > len(slots):
            self._grow()
        return None

    def _where(self, n: int) -> str:
        prefix = self._run_prefixes[bisect_right(self._run_starts, n) - 1]
        line = self._lines[n]
        return prefix if line == _NO_LINE else f"{prefix}{line}"

    def _grow(self) -> None:
        """Twice the slots, every record placed again (amortised: one more placing each)."""
        slots = array("I", [_EMPTY]) * (2 * len(self._slots))
        mask = len(slots) - 1
        with memoryview(self._digests) as raw, raw.cast("Q") as words, \
                words[::2] as firsts:   # each digest's first 8 bytes, in native order
            for n in range(self._count):
                i = firsts[n] & mask
                while slots[i] != _EMPTY:
                    i = (i + 1) & mask
                slots[i] = n
        self._slots = slots
