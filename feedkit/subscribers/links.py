"""The personal links a subscriber's emails carry, built from ``[web] url`` and the secret."""

from __future__ import annotations

from feedkit.subscribers.tokens import make_token


def _base(web_url: str) -> str:
    return web_url.rstrip("/")


def confirm_url(web_url: str, secret: str, sid: int, *, now: int | None = None) -> str:
    """The double opt-in link of the confirmation email (it expires, see tokens)."""
    return f"{_base(web_url)}/confirm/{make_token(secret, 'confirm', sid, now=now)}"


def personal_urls(web_url: str, secret: str, sid: int) -> dict[str, str]:
    """The links every digest to subscriber ``sid`` carries: ``unsubscribe`` (also the
    ``List-Unsubscribe`` https target, RFC 8058 one-click) and ``preferences``. The same for
    every send, so a subscriber's footer does not change from week to week."""
    base = _base(web_url)
    return {
        "unsubscribe": f"{base}/unsubscribe/{make_token(secret, 'unsubscribe', sid)}",
        "preferences": f"{base}/preferences/{make_token(secret, 'preferences', sid)}",
    }


def subscribe_url(web_url: str) -> str:
    """Where the form is: the pages and feeds link here when ``[web] url`` is set."""
    return f"{_base(web_url)}/subscribe"


def site_subscribe_url(config) -> str:
    """Where the site's pages (index, feed pages, digest archive) send people who want the
    digest by email: ``[digest] subscribe`` when set (a list server's address, say), else this
    endpoint's form when ``[web] url`` is set, else nothing (no link at all)."""
    if config.digest.subscribe:
        return config.digest.subscribe
    return subscribe_url(config.web.url) if config.web.url else ""
