"""Subscriber lists as CSV files: ``feedkit subscribers import`` and ``export``.

Import takes an existing list (a city's spreadsheet, a Mailchimp audience export) with one row
per reader and a consent column: a list whose readers never agreed cannot be mailed, so a row
without consent is refused, never guessed. Re-importing the same file changes nothing
(:func:`feedkit.subscribers.repo.add` says "unchanged"), and a reader who unsubscribed is
never signed up again by an old list. Bad rows are named by ``file:line`` and why, without the
row's text (it may be a mistyped address); the good rows are imported all the same.

Export writes the columns import reads, so export → import round-trips. It only writes to a
file the operator names, never into the published output folder, and warns when git would
commit it: the file holds every address.

The file is opened by a city office in a spreadsheet, and its cells hold what strangers typed
(an address from the form may be ``=cmd|'/C calc'!A0@example.org``) or what a source published
(a department name). A spreadsheet runs a cell that starts with ``=``, ``+``, ``-``, ``@``, a tab
or a CR as a formula (CSV injection, OWASP), so export prefixes such a cell with ``'`` (which
spreadsheets show as text and do not display), and import takes the ``'`` off again: the
round trip is exact (a value that itself starts with ``'`` and one of those gets one more).
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from feedkit.errors import FeedkitError, UsageError
from feedkit.subscribers import repo
from feedkit.subscribers.model import STATUSES

# Header names (lower-cased, stripped) each column is known by; the first is what export writes.
# Mailchimp's audience export calls them "Email Address" and OPTIN_TIME / CONFIRM_TIME.
COLUMNS: dict[str, tuple[str, ...]] = {
    "email": ("email", "email address", "e-mail", "address", "이메일"),
    "consent": ("consent", "consent_at", "confirm_time", "optin_time", "동의일시", "동의일"),
    "consent_version": ("consent_version", "notice_version"),
    "categories": ("categories", "departments", "부서"),
    "language": ("language", "lang", "언어"),
    "status": ("status",),
}
EXPORT_COLUMNS = ("email", "status", "consent", "consent_via", "consent_version", "categories",
                  "language", "bounces")
CATEGORY_SEPARATOR = ";"
# What makes a spreadsheet read a cell as a formula (OWASP's list, and the full-width forms some
# spreadsheets take the same way); a leading ' is escaped too, so that unescaping is exact.
FORMULA_START = frozenset("=+-@\t\r\n\uff1d\uff0b\uff0d\uff20")
TEXT_MARK = "'"


def neutralise(cell: str) -> str:
    """``cell`` as a spreadsheet will show it as text, never run it (see the module docstring)."""
    first = cell[:1]
    return TEXT_MARK + cell if (first and first in FORMULA_START) or _escaped(cell) else cell


def restore(cell: str) -> str:
    """The value :func:`neutralise` was given."""
    return cell[1:] if _escaped(cell) else cell


def _escaped(cell: str) -> bool:
    """Whether ``cell`` starts with the text mark and then a formula start or another mark."""
    second = cell[1:2]
    return cell[:1] == TEXT_MARK and bool(second) and (second in FORMULA_START
                                                        or second == TEXT_MARK)


@dataclass
class ImportReport:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    kept: int = 0
    problems: list[str] = field(default_factory=list)   # "file:line: why" (no address)

    @property
    def good(self) -> int:
        return self.added + self.updated + self.unchanged + self.kept

    def summary(self, name: str) -> str:
        return (f"{name}: {self.added} added, {self.updated} updated, {self.unchanged} "
                f"unchanged, {self.kept} kept as they were (unsubscribed or bounced), "
                f"{len(self.problems)} bad row(s)")


def parse_consent(value: str, tz: ZoneInfo) -> datetime:
    """A consent time: ISO 8601 date or date-time ("2023-03-01", "2023-03-01 14:05:00",
    with or without an offset); a naive one is read in the site's timezone."""
    text = value.strip()
    if not text:
        raise ValueError("empty consent: a reader without a consent record cannot be imported")
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError("consent is not a date (expected YYYY-MM-DD or an ISO 8601 "
                         "date-time)") from None
    # A date alone reads as its midnight, in the site's timezone.
    return when.replace(tzinfo=tz) if when.tzinfo is None else when


def _header_map(header: list[str], where: str) -> dict[str, int]:
    names = [h.strip().lower().lstrip("\ufeff") for h in header]
    found: dict[str, int] = {}
    for column, aliases in COLUMNS.items():   # the first alias present wins
        for alias in aliases:
            if alias in names:
                found[column] = names.index(alias)
                break
    missing = [c for c in ("email", "consent") if c not in found]
    if missing:
        raise UsageError(f"{where}: the header has no {' and no '.join(missing)} column "
                         f"(expected e.g. 'email,consent,categories,language'; consent is when "
                         f"the reader agreed, YYYY-MM-DD)")
    return found


def import_csv(store, path: Path, *, tz: ZoneInfo, language: str, consent_version: str,
               now: datetime) -> ImportReport:
    """Import ``path`` (UTF-8 CSV with a header row) into the store; see the module docstring.
    One transaction: an import stopped half-way leaves the list as it was."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise UsageError(f"{path}: no such file") from None
    except UnicodeDecodeError as exc:
        raise FeedkitError(f"{path}: not UTF-8 ({exc.reason}); save the list as UTF-8 CSV"
                           ) from None
    except OSError as exc:
        raise FeedkitError(f"{path}: cannot read: {exc.strerror or exc}") from None
    reader = csv.reader(io.StringIO(text, newline=""))
    report = ImportReport()
    header = next(reader, None)
    while header is not None and not any(c.strip() for c in header):
        header = next(reader, None)
    if header is None:
        raise UsageError(f"{path}: empty file (expected a header row and one row per reader)")
    columns = _header_map(header, f"{path.name}:{reader.line_num}")

    def cell(row: list[str], name: str) -> str:
        i = columns.get(name)
        return restore(row[i].strip()) if i is not None and i < len(row) else ""

    with store.transaction():
        for row in reader:
            where = f"{path.name}:{reader.line_num}"
            if not any(c.strip() for c in row) or row[0].lstrip().startswith("#"):
                continue
            try:
                consent = parse_consent(cell(row, "consent"), tz)
                cats = [c for c in cell(row, "categories").split(CATEGORY_SEPARATOR)]
                status = cell(row, "status").lower() or "active"
                if status not in STATUSES:
                    raise ValueError(f"status must be one of {', '.join(STATUSES)}")
                _sub, what = repo.add(store, cell(row, "email"), cats,
                                      cell(row, "language") or language, "import",
                                      cell(row, "consent_version") or consent_version,
                                      consent, now, status=status)
            except (ValueError, repo.InvalidAddress) as exc:
                report.problems.append(f"{where}: {exc}, skipped")
                continue
            setattr(report, what, getattr(report, what) + 1)
    return report


def export_rows(store) -> list[dict[str, str]]:
    """Every reader as the columns import reads (plus status, via and bounces), oldest first."""
    return [{"email": s.address, "status": s.status, "consent": s.consent_at,
             "consent_via": s.consent_via, "consent_version": s.consent_version,
             "categories": CATEGORY_SEPARATOR.join(s.categories), "language": s.language,
             "bounces": str(s.bounces)}
            for s in repo.listing(store)]


def export_csv(store, target: Path, *, out_dir: Path) -> tuple[int, str | None]:
    """Write every reader to ``target`` (mode 0600, atomically); returns (rows, a warning when
    git would commit the file). Refuses a target inside the published output folder."""
    from feedkit.privacy import git_exposure

    resolved = target.resolve()
    if resolved.is_relative_to(out_dir.resolve()):
        raise UsageError(f"{target}: inside the output folder, which is published; the "
                         "subscriber list holds every address: write it elsewhere")
    buf = io.StringIO(newline="")
    writer = csv.DictWriter(buf, EXPORT_COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    rows = export_rows(store)
    writer.writerows({k: neutralise(v) for k, v in row.items()} for row in rows)
    try:
        _write_private(target, buf.getvalue().encode("utf-8"))
    except OSError as exc:
        raise FeedkitError(f"{target}: cannot write: {exc.strerror or exc}") from None
    tree = git_exposure(resolved)
    warning = (f"{target}: WARNING: inside the git work tree {tree} and not ignored: a commit "
               "would publish every address; move it or list it in .gitignore") if tree else None
    return len(rows), warning


def _write_private(target: Path, data: bytes) -> None:
    """Temp file (``mkstemp`` makes it 0600: only the owner can read the addresses) then
    rename: the file is never readable by others, never half-written."""
    import tempfile

    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def as_json(subscribers) -> list[Mapping[str, object]]:
    """``feedkit subscribers list --json``: one object per reader."""
    return [{"id": s.id, "email": s.address, "status": s.status,
             "categories": list(s.categories), "language": s.language,
             "consent_at": s.consent_at, "consent_via": s.consent_via,
             "consent_version": s.consent_version, "bounces": s.bounces,
             "created_at": s.created_at, "updated_at": s.updated_at}
            for s in subscribers]


def now_utc() -> datetime:
    return datetime.now(UTC)
