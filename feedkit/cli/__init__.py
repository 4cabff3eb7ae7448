"""The ``feedkit`` command: parse arguments, call the library, report.

This module holds the top-level group, its global options and ``main`` (the entry point
``feedkit.cli:main``); :mod:`~feedkit.cli.common` holds what every command shares (the context,
error -> exit-code mapping, file writing), and each command family has its own module:
:mod:`~feedkit.cli.content` (import, update, export, stats), :mod:`~feedkit.cli.site` (build,
validate, init, serve), :mod:`~feedkit.cli.digest` (the ``digest`` group). A new family is a new
module whose commands are added to ``cli`` below.

Kept thin on purpose: every command is a few lines around functions that are tested on their
own. Heavy modules (feedgen, lxml, jinja2, premailer) are imported inside the commands that need
them, so ``feedkit --help`` stays fast.
"""

from __future__ import annotations

import click

from feedkit import __version__
from feedkit.cli import content, digest, editorial, site, store, subscribers, web
from feedkit.cli.common import Context, FeedkitGroup


@click.group(cls=FeedkitGroup, context_settings={"help_option_names": ["-h", "--help"]})
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


# Each command family lives in its own module; the order here is the order of `feedkit --help`'s
# source listing and of the README reference.
for _command in (content.import_command, site.build, site.validate, content.update,
                 content.export, content.stats, site.init, digest.digest,
                 subscribers.subscribers, site.serve, editorial.withdraw, editorial.restore,
                 web.web, store.store):
    cli.add_command(_command)


def main() -> None:
    cli(prog_name="feedkit")
