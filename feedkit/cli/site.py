"""``feedkit build``, ``validate``, ``init`` and ``serve``: the published site."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from feedkit.cli.common import Context, pass_ctx
from feedkit.errors import FeedkitError, UsageError


@click.command()
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Output folder (default: [build] out, usually public/).")
@click.option("--now", "now_text", metavar="YYYY-MM-DD[THH:MM[:SS]]", envvar="FEEDKIT_NOW",
              help="Build as of this moment (site timezone unless an offset is given): "
                   "articles dated later are held back. For tests and reproducible rebuilds; "
                   "also $FEEDKIT_NOW.")
@click.option("--announce", is_flag=True,
              help="Then tell the WebSub hubs ([feeds] websub_hubs) which feeds changed: for an "
                   "output folder the web server serves as it is (see 'feedkit announce').")
@pass_ctx
def build(obj: Context, out_dir: Path | None, now_text: str | None, announce: bool) -> None:
    """Write feeds, category feeds and the index page into the output folder.

    Only files whose content changed are rewritten; a failed build leaves the old output intact.
    Articles dated in the future wait until their time unless [build] publish_future is set.
    """
    from feedkit.site.build import build as build_site

    config = obj.config
    now = None
    if now_text:
        from feedkit.mail.schedule import parse_now  # the same --now as the digest commands

        now = parse_now(now_text, config.tz)
    with obj.open_store() as store, obj.progress("build", unit="files rendered") as bar:
        report = build_site(config, store, out_dir, progress=bar.advance, now=now)
        target = (out_dir or config.out_dir)
        for rel in report.written:
            obj.detail(f"wrote {rel}")
        obj.info(report.summary(target))
        if announce:
            announce_pending(obj, config, store)


def announce_pending(obj: Context, config, store=None, paths: list[str] | None = None) -> None:
    """Announce ``paths`` (default: the store's pending feeds, marked announced once every hub
    took them) to every hub; print one line; exit 1 when no hub took anything, 3 when some did."""
    from feedkit.errors import EXIT_PARTIAL
    from feedkit.site.websub import announce
    from feedkit.store.feed_hashes import mark_announced, pending

    if not config.feeds.websub_hubs:
        raise UsageError(f"no [feeds] websub_hubs in {config.path.name}: nothing to announce to")
    report = announce(config, pending(store) if paths is None else paths)
    if paths is None:
        mark_announced(store, report.announced)
    for line in report.failed:
        obj.warn(f"error: {line}")
    obj.info(report.summary())
    if report.failed:
        sys.exit(EXIT_PARTIAL if report.announced else 1)


@click.command()
@click.argument("urls", nargs=-1, metavar="[FEED_URL]...")
@click.option("--hand-off", is_flag=True,
              help="Do not announce: print the feeds waiting to be announced, one URL a line, "
                   "and count them as handed off. For a workflow whose deploy comes later: a "
                   "job after the deploy runs 'feedkit announce URL...' with them.")
@pass_ctx
def announce(obj: Context, urls: tuple[str, ...], hand_off: bool) -> None:
    """Tell the WebSub hubs which feeds changed, so subscribed readers get them at once.

    Without FEED_URLs: the feeds whose bytes a build changed since the last announcement
    ([feeds] websub_hubs must be set when they are built). With them: those feeds (this site's
    only; the store is not opened). Each hub gets hub.mode=publish per feed. Run it after the
    output is live, never before: the hub fetches the feed at once. Exits 1 if no hub took
    anything, 3 if some did.
    """
    from feedkit.site.websub import paths_of, topic
    from feedkit.store.feed_hashes import mark_announced, pending

    config = obj.config
    if urls:
        if hand_off:
            raise UsageError("--hand-off takes no FEED_URL")
        announce_pending(obj, config, None, paths_of(config, urls))
        return
    with obj.open_store() as store:
        if not hand_off:
            announce_pending(obj, config, store)
            return
        waiting = pending(store)
        for rel in waiting:
            click.echo(topic(config, rel))
        mark_announced(store, waiting)


@click.command()
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



@click.command()
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
    local path), so the site's CI installs exactly it. The workflow's actions are pinned by
    commit hash, and .github/dependabot.yml has Dependabot keep the pins current. Refuses to
    overwrite existing files unless --force is given; --force never touches config.toml,
    data/ or .github/dependabot.yml.
    """
    from feedkit.config import parse_config, placeholder_keys
    from feedkit.site.scaffold import SiteWriteError, config_template, init_site

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


@click.command()
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
    the week 'digest send' sends next (last week's), as a recipient sees it;
    /_preview/digest/YYYY-Www any week; /_preview/digest.txt the plain-text part;
    /_preview/ shows that week first, with its approval state and when it is sent, then a
    test-send form and every week with news. It prints the same, in that order.
    The preview opens only through the address printed at start (it holds a key for this
    run and sets a cookie), so other users of the machine cannot use it or its test send.
    """
    from feedkit.site.serve import serve as run_server

    run_server(obj.config, host=host, port=port, build=not no_build,
               today=today.date() if today else None, info=obj.info, warn=obj.warn,
               log=obj.warn if obj.verbosity >= 0 else None)

