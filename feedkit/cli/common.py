"""What every ``feedkit`` command shares: the run's context (verbosity, the config loaded on
first use, the store), the group class that maps expected failures to one line and the exit code
of the contract, the global options accepted after a command's name, and writing a file or stdout.

The command modules (:mod:`~feedkit.cli.content`, :mod:`~feedkit.cli.site`,
:mod:`~feedkit.cli.digest`, ...) import from here, never from ``feedkit.cli`` itself, so the
package has no import cycle; ``feedkit/cli/__init__.py`` gathers their commands.
"""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path

import click

from feedkit.errors import FeedkitError


class Context:
    """What every command needs: how chatty to be, and the config (loaded on first use)."""

    def __init__(self, config_path: str | None, verbosity: int):
        self.config_path = config_path
        self.verbosity = verbosity
        self._config = None
        self._flags: set[str] = set()

    @property
    def config(self):
        if self._config is None:
            from feedkit.config import load_config

            self._config = load_config(self.config_path)
            # Words for readers in this command (``from feedkit.text.i18n import _``) are in the
            # site's language until the command ends (see feedkit.text.i18n.activate); its catalog
            # files are looked up afresh for each command (one process may run several).
            from feedkit.text.i18n import activate, refresh

            refresh()

            click_ctx = click.get_current_context(silent=True)
            if click_ctx is not None:
                click_ctx.find_root().with_resource(activate(self._config))
        return self._config

    def set_flag(self, flag: str) -> None:
        """-q / -v given (before or after the command); both at once is a usage error."""
        self._flags.add(flag)
        if {"quiet", "verbose"} <= self._flags:
            raise click.UsageError("--quiet and --verbose cannot be used together")
        self.verbosity = -1 if flag == "quiet" else 1

    def open_store(self):
        from feedkit.store.backends import open_store

        return open_store(self.config)

    @property
    def store_path(self) -> Path:
        """For messages: the store of the loaded config (its file, or its URL and schema)."""
        if self._config is None:
            return Path("the article store")
        from feedkit.store.backends import store_label

        return Path(store_label(self._config))

    def info(self, message: str) -> None:
        if self.verbosity >= 0:
            click.echo(message)

    def detail(self, message: str) -> None:
        if self.verbosity > 0:
            click.echo(message)

    def warn(self, message: str) -> None:
        click.echo(message, err=True)

    def progress(self, label: str, total: int | None = None, unit: str = ""):
        """A progress display on stderr (none with --quiet)."""
        from feedkit.progress import Progress

        return Progress(label, total, enabled=self.verbosity >= 0, unit=unit)


class FeedkitGroup(click.Group):
    """Turns expected failures (:class:`FeedkitError`) into one line per problem on stderr and
    the exit code of the contract (README, "Exit codes"); gives every subcommand the global
    options too, so ``feedkit update -q`` works like ``feedkit -q update``."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except FeedkitError as exc:
            for line in str(exc).splitlines() or [""]:
                click.echo(f"feedkit: error: {line}", err=True)
            ctx.exit(exc.exit_code)
        except sqlite3.Error as exc:   # the store, mid-command: locked too long, damaged, full
            from feedkit.store.articles import StoreError

            obj = ctx.find_object(Context)
            path = obj.store_path if obj is not None else Path("the article store")
            click.echo(f"feedkit: error: {StoreError(path, exc)}", err=True)
            ctx.exit(StoreError.exit_code)
        except KeyboardInterrupt:
            click.echo("feedkit: interrupted", err=True)
            ctx.exit(130)

    def add_command(self, cmd: click.Command, name: str | None = None) -> None:
        if not isinstance(cmd, click.Group):
            cmd.params.extend(_global_options())
        super().add_command(cmd, name)

    def group(self, *args, **kwargs):
        kwargs.setdefault("cls", FeedkitGroup)
        return super().group(*args, **kwargs)


def _set_config(ctx: click.Context, _param, value: str | None) -> None:
    if value is not None:
        ctx.find_object(Context).config_path = value


def _set_flag(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    if value:
        ctx.find_object(Context).set_flag(param.name)


def _global_options() -> list[click.Option]:
    """--config, -q, -v after the command name (hidden from each command's help: the top-level
    help documents them once)."""
    return [
        click.Option(["--config", "config_path"], metavar="PATH", hidden=True,
                     expose_value=False, callback=_set_config),
        click.Option(["-q", "--quiet", "quiet"], is_flag=True, hidden=True, expose_value=False,
                     callback=_set_flag),
        click.Option(["-v", "--verbose", "verbose"], is_flag=True, hidden=True,
                     expose_value=False, callback=_set_flag),
    ]


pass_ctx = click.make_pass_decorator(Context)


def write_out(target: Path, data: bytes) -> None:
    """``data`` to stdout for ``-``, else to ``target`` atomically (an OS error is one line,
    exit 1: :func:`feedkit.site.output.write_atomic` says which file and why)."""
    if str(target) == "-":
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return
    from feedkit.site.output import write_atomic

    write_atomic(target, data)
