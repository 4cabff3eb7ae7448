"""Who may open ``feedkit serve``'s preview: whoever has the address it printed.

The preview (``/_preview/...``) carries the test-send form's token, and the test send mails the
city's digest through its relay to any address. On a shared machine every local user can reach
127.0.0.1, so being on this machine proves nothing. As Jupyter does: the server makes a random
key when it starts and prints the preview's address with it (``?token=KEY``); opening that
address sets an HttpOnly cookie (``SameSite=Strict``, scripts cannot read it, other sites do
not send it) and redirects to the same page without the key (so it stays out of the history and
of Referer headers). Every preview page and the test send then need the cookie; the built
files around it are what is published anyway, and need none.

The cookie's name carries the port: cookies are not kept apart by port, and two previews (two
sites) on one machine must not overwrite each other's.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from http.cookies import CookieError, SimpleCookie
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

TOKEN_PARAM = "token"


@dataclass
class PreviewKey:
    """This server's key, and the cookie opening the printed address sets."""

    token: str = field(default_factory=lambda: secrets.token_urlsafe(32))

    @property
    def cookie_value(self) -> str:
        # Not the key itself: the cookie and the printed address are two different secrets.
        return hmac.new(self.token.encode(), b"feedkit serve preview cookie",
                        hashlib.sha256).hexdigest()

    @staticmethod
    def cookie_name(port: int) -> str:
        return f"feedkit_preview_{port}"

    def allows(self, cookie_header: str | None, port: int) -> bool:
        """Whether the request's cookies hold this server's preview cookie."""
        if not cookie_header:
            return False
        jar = SimpleCookie()
        try:
            jar.load(cookie_header)
        except CookieError:
            return False
        morsel = jar.get(self.cookie_name(port))
        return morsel is not None and hmac.compare_digest(morsel.value.encode(),
                                                          self.cookie_value.encode())

    def login(self, raw_path: str) -> str | None:
        """For a request to the printed address (``?token=`` with this key): the same path
        without the key, to redirect to once the cookie is set. None otherwise."""
        parts = urlsplit(raw_path)
        query = parse_qsl(parts.query, keep_blank_values=True)
        given = [v for k, v in query if k == TOKEN_PARAM]
        if len(given) != 1 or not hmac.compare_digest(given[0].encode(), self.token.encode()):
            return None
        rest = urlencode([(k, v) for k, v in query if k != TOKEN_PARAM])
        return urlunsplit(("", "", parts.path, rest, ""))

    def set_cookie(self, port: int) -> str:
        """The Set-Cookie header's value: a session cookie (gone when the browser closes)."""
        return (f"{self.cookie_name(port)}={self.cookie_value}; Path=/; HttpOnly; "
                "SameSite=Strict")

    def address(self, url: str) -> str:
        """``url`` with the key: what ``feedkit serve`` prints."""
        return f"{url}{'&' if '?' in url else '?'}{TOKEN_PARAM}={self.token}"


def without_token(text: str) -> str:
    """A request line for the log, the key cut out (a terminal's scrollback is read too)."""
    import re

    return re.sub(rf"([?&]{TOKEN_PARAM}=)[^&\s\"]*", r"\1***", text)
