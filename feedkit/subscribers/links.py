"""The personal links a subscriber's emails carry, built from ``[web] url`` and the secret."""

from __future__ import annotations


def _base(web_url: str) -> str:
    return web_url.rstrip("/")


def confirm_url(web_url: str, secret: str, sid: int, *, key: str = "",
                now: int | None = None) -> str:
    """The double opt-in link of the confirmation email (it expires, see tokens); ``key`` is
    the subscription's ``link_key``, as for every link below."""
    from feedkit.subscribers.tokens import make_token

    return f"{_base(web_url)}/confirm/{make_token(secret, 'confirm', sid, key=key, now=now)}"


def personal_urls(web_url: str, secret: str, sid: int, key: str = "") -> dict[str, str]:
    """The links every digest to subscriber ``sid`` (whose row holds ``key``) carries:
    ``unsubscribe`` (also the ``List-Unsubscribe`` https target, RFC 8058 one-click) and
    ``preferences``. The same for every send, so a subscriber's footer does not change from
    week to week; dead once that subscription is erased or made anew."""
    from feedkit.subscribers.tokens import make_token  # itsdangerous: not for every build

    base = _base(web_url)
    return {
        "unsubscribe": f"{base}/unsubscribe/{make_token(secret, 'unsubscribe', sid, key=key)}",
        "preferences": f"{base}/preferences/{make_token(secret, 'preferences', sid, key=key)}",
    }


def subscribe_url(web_url: str) -> str:
    """Where the form is: the pages and feeds link here when ``[web] url`` is set."""
    return f"{_base(web_url)}/subscribe"


def form_url(config) -> str:
    """The endpoint's form when ``[web] url`` is set, else "": what the index and the feed
    pages link to (they had no subscribe link before the endpoint, and keep none without it)."""
    return subscribe_url(config.web.url) if config.web.url else ""


def site_subscribe_url(config) -> str:
    """Where the digest's web pages (archive, each week) send people who want it by email: the
    endpoint's form when ``[web] url`` is set, else ``[digest] subscribe`` (a list server's
    address, say), else nothing."""
    return form_url(config) or config.digest.subscribe
