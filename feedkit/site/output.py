"""The output plan: what a build writes, written atomically, skipped when unchanged.

Each rendered file that differs from the one in place goes at once to a staging folder inside
the output folder (``.feedkit-staging-<random>/``, same file system; its files are numbered, not
named), so a build holds one page in memory at a time, not all of them (770 files, a gigabyte at
a million articles). Only when every file rendered are the staged files renamed into place, one
rename each. So a build that fails part-way leaves the previous output as it was (its staging
folder is removed, and a killed build's is removed by the next one), and a reader or web server
never sees half a file. Files whose bytes did not change are not rewritten (their mtime stays,
rsync and CDNs stay quiet), and a unit whose inputs did not change is not even rendered: the
store remembers a fingerprint of each output's inputs. Knows nothing of feeds or digests:
:mod:`feedkit.site.build` and :mod:`feedkit.site.archive` hand it bytes.

What feedkit wrote into a folder is listed in the folder itself (:data:`MANIFEST`), not only in
the store: a store restored from an older backup does not know the pages built after it (a
week's archive page, a department's feed), and the next build must still find and remove
those of them it no longer makes. Only files listed there (or recorded in the store) are ever
removed, and only those the build says must go: never a file feedkit did not write.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path, PurePosixPath

from feedkit import __version__
from feedkit.errors import ConfigError, FeedkitError
from feedkit.store.articles import Store

MANIFEST = ".feedkit-outputs"
"""The list of the files feedkit wrote into an output folder, in that folder (see above)."""
_MANIFEST_HEAD = ("# Files feedkit wrote into this folder; a build removes those it no longer "
                  "makes.\n# Any other file here is never touched. Do not edit.\n")


def read_manifest(out_dir: Path) -> set[str]:
    """The paths (relative, POSIX) ``out_dir``'s manifest lists; a missing or damaged one
    lists nothing (then only the store's record is used), a line that is not a safe path
    inside the folder is ignored."""
    try:
        text = (out_dir / MANIFEST).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return set()
    found = set()
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#") or line == MANIFEST:
            continue
        try:
            found.add(safe_relpath(line).as_posix())
        except FeedkitError:
            continue
    return found
STAGING = ".feedkit-staging-"   # the folder a build's changed files wait in (see above)


@dataclass
class BuildReport:
    written: list[str] = field(default_factory=list)
    unchanged: int = 0
    skipped: int = 0  # not rendered at all: inputs unchanged since the last build
    removed: list[str] = field(default_factory=list)  # written before, no longer part of it
    changed_feeds: list[str] = field(default_factory=list)  # feeds with new bytes (WebSub)

    def summary(self, out_dir: Path) -> str:
        removed = f", {len(self.removed)} removed" if self.removed else ""
        return (f"{out_dir}: {len(self.written)} written, "
                f"{self.unchanged + self.skipped} unchanged{removed}")


def safe_relpath(rel: str) -> PurePosixPath:
    """Refuse any output path that could escape the output folder."""
    parts = rel.split("/")
    if any(part in ("", ".", "..") or "\\" in part or "\x00" in part for part in parts):
        raise FeedkitError(f"refusing unsafe output path {rel!r}")
    return PurePosixPath(rel)


def write_atomic(path: Path, data: bytes) -> bool:
    """Write ``data`` to ``path`` via a temporary file and rename. False if already identical.

    The rename is what makes it atomic: a reader (a web server, rsync, a feed reader polling
    the folder) sees the old file or the new one, never half of one, and a reader that has the
    old file open keeps reading the old bytes. The temporary file is created with mode 0666
    and the process umask, exactly as a plain write would create it (0644 under the usual
    umask 022), rather than ``mkstemp``'s private 0600, which a web server could not read.

    A file system that refuses (read-only, full, a file where a folder should be) raises
    :class:`FeedkitError` naming the file and what to do; the old file is left as it was.
    """
    try:
        return _write_atomic(path, data)
    except OSError as exc:
        raise FeedkitError(f"{path}: cannot write: {why_not_written(exc)}") from None


def write_atomic_stream(path: Path, chunks: Iterable[bytes]) -> bool:
    """:func:`write_atomic` for output too large to hold in memory (the export of a big store).

    Chunks go to the temporary file as they come, and are compared on the way with the file
    already there: if every byte matches, the temporary file is dropped and the old one is not
    touched (same mtime, no diff for rsync or git), else it replaces the old one by rename.
    Returns True when the file changed. Errors as in :func:`write_atomic`.
    """
    try:
        return _write_atomic_stream(path, chunks)
    except OSError as exc:
        raise FeedkitError(f"{path}: cannot write: {why_not_written(exc)}") from None


def _write_atomic_stream(path: Path, chunks: Iterable[bytes]) -> bool:
    # While the output matches the old file nothing is written at all (the usual unchanged
    # run costs reading, not writing); at the first difference the temporary file starts with
    # the matching prefix, copied from the old file, and the rest streams into it.
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        old = path.open("rb") if path.is_file() else None
    except OSError:
        old = None
    matched = 0
    out = None
    tmp: Path | None = None

    def start() -> None:
        nonlocal out, tmp
        fd, tmp = _create_temp(path)
        out = os.fdopen(fd, "wb")
        if matched:
            assert old is not None
            old.seek(0)
            left = matched
            while left:
                piece = old.read(min(left, 1 << 20))
                out.write(piece)
                left -= len(piece)

    try:
        for chunk in chunks:
            if out is None:
                if old is not None and old.read(len(chunk)) == chunk:
                    matched += len(chunk)
                    continue
                start()
            out.write(chunk)
        if out is None:
            if old is not None and old.read(1) == b"":
                return False          # every byte the same: the old file stays untouched
            start()                   # the new output is shorter than the old file
        out.close()
        os.replace(tmp, path)
    except BaseException:
        if out is not None:
            out.close()
        if tmp is not None:
            tmp.unlink(missing_ok=True)
        raise
    finally:
        if old is not None:
            old.close()
    return True


def why_not_written(exc: OSError) -> str:
    """An OSError from writing an output file, as the one line a user can act on."""
    import errno

    reason = exc.strerror or str(exc)
    advice = {
        errno.EROFS: "the folder is on a read-only file system; point the output "
                     "([build] out or --out) at a writable folder",
        errno.ENOSPC: "the disk is full; free some space and run again",
        errno.EDQUOT: "the disk quota is used up; free some space and run again",
        errno.ENOTDIR: "a file stands where a folder should be; point the output "
                       "([build] out or --out) at a folder",
        errno.EEXIST: "a file stands where a folder should be; point the output "
                      "([build] out or --out) at a folder",
        errno.EACCES: "permission denied; check the folder's permissions",
        errno.EPERM: "not permitted; check the folder's permissions",
    }.get(exc.errno or 0, "")
    # The file that failed, when it is not the one already named (a folder on the way, say).
    where = f" ({exc.filename})" if exc.filename and not str(exc.filename).endswith(".tmp") \
        else ""
    return f"{reason}{where}" + (f": {advice}" if advice else "")


def _write_atomic(path: Path, data: bytes) -> bool:
    try:
        if path.stat().st_size == len(data) and path.read_bytes() == data:
            return False
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = _create_temp(path)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return True


def _create_temp(path: Path) -> tuple[int, Path]:
    """A new, empty ``.<name>.<random>.tmp`` beside ``path`` (so the rename stays on one file
    system), opened for writing; mode 0666 minus the umask, applied by the kernel."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    for _ in range(100):
        # os.urandom is what secrets.token_hex reads, without importing secrets (and random,
        # hmac, base64) into every command that might write a file
        tmp = path.with_name(f".{path.name}.{os.urandom(4).hex()}.tmp")
        try:
            return os.open(tmp, flags, 0o666), tmp
        except FileExistsError:
            continue
    raise FileExistsError(f"{path.parent}: no free temporary file name")


def _stamp(path: Path) -> str:
    st = path.stat()
    return f"{st.st_size}:{st.st_mtime_ns}"


def code_stamp() -> tuple:
    """Size and mtime of feedkit's own modules, subpackages included (``validate/rss.py`` is
    as much the build's code as ``feeds.py``): a changed feedkit (even an editable install with
    the same version number) must not be mistaken for an unchanged build. Paths are relative to
    the package, so the same code installed elsewhere gives the same stamp."""
    here = os.path.dirname(os.path.dirname(os.path.realpath(__file__)))  # feedkit/
    found = []
    # One walk with plain strings (every no-op build pays for this; pathlib's rglob, twice,
    # cost as much as the rest of the check): the modules, and the bundled catalogs, code too.
    for folder, dirs, names in os.walk(here):
        dirs[:] = [d for d in dirs if d != "__pycache__"]
        rel = os.path.relpath(folder, here).replace(os.sep, "/")
        prefix = "" if rel == "." else rel + "/"
        for name in names:
            if name.endswith((".py", ".po")):
                st = os.stat(os.path.join(folder, name))
                found.append((prefix + name, st.st_size, st.st_mtime_ns))
    return (__version__, *sorted(found))


def fingerprint(*parts: object) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(repr(part).encode("utf-8"))
        h.update(b"\x00")
    return h.hexdigest()


class OutputPlan:
    """Collects what a build will write; each unit is skipped if its inputs are unchanged."""

    def __init__(self, store: Store, out_dir: Path,
                 progress: Callable[[int], None] | None = None, until: int | None = None,
                 now: datetime | None = None):
        self.store = store
        # The moment the build publishes as of: the digest archive holds the weeks that ended
        # before it (feedkit.site.archive.plan_archive).
        self.now = now
        # Articles published after this Unix second are held back (feedkit.editorial.publication);
        # every unit of the build, the digest archive included, selects with it.
        self.until = until
        self.held_back = store.held_back(until)
        self.progress = progress
        self.out_dir = out_dir
        self.previous = store.output_fingerprints()
        self.staging: Path | None = None  # made at the first file that differs
        self.staged: dict[str, tuple[str, str]] = {}  # rel -> (name there, print)
        self.kept: dict[str, str] = {}    # rel -> print of rendered files identical to the old
        # Which rendered files' SHA-256 :meth:`commit` hands to its ``record`` (the feeds, for
        # WebSub): taken as each is rendered, since its bytes are not kept.
        self.hashed: Callable[[str], bool] | None = None
        self.digests: dict[str, str] = {}
        for old in out_dir.glob(STAGING + "*"):   # a killed build's (we hold the folder)
            shutil.rmtree(old, ignore_errors=True)
        self.groups: dict[str, str] = {}  # folder key -> group fingerprint (see reuse_group)
        self.planned: set[str] = set()    # keys of every file this build keeps or writes
        self.report = BuildReport()

    def _key(self, rel: str) -> str:
        return str(self.out_dir / safe_relpath(rel))

    def up_to_date(self, rels: list[str], print_: str) -> bool:
        """True when every file of a unit was last built from the same inputs and is untouched
        since (same size and mtime, as make and rsync judge it: no need to read it back)."""
        for rel in rels:
            old = self.previous.get(self._key(rel))
            if old is None or old[0] != print_:
                return False
            try:
                if _stamp(self.out_dir / rel) != old[1]:
                    return False
            except OSError:
                return False
        return True

    def reuse_group(self, folder: str, print_: str) -> bool:
        """Skip a whole group of outputs (a folder) at once when its inputs are unchanged.

        For outputs that depend on the entire store, such as 500 weekly archive pages: rather
        than fingerprint each one, fingerprint the group (including the store's generation)
        and only check that every file written last time is still as it was.
        """
        key = (self._key(folder) if folder else str(self.out_dir)) + "/"
        self.groups[key] = print_
        old = self.previous.get(key)
        if old is None or old[0] != print_:
            return False
        # Group records end with "/" (they are not files); everything else below is a file.
        members = [p for p in self.previous if p.startswith(key) and not p.endswith("/")]
        for path in members:
            try:
                if _stamp(Path(path)) != self.previous[path][1]:
                    return False
            except OSError:
                return False
        self.report.skipped += sum(1 for m in members if not m.endswith("/" + MANIFEST))
        self.planned.update(members)
        return True

    def unit(self, rels: list[str], print_: str, render: Callable[[], dict[str, bytes]]) -> None:
        self.planned.update(self._key(rel) for rel in rels)
        if self.up_to_date(rels, print_):
            self.report.skipped += len(rels)
            return
        rendered = render()
        for rel in sorted(rels):   # as commit goes: the first file to fail is the same
            self._stage(rel, rendered.pop(rel), print_)
        if self.progress:
            self.progress(len(rels))

    def _stage(self, rel: str, data: bytes, print_: str) -> None:
        """Compare with the file in place; stage ``data`` if it differs (else nothing is
        written and the file keeps its mtime)."""
        path = self.out_dir / safe_relpath(rel)
        if self.hashed is not None and self.hashed(rel):
            self.digests[rel] = hashlib.sha256(data).hexdigest()
        if rel in self.staged or rel in self.kept:   # pragma: no cover - one unit per file
            raise FeedkitError(f"{rel}: made twice in one build")
        try:
            if path.stat().st_size == len(data) and path.read_bytes() == data:
                self.kept[rel] = print_
                return
        except OSError:
            pass
        try:
            if self.staging is None:
                staging = self.out_dir / f"{STAGING}{os.urandom(6).hex()}"
                staging.mkdir()
                self.staging = staging
            # flat, numbered: no tree of folders to make now and remove after the publish
            fd = os.open(self.staging / str(len(self.staged)), os.O_WRONLY | os.O_CREAT
                         | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
        except OSError as exc:
            raise FeedkitError(f"{path}: cannot write: {why_not_written(exc)}") from None
        self.staged[rel] = (str(len(self.staged)), print_)

    def discard(self) -> None:
        """Remove the staging folder (a failed build; after :meth:`commit` it is gone)."""
        if self.staging is not None:
            shutil.rmtree(self.staging, ignore_errors=True)
            self.staging = None

    def commit(self, prunable: Callable[[str], bool] | None = None,
               record: Callable[[dict[str, str]], list[str]] | None = None) -> BuildReport:
        """Publish: every staged file renamed into place (sorted by path), the rest of the
        bookkeeping recorded in the store. ``record`` (given the SHA-256 of every rendered
        file :attr:`hashed` selects, in the same transaction as the fingerprints) returns the
        feeds whose bytes changed."""
        recorded = []
        for rel in sorted(self.staged.keys() | self.kept.keys()):
            path = self.out_dir / rel
            if rel in self.staged:
                assert self.staging is not None
                name, print_ = self.staged[rel]
                try:
                    path.parent.mkdir(parents=True, exist_ok=True)
                    os.replace(self.staging / name, path)
                except OSError as exc:
                    raise FeedkitError(f"{path}: cannot write: {why_not_written(exc)}") \
                        from None
                self.report.written.append(rel)
                recorded.append((str(path), print_, _stamp(path)))
            else:
                self.report.unchanged += 1
                recorded.append((str(path), self.kept[rel], _stamp(path)))
        self.discard()
        recorded += [(key, print_, "group") for key, print_ in self.groups.items()]
        prefix = str(self.out_dir) + "/"
        own = {self._key(rel) for rel in read_manifest(self.out_dir)}
        own |= {key for key in self.previous if key.startswith(prefix) and not key.endswith("/")}
        stale = self._stale(prunable, own) if prunable else []
        for key in stale:
            path = Path(key)
            if path.is_file() or path.is_symlink():
                path.unlink(missing_ok=True)
                self.report.removed.append(path.relative_to(self.out_dir).as_posix())
        for folder in sorted({Path(key).parent for key in stale}, reverse=True):
            if folder != self.out_dir and folder.is_dir() and not any(folder.iterdir()):
                folder.rmdir()   # a category folder emptied by the above
        listed = self._write_manifest(own | {k for k in self.planned if not k.endswith("/")},
                                      stale)
        # Part of the whole build's group (see reuse_group): a list that changed since (a store
        # restored from a backup older than the last build, a hand edit) means not a no-op.
        recorded.append((str(listed), "manifest", _stamp(listed)))
        with self.store.transaction():
            if record is not None:
                self.report.changed_feeds = record(self.digests)
            self.store.record_outputs(recorded)
            self.store.db.executemany("DELETE FROM outputs WHERE path = ?",
                                      [(key,) for key in stale])
        return self.report

    def _stale(self, prunable: Callable[[str], bool], own: set[str]) -> list[str]:
        """Files an earlier build wrote into this folder (``own``: its manifest and the
        store's record) that this one no longer makes and ``prunable`` (given the path
        relative to the folder) says must go: the build decides (a week page or a category
        feed left with only withdrawn articles, or that the store no longer has at all).
        Anything else that stops being made stays as it was last written, and only files
        feedkit wrote are ever touched."""
        prefix = str(self.out_dir) + "/"
        return sorted(key for key in own
                      if key not in self.planned and prunable(key[len(prefix):]))

    def _write_manifest(self, keys: set[str], stale: list[str]) -> Path:
        """List what feedkit has written into the folder and not removed, as far as it is
        still there (sorted: the same build gives the same bytes, and an unchanged list is not
        rewritten); returns the list's path."""
        prefix = str(self.out_dir) + "/"
        gone = set(stale) | {prefix + MANIFEST}
        rels = sorted(k[len(prefix):] for k in keys if k.startswith(prefix) and k not in gone
                      and (k in self.planned or os.path.lexists(k)))
        path = self.out_dir / MANIFEST
        write_atomic(path, (_MANIFEST_HEAD + "".join(f"{r}\n" for r in rels)).encode("utf-8"))
        return path


@contextmanager
def build_lock(out_dir: Path) -> Iterator[None]:
    """Hold the output folder for one build at a time (an exclusive ``flock`` on the folder
    itself, so no lock file lands in what is published; released when the process ends, even
    by SIGKILL).

    Why: several ``feedkit update`` processes sharing one store (issue 11) each build the same
    folder when their own sources are stored. Every file is renamed into place, so none is
    ever torn, but without this a build that read the store before another process stored its
    articles could finish last and leave its older feeds on top. Under the lock a build reads
    the store only after every earlier builder stored and built, so the last one sees all.
    Where ``fcntl`` does not exist (Windows) builds are not serialised."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not on POSIX systems
        yield
        return
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(out_dir, os.O_RDONLY)
    except OSError as exc:
        raise FeedkitError(f"{out_dir}: cannot build there: {why_not_written(exc)}") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)   # releases the lock


def check_out_dir(out_dir: Path) -> None:
    """Before anything is rendered: the output folder, or the nearest part of its path that
    exists, must be a folder (``out = "/etc/passwd"`` is a mistake, said as one)."""
    for part in (out_dir, *out_dir.parents):
        if part.exists():
            if not part.is_dir():
                raise ConfigError(f"{out_dir}: cannot build there: {part} is a file, not a "
                                   "folder; point the output ([build] out or --out) at a folder")
            return
