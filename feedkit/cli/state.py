"""``feedkit state``: the store kept as text in the site's git repository (a CI workflow)."""

from __future__ import annotations

from pathlib import Path

import click

from feedkit.cli.common import Context, FeedkitGroup, pass_ctx


@click.group("state", cls=FeedkitGroup)
def state() -> None:
    """Save the store as text to the site's git repository, surviving concurrent pushes."""


def _path_option(name: str, what: str):
    return click.option(name, type=click.Path(dir_okay=False, path_type=Path), help=what)


@state.command("save")
@_path_option("--out", "The articles (as 'feedkit export --out').")
@_path_option("--send-log", "The digest send log (as 'feedkit export --send-log').")
@_path_option("--state", "Sources failing in a row (as 'feedkit export --state').")
@_path_option("--editorial", "Approvals and notes (as 'feedkit export --editorial').")
@_path_option("--unsubscribed", "The unsubscribe list (as 'feedkit export --unsubscribed').")
@click.option("--attempts", type=click.IntRange(1, 20), default=5, show_default=True,
              help="Pushes to try before giving up.")
@click.option("--retry-delay", type=click.FloatRange(min=0), default=2.0, show_default=True,
              metavar="SECONDS", help="Pause after the first rejected push; grows by as much "
                                      "after each.")
@click.option("--message", default="feedkit: update store", show_default=True,
              help="The commit message.")
@pass_ctx
def save(obj: Context, out: Path | None, send_log: Path | None, state: Path | None,
         editorial: Path | None, unsubscribed: Path | None, attempts: int, retry_delay: float,
         message: str) -> None:
    """Export the store as text, commit those files and push them to the checkout's branch.

    For a CI workflow that rebuilds its store from the committed files every run. When the
    push is rejected because something was pushed during the run (an editor's commit), the
    remote's newer files are merged with this run's by feedkit's rules (the send log is a
    union, so nobody marked sent is lost; an editorial decision is newest-wins; articles,
    source streaks and the unsubscribe list merge three-way against the commit the run started
    from), put on top of the remote's commit, and pushed again, up to --attempts times. If it
    still cannot be saved it exits 1, says what to do, and prints the send-log lines not saved.
    Nothing else in the checkout is committed.
    """
    from feedkit.site.gitsave import SaveError, save_state
    from feedkit.site.textstate import TextState, export_text

    files = TextState(out, send_log, state, editorial, unsubscribed)
    if not files.files():
        raise click.UsageError("name at least one file (--out, --send-log, --state, "
                               "--editorial, --unsubscribed)")
    with obj.open_store() as store:
        def export() -> None:
            for _kind, path, records, changed in export_text(store, files):
                obj.detail(f"{path}: {records} records{'' if changed else ' (unchanged)'}")

        try:
            report = save_state(Path.cwd(), files, export,
                                absorb=lambda: _import_text(obj, store, files),
                                attempts=attempts, delay=retry_delay, message=message)
        except SaveError as exc:
            if exc.unsaved:
                click.echo("send-log lines not saved (add them to the send log by hand):")
                for line in exc.unsaved:
                    click.echo(line)
            raise
    obj.info(report.summary())


def _import_text(obj: Context, store, files) -> None:
    """The merged files into the store (what 'feedkit import' does with them at the start of
    a run), so the store holds what the remote added."""
    from feedkit.editorial.decisions import import_editorial
    from feedkit.ingest.importer import FileSpec, import_files
    from feedkit.site.export import import_send_log
    from feedkit.store.health import import_state
    from feedkit.store.unsubscribed_table import import_unsubscribed

    readers = {"send-log": lambda p: import_send_log(store, p),
               "state": lambda p: import_state(store, p),
               "editorial": lambda p: import_editorial(store, p),
               "unsubscribed": lambda p: import_unsubscribed(store, p)}
    for kind, path in files.files():
        if kind == "articles":
            report = import_files(store, [FileSpec(path=path)], obj.config.tz)
            for line in report.rejected:
                obj.warn(line)
        else:
            readers[kind](path)
