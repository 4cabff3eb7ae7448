"""Who gets the digest: ``[digest] to`` and the recipients file, checked and de-duplicated;
a recipients file inside the published output or a git checkout is refused (addresses are
personal data).
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.utils import formataddr, getaddresses
from pathlib import Path

from feedkit.config import Config
from feedkit.errors import ConfigError
from feedkit.privacy import check_address, git_exposure


def split_addresses(value: str) -> list[str]:
    """One line or value → its addresses: ``x@a.org, Kim <y@b.org>`` is two. Commas inside a
    quoted display name (``"Kim, Chul" <k@c.org>``) do not split."""
    if "," not in value and ";" not in value:
        return [value]
    return [formataddr((name, addr)) if name else addr
            for name, addr in getaddresses([value.replace(";", ",")]) if name or addr] or [value]


@dataclass
class RecipientList:
    addresses: list[str] = field(default_factory=list)
    # "WHERE: reason" per skipped entry, without the entry itself (it may be a mistyped
    # address): safe to print at any verbosity.
    problems: list[str] = field(default_factory=list)
    # (where, the rejected text): only for -v output.
    rejected: list[tuple[str, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def load_recipients(config: Config, environ: Mapping[str, str] | None = None) -> RecipientList:
    """``[digest] to``, ``recipients_env`` and ``recipients_file``: valid, de-duplicated (same
    reader in any spelling, see :func:`feedkit.privacy.normalise_address`), in order; every bad
    entry becomes one "WHERE: reason" line and is skipped."""
    from feedkit.privacy import normalise_address

    environ = os.environ if environ is None else environ
    result = RecipientList()
    seen: set[str] = set()

    def add(value: str, where: str) -> None:
        for part in split_addresses(value):
            addr, why = check_address(part)
            if addr is None:
                result.problems.append(f"{where}: {why}, skipped")
                result.rejected.append((where, part.strip()))
                continue
            norm = normalise_address(addr)
            if norm not in seen:
                seen.add(norm)
                result.addresses.append(addr)

    for i, value in enumerate(config.digest.to, 1):
        add(value, f"{config.path.name}: [digest] to #{i}")
    if config.digest.recipients_env:
        name = config.digest.recipients_env
        raw = environ.get(name, "")
        if not raw.strip():
            raise ConfigError(f"[digest] recipients_env: ${name} is not set or empty (set it "
                              "from a secret: one address per line or comma-separated)")
        for i, line in enumerate(raw.splitlines(), 1):
            if line.strip() and not line.lstrip().startswith("#"):
                add(line, f"${name} line {i}")
    if config.digest.recipients_file:
        path = config.resolve(config.digest.recipients_file)
        _check_private_place(config, path, result)
        for where, value in _read_recipients_file(path):
            add(value, where)
    return result


def _check_private_place(config: Config, path: Path, result: RecipientList) -> None:
    """A recipients file must not be published or committed: inside the output folder it is
    an error; inside a git work tree without being ignored, a loud warning on every run."""
    try:
        resolved = path.resolve()
        resolved.relative_to(config.out_dir.resolve())
    except ValueError:
        pass
    else:
        raise ConfigError(f"{path}: the recipients file is inside the output folder "
                          f"({config.build.out}), which is published; move it elsewhere")
    tree = git_exposure(resolved)
    if tree:
        result.warnings.append(
            f"{path}: WARNING: this recipients file is inside the git work tree {tree} and "
            "not ignored: a commit would publish every address. Move it outside the "
            "repository, list it in .gitignore, or use [digest] recipients_env with a secret")


def _read_recipients_file(path: Path) -> list[tuple[str, str]]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ConfigError(f"{path}: recipients file not found ([digest] recipients_file)"
                          ) from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: recipients file is not UTF-8 ({exc.reason})") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read recipients file: {exc.strerror}") from None
    lines = text.splitlines()
    first = next((ln for ln in lines if ln.strip() and not ln.lstrip().startswith("#")), "")
    header = [h.strip().lower() for h in next(csv.reader([first]))] if first else []
    out: list[tuple[str, str]] = []
    if "," in first and "email" in header:
        column = header.index("email")
        reader = csv.reader(io.StringIO(text))
        for row in reader:
            line = reader.line_num
            if not row or row[0].lstrip().startswith("#") or [c.strip().lower()
                                                             for c in row] == header:
                continue
            value = row[column] if column < len(row) else ""
            out.append((f"{path.name}:{line}", value))
        return out
    for line, raw in enumerate(lines, 1):
        value = raw.strip()
        if value and not value.startswith("#"):
            out.append((f"{path.name}:{line}", value))
    return out
