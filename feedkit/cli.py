"""The ``feedkit`` command: parse arguments, call the library, report.

Kept thin on purpose: every command is a few lines around functions that are tested on their
own. Heavy modules (feedgen, lxml, jinja2, premailer) are imported inside the commands that need
them, so ``feedkit --help`` stays fast.
"""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path

import click

from feedkit import __version__
from feedkit.errors import EXIT_PARTIAL, ConfigError, FeedkitError, UsageError


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
        return self._config

    def set_flag(self, flag: str) -> None:
        """-q / -v given (before or after the command); both at once is a usage error."""
        self._flags.add(flag)
        if {"quiet", "verbose"} <= self._flags:
            raise click.UsageError("--quiet and --verbose cannot be used together")
        self.verbosity = -1 if flag == "quiet" else 1

    def open_store(self):
        from feedkit.store import Store

        return Store(self.config.store_path, busy_timeout=self.config.store.busy_timeout)

    @property
    def store_path(self) -> Path:
        """For messages: the store file of the loaded config."""
        if self._config is None:
            return Path("the article store")
        return self._config.store_path

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
            from feedkit.store import StoreError

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


@cli.command("import")
@click.argument("files", nargs=-1, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--format", "kind", type=click.Choice(["jsonl", "json", "csv"]),
              help="Read FILES as this format (default: from each file's extension).")
@click.option("--send-log", "send_log", type=click.Path(dir_okay=False, path_type=Path),
              help="Also restore a digest send log written by 'feedkit export --send-log'.")
@click.option("--state", "state", type=click.Path(dir_okay=False, path_type=Path),
              help="Also restore run state (sources failing in a row) written by "
                   "'feedkit export --state'; a missing file is no state.")
@pass_ctx
def import_command(obj: Context, files: tuple[Path, ...], kind: str | None,
                   send_log: Path | None, state: Path | None) -> None:
    """Import JSON Lines, JSON or CSV files into the article store.

    With no FILES, imports the file sources listed in config.toml. Bad records are reported as
    FILE:LINE: reason; good records in the same file still import. Exits 3 if any record was
    rejected (the others were imported).
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
            raise ConfigError("no files given and no file sources (jsonl/csv/json) in "
                              f"{config.path.name}")

    total = sum(count_records(spec.path, spec.kind) or 0 for spec in specs) or None
    with obj.open_store() as store, obj.progress("import", total, "records") as bar:
        if send_log:
            from feedkit.export import import_send_log

            restored = import_send_log(store, send_log)
            obj.detail(f"{send_log}: {restored} send-log records")
        if state:
            from feedkit.health import import_state

            obj.detail(f"{state}: {import_state(store, state)} state records")
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


@cli.command()
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Output folder (default: [build] out, usually public/).")
@click.option("--now", "now_text", metavar="YYYY-MM-DD[THH:MM[:SS]]", envvar="FEEDKIT_NOW",
              help="Build as of this moment (site timezone unless an offset is given): "
                   "articles dated later are held back. For tests and reproducible rebuilds; "
                   "also $FEEDKIT_NOW.")
@pass_ctx
def build(obj: Context, out_dir: Path | None, now_text: str | None) -> None:
    """Write feeds, category feeds and the index page into the output folder.

    Only files whose content changed are rewritten; a failed build leaves the old output intact.
    Articles dated in the future wait until their time unless [build] publish_future is set.
    """
    from feedkit.build import build as build_site

    config = obj.config
    from feedkit.schedule import parse_now  # the same --now as the digest commands

    now = parse_now(now_text, config.tz) if now_text else None
    with obj.open_store() as store, obj.progress("build", unit="files rendered") as bar:
        report = build_site(config, store, out_dir, progress=bar.advance, now=now)
    target = (out_dir or config.out_dir)
    for rel in report.written:
        obj.detail(f"wrote {rel}")
    obj.info(report.summary(target))


@cli.command()
@click.argument("directory", required=False, type=click.Path(file_okay=False, path_type=Path))
@pass_ctx
def validate(obj: Context, directory: Path | None) -> None:
    """Check the built feeds in DIRECTORY (default: the output folder) and list problems.

    DIRECTORY may also be a site folder (one with config.toml): its output folder is checked.
    Hidden folders (.git, .venv) and virtual environments are skipped. Exits 1 if any error
    or warning is found, except DuplicateUpdated (entries of a date-only source share their
    day; listed with -v).
    """
    from feedkit.validate import validate_dir

    target = directory or obj.config.out_dir
    if directory is not None and (directory / "config.toml").is_file():
        # `feedkit validate .` in a site folder means that site's feeds, in its output folder.
        from feedkit.config import load_config

        target = load_config(directory).out_dir
        obj.detail(f"{directory}: a site folder; checking its output folder {target}")
    if not target.is_dir():
        if directory is not None:
            raise UsageError(f"{target}: no such folder")
        raise FeedkitError(f"{target}: no such folder (run 'feedkit build' first)")
    found = validate_dir(target)
    for problem in found:
        if problem.accepted:
            obj.detail(f"accepted: {problem}")
    problems = [p for p in found if not p.accepted]
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

    One failing source does not stop the others and never deletes stored articles; every
    source's errors are printed before the build starts. Unchanged list pages cost a
    conditional GET; known articles are not fetched again. Exits 3 if a source failed or a
    record was rejected but the rest was stored and built; a source failing 24 runs in a row
    is reported as an error.
    """
    from datetime import UTC, datetime

    from feedkit.health import record_run
    from feedkit.ingest.update import Progress, run_update

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
                             configured=[s.label for s in config.sources])
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
    if not report.ok:
        sys.exit(EXIT_PARTIAL)


def _build_after_update(obj: Context, config, store, out_dir: Path | None, report):
    """Build; an empty store after failed sources says which sources and why."""
    from feedkit.build import build as build_site

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


@cli.command()
@click.option("--out", "out_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Write to FILE (atomically; left untouched if unchanged) instead of stdout.")
@click.option("--send-log", "send_log", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the digest send log to this file (for stores kept as text).")
@click.option("--state", "state", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write run state (sources failing in a row) to this file.")
@pass_ctx
def export(obj: Context, out_file: Path | None, send_log: Path | None,
           state: Path | None) -> None:
    """Write the whole store as sorted JSON Lines (the import format).

    Deterministic: the same store gives the same bytes, so the file diffs well in git, and
    export -> import -> export is byte-identical.
    """
    from feedkit.export import export_chunks, export_send_log_chunks
    from feedkit.output import write_atomic_stream

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
            from feedkit.health import export_state

            state_bytes = export_state(store)
            changed = _write_file(state, state_bytes)
            records = state_bytes.count(b"\n")
            obj.detail(f"{state}: {records} state records"
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
@click.option("--force", is_flag=True,
              help="Over an existing site: refresh the scaffold's files (workflow, .gitignore, "
                   "requirements.txt); config.toml is kept and the new one written beside it "
                   "as config.toml.new.")
@click.option("--templates", "copy_templates", is_flag=True,
              help="Also copy the bundled templates into templates/ to customise (without it, "
                   "the site uses the bundled ones and gets their fixes on upgrade).")
@pass_ctx
def init(obj: Context, directory: Path, force: bool, copy_templates: bool) -> None:
    """Start a new site in DIRECTORY: config.toml, requirements.txt, a CI workflow, .gitignore.

    requirements.txt names the feedkit that runs this command (a git commit, a release, or a
    local path), so the site's CI installs exactly it. Refuses to overwrite existing files
    unless --force is given; --force never touches config.toml or data/.
    """
    from feedkit.config import parse_config, placeholder_keys
    from feedkit.scaffold import SiteWriteError, config_template, init_site

    try:
        report = init_site(directory, force, copy_templates)
    except SiteWriteError:
        raise
    except FeedkitError as exc:
        raise UsageError(str(exc)) from None
    for rel in report.written:
        obj.detail(f"wrote {rel}")
    obj.info(f"{directory}: {len(report.written)} file(s) written"
             + (f", {len(report.skipped)} kept as they were" if report.skipped else ""))
    for rel in report.beside:
        obj.info(f"{directory / rel}: the new config template, for comparison; your "
                 f"{rel.removesuffix('.new')} was kept")
    spec = report.install
    if spec is not None:
        obj.info(f"requirements.txt: {spec.requirement}")
        if not spec.portable:
            obj.warn("warning: requirements.txt names a path on this machine, which CI cannot "
                     "install; replace it with feedkit-city @ git+https://…@COMMIT or "
                     "feedkit-city==VERSION before you push")
    if "config.toml" in report.written:
        import tomllib

        template = parse_config(tomllib.loads(config_template(False).decode("utf-8")),
                                directory / "config.toml")
        keys = [line.split(": ")[1] for line in placeholder_keys(template)]
        obj.info(f"Next: in {directory / 'config.toml'} set {', '.join(keys)} (the TODO values; "
                 "'feedkit build' refuses to publish them), add [[sources]], then "
                 "'feedkit update'.")


# -- the weekly digest ------------------------------------------------------------------------


@cli.group()
def digest() -> None:
    """Render or send the weekly email digest.

    A digest covers one ISO week in the site's timezone (Monday 00:00 to the next Monday
    00:00); the default is the last complete week.
    """


def _week_options(fn):
    fn = click.option("--now", "now_text", metavar="'YYYY-MM-DD HH:MM'", envvar="FEEDKIT_NOW",
                      help="Pretend it is this time, in [site] timezone (pins the default week "
                           "and, for send, whether it is due; for tests; also $FEEDKIT_NOW).")(fn)
    fn = click.option("--today", type=click.DateTime(formats=["%Y-%m-%d"]), metavar="YYYY-MM-DD",
                      help="Pretend today is this date, at its last minute (like --now).")(fn)
    fn = click.option("--week", "week_text", metavar="YYYY-Www",
                      help="The ISO week, e.g. 2024-W24 (default: the last complete week).")(fn)
    return fn


def _warn_unsubscribe(obj: Context) -> None:
    from feedkit.digest.render import unsubscribe_warnings

    for line in unsubscribe_warnings(obj.config.digest.unsubscribe):
        obj.warn(f"warning: {line}")


def _now(obj: Context, now_text: str | None, today):
    from feedkit.schedule import pinned_now

    return pinned_now(now_text, today.date() if today else None, obj.config.tz)


def _pick_week(obj: Context, week_text: str | None, today, now_text: str | None = None):
    from feedkit.digest.week import Week

    tz = obj.config.tz
    if week_text:
        return Week.parse(week_text, tz)
    return Week.last_complete(_now(obj, now_text, today).date(), tz)


@digest.command("render")
@_week_options
@click.option("--allow-empty", is_flag=True,
              help="Render a week with no articles instead of failing.")
@click.option("--eml", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the whole message (RFC 5322, .eml) to FILE.")
@click.option("--html", "html_out", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the inlined HTML part to FILE ('-' for stdout).")
@click.option("--text", "text_out", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the plain-text part to FILE ('-' for stdout).")
@click.option("--web", "web_out", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the web-archive page of the week (every article, not inlined).")
@click.option("--to", "to_addr", metavar="ADDRESS",
              help="Recipient for --eml (default: the first of [digest] to).")
@pass_ctx
def digest_render(obj: Context, week_text: str | None, today, now_text: str | None,
                  allow_empty: bool,
                  eml: Path | None, html_out: Path | None, text_out: Path | None,
                  web_out: Path | None, to_addr: str | None) -> None:
    """Render one week's digest: HTML (CSS inlined), plain text and/or a whole .eml message.

    The .eml is dated at the end of its week, not "now", so the same store gives the same
    bytes. Exits 1 for a week without articles unless --allow-empty.
    """
    from feedkit.digest.compose import load_digest, sent_size
    from feedkit.digest.render import DigestRenderer, link_reserve, shown_unsubscribe
    from feedkit.mail.message import (
        build_message,
        issue_time,
        message_bytes,
        preview_unsubscribe,
        unsubscribe_urls,
    )
    from feedkit.mail.recipients import clean_address
    from feedkit.publication import build_time, visible_until

    config = obj.config
    week = _pick_week(obj, week_text, today, now_text)
    _warn_unsubscribe(obj)
    with obj.open_store() as store:
        dg = load_digest(config, store, week, visible_until(config, build_time()))
    label = f"{week.label} ({week.range_text(config.site.language)})"
    if dg.total == 0 and not allow_empty:
        raise FeedkitError(f"{label}: no articles published that week; nothing to render "
                           "(pass --allow-empty to render an empty digest)")
    renderer = DigestRenderer(config)
    if eml is not None:
        raw = to_addr or (config.digest.to[0] if config.digest.to else "")
        recipient = clean_address(raw) if raw else None
        if recipient is None:
            raise UsageError(f"--eml needs a valid recipient: pass --to ADDRESS or set "
                               f"[digest] to (got {raw!r})")
    preview = preview_unsubscribe(config)
    links = [preview]
    if eml is not None:
        links.append(shown_unsubscribe(unsubscribe_urls(config.digest.unsubscribe, recipient)))
    body = renderer.email(dg, reserve=link_reserve(links))
    if eml is not None:
        msg = build_message(config, dg, body, renderer.subject(dg), recipient, issue_time(week))
        _write_out(eml, message_bytes(msg))
    personal_html, personal_text = body.personal(preview)
    if html_out is not None:
        _write_out(html_out, personal_html.encode("utf-8"))
    if text_out is not None:
        _write_out(text_out, personal_text.encode("utf-8"))
    if web_out is not None:
        _write_out(web_out, renderer.web_page(dg).encode("utf-8"))
    size = sent_size(personal_html)
    capped = f", {body.hidden} left to the web view" if body.hidden else ""
    msg_line = (f"{label}: {dg.total} article(s) in {len(dg.sections)} section(s), "
                f"{body.shown} in the email{capped}; HTML {size / 1024:.1f} KiB as sent")
    if html_out == Path("-") or text_out == Path("-"):
        obj.warn(msg_line)
    else:
        obj.info(msg_line)


def _write_file(target: Path, data: bytes) -> bool:
    """write_atomic with an OS error as one line (exit 1), not a traceback."""
    from feedkit.output import write_atomic

    try:
        return write_atomic(target, data)
    except OSError as exc:
        raise FeedkitError(f"{target}: cannot write: {exc.strerror or exc}") from None


def _write_out(target: Path, data: bytes) -> None:
    if str(target) == "-":
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return
    from feedkit.output import write_atomic

    try:
        write_atomic(target, data)
    except OSError as exc:
        raise FeedkitError(f"{target}: cannot write: {exc.strerror or exc}") from None


@digest.command("send")
@_week_options
@click.option("--dry-run", is_flag=True,
              help="Count who would get the digest (with -v: list the addresses); send nothing.")
@click.option("--connections", type=click.IntRange(1, 50), metavar="N",
              help="SMTP connections at once for this run (default: [smtp] connections).")
@click.option("--max-per-second", type=click.FloatRange(min=0), metavar="RATE",
              help="At most RATE messages a second for this run, 0 for no limit (default: "
                   "[smtp] max_per_second).")
@pass_ctx
def digest_send(obj: Context, week_text: str | None, today, now_text: str | None,
                dry_run: bool, connections: int | None, max_per_second: float | None) -> None:
    """Send a week's digest over SMTP to every recipient not yet sent to.

    Without --week: last week's digest, once it is due ([digest] send_day and send_hour in the
    site's timezone, default Monday 08:00); before that it says "not due until ..." and exits
    0, so every scheduled run can call it and the first run after the due time sends. A send
    log in the store makes re-runs safe: each recipient gets the week once. Temporary failures
    are retried with backoff; exits 3 if some recipients failed and the others have the week
    (from this run or an earlier one), 1 if nobody could be sent to. A week without articles
    sends nothing and exits 0.
    """
    from feedkit.config import check_placeholders
    from feedkit.mail.send import send_week

    config = obj.config
    check_placeholders(config)   # never mail readers a "TODO" site title or link
    _warn_unsubscribe(obj)
    now = _now(obj, now_text, today)
    if week_text:
        week = _pick_week(obj, week_text, today)
    else:
        from feedkit.schedule import due_digest

        due = due_digest(now, config.tz, config.digest.send_day, config.digest.send_hour)
        week = due.week
        if not due.is_due:
            obj.info(f"{week.label}: not due until {due.at:%Y-%m-%d %H:%M} ({config.site.timezone}"
                     f"); nothing sent")
            return
    label = f"{week.label} ({week.range_text(config.site.language)})"
    with obj.open_store() as store, obj.progress("send", unit="recipients") as bar:
        report = send_week(config, store, week, now=now, dry_run=dry_run,
                           echo=obj.detail, progress=bar, connections=connections,
                           max_per_second=max_per_second)
    # Addresses are personal data: normal output names readers by a short key only; -v
    # (for a person at a terminal, not a CI log) shows the addresses too.
    verbose = obj.verbosity > 0
    for line in report.warnings:
        obj.warn(line)
    for line in report.problems:
        obj.warn(f"warning: {line}")
    for where, value in report.rejected:
        obj.detail(f"{where}: rejected entry: {value!r}")
    if report.empty:
        obj.info(f"{label}: no articles published that week; nothing to send")
        return
    if verbose:
        for addr, mid in report.planned:
            obj.info(f"would send to {addr} ({mid})")
    elif report.planned:
        obj.info(f"would send {len(report.planned)} message(s); -v lists the addresses")
    for addr, why in report.failed:
        obj.warn(f"{report.name(addr, verbose=verbose)}: failed: {why}")
    for addr, why in report.deferred:
        obj.warn(f"{report.name(addr, verbose=verbose)}: not sent (temporary failure, retries "
                 f"used up): {why}")
    obj.info(report.summary())
    if not report.ok:
        # Partly done when anyone has the week, from this run or an earlier one: a reader
        # refused on every hourly retry must not turn each later run into a failure.
        sys.exit(EXIT_PARTIAL if report.sent or report.already else 1)


@cli.command()
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535),
              help="Port to listen on (0: any free port).")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to bind. Anything but a loopback address is served to your "
                   "network too (with a warning).")
@click.option("--no-build", is_flag=True, help="Serve the output folder as it is; do not build.")
@click.option("--today", type=click.DateTime(formats=["%Y-%m-%d"]), metavar="YYYY-MM-DD",
              help="Pretend today is this date: pins the week /_preview/digest shows.")
@pass_ctx
def serve(obj: Context, port: int, host: str, no_build: bool, today) -> None:
    """Build, then serve the output folder over HTTP for a local look (Ctrl-C stops).

    Besides the built files it serves a live digest preview, rendered from the store and the
    templates on every request (edit a template, reload): /_preview/digest is the email of
    the week containing today, as a recipient sees it; /_preview/digest/YYYY-Www any week;
    /_preview/digest.txt the plain-text part; /_preview/ lists the weeks with news.
    """
    from feedkit.serve import serve as run_server

    run_server(obj.config, host=host, port=port, build=not no_build,
               today=today.date() if today else None, info=obj.info, warn=obj.warn,
               log=obj.warn if obj.verbosity >= 0 else None)


def main() -> None:
    cli(prog_name="feedkit")
