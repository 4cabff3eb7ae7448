"""The digest as an email message: MIME parts, headers, Message-IDs and unsubscribe tokens.

A week is rendered once (:mod:`feedkit.digest.render`); each reader's message is the shared
bytes with a few headers and the personal unsubscribe link substituted (:class:`MessageFactory`).
The .eml is dated at the end of its week (:func:`issue_time`), not "now", so the same store
gives the same bytes.
"""

from __future__ import annotations

import binascii
import hashlib
import hmac
import html as html_lib
import os
import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from email.message import EmailMessage
from email.policy import EmailPolicy
from email.utils import format_datetime
from urllib.parse import quote, urlsplit

from feedkit.config import Config
from feedkit.digest.compose import HTML_PART, MESSAGE_POLICY, Digest
from feedkit.digest.render import (
    PREFERENCES_PLACEHOLDER,
    UNSUBSCRIBE_PLACEHOLDER,
    EmailBody,
    is_personal,
    shown_unsubscribe,
)
from feedkit.digest.week import Week
from feedkit.errors import ConfigError, FeedkitError

SECRET_ENV = "FEEDKIT_UNSUBSCRIBE_SECRET"


def unsubscribe_token(address: str) -> str:
    secret = os.environ.get(SECRET_ENV, "")
    if not secret:
        raise ConfigError(f"[digest] unsubscribe uses {{token}} but ${SECRET_ENV} is not set")
    mac = hmac.new(secret.encode("utf-8"), address.lower().encode("utf-8"), hashlib.sha256)
    return mac.hexdigest()[:32]


def unsubscribe_urls(templates: Sequence[str], address: str) -> list[str]:
    """Each configured unsubscribe URL with ``{email}`` / ``{token}`` filled in for one reader."""
    out = []
    for u in templates:
        token = unsubscribe_token(address) if "{token}" in u else ""
        out.append(u.format(email=quote(address, safe="@"), token=token))
    return out


def one_click(config: Config, urls: Sequence[str]) -> bool:
    """Whether the message may say ``List-Unsubscribe-Post: List-Unsubscribe=One-Click``
    (RFC 8058): only when one of its https links is answered by an endpoint that takes the
    POST, ``feedkit web`` at ``[web] url``. A mail provider POSTs to the link when the reader
    clicks its own unsubscribe button; a link nothing answers (a static host, list mode
    without an endpoint) would swallow that click, so such a message offers the mailto: link
    only (see :mod:`feedkit.mail.unsubscribes`)."""
    base = config.web.url
    if not base.startswith("https:"):
        return False
    base = base if base.endswith("/") else base + "/"
    return any(u.startswith(base) for u in urls)


def message_id(config: Config, week: Week, recipient: str, domain: str, *,
               key: str | None = None) -> str:
    """Stable per (site, week, reader): a re-sent copy carries the same Message-ID, so mail
    systems that de-duplicate by it can.

    Made from the reader's send-log ``key`` (a keyed hash), never from the address itself:
    Message-IDs are kept in the send log, which is committed, and a plain hash of a guessable
    address would give the address away. Without a key (a rendered preview, not sent) the
    normalised address stands in; nothing keeps that Message-ID.
    """
    from feedkit.privacy import normalise_address

    who = key if key is not None else "preview:" + normalise_address(recipient)
    digest_of = hashlib.sha256(f"{config.site.feed_url}\n{week.label}\n{who}".encode())
    return f"<digest.{week.label}.{digest_of.hexdigest()[:24]}@{domain}>"


def list_id(config: Config) -> str:
    if config.digest.list_id:
        return config.digest.list_id
    host = urlsplit(config.site.feed_url).hostname or "localhost"
    return f"{config.site.title} <digest.{host}>"


def sender(config: Config):
    """The parsed From address; required to build a message."""
    from email.headerregistry import Address
    from email.policy import default

    raw = config.digest.from_
    if not raw:
        raise ConfigError("[digest] from is not set: a digest email needs a sender address")
    header = default.header_factory("From", raw)
    addrs = header.addresses
    if len(addrs) != 1 or not addrs[0].domain or header.defects:
        raise ConfigError(f"[digest] from: {raw!r} is not one valid address")
    addr: Address = addrs[0]
    return addr


def message_bytes(msg: EmailMessage) -> bytes:
    """The message as it goes on the wire (and into an .eml file). A reader whose address has
    a non-ASCII local part gets it in raw UTF-8 (RFC 6532), as SMTPUTF8 carries it."""
    to = str(msg.get("To", ""))
    policy = MESSAGE_POLICY if to.isascii() else MESSAGE_POLICY.clone(utf8=True)
    return msg.as_bytes(policy=policy)


def header_address(address: str) -> str:
    """The address as the To header shows it: an internationalised domain in its IDNA form
    (what every client understands); a non-ASCII local part stays as it is (RFC 6532)."""
    from feedkit.privacy import ascii_domain

    local, at, domain = address.rpartition("@")
    if not at or domain.isascii():
        return address
    return f"{local}@{ascii_domain(domain) or domain}"


def _ascii_url(url: str) -> str:
    """Headers carry ASCII only: percent-encode anything else (and spaces) in a URL."""
    return quote(url, safe="!#$%&'()*+,-./:;=?@[]~_")


def build_message(config: Config, digest: Digest, body: EmailBody, subject: str,
                  recipient: str, when: datetime, *, key: str | None = None,
                  urls: list[str] | None = None,
                  extra: Mapping[str, str] | None = None) -> EmailMessage:
    """``multipart/alternative`` (text, then HTML), UTF-8, with the list headers. ``key`` is
    the reader's send-log key (see :func:`message_id`). ``urls`` (a subscriber's own
    List-Unsubscribe URLs, the shown one first) replace those of ``[digest] unsubscribe``;
    ``extra`` fills other placeholders (the preferences link)."""
    frm = sender(config)
    if urls is None:
        urls = unsubscribe_urls(config.digest.unsubscribe, recipient)
    link = shown_unsubscribe(urls)
    html, text = body.personal(link, (extra or {}).get(PREFERENCES_PLACEHOLDER, ""))
    msg = EmailMessage(policy=MESSAGE_POLICY)
    msg["From"] = frm
    msg["To"] = header_address(recipient)
    if config.digest.reply_to:
        msg["Reply-To"] = config.digest.reply_to
    msg["Subject"] = subject
    msg["Date"] = format_datetime(when.astimezone(config.tz))
    msg["Message-ID"] = message_id(config, digest.week, recipient, frm.domain, key=key)
    msg["List-Id"] = list_id(config)
    if urls:
        msg["List-Unsubscribe"] = ", ".join(f"<{_ascii_url(u)}>" for u in urls)
        if one_click(config, urls):
            msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(text, subtype="plain", charset="utf-8", cte="base64")
    msg.add_alternative(html, **HTML_PART)
    msg.set_boundary(mime_boundary(msg["Message-ID"], link, body_fingerprint(body)))
    return msg


def body_fingerprint(body: EmailBody) -> str:
    return hashlib.sha256(f"{body.text}\0{body.html}".encode()).hexdigest()


def mime_boundary(mid: str, link: str, fingerprint: str) -> str:
    """A boundary from the content instead of a random one keeps `digest render --eml`
    reproducible; "=_" never occurs in base64 bodies, so it cannot collide. Made from the
    shared body's fingerprint (hashed once per week) and the personal parts."""
    return "=_feedkit_" + hashlib.sha256(f"{mid}\n{link}\n{fingerprint}".encode()
                                         ).hexdigest()[:32]


class MessageFactory:
    """Builds one week's message for each reader as fast as the wire takes it.

    Everything that is the same for every reader is done once: the shared headers are folded,
    the bodies split at the personal unsubscribe link. Per reader there is only string
    substitution, one base64 pass per part and a handful of short headers. The bytes are the
    same as :func:`message_bytes` of :func:`build_message` (a test holds them equal), which
    stays the readable reference and what ``digest render --eml`` uses.
    """

    def __init__(self, config: Config, digest: Digest, body: EmailBody, subject: str,
                 when: datetime):
        self.config, self.week = config, digest.week
        self.frm = sender(config)
        self.templates = config.digest.unsubscribe
        self.personal_urls = is_personal(self.templates)
        shared = EmailMessage(policy=MESSAGE_POLICY)
        shared["From"] = self.frm
        if config.digest.reply_to:
            shared["Reply-To"] = config.digest.reply_to
        shared["Subject"] = subject
        shared["Date"] = format_datetime(when.astimezone(config.tz))
        shared["List-Id"] = list_id(config)
        self._shared = shared
        self._heads: dict[bool, dict[str, bytes]] = {}
        self.post = _ONE_CLICK if one_click(config, self.templates) else b""
        self.fixed_unsubscribe = (None if self.personal_urls or not self.templates
                                  else self._unsubscribe_header(list(self.templates)))
        # Line ends become CRLF once here, not in every message (a personal link has none).
        self.html_part = _Base64Part(body.html)
        self.text_part = _Base64Part(body.text)
        self.body = body
        self.fingerprint = body_fingerprint(body)

    def _head(self, *, utf8: bool) -> tuple[dict[str, bytes], EmailPolicy]:
        """The shared headers, folded once; a reader whose address needs SMTPUTF8 gets the
        whole message under the UTF-8 policy, as :func:`message_bytes` writes it."""
        policy = MESSAGE_POLICY.clone(utf8=True) if utf8 else MESSAGE_POLICY
        if utf8 not in self._heads:
            self._heads[utf8] = {k.lower(): policy.fold_binary(k, v)
                                 for k, v in self._shared.raw_items()}
        return self._heads[utf8], policy

    @staticmethod
    def _header(name: str, value: str, policy: EmailPolicy = MESSAGE_POLICY) -> bytes:
        return policy.fold_binary(*policy.header_store_parse(name, value))

    @staticmethod
    def _unsubscribe_header(urls: list[str]) -> bytes:
        # What _MessagePolicy.fold writes: one <URL> per line. _ascii_url percent-encodes
        # "<" and ">", so the entries are exactly the URLs.
        entries = ",\r\n ".join(f"<{_ascii_url(u)}>" for u in urls)
        return f"List-Unsubscribe: {entries}\r\n".encode("ascii")

    def _to_header(self, to: str, policy: EmailPolicy) -> bytes:
        # A plain address on one line is written as it is; anything else (a long or
        # internationalised one) goes through the email package's folder.
        if len(to) <= 70 and _PLAIN_ADDRESS.fullmatch(to):
            return b"To: " + to.encode("ascii") + b"\r\n"
        return self._header("To", to, policy)

    def message(self, recipient: str, key: str | None, *, urls: list[str] | None = None,
                extra: Mapping[str, str] | None = None) -> tuple[str, bytes]:
        """(Message-ID, the message's bytes) for one reader; ``urls`` and ``extra`` as for
        :func:`build_message` (a subscriber's own links)."""
        fixed, post = self.fixed_unsubscribe, self.post
        if urls is None:
            urls = (unsubscribe_urls(self.templates, recipient) if self.personal_urls
                    else list(self.templates))
        else:
            fixed = None
            post = _ONE_CLICK if one_click(self.config, urls) else b""
        link = shown_unsubscribe(urls)
        mid = message_id(self.config, self.week, recipient, self.frm.domain, key=key)
        to = header_address(recipient)
        head, policy = self._head(utf8=not to.isascii())
        boundary = mime_boundary(mid, link, self.fingerprint)
        out = [head["from"], self._to_header(to, policy)]
        if "reply-to" in head:
            out.append(head["reply-to"])
        out += [head["subject"], head["date"], b"Message-ID: " + mid.encode() + b"\r\n",
                head["list-id"]]
        if urls:
            out.append(fixed or self._unsubscribe_header(urls))
            out.append(post)
        values = {UNSUBSCRIBE_PLACEHOLDER: link, **(extra or {})}
        bound = boundary.encode()
        out += [b"Auto-Submitted: auto-generated\r\nMIME-Version: 1.0\r\n"
                b"Content-Type: multipart/alternative;\r\n boundary=\"", bound, b"\"\r\n\r\n",
                b"--", bound, b"\r\nContent-Type: text/plain; charset=\"utf-8\"\r\n"
                b"Content-Transfer-Encoding: base64\r\n\r\n", self.text_part.encode(values),
                b"\r\n--", bound, b"\r\nContent-Type: text/html; charset=\"utf-8\"\r\n"
                b"Content-Transfer-Encoding: base64\r\nMIME-Version: 1.0\r\n\r\n",
                self.html_part.encode({k: html_lib.escape(v) for k, v in values.items()}),
                b"\r\n--", bound, b"--\r\n"]
        return mid, b"".join(out)


_LINE_END = re.compile(r"\r\n|\r|\n")
_ONE_CLICK = b"List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"
# Where a part holds a personal link: the unsubscribe and the preferences placeholders.
_SLOTS = re.compile(f"({re.escape(UNSUBSCRIBE_PLACEHOLDER)}|{re.escape(PREFERENCES_PLACEHOLDER)})")


# RFC 5322 dot-atom local part and a host name: nothing the header folder would quote or encode.
_PLAIN_ADDRESS = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
                            r"@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")


def _crlf(text: str) -> str:
    return _LINE_END.sub("\r\n", text)


class _Base64Part:
    """One text part's body as the email package encodes it (every line end CRLF, a final
    CRLF, base64 in 76-column lines of 57 bytes each, each ended by CRLF), with the personal
    links filled in per reader. Everything before the first link, cut at a multiple of 57
    bytes, is encoded once: per reader only the footer's few kilobytes are."""

    def __init__(self, text: str):
        pieces = _SLOTS.split(text)   # text, placeholder, text, placeholder, ..., text
        self.parts = [_crlf(p).encode("utf-8") for p in pieces[0::2]]
        self.slots = pieces[1::2]
        if len(self.parts) == 1:   # nothing personal: the whole body once
            self.head, self.rest = _base64_lines(_final_crlf(self.parts[0])), b""
            self.static = True
        else:
            cut = len(self.parts[0]) // 57 * 57
            self.head, self.rest = _base64_lines(self.parts[0][:cut]), self.parts[0][cut:]
            self.static = False

    def encode(self, values: Mapping[str, str]) -> bytes:
        """The part with each placeholder replaced by ``values[placeholder]``."""
        if self.static:
            return self.head
        out = [self.rest]
        for slot, part in zip(self.slots, self.parts[1:], strict=True):
            out += [values.get(slot, "").encode("utf-8"), part]
        return self.head + _base64_lines(_final_crlf(b"".join(out)))


def _final_crlf(data: bytes) -> bytes:
    return data if data.endswith(b"\r\n") else data + b"\r\n"


def _base64_lines(data: bytes) -> bytes:
    """Base64 in 76-column CRLF lines: one encoder call for the whole, then slicing (a tenth
    of the time of a call per line)."""
    encoded = binascii.b2a_base64(data, newline=False)
    return b"".join([encoded[i:i + 76] + b"\r\n" for i in range(0, len(encoded), 76)])


def issue_time(week: Week) -> datetime:
    """The date a rendered (not sent) digest carries: the moment its week ended. Fixed, so
    ``digest render --eml`` is reproducible; ``digest send`` stamps the real send time."""
    return week.end


def preview_unsubscribe(config: Config, *, strict: bool = True) -> str:
    """The footer link of a rendered (not sent) digest, as its first recipient would see it,
    so ``digest render --html`` and ``feedkit serve`` show what a reader gets. A personal link
    that cannot be made here (``{token}`` without its secret) is an error when ``strict``;
    otherwise the preview falls back to the link that is the same for everyone."""
    from feedkit.privacy import clean_address

    templates = config.digest.unsubscribe
    if not templates:
        return ""
    sample = config.digest.to[0] if config.digest.to else "reader@example.org"
    try:
        return shown_unsubscribe(unsubscribe_urls(templates, clean_address(sample) or sample))
    except FeedkitError:
        if strict:
            raise
        return shown_unsubscribe(templates, personal=False)
