"""A command group that imports a command's module only when that command runs.

The pattern of Click's documentation ("LazyGroup"): the group holds a table of command name →
``"module:attribute"`` and the command's one-line summary. ``feedkit build`` imports
``feedkit.cli.site`` and nothing of the digest, subscriber or web commands (with their Babel,
Jinja2, email and Flask imports); ``feedkit --help`` lists every command from the table's
summaries, shortened exactly as Click shortens a command's help, without importing any of them.
``tests/test_cli.py`` checks the table against the real commands, so the two cannot drift.
"""

from __future__ import annotations

import gc
import importlib

import click

from feedkit.cli.common import FeedkitGroup


class LazyCommand:
    """Where a command lives, and the summary ``feedkit --help`` shows for it. (A plain class:
    a dataclass would cost start-up time for what two attributes do.)"""

    __slots__ = ("summary", "target")

    def __init__(self, target: str, summary: str) -> None:
        self.target = target     # "feedkit.cli.site:build"
        self.summary = summary   # the command's short help: its help text's first sentence

    def load(self) -> click.Command:
        module, _, attr = self.target.partition(":")
        return getattr(importlib.import_module(module), attr)


class LazyGroup(FeedkitGroup):
    """A :class:`FeedkitGroup` whose commands are imported on first use (see the module)."""

    def __init__(self, *args, lazy_commands: dict[str, LazyCommand] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.lazy_commands = dict(lazy_commands or {})
        # Set by the ``feedkit`` program (``main``), which runs one command and exits; not
        # by a process that invokes commands again and again (tests, an embedding program).
        self.freeze_loaded = False

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.commands, *self.lazy_commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in self.lazy_commands:
            # add_command gives it the global options (--config, -q, -v after its name)
            self.add_command(self.lazy_commands[cmd_name].load(), cmd_name)
            if self.freeze_loaded:
                # Everything loaded so far (modules, classes, the config's tables) lives until
                # the process ends: out of the cyclic collector's sight, its full collections
                # during a build no longer walk it again and again (about 10 ms of a cold
                # build).
                gc.freeze()
        return super().get_command(ctx, cmd_name)

    def summary_of(self, cmd_name: str, limit: int) -> str:
        """What ``--help`` lists for a command: its own short help once it is loaded, else the
        table's summary shortened the same way (Click's rule: the first sentence, or as many
        words as fit with "...")."""
        cmd = self.commands.get(cmd_name)
        if cmd is None:
            cmd = click.Command(cmd_name, help=self.lazy_commands[cmd_name].summary)
        return cmd.get_short_help_str(limit)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """Click's own listing (name, short help), from :meth:`summary_of`: no import."""
        names = [n for n in self.list_commands(ctx)
                 if n in self.lazy_commands or not self.commands[n].hidden]
        if not names:
            return
        limit = formatter.width - 6 - max(len(n) for n in names)
        with formatter.section("Commands"):
            formatter.write_dl([(n, self.summary_of(n, limit)) for n in names])
