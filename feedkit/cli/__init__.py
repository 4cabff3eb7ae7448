"""The ``feedkit`` command: parse arguments, call the library, report.

This module holds the top-level group, its global options and ``main`` (the entry point
``feedkit.cli:main``); :mod:`~feedkit.cli.common` holds what every command shares (the context,
error -> exit-code mapping, file writing), and each command family has its own module:
:mod:`~feedkit.cli.content` (import, update, export, stats), :mod:`~feedkit.cli.site` (build,
validate, init, serve), :mod:`~feedkit.cli.digest` (the ``digest`` group), and so on. A new
command is a row of :data:`COMMANDS` below (its module, and its summary for ``feedkit --help``).

Kept thin and quick to start on purpose: every command is a few lines around functions that are
tested on their own; a command's module is imported only when that command runs
(:mod:`~feedkit.cli.lazy`), and heavy libraries (feedgen, lxml, jinja2, premailer) only inside
the commands that need them, so ``feedkit --help`` and a no-op ``feedkit build`` start fast.

May import: every package. Nothing in the library imports it (``python -m feedkit`` and
:mod:`~feedkit.cli.docgen`, which documents it, are part of it).
"""

from __future__ import annotations

import click

from feedkit import __version__
from feedkit.cli.common import Context
from feedkit.cli.lazy import LazyCommand, LazyGroup

# name -> where the command lives, and its summary for `feedkit --help` (the first sentence of
# its help; tests/test_cli.py fails when one differs from the command's own). A module is
# imported only when one of its commands runs (or `feedkit COMMAND --help` is asked for).
COMMANDS = {name: LazyCommand(target, summary) for name, target, summary in [
    ("import", "feedkit.cli.content:import_command",
     "Import JSON Lines, JSON or CSV files into the article store."),
    ("build", "feedkit.cli.site:build",
     "Write feeds, category feeds and the index page into the output folder."),
    ("announce", "feedkit.cli.site:announce",
     "Tell the WebSub hubs which feeds changed, so subscribed readers get them at once."),
    ("validate", "feedkit.cli.site:validate",
     "Check the built feeds in DIRECTORY (default: the output folder) and list problems."),
    ("update", "feedkit.cli.content:update",
     "Fetch every configured source (files, feeds, web pages), store what is new, then build."),
    ("export", "feedkit.cli.content:export",
     "Write the whole store as sorted JSON Lines (the import format)."),
    ("stats", "feedkit.cli.content:stats",
     "Show what the store holds: articles per category, date range, digests sent."),
    ("init", "feedkit.cli.site:init",
     "Start a new site in DIRECTORY: config.toml, requirements.txt, a CI workflow, .gitignore."),
    ("digest", "feedkit.cli.digest:digest", "Render or send the weekly email digest."),
    ("subscribers", "feedkit.cli.subscribers:subscribers",
     'Manage the subscriber list kept in the store ([digest] audience = "subscribers").'),
    ("serve", "feedkit.cli.site:serve",
     "Build, then serve the output folder over HTTP for a local look (Ctrl-C stops)."),
    ("withdraw", "feedkit.cli.editorial:withdraw",
     "Take an article out of every feed, page and digest not yet sent, then build."),
    ("restore", "feedkit.cli.editorial:restore",
     "Undo `feedkit withdraw`: the article is published again as it was, then build."),
    ("web", "feedkit.cli.web:web",
     "Serve the subscribe, confirm, unsubscribe and preferences pages (Ctrl-C stops)."),
    ("store", "feedkit.cli.store:store",
     "Copy the whole store to another SQLite file or PostgreSQL database."),
    ("state", "feedkit.cli.state:state",
     "Save the store as text to the site's git repository, surviving concurrent pushes."),
    ("check", "feedkit.cli.check:check",
     "Check everything a run needs: config, secrets, recipients, SMTP, sources, templates."),
    ("source", "feedkit.cli.source:source",
     "Find a board's selectors from its address and add it as a source."),
]}


@click.group(cls=LazyGroup, lazy_commands=COMMANDS,
             context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--config", "config_path", metavar="PATH", envvar="FEEDKIT_CONFIG",
              help="config.toml, or a folder holding one (default: $FEEDKIT_CONFIG, then the "
                   "nearest config.toml here or in a parent folder). Also after the command.")
@click.option("-q", "--quiet", is_flag=True, help="Print only warnings and errors.")
@click.option("-v", "--verbose", is_flag=True, help="Print more detail.")
@click.version_option(__version__, prog_name="feedkit")
@click.pass_context
def cli(ctx: click.Context, config_path: str | None, quiet: bool, verbose: bool) -> None:
    """Turn a city's news into RSS, Atom and JSON feeds and a weekly email digest.

    Exit codes, for every command: 0 done; 1 a failure at run time; 2 a usage or configuration
    error; 3 partly done (some sources, records or recipients failed, the rest was built or sent).
    """
    ctx.obj = Context(config_path, 0)
    for flag, on in (("quiet", quiet), ("verbose", verbose)):
        if on:
            ctx.obj.set_flag(flag)


def main() -> None:
    cli.freeze_loaded = True   # type: ignore[attr-defined]   # one command, then exit
    cli(prog_name="feedkit")
