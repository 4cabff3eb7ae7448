"""``feedkit check``: everything a run needs, one line per check, nothing sent or stored."""

from __future__ import annotations

import sys

import click

from feedkit.cli.common import Context, pass_ctx
from feedkit.errors import Check, ConfigError


@click.command()
@pass_ctx
def check(obj: Context) -> None:
    """Check everything a run needs: config, secrets, recipients, SMTP, sources, templates.

    One line per check ("ok", "FAIL" or "skip"): the config loads and has no TODO left; the
    digest's sender and secrets are set; the recipients can be read (counted, never listed);
    the SMTP server answers EHLO, STARTTLS and the login, and is left with QUIT before any
    message; the unsubscribe mailbox ([unsubscribes]) takes the login; each source's first page
    answers and robots.txt allows it; the templates render. Nothing is sent, stored or built.
    Exits 0 when all passed, 2 when something must be set or fixed in the config or the
    secrets, 1 when a server or a page did not answer.
    """
    from datetime import UTC, datetime

    from feedkit.config import check_placeholders
    from feedkit.errors import checks_exit_code
    from feedkit.ingest.probe import source_checks
    from feedkit.mail.preflight import mail_checks, smtp_check
    from feedkit.site.templatecheck import template_checks

    done: list[Check] = []

    def say(*checks: Check) -> None:
        for c in checks:
            done.append(c)
            click.echo(c.line())

    try:
        config = obj.config
    except ConfigError as exc:
        say(Check("config", False, str(exc)))
        sys.exit(checks_exit_code(done))
    try:
        check_placeholders(config)
        say(Check("config", True, f"{config.path}: loads, no TODO left"))
    except ConfigError as exc:
        say(Check("config", False, " ".join(str(exc).splitlines())))
    say(*mail_checks(config))
    say(smtp_check(config))
    say(*_mailbox_checks(config))
    say(*source_checks(config))
    with obj.open_store() as store:
        say(*template_checks(config, store, datetime.now(UTC)))
    sys.exit(checks_exit_code(done))


def _mailbox_checks(config) -> list[Check]:
    from feedkit.mail.unsubscribes import mailbox_check

    return [mailbox_check(config)]
