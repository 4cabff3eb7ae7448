"""Subscriber addresses: what counts as one, and keeping them out of everything that is kept,
committed or printed.

The send log must know "this reader already got week W" across runs, and CI keeps it as a text
file committed to the site repository (often public). So the log never holds an address: it
holds a keyed hash (HMAC-SHA256) of the normalised address, with a key that only the sender
knows (``$FEEDKIT_SECRET``, a CI secret). An unkeyed hash would not do: addresses are guessable,
and anyone could hash a guess and look it up.

Without the key there is nothing safe to fall back to (an unkeyed hash leaks, a clear address
leaks more), so every operation that has to turn an address into a log key refuses with a
configuration error (exit 2) instead.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import hmac
import os
import re
import unicodedata
from typing import TYPE_CHECKING

from feedkit.errors import ConfigError

if TYPE_CHECKING:
    from pathlib import Path

SECRET_ENV = "FEEDKIT_SECRET"
KEY_PREFIX = "hmac-sha256:"
MIN_SECRET_CHARS = 16
# Domain separation: the same secret may one day key something else; a hash made for the send
# log must never equal one made for another purpose.
_CONTEXT = b"feedkit send-log v1\n"


def normalise_address(address: str) -> str:
    """The one spelling of an address that the send log keys on: NFC, lower-case, and the
    domain in its ASCII (IDNA) form, so ``Kim@예시.한국`` and ``kim@xn--...`` are one reader."""
    address = unicodedata.normalize("NFC", address.strip())
    local, at, domain = address.rpartition("@")
    if not at:
        return address.lower()
    return f"{local.lower()}@{ascii_domain(domain) or domain.lower()}"


def ascii_domain(domain: str) -> str | None:
    """The IDNA (ASCII, ``xn--``) form of a domain, lower-cased; None when it has none."""
    domain = domain.rstrip(".")
    if domain.isascii():
        return domain.lower()
    try:
        return domain.encode("idna").decode("ascii").lower()
    except UnicodeError:
        return None


def send_secret() -> bytes:
    """The send-log key from the environment, or a one-line configuration error."""
    secret = os.environ.get(SECRET_ENV, "")
    if not secret:
        raise ConfigError(
            f"${SECRET_ENV} is not set: the send log keys each reader by a keyed hash of the "
            f"address and cannot without it; set it to a long random value (e.g. "
            f"`python -c \"import secrets; print(secrets.token_hex(32))\"`) and keep it secret")
    if len(secret) < MIN_SECRET_CHARS:
        raise ConfigError(f"${SECRET_ENV} is too short ({len(secret)} characters): use at least "
                          f"{MIN_SECRET_CHARS} random characters")
    return secret.encode("utf-8")


def recipient_key(address: str, secret: bytes | None = None) -> str:
    """``hmac-sha256:<64 hex>`` of the normalised address: what the send log stores."""
    secret = send_secret() if secret is None else secret
    mac = hmac.new(secret, _CONTEXT + normalise_address(address).encode("utf-8"),
                   hashlib.sha256)
    return KEY_PREFIX + mac.hexdigest()


def is_key(value: str) -> bool:
    return value.startswith(KEY_PREFIX)


def short_key(key: str) -> str:
    """A short, address-free name for a reader in normal output (``#3f2a91c0``)."""
    return "#" + key.removeprefix(KEY_PREFIX)[:8]


def scrub(text: str, *addresses: str) -> str:
    """``text`` with every spelling of each of ``addresses`` replaced by ``<recipient>``, and
    any other address left in it by ``<address>``.

    Servers echo the address in their replies (``550 5.1.1 <kim@example.org>: no such user``),
    and those replies go into the send log (committed as ``data/send-log.jsonl``), the output
    and the web endpoint's log. A server echoes the address as *it* spells it: the domain of
    ``kim@예시.한국`` comes back in its IDNA form (``xn--vv4b11d.xn--3e0b707e``), often
    upper-cased, in angle brackets or quotes, or percent-encoded. So each address is matched
    in every form (:func:`spellings`), any case, with the brackets or quotes around it; and
    whatever else still looks like an address (a forwarding target, another spelling a relay
    made up) goes too: an error text never needs an address to be understood.
    """
    for address in addresses:
        if address:
            text = _spelling_pattern(address).sub("<recipient>", text)
    return _ANY_ADDRESS.sub("<address>", text)


_DOTS = "[.\u3002\uff0e\uff61]"     # what IDNA reads as a dot: . 。 ． ｡
_OPEN, _CLOSE = "[<\\[\"'(]?", "[>\\]\"')]?"
_ADDRESS_CHARS = "[^\\s<>\\[\\]\"'(),;:@]"
# Anything shaped like local@domain.tld (Unicode allowed), with its brackets or quotes.
_ANY_ADDRESS = re.compile(
    f"{_OPEN}(?:mailto:)?{_ADDRESS_CHARS}+(?:@|%40){_ADDRESS_CHARS}+"
    f"{_DOTS}{_ADDRESS_CHARS}+{_CLOSE}", re.IGNORECASE)


def spellings(address: str) -> set[str]:
    """The forms one address can take in a server's reply: as given and NFC, with its domain
    in Unicode and in IDNA (``xn--``) form. Case is left to the matcher."""
    address = address.strip()
    local, at, domain = address.rpartition("@")
    if not at:
        return {address}
    locals_ = {local, unicodedata.normalize("NFC", local)}
    domains = {domain, unicodedata.normalize("NFC", domain)}
    ascii_form = ascii_domain(domain)
    if ascii_form:
        domains.add(ascii_form)
        with contextlib.suppress(UnicodeError):
            domains.add(ascii_form.encode("ascii").decode("idna"))
    return {f"{lp}@{d.rstrip('.')}" for lp in locals_ for d in domains if d}


@functools.lru_cache(maxsize=256)
def _spelling_pattern(address: str) -> re.Pattern[str]:
    """One regular expression for every spelling of ``address``: any case, ``@`` or ``%40``,
    any IDNA dot, an optional ``mailto:``, and the brackets or quotes around it."""
    forms = []
    for form in sorted(spellings(address), key=len, reverse=True):
        local, _at, domain = form.rpartition("@")
        labels = [re.escape(label) for label in re.split(_DOTS, domain)]
        forms.append(f"{re.escape(local)}(?:@|%40){_DOTS.join(labels)}")
    return re.compile(f"{_OPEN}(?:mailto:)?(?:{'|'.join(forms)}){_CLOSE}",
                      re.IGNORECASE)


# ---------------------------------------------------------------------------------------------
# What an address is, and where it must not be written

# Deliberately loose: the server is the judge of an address; this only catches what is clearly
# not one (typos, a name without an address, stray commas or spaces).
_ADDRESS_RE = re.compile(r"^[^\s@<>(),;:\"\[\]]+@[^\s@<>(),;:\"\[\]]+\.[^\s@<>(),;:\"\[\].]+$")
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")


def clean_address(value: str) -> str | None:
    """``Name <a@b.kr>`` or ``a@b.kr`` → ``a@b.kr``; None when it is not one address."""
    return _check_address(value)[0]


def check_address(value: str) -> tuple[str | None, str]:
    """(address, "") or (None, why not): :func:`clean_address` with the reason."""
    return _check_address(value)


def _check_address(value: str) -> tuple[str | None, str]:
    """(address, "") or (None, why not). A control character anywhere (a NUL, a stray CR) is
    refused before any parsing: it must never reach ``RCPT TO``."""
    from email.utils import parseaddr  # here: opening a store (which imports this) needs none

    if _CONTROL_RE.search(value):
        return None, "contains a control character"
    value = value.strip()
    if not value:
        return None, "empty"
    _name, addr = parseaddr(value)
    addr = addr.strip()
    if not addr or not _ADDRESS_RE.match(addr):
        return None, "not an email address"
    if "<" not in value and value != addr:
        # parseaddr also digs an address out of "Bcc: x@y" or "x@y (comment)": take an entry
        # only when it is the address, or a name and <address>
        return None, "not an email address"
    too_long = _length_problem(addr)
    if too_long:
        return None, too_long
    return addr, ""


# RFC 5321 section 4.5.3.1: what every SMTP server may refuse beyond. The path (<address>) is
# at most 256 octets, so the address 254; lengths count UTF-8 octets (RFC 6531) and, for the
# domain, its ASCII (IDNA) form, which is what goes on the wire.
MAX_LOCAL = 64
MAX_DOMAIN = 255
MAX_LABEL = 63
MAX_ADDRESS = 254


def _length_problem(addr: str) -> str:
    """Why ``addr`` is longer than SMTP allows, or "" (no part of the address is repeated)."""
    local, _at, domain = addr.rpartition("@")
    if len(local.encode("utf-8")) > MAX_LOCAL:
        return f"the part before @ is longer than {MAX_LOCAL} bytes (RFC 5321)"
    wire = ascii_domain(domain)
    if wire is None:   # the idna codec refuses a label over 63 bytes, among other things
        return f"the domain has no ASCII (IDNA) form of at most {MAX_LABEL} bytes a part"
    if any(len(label) > MAX_LABEL for label in wire.split(".")):
        return f"a part of the domain is longer than {MAX_LABEL} bytes (RFC 5321)"
    if len(wire) > MAX_DOMAIN:
        return f"the domain is longer than {MAX_DOMAIN} bytes (RFC 5321)"
    if len(local.encode("utf-8")) + 1 + len(wire) > MAX_ADDRESS:
        return f"longer than {MAX_ADDRESS} bytes in all (RFC 5321)"
    return ""


def git_exposure(path: Path) -> str | None:
    """The git work tree that would commit ``path`` (inside it, not ignored), else None.
    Without git installed there is nothing to ask, and nothing committed by it either."""
    import shutil
    import subprocess

    git = shutil.which("git")
    if git is None or not path.parent.is_dir():
        return None
    run = functools.partial(subprocess.run, capture_output=True, text=True, timeout=10,
                            cwd=path.parent)
    try:
        top = run([git, "rev-parse", "--show-toplevel"])
        if top.returncode != 0:
            return None
        ignored = run([git, "check-ignore", "-q", str(path)])
    except (OSError, subprocess.SubprocessError):
        return None
    return top.stdout.strip() if ignored.returncode == 1 else None
