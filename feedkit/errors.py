"""Errors a user can act on, and the exit codes every command shares.

Anything raised as a :class:`FeedkitError` is an *expected* failure (bad config, bad input,
unreachable server): the CLI prints its message on one line and exits non-zero, never a
traceback. Everything else is a bug and keeps its traceback.

The exit-code contract (README, "Exit codes"), the same for every command, so a cron job or a
CI workflow can tell "fix your config" from "try again later" from "mostly worked":
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

EXIT_OK = 0
"""Everything asked for was done."""
EXIT_FAILURE = 1
"""A failure at run time: nothing (or nothing useful) was done; e.g. the store is empty, the SMTP
server refused the login, a feed is invalid."""
EXIT_USAGE = 2
"""A usage or configuration error: a bad option or argument, a config key missing or wrong, a
secret not set. Running again will not help; editing the command or the config will."""
EXIT_PARTIAL = 3
"""Partly done: some sources, records or recipients failed, the rest was built or sent."""


class FeedkitError(Exception):
    """An expected failure whose message is fit to show a user as-is."""

    exit_code = EXIT_FAILURE


class ConfigError(FeedkitError):
    """The configuration file is missing, unreadable or invalid; the message names the key."""

    exit_code = EXIT_USAGE


class UsageError(FeedkitError):
    """A command-line option or argument that cannot work (``--week 2025-99``, an unknown
    ``--source``); the message names the option."""

    exit_code = EXIT_USAGE


def check_readable(path: Path) -> None:
    """Fail early, in one line, for a file that is missing or unreadable: every stage that reads
    a file the user named (an export, the editorial decisions, a state file) says it the same
    way."""
    try:
        with path.open("rb"):
            pass
    except FileNotFoundError:
        raise FeedkitError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise FeedkitError(f"{path}: is a folder, not a file") from None
    except OSError as exc:
        raise FeedkitError(f"{path}: cannot read: {exc.strerror}") from None


class Check:
    """One line of ``feedkit check``: what was checked, whether it passed (None: not
    applicable, skipped), what to say, and the exit code a failure means (2: something to set
    or fix in the config or the secrets; 1: a server or a page that did not answer as it
    should)."""

    __slots__ = ("code", "detail", "name", "ok")

    def __init__(self, name: str, ok: bool | None, detail: str, code: int = EXIT_USAGE):
        self.name, self.ok, self.detail, self.code = name, ok, detail, code

    def __repr__(self) -> str:
        return f"Check({self.name!r}, {self.ok!r}, {self.detail!r}, {self.code})"

    def line(self) -> str:
        status = {True: "ok", False: "FAIL", None: "skip"}[self.ok]
        return f"{status:<4}  {self.name}: {self.detail}"


def checks_exit_code(checks: list[Check]) -> int:
    """0 when every check passed or was skipped; else the gravest failure's code (2 before 1:
    a missing secret is what to fix first)."""
    codes = [c.code for c in checks if c.ok is False]
    return max(codes) if codes else EXIT_OK
