"""``feedkit digest ...``: render or send the weekly email digest."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from feedkit.cli.common import Context, FeedkitGroup, pass_ctx, write_out
from feedkit.errors import EXIT_PARTIAL, FeedkitError, UsageError
from feedkit.text.i18n import for_config


@click.group(cls=FeedkitGroup)
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
    from feedkit.mail.schedule import pinned_now

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

    Give at least one of --html, --text, --eml and --web (without any it exits 2 and says so).
    The .eml is dated at the end of its week, not "now", so the same store gives the same
    bytes. Exits 1 for a week without articles unless --allow-empty.
    """
    from feedkit.digest.compose import load_digest, sent_size
    from feedkit.digest.render import DigestRenderer, link_reserve, shown_unsubscribe
    from feedkit.editorial.publication import build_time, visible_until
    from feedkit.mail.message import (
        build_message,
        issue_time,
        message_bytes,
        preview_unsubscribe,
        unsubscribe_urls,
    )
    from feedkit.privacy import clean_address

    if not any(out is not None for out in (eml, html_out, text_out, web_out)):
        # Rendering into thin air and exiting 0 looked like success to an editor who then
        # found no file: say which option writes what.
        raise UsageError("nothing to write: add --html FILE (the email as a web page), "
                         "--text FILE (its plain-text part), --eml FILE (the whole message) "
                         "or --web FILE (the archive page); '-' writes --html or --text to "
                         "standard output")
    config = obj.config
    week = _pick_week(obj, week_text, today, now_text)
    _warn_unsubscribe(obj)
    with obj.open_store() as store:
        dg = load_digest(config, store, week, visible_until(config, build_time()))
    label = f"{week.label} ({week.range_text(for_config(config))})"
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
        write_out(eml, message_bytes(msg))
    personal_html, personal_text = body.personal(preview)
    if html_out is not None:
        write_out(html_out, personal_html.encode("utf-8"))
    if text_out is not None:
        write_out(text_out, personal_text.encode("utf-8"))
    if web_out is not None:
        write_out(web_out, renderer.web_page(dg).encode("utf-8"))
    size = sent_size(personal_html)
    capped = f", {body.hidden} left to the web view" if body.hidden else ""
    msg_line = (f"{label}: {dg.total} article(s) in {len(dg.sections)} section(s), "
                f"{body.shown} in the email{capped}; HTML {size / 1024:.1f} KiB as sent")
    if html_out == Path("-") or text_out == Path("-"):
        obj.warn(msg_line)
    else:
        obj.info(msg_line)


@digest.command("send")
@_week_options
@click.option("--dry-run", is_flag=True,
              help="Count who would get the digest (with -v: list the addresses); send nothing.")
@click.option("--connections", type=click.IntRange(1, 50), metavar="N",
              help="SMTP connections at once for this run (default: [smtp] connections).")
@click.option("--max-per-second", type=click.FloatRange(min=0), metavar="RATE",
              help="At most RATE messages a second for this run, 0 for no limit (default: "
                   "[smtp] max_per_second).")
@click.option("--to", "test_to", metavar="ADDRESS",
              help="Test send: the digest exactly as a reader gets it, to ADDRESS only, with "
                   "[TEST] before the subject; due or not, approved or not; the send log is "
                   "not touched.")
@pass_ctx
def digest_send(obj: Context, week_text: str | None, today, now_text: str | None,
                dry_run: bool, connections: int | None, max_per_second: float | None,
                test_to: str | None) -> None:
    """Send a week's digest over SMTP to every recipient not yet sent to.

    Without --week: last week's digest, once it is due ([digest] send_day and send_hour in the
    site's timezone, default Monday 08:00); before that it says "not due until ..." and exits
    0, so every scheduled run can call it and the first run after the due time sends. With
    [digest] require_approval it also waits, saying "waiting for approval" (exit 0), until
    'feedkit digest approve' approves the week. A send log in the store makes re-runs safe:
    each recipient gets the week once. Temporary failures are retried with backoff; exits 3 if
    some recipients failed and the others have the week (from this run or an earlier one), 1 if
    nobody could be sent to. A week without articles sends nothing and exits 0.

    With [digest] audience = "subscribers" each active subscriber gets the departments they
    chose (nobody whose departments had no news gets anything), and permanent failures count
    toward [bounces] max_consecutive.
    """
    from feedkit.config import check_placeholders
    from feedkit.mail.send import send_week

    config = obj.config
    check_placeholders(config)   # never mail readers a "TODO" site title or link
    _warn_unsubscribe(obj)
    now = _now(obj, now_text, today)
    if test_to is not None:
        _test_send(obj, test_to, week_text, now, dry_run)
        return
    from feedkit.mail.preflight import check_ready

    # Every run, due or not: a secret missing on Tuesday must fail Tuesday's run, not the
    # next Monday's, when the digest should go out.
    check_ready(config)
    if week_text:
        week = _pick_week(obj, week_text, today)
    else:
        from feedkit.mail.schedule import due_digest

        due = due_digest(now, config.tz, config.digest.send_day, config.digest.send_hour)
        week = due.week
        if not due.is_due:
            obj.info(f"{week.label}: not due until {due.at:%Y-%m-%d %H:%M} ({config.site.timezone}"
                     f"); nothing sent")
            return
    label = f"{week.label} ({week.range_text(for_config(config))})"
    send = send_week
    if config.digest.audience == "subscribers":   # personal digests, see README "Subscribers"
        from feedkit.mail.personal import send_subscribers as send
    with obj.open_store() as store, obj.progress("send", unit="recipients") as bar:
        report = send(config, store, week, now=now, dry_run=dry_run,
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
    if report.waiting:
        obj.info(f"{week.label}: waiting for approval (run 'feedkit digest approve --week "
                 f"{week.label}' once it is checked); "
                 + ("a real run sends nothing" if dry_run else "nothing sent"))
        if not dry_run:
            return
    if verbose:
        for addr in report.unsubscribed:
            obj.info(f"unsubscribed, not sent: {addr} (remove it from the list)")
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



def _next_week(obj: Context, week_text: str | None, now):
    """``--week``, else the week ``digest send`` sends next (last week's), due yet or not."""
    from feedkit.mail.schedule import due_digest

    if week_text:
        return _pick_week(obj, week_text, None)
    config = obj.config
    return due_digest(now, config.tz, config.digest.send_day, config.digest.send_hour).week


def _test_send(obj: Context, address: str, week_text: str | None, now, dry_run: bool) -> None:
    from feedkit.mail.proof import send_proof

    if dry_run:
        raise UsageError("--to sends one test message; it cannot be combined with --dry-run")
    week = _next_week(obj, week_text, now)
    with obj.open_store() as store:
        report = send_proof(obj.config, store, week, address, now=now)
    obj.info(report.summary())


@digest.command("unsubscribes")
@click.option("--forget", "forget_address", metavar="ADDRESS",
              help="Take ADDRESS off the unsubscribe list (they asked to come back); reads no "
                   "mailbox.")
@pass_ctx
def digest_unsubscribes(obj: Context, forget_address: str | None) -> None:
    """Read unsubscribe requests from the [unsubscribes] mailbox (list mode).

    Each new message that carries the unsubscribe token of a reader on the list (the mailto:
    link of [digest] unsubscribe, e.g. "mailto:leave@example.org?subject=unsubscribe%20{token}",
    puts it in the subject) puts that reader's keyed hash on the store's unsubscribe list, and
    'digest send' never mails them again. The From address is never trusted; messages without a
    valid token stay in the mailbox for a person. Without [unsubscribes] host it says so and
    exits 0. The list is kept as text with 'feedkit export --unsubscribed' (no address in it).
    """
    from datetime import UTC, datetime

    config = obj.config
    if forget_address is not None:
        from feedkit.privacy import clean_address, recipient_key
        from feedkit.store.unsubscribed_table import forget

        address = clean_address(forget_address)
        if address is None:
            raise UsageError(f"--forget: not an email address: {forget_address!r}")
        with obj.open_store() as store, store.transaction():
            found = forget(store, recipient_key(address))
        obj.info("taken off the unsubscribe list" if found else "was not on the unsubscribe list")
        return
    if not config.unsubscribes.host:
        obj.info("no [unsubscribes] mailbox set up: nothing to read")
        return
    from feedkit.mail.unsubscribes import process_unsubscribes

    with obj.open_store() as store:
        report = process_unsubscribes(config, store, now=datetime.now(UTC))
    obj.info(report.summary())
    if report.unsubscribed:
        obj.info("remove them from the list too: 'feedkit -v digest send --dry-run' names "
                 "every unsubscribed reader still on it (README, \"Leaving the list\")")


@digest.command("approve")
@_week_options
@click.option("--revoke", is_flag=True,
              help="Take the approval back: 'digest send' waits again (readers already sent "
                   "to keep their copy).")
@pass_ctx
def digest_approve(obj: Context, week_text: str | None, today, now_text: str | None,
                   revoke: bool) -> None:
    """Approve a week's digest for sending ([digest] require_approval).

    Without --week: the week 'digest send' sends next (last week's). The approval is kept in
    the store; a site whose CI workflow rebuilds its store from text carries it in the file of
    'feedkit export --editorial' (commit it), or approves from the workflow's "Run workflow"
    button.
    """
    from feedkit.editorial.decisions import approval, set_approval

    config = obj.config
    now = _now(obj, now_text, today)
    week = _next_week(obj, week_text, now)
    label = f"{week.label} ({week.range_text(config.site.language)})"
    with obj.open_store() as store:
        before = approval(store, week.label)
        if before is not None and before.approved != revoke:
            obj.info(f"{label}: already {'revoked' if revoke else 'approved'} "
                     f"({before.changed_at}); nothing changed")
            return
        set_approval(store, week.label, not revoke, now)
        sent = store.db.execute("SELECT count(*) FROM send_log WHERE week = ? AND "
                                "status = 'sent'", (week.label,)).fetchone()[0]
        articles = len(store.published_between(week.start, week.end))
    if revoke:
        kept = f"; {sent} reader(s) already have it" if sent else ""
        obj.info(f"{label}: approval revoked; 'feedkit digest send' waits again{kept}")
    else:
        obj.info(f"{label}: approved; {_when_sent(obj, week, now)}")
        if articles == 0 and week.end <= now:
            obj.warn(f"warning: {week.label} has no articles: there is nothing to send")
    if not config.digest.require_approval:
        obj.warn("note: [digest] require_approval is off, so approvals change nothing yet")


def _when_sent(obj: Context, week, now) -> str:
    """What happens next to an approved week: the scheduled send takes it (now or once due),
    or, for any other week, only an explicit --week does."""
    from feedkit.mail.schedule import due_digest

    config = obj.config
    due = due_digest(now, config.tz, config.digest.send_day, config.digest.send_hour)
    if week.start < due.week.start:
        return f"send it with 'feedkit digest send --week {week.label}'"
    if due.week == week and due.is_due:
        return "the next 'feedkit digest send' (the next scheduled run) sends it"
    # this week's digest, or one still to come: when its own due time arrives
    due = due_digest(week.end, config.tz, config.digest.send_day, config.digest.send_hour)
    return (f"'feedkit digest send' sends it once due ({due.at:%Y-%m-%d %H:%M}, "
            f"{config.site.timezone})")


def _read_note(note_file) -> str:
    """The --file text; a file in another encoding (CP949 from an older Windows editor) is a
    usage error naming the file, not a UnicodeDecodeError."""
    try:
        return note_file.read()
    except UnicodeDecodeError:
        raise UsageError(f"--file: {note_file.name}: not UTF-8; save the note as UTF-8 "
                         "and run the command again") from None


@digest.command("note")
@click.argument("text", required=False)
@_week_options
@click.option("--file", "note_file", type=click.File("r", encoding="utf-8-sig"),
              help="Read the note (Markdown) from FILE ('-' for standard input).")
@click.option("--clear", is_flag=True, help="Remove the week's note.")
@pass_ctx
def digest_note(obj: Context, text: str | None, week_text: str | None, today,
                now_text: str | None, note_file, clear: bool) -> None:
    """Set, show or clear the editor's note of a week.

    The note is Markdown (CommonMark: **bold**, [links](https://...), lists; at most 2000
    characters), sanitised like article HTML, and appears at the top of that week's email (HTML
    and text part) and its archive page. Without TEXT, --file or --clear: print the note.
    Without --week: the week 'digest send' sends next. Kept in the store and carried by
    'feedkit export/import --editorial'.
    """
    from feedkit.editorial.decisions import note, set_note
    from feedkit.editorial.note import check_note

    given = [name for name, on in (("TEXT", text is not None), ("--file", note_file is not None),
                                   ("--clear", clear)) if on]
    if len(given) > 1:
        raise UsageError(f"give one of TEXT, --file and --clear, not {' and '.join(given)}")
    now = _now(obj, now_text, today)
    week = _next_week(obj, week_text, now)
    with obj.open_store() as store:
        if not given:
            current = note(store, week.label)
            if current:
                click.echo(current)
            else:
                obj.info(f"{week.label}: no note")
            return
        if clear:
            if not note(store, week.label):
                obj.info(f"{week.label}: no note to clear")
                return
            set_note(store, week.label, "", now)
            obj.info(f"{week.label}: note cleared")
            return
        markdown = check_note(_read_note(note_file) if note_file is not None else text)
        set_note(store, week.label, markdown, now)
        articles = len(store.published_between(week.start, week.end))
    obj.info(f"{week.label}: note saved ({len(markdown)} characters); see it with "
             f"'feedkit digest render --week {week.label} --html FILE' or 'feedkit serve'")
    if articles == 0:
        # A week without news has no digest: a note there is read by nobody (a wrong --week,
        # most likely), or only if news still comes before the week ends.
        if week.end <= now:
            obj.warn(f"warning: {week.label} has no articles, so no digest is sent for it and "
                     "nobody will read this note (is --week right?)")
        else:
            obj.warn(f"warning: {week.label} has no articles yet: the note is shown only if "
                     "news is published before the week ends")
