"""Errors a user can act on.

Anything raised as a :class:`FeedkitError` is an *expected* failure (bad config, bad input,
unreachable server): the CLI prints its message on one line and exits non-zero, never a
traceback. Everything else is a bug and keeps its traceback.
"""


class FeedkitError(Exception):
    """An expected failure whose message is fit to show a user as-is."""

    exit_code = 1


class ConfigError(FeedkitError):
    """The configuration file is missing, unreadable or invalid; the message names the key."""

    exit_code = 2
