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
