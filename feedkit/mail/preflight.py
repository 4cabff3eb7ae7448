"""What a send needs, checked before anything is due: the sender, the secrets, the recipients,
the SMTP login and the TLS trust.

Why on every run: ``digest send`` runs every hour and sends once a week. Had it checked its
needs only when the digest is due, a secret left unset (or a recipients secret with a typo)
would pass every run of the week unnoticed and fail the first Monday, when the digest should
have gone out. So every run checks them all, due or not, and a run that lacks one stops with
exit 2 and one line per problem (:func:`send_problems`). ``feedkit check`` shows the same as
one line per check (:func:`mail_checks`) and also logs in to the SMTP server without sending
(:func:`smtp_check`).

Nothing here prints an address: the recipients are counted, never listed.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator

from feedkit.config import Config
from feedkit.errors import EXIT_FAILURE, Check, ConfigError, FeedkitError


def digest_set_up(config: Config) -> bool:
    """Whether the site mails a digest at all (a sender or recipients, or subscribers)."""
    d = config.digest
    return bool(d.from_ or d.to or d.recipients_env or d.recipients_file
                or d.audience == "subscribers")


def _requirements(config: Config) -> Iterator[tuple[str, Callable[[], str]]]:
    """(name, check) for everything a send needs: each check returns what it found (no
    address) or raises :class:`ConfigError` saying what is missing."""
    from feedkit.mail.message import SECRET_ENV as TOKEN_ENV
    from feedkit.mail.message import sender
    from feedkit.mail.send import DkimSigner
    from feedkit.mail.smtp import MISSING_PASSWORD, PASSWORD_ENV, tls_context
    from feedkit.privacy import SECRET_ENV, send_secret

    def placeholders() -> str:
        from feedkit.config import check_placeholders

        check_placeholders(config)
        return "no TODO left"

    def from_() -> str:
        return f"[digest] from {sender(config).addr_spec}"

    def secret() -> str:
        send_secret()
        return f"${SECRET_ENV} set"

    yield "config", placeholders
    yield "sender", from_
    yield "send-log key", secret
    if config.digest.audience != "subscribers":
        yield "recipients", lambda: _recipients(config)
    if any("{token}" in u for u in config.digest.unsubscribe):
        def token() -> str:
            if not os.environ.get(TOKEN_ENV, ""):
                raise ConfigError(f"[digest] unsubscribe uses {{token}} but ${TOKEN_ENV} is "
                                  "not set")
            return f"${TOKEN_ENV} set"

        yield "unsubscribe secret", token
    smtp = config.smtp
    if smtp.username:
        def password() -> str:
            if not os.environ.get(PASSWORD_ENV, ""):
                raise ConfigError(MISSING_PASSWORD)
            return f"${PASSWORD_ENV} set"

        yield "smtp password", password
    if smtp.ca_file and smtp.tls_mode != "none":
        def ca() -> str:
            tls_context(config.resolve(smtp.ca_file))
            return f"[smtp] ca_file {smtp.ca_file} readable"

        yield "smtp ca_file", ca
    if smtp.dkim_selector:
        def dkim() -> str:
            DkimSigner.from_config(config)
            return f"DKIM key for {smtp.dkim_selector}._domainkey.{smtp.dkim_domain} usable"

        yield "dkim key", dkim


def _recipients(config: Config) -> str:
    """How many readers the list has, and where from; a list with nobody on it is an error."""
    from feedkit.mail.recipients import load_recipients

    found = load_recipients(config)
    where = [w for w, on in (("[digest] to", config.digest.to),
                             (f"${config.digest.recipients_env}", config.digest.recipients_env),
                             ("[digest] recipients_file", config.digest.recipients_file)) if on]
    if not found.addresses:
        skipped = f" ({len(found.problems)} entries skipped as not addresses)" \
            if found.problems else ""
        raise ConfigError("no recipients: set [digest] to, recipients_env or recipients_file"
                          + skipped)
    skipped = f", {len(found.problems)} entr{'y' if len(found.problems) == 1 else 'ies'} " \
              "skipped" if found.problems else ""
    return f"{len(found.addresses)} address(es) from {' and '.join(where)}{skipped}"


def send_problems(config: Config) -> list[str]:
    """One line per thing a send lacks ([] when it has all it needs): what ``digest send``
    checks on every run, due or not."""
    problems = []
    for _name, check in _requirements(config):
        try:
            check()
        except ConfigError as exc:
            problems.extend(str(exc).splitlines())
    return problems


def check_ready(config: Config) -> None:
    """Raise one :class:`ConfigError` naming every problem of :func:`send_problems`."""
    problems = send_problems(config)
    if problems:
        raise ConfigError("\n".join(problems))


def mail_checks(config: Config) -> list[Check]:
    """``feedkit check``'s lines for the digest's sender, secrets and recipients."""
    if not digest_set_up(config):
        return [Check("digest", None, "no [digest] sender or recipients: nothing is mailed")]
    out = []
    for name, check in _requirements(config):
        if name == "config":
            continue   # the config line of `feedkit check` says it
        try:
            out.append(Check(name, True, check()))
        except ConfigError as exc:
            out.append(Check(name, False, str(exc)))
    if config.digest.audience == "subscribers":
        out.append(Check("recipients", None, '[digest] audience = "subscribers": the store\'s '
                                             "subscribers ('feedkit subscribers count')"))
    return out


def smtp_check(config: Config) -> Check:
    """Connect to ``[smtp]``, say EHLO, STARTTLS and log in as 'digest send' does, then QUIT:
    no message is sent."""
    from feedkit.mail.send import _ca_file
    from feedkit.mail.smtp import PermanentFailure, SmtpSession, TemporaryFailure

    name = "smtp"
    s = config.smtp
    if not digest_set_up(config):
        return Check(name, None, "no digest to send")
    try:
        session = SmtpSession(s, _ca_file(config))
        session.connect()
    except ConfigError as exc:
        return Check(name, False, str(exc))
    except (FeedkitError, TemporaryFailure, PermanentFailure) as exc:
        return Check(name, False, f"{s.host}:{s.port}: {exc}".replace(
            f"SMTP {s.host}:{s.port}: ", ""), EXIT_FAILURE)
    steps = ["EHLO"]
    if s.tls_mode == "starttls":
        steps.append("STARTTLS")
    elif s.tls_mode == "implicit":
        steps.insert(0, "TLS")
    if s.username:
        steps.append(f"AUTH as {s.username!r}")
    session.close()
    return Check(name, True, f"{s.host}:{s.port}: {', '.join(steps)} accepted; nothing sent")
