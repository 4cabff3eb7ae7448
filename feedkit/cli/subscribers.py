"""``feedkit subscribers``: the list feedkit runs itself, from the command line.

Addresses are personal data: the commands that change the list name a reader by their number
(``subscriber #12``), never by address, so their output is safe in a cron log; ``list`` and
``export`` show addresses because that is what they are asked for.
"""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path

import click

from feedkit.cli.common import Context, FeedkitGroup, pass_ctx
from feedkit.errors import EXIT_PARTIAL, FeedkitError, UsageError


@click.group("subscribers", cls=FeedkitGroup)
def subscribers() -> None:
    """Manage the subscriber list kept in the store ([digest] audience = "subscribers").

    Readers subscribe through 'feedkit web' (double opt-in) or are added here by an operator
    who holds their consent. Exit codes as for every command; import exits 3 when some rows
    were bad and the rest were imported.
    """


def _now() -> datetime:
    from feedkit.subscribers.listfile import now_utc

    return now_utc()


@subscribers.command("add")
@click.argument("address")
@click.option("--category", "categories", multiple=True, metavar="NAME",
              help="A department the reader wants (repeat for several; none: every department).")
@click.option("--language", metavar="TAG", help="The reader's language (default: [site] "
              "language).")
@click.option("--consent-version", default="", metavar="TEXT",
              help="Which consent notice the reader agreed to (default: [web] consent_version).")
@click.option("--consent-at", metavar="YYYY-MM-DD", help="When the reader agreed (default: now).")
@pass_ctx
def add(obj: Context, address: str, categories: tuple[str, ...], language: str | None,
        consent_version: str, consent_at: str | None) -> None:
    """Add a reader who has agreed to get the digest (active at once, no confirmation email).

    A reader who unsubscribed is not added back: only they can subscribe again, through the
    form. A bounced one is made active again (you vouch that the address works now).
    """
    from feedkit.subscribers import repo
    from feedkit.subscribers.listfile import parse_consent

    config = obj.config
    now = _now()
    try:
        consent = parse_consent(consent_at, config.tz) if consent_at else now
    except ValueError as exc:
        raise UsageError(f"--consent-at: {exc}") from None
    version = consent_version or _default_version(config)
    with obj.open_store() as store:
        sub, what = repo.add(store, address, categories, language or config.site.language,
                             "command", version, consent, now)
    if what == "kept":
        raise FeedkitError(f"subscriber #{sub.id} is {sub.status}: not added back (only the "
                           "reader can subscribe again, through the form)")
    obj.info(f"subscriber #{sub.id}: {what}")


def _default_version(config) -> str:
    return config.web.consent_version


@subscribers.command("remove")
@click.argument("address")
@click.option("--erase", is_flag=True,
              help="Delete the reader and their consent record entirely (a request to erase "
                   "personal data) instead of marking them unsubscribed.")
@pass_ctx
def remove(obj: Context, address: str, erase: bool) -> None:
    """Unsubscribe a reader (kept as unsubscribed, so an old list never signs them up again),
    or with --erase delete them. Exits 1 for an address not on the list."""
    from feedkit.subscribers import repo

    with obj.open_store() as store:
        sub = repo.find(store, address)
        if sub is None:
            raise FeedkitError("no subscriber with that address")
        if erase:
            repo.erase(store, sub.id)
            obj.info(f"subscriber #{sub.id}: erased")
        else:
            repo.unsubscribe(store, sub.id, _now(), "command")
            obj.info(f"subscriber #{sub.id}: unsubscribed")


@subscribers.command("list")
@click.option("--json", "as_json", is_flag=True, help="One JSON array of objects.")
@click.option("--status", type=click.Choice(["pending", "active", "unsubscribed", "bounced"]),
              help="Only readers with this status.")
@pass_ctx
def list_command(obj: Context, as_json: bool, status: str | None) -> None:
    """List readers with their status and departments (this shows addresses: keep the output
    out of logs that others read)."""
    from feedkit.subscribers import repo
    from feedkit.subscribers.listfile import as_json as to_json

    with obj.open_store() as store:
        subs = repo.listing(store, status)
    if as_json:
        click.echo(json.dumps(to_json(subs), ensure_ascii=False, indent=1))
        return
    for s in subs:
        cats = ", ".join(s.categories) or "*"
        click.echo(f"#{s.id}\t{s.status}\t{s.address}\t{cats}\t{s.language}")


@subscribers.command("count")
@click.option("--json", "as_json", is_flag=True, help="A JSON object: status -> count.")
@pass_ctx
def count(obj: Context, as_json: bool) -> None:
    """Readers per status (no addresses: safe in any log)."""
    from feedkit.subscribers import repo

    with obj.open_store() as store:
        counts = repo.count(store)
    if as_json:
        click.echo(json.dumps(counts))
    else:
        click.echo(", ".join(f"{n} {status}" for status, n in counts.items()))


@subscribers.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--consent-version", default="", metavar="TEXT",
              help="Consent notice version for rows without a consent_version column "
                   "(default: 'import').")
@pass_ctx
def import_command(obj: Context, file: Path, consent_version: str) -> None:
    """Import readers from a CSV file with a header row: email and consent (when the reader
    agreed, YYYY-MM-DD or ISO date-time) are required; categories (departments separated by
    ';'), language and consent_version are optional. Mailchimp's audience export works as it is.

    Re-importing a file changes nothing; readers who unsubscribed stay unsubscribed. Bad rows
    are reported as FILE:LINE: reason and skipped; exits 3 if some were bad (the rest imported),
    1 if no row could be imported.
    """
    from feedkit.subscribers.listfile import import_csv

    config = obj.config
    with obj.open_store() as store:
        report = import_csv(store, file, tz=config.tz, language=config.site.language,
                            consent_version=consent_version or "import", now=_now())
    for line in report.problems:
        obj.warn(line)
    obj.info(report.summary(file.name))
    if report.problems:
        sys.exit(EXIT_PARTIAL if report.good else 1)


@subscribers.command("export")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The CSV file to write (the list is never written anywhere by default; "
                   "never inside the output folder).")
@pass_ctx
def export(obj: Context, out: Path) -> None:
    """Write every reader (address, status, consent record, departments) to a CSV file that
    'feedkit subscribers import' reads back. The file is readable by its owner only."""
    from feedkit.subscribers.listfile import export_csv

    with obj.open_store() as store:
        rows, warning = export_csv(store, out, out_dir=obj.config.out_dir)
    if warning:
        obj.warn(warning)
    obj.info(f"{out}: {rows} subscriber(s) written")


@subscribers.command("bounces")
@pass_ctx
def bounces(obj: Context) -> None:
    """Read new bounce reports (RFC 3464 delivery status notifications) from the [bounces]
    IMAP mailbox and apply them: a hard bounce counts toward [bounces] max_consecutive, a soft
    one does not. A report counts only if its original Message-ID is the one the send log
    holds for that reader (needs $FEEDKIT_SECRET), and each digest to a reader at most once;
    the rest is ignored and counted in the summary. Each report read is flagged (or moved to
    [bounces] processed_folder). Password from the variable [bounces] password_env names."""
    from feedkit.subscribers.bounces import process_mailbox

    with obj.open_store() as store:
        report = process_mailbox(obj.config, store, now=_now())
    obj.info(report.summary())
