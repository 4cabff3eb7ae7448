"""The ``feedkit`` command: parse arguments, call the library, report.

Kept thin on purpose: every command is a few lines around functions that are tested on their
own. Heavy modules (feedgen, lxml, jinja2, premailer) are imported inside the commands that need
them, so ``feedkit --help`` stays fast.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from feedkit import __version__
from feedkit.errors import FeedkitError


class Context:
    """What every command needs: how chatty to be, and the config (loaded on first use)."""

    def __init__(self, config_path: str | None, verbosity: int):
        self.config_path = config_path
        self.verbosity = verbosity
        self._config = None

    @property
    def config(self):
        if self._config is None:
            from feedkit.config import load_config

            self._config = load_config(self.config_path)
        return self._config

    def open_store(self):
        from feedkit.store import Store

        return Store(self.config.store_path)

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
    """Turns expected failures (:class:`FeedkitError`) into one line on stderr and an exit code."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except FeedkitError as exc:
            click.echo(f"feedkit: error: {exc}", err=True)
            ctx.exit(exc.exit_code)
        except KeyboardInterrupt:
            click.echo("feedkit: interrupted", err=True)
            ctx.exit(130)


pass_ctx = click.make_pass_decorator(Context)


@click.group(cls=FeedkitGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--config", "config_path", metavar="PATH", envvar="FEEDKIT_CONFIG",
              help="config.toml to use (default: $FEEDKIT_CONFIG, then ./config.toml).")
@click.option("-q", "--quiet", is_flag=True, help="Print only warnings and errors.")
@click.option("-v", "--verbose", is_flag=True, help="Print more detail.")
@click.version_option(__version__, prog_name="feedkit")
@click.pass_context
def cli(ctx: click.Context, config_path: str | None, quiet: bool, verbose: bool) -> None:
    """Turn a city's news into RSS, Atom and JSON feeds and a weekly email digest."""
    if quiet and verbose:
        raise click.UsageError("--quiet and --verbose cannot be used together")
    ctx.obj = Context(config_path, -1 if quiet else (1 if verbose else 0))


@cli.command("import")
@click.argument("files", nargs=-1, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--format", "kind", type=click.Choice(["jsonl", "json", "csv"]),
              help="Read FILES as this format (default: from each file's extension).")
@click.option("--send-log", "send_log", type=click.Path(dir_okay=False, path_type=Path),
              help="Also restore a digest send log written by 'feedkit export --send-log'.")
@pass_ctx
def import_command(obj: Context, files: tuple[Path, ...], kind: str | None,
                   send_log: Path | None) -> None:
    """Import JSON Lines, JSON or CSV files into the article store.

    With no FILES, imports the file sources listed in config.toml. Bad records are reported as
    FILE:LINE: reason; good records in the same file still import. Exits 1 if any record was
    rejected.
    """
    from feedkit.config import FILE_SOURCE_KINDS
    from feedkit.ingest.files import count_records
    from feedkit.ingest.importer import FileSpec, import_files

    config = obj.config
    if files:
        specs = [FileSpec(path=p, kind=kind) for p in files]
    else:
        specs = [FileSpec(path=config.resolve(s.path), kind=s.kind,
                          default_category=s.category, label=s.path)
                 for s in config.sources if s.kind in FILE_SOURCE_KINDS]
        if not specs:
            raise FeedkitError("no files given and no file sources (jsonl/csv/json) in "
                               f"{config.path.name}")
    from datetime import UTC, datetime

    total = sum(count_records(spec.path, spec.kind) or 0 for spec in specs) or None
    with obj.open_store() as store, obj.progress("import", total, "records") as bar:
        if send_log:
            from feedkit.export import import_send_log

            restored = import_send_log(store, send_log)
            obj.detail(f"{send_log}: {restored} send-log records")
        report = import_files(store, specs, config.tz, progress=bar.advance)
        store.set_meta("last_import", datetime.now(UTC).isoformat(timespec="seconds"))
    for line in report.warnings:
        obj.warn(f"warning: {line}")
    for line in report.rejected:
        obj.warn(line)
    obj.info(report.summary())
    if not report.ok:
        sys.exit(1)


@cli.command()
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Output folder (default: [build] out, usually public/).")
@pass_ctx
def build(obj: Context, out_dir: Path | None) -> None:
    """Write feeds, category feeds and the index page into the output folder.

    Only files whose content changed are rewritten; a failed build leaves the old output intact.
    """
    from feedkit.site import build as build_site

    config = obj.config
    with obj.open_store() as store:
        report = build_site(config, store, out_dir)
    target = (out_dir or config.out_dir)
    for rel in report.written:
        obj.detail(f"wrote {rel}")
    obj.info(report.summary(target))


@cli.command()
@click.argument("directory", required=False, type=click.Path(file_okay=False, path_type=Path))
@pass_ctx
def validate(obj: Context, directory: Path | None) -> None:
    """Check the built feeds in DIRECTORY (default: the output folder) and list problems.

    Exits 1 if any error or warning is found.
    """
    from feedkit.validate import validate_dir

    target = directory or obj.config.out_dir
    if not target.is_dir():
        raise FeedkitError(f"{target}: no such folder (run 'feedkit build' first)")
    problems = validate_dir(target)
    for problem in problems:
        obj.warn(str(problem))
    if problems:
        obj.info(f"{target}: {len(problems)} problem(s)")
        sys.exit(1)
    obj.info(f"{target}: all feeds valid")


@cli.command()
@click.option("--full", is_flag=True,
              help="Re-read every list page up to max_pages and every row, ignoring ETag / "
                   "Last-Modified and what is already stored.")
@click.option("--no-build", is_flag=True, help="Only update the store; do not build.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Output folder for the build (default: [build] out).")
@click.option("--source", "only", multiple=True, metavar="NAME",
              help="Update only the source(s) with this name, URL or path (repeatable).")
@pass_ctx
def update(obj: Context, full: bool, no_build: bool, out_dir: Path | None,
           only: tuple[str, ...]) -> None:
    """Fetch every configured source (files, feeds, web pages), store what is new, then build.

    One failing source does not stop the others and never deletes stored articles. Unchanged
    list pages cost a conditional GET; known articles are not fetched again. Exits 1 if a source
    failed or a record was rejected.
    """
    from feedkit.ingest.update import Progress, run_update

    config = obj.config
    if not config.sources:
        raise FeedkitError(f"no [[sources]] in {config.path.name}")
    sources = list(config.sources)
    if only:
        sources = [s for s in sources if {s.name, s.url, s.path, s.label} & set(only)]
        if not sources:
            raise FeedkitError(f"no source named {only[0]!r} in {config.path.name}")
    progress = Progress(sys.stderr, verbose=obj.verbosity > 0,
                        quiet=obj.verbosity < 0, echo=click.echo)
    with obj.open_store() as store:
        report = run_update(config, store, full=full, build=not no_build, out_dir=out_dir,
                            progress=progress, sources=sources)
    for sr in report.sources:
        for line in sr.warnings:
            obj.warn(f"warning: {line}")
        for line in sr.rejected:
            obj.warn(line)
        if sr.error:
            obj.warn(f"{sr.label}: error: {sr.error}")
            if sr.detail:
                obj.detail(sr.detail.rstrip())
    obj.info(report.summary())
    if report.build is not None:
        for rel in report.build.written:
            obj.detail(f"wrote {rel}")
        obj.info(report.build.summary(out_dir or config.out_dir))
    if not report.ok:
        sys.exit(1)


def main() -> None:
    cli(prog_name="feedkit")


@cli.command()
@click.option("--out", "out_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Write to FILE (atomically; left untouched if unchanged) instead of stdout.")
@click.option("--send-log", "send_log", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the digest send log to this file (for stores kept as text).")
@pass_ctx
def export(obj: Context, out_file: Path | None, send_log: Path | None) -> None:
    """Write the whole store as sorted JSON Lines (the import format).

    Deterministic: the same store gives the same bytes, so the file diffs well in git, and
    export -> import -> export is byte-identical.
    """
    from feedkit.export import export_bytes, export_send_log
    from feedkit.site import write_atomic

    with obj.open_store() as store:
        data = export_bytes(store)
        count = store.count()
        log = export_send_log(store) if send_log else b""
    if send_log:
        changed = write_atomic(send_log, log)
        records = log.count(b"\n")
        obj.info(f"{send_log}: {records} send-log records{'' if changed else ' (unchanged)'}")
    if out_file is None:
        sys.stdout.flush()
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        return
    changed = write_atomic(out_file, data)
    obj.info(f"{out_file}: {count} articles{'' if changed else ' (unchanged)'}")


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@pass_ctx
def stats(obj: Context, as_json: bool) -> None:
    """Show what the store holds: articles per category, date range, digests sent."""
    import json

    from feedkit.stats import collect, format_stats

    with obj.open_store() as store:
        result = collect(store, obj.config.tz)
    if as_json:
        click.echo(json.dumps(result.as_dict(), ensure_ascii=False, indent=2))
    else:
        click.echo(format_stats(result, str(obj.config.store_path)))


@cli.command()
@click.argument("directory", default=".", type=click.Path(file_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Overwrite files that already exist.")
@pass_ctx
def init(obj: Context, directory: Path, force: bool) -> None:
    """Start a new site in DIRECTORY: config.toml, templates, a CI workflow, .gitignore.

    Refuses to overwrite existing files unless --force is given.
    """
    from feedkit.scaffold import init_site

    report = init_site(directory, force)
    for rel in report.written:
        obj.detail(f"wrote {rel}")
    obj.info(f"{directory}: {len(report.written)} files written. Next: edit config.toml "
             "(the TODO lines), then 'feedkit import' and 'feedkit build'.")
