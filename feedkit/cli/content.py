"""``feedkit import``, ``update``, ``export`` and ``stats``: news into and out of the store."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from feedkit.cli.common import Context, pass_ctx
from feedkit.errors import EXIT_PARTIAL, ConfigError, FeedkitError, UsageError


@click.command("import")
@click.argument("files", nargs=-1, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--format", "kind", type=click.Choice(["jsonl", "json", "csv"]),
              help="Read FILES as this format (default: from each file's extension).")
@click.option("--send-log", "send_log", type=click.Path(dir_okay=False, path_type=Path),
              help="Also restore a digest send log written by 'feedkit export --send-log'.")
@click.option("--state", "state", type=click.Path(dir_okay=False, path_type=Path),
              help="Also restore run state (sources failing in a row) written by "
                   "'feedkit export --state'; a missing file is no state.")
@click.option("--editorial", "editorial", type=click.Path(dir_okay=False, path_type=Path),
              help="Also restore digest approvals and editor's notes written by 'feedkit "
                   "export --editorial' (per week the newer decision wins); a missing file is "
                   "none.")
@click.option("--unsubscribed", "unsubscribed", type=click.Path(dir_okay=False, path_type=Path),
              help="Also restore the unsubscribe list written by 'feedkit export "
                   "--unsubscribed' (readers who asked to leave); a missing file is none.")
@pass_ctx
def import_command(obj: Context, files: tuple[Path, ...], kind: str | None,
                   send_log: Path | None, state: Path | None, editorial: Path | None,
                   unsubscribed: Path | None) -> None:
    """Import JSON Lines, JSON or CSV files into the article store.

    With no FILES, imports the file sources listed in config.toml. Bad records are reported as
    FILE:LINE: reason; good records in the same file still import. Exits 3 if any record was
    rejected (the others were imported).
    """
    from feedkit.config import FILE_SOURCE_KINDS
    from feedkit.editorial.licenses import source_code
    from feedkit.ingest.files import count_records
    from feedkit.ingest.importer import FileSpec, import_files

    config = obj.config
    if files:
        specs = [FileSpec(path=p, kind=kind) for p in files]
    else:
        specs = [FileSpec(path=config.resolve(s.path), kind=s.kind,
                          default_category=s.category, label=s.path, license=source_code(s))
                 for s in config.sources if s.kind in FILE_SOURCE_KINDS]
        if not specs:
            raise ConfigError("no files given and no file sources (jsonl/csv/json) in "
                              f"{config.path.name}")

    total = sum(count_records(spec.path, spec.kind) or 0 for spec in specs) or None
    with obj.open_store() as store, obj.progress("import", total, "records") as bar:
        if send_log:
            from feedkit.site.export import import_send_log

            restored = import_send_log(store, send_log)
            obj.detail(f"{send_log}: {restored} send-log records")
        if state:
            from feedkit.store.health import import_state

            obj.detail(f"{state}: {import_state(store, state)} state records")
        if editorial:
            from feedkit.editorial.decisions import import_editorial

            obj.detail(f"{editorial}: {import_editorial(store, editorial)} editorial records")
        if unsubscribed:
            from feedkit.store.unsubscribed_table import import_unsubscribed

            obj.detail(f"{unsubscribed}: {import_unsubscribed(store, unsubscribed)} "
                       "unsubscribe records")
        report = import_files(store, specs, config.tz, progress=bar.advance)
        _stamp_import(store)
    for line in report.warnings:
        obj.warn(f"warning: {line}")
    for line in report.rejected:
        obj.warn(line)
    obj.info(report.summary())
    if not report.ok:
        sys.exit(EXIT_PARTIAL)


def _stamp_import(store) -> None:
    """When the store last took in news (shown by 'feedkit stats'; never in any output)."""
    from datetime import UTC, datetime

    store.set_meta("last_import", datetime.now(UTC).isoformat(timespec="seconds"))

@click.command()
@click.option("--full", is_flag=True,
              help="Re-read every list page up to max_pages and every row, ignoring ETag / "
                   "Last-Modified and what is already stored.")
@click.option("--no-build", is_flag=True, help="Only update the store; do not build.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Output folder for the build (default: [build] out).")
@click.option("--source", "only", multiple=True, metavar="NAME",
              help="Update only the source(s) with this name, URL or path (repeatable).")
@click.option("--announce", is_flag=True,
              help="After the build, tell the WebSub hubs which feeds changed (where the output "
                   "folder is what the web server serves; see 'feedkit announce').")
@pass_ctx
def update(obj: Context, full: bool, no_build: bool, out_dir: Path | None,
           only: tuple[str, ...], announce: bool) -> None:
    """Fetch every configured source (files, feeds, web pages), store what is new, then build.

    One failing source does not stop the others and never deletes stored articles; every
    source's errors are printed before the build starts. Unchanged list pages cost a
    conditional GET; known articles are not fetched again. Exits 3 if a source failed or a
    record was rejected but the rest was stored and built; a source failing 24 runs in a row
    is reported as an error.
    """
    from datetime import UTC, datetime

    from feedkit.ingest.update import Progress, run_update
    from feedkit.store.health import record_run, runner_of

    config = obj.config
    if not config.sources:
        raise ConfigError(f"no [[sources]] in {config.path.name}")
    sources = list(config.sources)
    if only:
        known = {v for s in sources for v in (s.name, s.url, s.path, s.label) if v}
        unknown = [name for name in only if name not in known]
        if unknown:
            raise UsageError(f"--source: no source named {unknown[0]!r} in {config.path.name} "
                             f"(known: {', '.join(s.label for s in sources)})")
        sources = [s for s in sources if {s.name, s.url, s.path, s.label} & set(only)]
    progress = Progress(sys.stderr, verbose=obj.verbosity > 0,
                        quiet=obj.verbosity < 0, echo=click.echo)
    with obj.open_store() as store:
        report = run_update(config, store, full=full, progress=progress,
                            sources=sources)
        _stamp_import(store)
        now = datetime.now(UTC).isoformat(timespec="minutes")
        streaks = record_run(store, [(sr.label, sr.error) for sr in report.sources], now,
                             configured=[s.label for s in config.sources],
                             runner=runner_of(config.path))
        # Every source's own errors first: whatever fails next, the reasons are on screen.
        for sr in report.sources:
            for line in sr.warnings:
                obj.warn(f"warning: {line}")
            for line in sr.rejected:
                obj.warn(line)
            if sr.error:
                obj.warn(f"{sr.label}: error: {sr.error}")
                _annotate("warning", f"feedkit update: {sr.label}", sr.error)
                if sr.detail:
                    obj.detail(sr.detail.rstrip())
        for streak in streaks:
            if streak.loud:
                obj.warn(f"error: {streak.message()}")
                _annotate("error", f"feedkit update: {streak.source}", streak.message())
        obj.info(report.summary())
        if not no_build:
            build_report = _build_after_update(obj, config, store, out_dir, report)
            for rel in build_report.written:
                obj.detail(f"wrote {rel}")
            obj.info(build_report.summary(out_dir or config.out_dir))
            if announce:
                from feedkit.cli.site import announce_pending

                announce_pending(obj, config, store)
    if not report.ok:
        sys.exit(EXIT_PARTIAL)


def _build_after_update(obj: Context, config, store, out_dir: Path | None, report):
    """Build; an empty store after failed sources says which sources and why."""
    from feedkit.site.build import build as build_site

    if store.is_empty() and report.failed:
        lines = ["nothing to build: the article store is empty and "
                 f"{len(report.failed)} of {len(report.sources)} source(s) failed:"]
        lines += [f"  {sr.label}: {sr.error}" for sr in report.failed]
        raise FeedkitError("\n".join(lines))
    with obj.progress("build", unit="files rendered") as bar:
        return build_site(config, store, out_dir, progress=bar.advance)


def _annotate(level: str, title: str, message: str) -> None:
    """A GitHub Actions annotation (shown on the run's summary page), only when running there."""
    import os

    if os.environ.get("GITHUB_ACTIONS") != "true":
        return

    def escape(text: str, prop: bool = False) -> str:
        text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
        return text.replace(":", "%3A").replace(",", "%2C") if prop else text

    click.echo(f"::{level} title={escape(title, True)}::{escape(message)}")


@click.command()
@click.option("--out", "out_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Write to FILE (atomically; left untouched if unchanged) instead of stdout.")
@click.option("--send-log", "send_log", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the digest send log to this file (for stores kept as text).")
@click.option("--state", "state", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write run state (sources failing in a row) to this file.")
@click.option("--editorial", "editorial", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write digest approvals and editor's notes to this file (commit it: "
                   "a CI workflow reads approvals from it).")
@click.option("--unsubscribed", "unsubscribed", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the unsubscribe list (keyed hashes of readers who asked to "
                   "leave, never an address) to this file.")
@pass_ctx
def export(obj: Context, out_file: Path | None, send_log: Path | None,
           state: Path | None, editorial: Path | None, unsubscribed: Path | None) -> None:
    """Write the whole store as sorted JSON Lines (the import format).

    Deterministic: the same store gives the same bytes, so the file diffs well in git, and
    export -> import -> export is byte-identical.
    """
    from feedkit.site.export import export_chunks, export_send_log_chunks
    from feedkit.site.output import write_atomic, write_atomic_stream

    def counted(chunks, tally: list[int]):
        for chunk in chunks:
            tally[0] += chunk.count(b"\n")
            yield chunk

    # Streamed from the store to the file (or stdout) as it is read: memory stays flat
    # however large the store. Each file is still replaced atomically, and left untouched
    # when its bytes are the same.
    with obj.open_store() as store:
        if send_log:
            tally = [0]
            changed = write_atomic_stream(send_log, counted(export_send_log_chunks(store), tally))
            obj.info(f"{send_log}: {tally[0]} send-log records"
                     f"{'' if changed else ' (unchanged)'}")
        if state:
            from feedkit.store.health import export_state

            state_bytes = export_state(store)
            changed = write_atomic(state, state_bytes)
            records = state_bytes.count(b"\n")
            obj.detail(f"{state}: {records} state records"
                       f"{'' if changed else ' (unchanged)'}")
        if editorial:
            from feedkit.editorial.decisions import export_editorial

            data = export_editorial(store)
            changed, records = write_atomic(editorial, data), data.count(b"\n")
            obj.info(f"{editorial}: {records} editorial records"
                     f"{'' if changed else ' (unchanged)'}")
        if unsubscribed:
            from feedkit.store.unsubscribed_table import export_unsubscribed

            data = export_unsubscribed(store)
            changed, records = write_atomic(unsubscribed, data), data.count(b"\n")
            obj.info(f"{unsubscribed}: {records} unsubscribe records"
                     f"{'' if changed else ' (unchanged)'}")
        if out_file is None:
            sys.stdout.flush()
            for chunk in export_chunks(store):
                sys.stdout.buffer.write(chunk)
            sys.stdout.buffer.flush()
            return
        tally = [0]
        changed = write_atomic_stream(out_file, counted(export_chunks(store), tally))
    obj.info(f"{out_file}: {tally[0]} articles{'' if changed else ' (unchanged)'}")


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@pass_ctx
def stats(obj: Context, as_json: bool) -> None:
    """Show what the store holds: articles per category, date range, digests sent."""
    import json

    from feedkit.site.stats import collect, format_stats
    from feedkit.store.backends import store_label

    with obj.open_store() as store:
        result = collect(store, obj.config.tz)
    if as_json:
        click.echo(json.dumps(result.as_dict(), ensure_ascii=False, indent=2))
    else:
        # The label as text: a Path would fold the URL's "//" ("postgresql:/user@host/db").
        click.echo(format_stats(result, store_label(obj.config)))

