"""``feedkit store``: the store itself (``copy``: move a site between SQLite and PostgreSQL)."""

from __future__ import annotations

import click

from feedkit.cli.common import Context, FeedkitGroup, pass_ctx
from feedkit.errors import UsageError


@click.group("store", cls=FeedkitGroup)
def store() -> None:
    """Copy the whole store to another SQLite file or PostgreSQL database."""


@store.command("copy")
@click.option("--to", "to", required=True, metavar="PATH|URL|env:NAME",
              help="The destination: a SQLite file, a postgresql:// URL without a password, or "
                   "env:NAME for a URL (with its password) in the environment variable NAME.")
@click.option("--schema", default=None, metavar="NAME",
              help="The destination's PostgreSQL schema (default: [store] schema, else the "
                   "database's default).")
@click.option("--replace", is_flag=True,
              help="Make the destination an exact copy even if it holds other data (its other "
                   "rows are deleted). Without it such a copy is refused and nothing is written.")
@pass_ctx
def copy(obj: Context, to: str, schema: str | None, replace: bool) -> None:
    """Copy every table of the configured store into another store, creating it if needed.

    The destination is created or upgraded to this feedkit's schema and written in one
    transaction: all of it or nothing. Running it again changes nothing ("0 rows changed").
    A destination holding rows the copy would overwrite or delete is refused (exit 2) unless
    --replace is given. Subscribers are copied with their ids (their links keep working) and
    never printed.
    """
    from feedkit.store.articles import Store
    from feedkit.store.copy import check_schema, copy_store, copy_target, count_rows, same_store
    from feedkit.store.urls import is_url

    config = obj.config
    target = copy_target(to)
    if schema is not None and not is_url(target):
        raise UsageError("--schema: only for a PostgreSQL destination")
    schema = check_schema(schema if schema is not None else
                          (config.store.schema if is_url(target) else ""))
    with obj.open_store() as source:
        if same_store(source, target, schema):
            raise UsageError(f"--to: that is the configured store itself ({source.label})")
        total = count_rows(source)
        with Store(target, busy_timeout=config.store.busy_timeout, schema=schema) as dest, \
                obj.progress("copy", total, "rows") as bar:
            report = copy_store(source, dest, replace=replace, progress=bar.advance)
    for table in report.tables:
        obj.detail(f"  {table.name}: {table.rows} rows; {table.inserted} added, "
                   f"{table.updated} replaced, {table.deleted} deleted")
    obj.info(report.summary())

