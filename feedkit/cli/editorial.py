"""``feedkit withdraw`` and ``feedkit restore``: take an article back, or put it back.

The work is in :mod:`feedkit.editorial.withdrawals`; the commands find the article, say what
happened and rebuild the site (as ``update`` does), so the article is gone from the published
folder the moment the command returns.
"""

from __future__ import annotations

from pathlib import Path

import click

from feedkit.cli.common import Context, pass_ctx

_NOW = click.option("--now", "now_text", metavar="YYYY-MM-DD[THH:MM[:SS]]", envvar="FEEDKIT_NOW",
                    help="The moment to record and build as of (site timezone unless an "
                         "offset is given). For tests and reproducible runs; also "
                         "$FEEDKIT_NOW.")
_NO_BUILD = click.option("--no-build", is_flag=True,
                         help="Only change the store; do not build.")
_OUT = click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
                    help="Output folder for the build (default: [build] out).")


def _build(obj: Context, store, out_dir: Path | None, now) -> None:
    from feedkit.errors import FeedkitError
    from feedkit.site.build import build as build_site

    if store.is_empty():
        raise FeedkitError(f"nothing is left to publish, so {out_dir or obj.config.out_dir} "
                           "was not rebuilt and still shows the withdrawn article: take the "
                           "published site down by hand, or add news and build")

    with obj.progress("build", unit="files rendered") as bar:
        report = build_site(obj.config, store, out_dir, progress=bar.advance, now=now)
    for rel in report.written:
        obj.detail(f"wrote {rel}")
    for rel in report.removed:
        obj.detail(f"removed {rel}")
    obj.info(report.summary(out_dir or obj.config.out_dir))


def _now(obj: Context, now_text: str | None):
    from feedkit.mail.schedule import parse_now

    return parse_now(now_text, obj.config.tz) if now_text else None


@click.command()
@click.argument("key", metavar="ID_OR_URL")
@click.option("--reason", required=True,
              help="Why (a correction, a legal request): kept with the article, shown by "
                   "stats, written to the export.")
@_NO_BUILD
@_OUT
@_NOW
@pass_ctx
def withdraw(obj: Context, key: str, reason: str, no_build: bool, out_dir: Path | None,
             now_text: str | None) -> None:
    """Take an article out of every feed, page and digest not yet sent, then build.

    ID_OR_URL is the article's id or its URL (as in `feedkit export`). The article stays in the
    store with the reason and the time, a later update or import never brings it back, and
    `feedkit restore` undoes it. Feeds carry no tombstone: the entry simply leaves them.
    """
    from feedkit.editorial.withdrawals import withdraw as withdraw_article

    now = _now(obj, now_text)
    with obj.open_store() as store:
        found, new = withdraw_article(store, key, reason, now)
        if not new:
            obj.info(f"already withdrawn on {found.at}: {found.title} ({found.id})\n"
                     f"  reason: {found.reason}")
            return
        obj.info(f"withdrawn: {found.title} ({found.id})\n  reason: {found.reason}")
        if not no_build:
            _build(obj, store, out_dir, now)


@click.command()
@click.argument("key", metavar="ID_OR_URL")
@_NO_BUILD
@_OUT
@_NOW
@pass_ctx
def restore(obj: Context, key: str, no_build: bool, out_dir: Path | None,
            now_text: str | None) -> None:
    """Undo `feedkit withdraw`: the article is published again as it was, then build."""
    from feedkit.editorial.withdrawals import restore as restore_article

    now = _now(obj, now_text)   # a bad --now is refused before the store changes
    with obj.open_store() as store:
        found = restore_article(store, key)
        obj.info(f"restored: {found.title} ({found.id}), withdrawn on {found.at}")
        if not no_build:
            _build(obj, store, out_dir, now)
