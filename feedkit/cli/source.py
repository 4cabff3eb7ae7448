"""``feedkit source``: adding a board to config.toml (``detect``: find it from its address)."""

from __future__ import annotations

import sys

import click

from feedkit.cli.common import Context, FeedkitGroup, pass_ctx


@click.group("source", cls=FeedkitGroup)
def source() -> None:
    """Find a board's selectors from its address and add it as a source."""


@source.command("detect")
@click.argument("url")
@click.option("--name", default="", metavar="NAME",
              help="The source's name (default: the board's name on the page).")
@click.option("--write", is_flag=True,
              help="Also add the block to config.toml (at its end; the rest is kept as it is).")
@pass_ctx
def detect(obj: Context, url: str, name: str, write: bool) -> None:
    """Find the board on the list page URL and print its [[sources]] block.

    Fetches the page politely (robots.txt, [fetch] contact and delay, the same fetcher and host
    rules as 'update'), finds the article rows among the page's menus and widgets, their title,
    link, date and department, the paging (checked by reading page 2), and on two or three
    article pages the body, full date, lead image and attachments. The commented block goes to
    standard output, a preview of the first articles to standard error. Stores nothing. Exits 1
    with one line saying why when the page shows no board.
    """
    from feedkit.ingest.detect.block import render
    from feedkit.ingest.detect.run import detect as run_detect
    from feedkit.ingest.fetch import Fetcher, FetchSettings, host_of
    from feedkit.ingest.netguard import private_hosts_of
    from feedkit.ingest.update import configured_private_hosts
    from feedkit.text.i18n import for_config

    config = obj.config
    original = config.path.read_bytes() if write else b""
    fetcher = Fetcher(FetchSettings.from_config(config),
                      private_hosts=configured_private_hosts(config) | private_hosts_of(
                          [host_of(url)]))
    label = for_config(config).gettext("Attachments")
    found = run_detect(url, fetcher, config.tz, name=name, attachments_label=label)
    block = render(found.source, found.notes, found.header)
    for line in found.warnings:
        obj.warn(f"warning: {line}")
    _preview(obj, found)
    if write:
        _write(obj, config.path, original, block)
    sys.stdout.write(block)
    sys.stdout.flush()


def _preview(obj: Context, found) -> None:
    if obj.verbosity < 0:
        return
    obj.warn(f"{len(found.preview)} first articles as 'update' will store them "
             f"({found.requests} request(s)):")
    for row in found.preview:
        if "error" in row:
            obj.warn(f"  ! {row.get('title', '')[:60]}  {row['url']}: {row['error']}")
            continue
        day = row["published"][:16].replace("T", " ")
        obj.warn(f"  {day}  {row['title'][:60]}")
        obj.warn(f"      {row['department'] or '-'}  {row['url']}")


def _write(obj: Context, path, original: bytes, block: str) -> None:
    """Append the block to config.toml atomically, unless the file changed since detection
    began (an editor saved it meanwhile): then its new content wins and nothing is written."""
    from feedkit.errors import FeedkitError
    from feedkit.ingest.detect.block import add_source
    from feedkit.site.output import write_atomic

    text = add_source(original.decode("utf-8"), block, path.name)
    if path.read_bytes() != original:
        raise FeedkitError(f"{path}: changed while detecting; not written (run again)")
    write_atomic(path, text.encode("utf-8"))
    obj.warn(f"added the source to {path}")
