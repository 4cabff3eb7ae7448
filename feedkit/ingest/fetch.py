"""HTTP for ``feedkit update``: a polite, bounded, conditional GET.

Why its own module: every web request feedkit makes goes through :class:`Fetcher`, so the rules of
being a good guest on a city's small web server hold everywhere, not per reader:

* a User-Agent that names feedkit and a contact;
* robots.txt honoured (RFC 9309: 4xx means no rules, 5xx or unreachable means stay away), its
  ``Crawl-delay`` respected;
* one request at a time, and at least ``delay`` seconds between two requests to one host;
* conditional GET: the ETag / Last-Modified of the last good answer are kept in the store's
  ``http_cache`` table, so an unchanged list page or feed costs a ``304 Not Modified``;
* a total time limit per request that really is a deadline: DNS, connect, TLS handshake, status
  line, headers and body together end by it, however slowly a server drips bytes (see
  :class:`_Guard`: every socket read gets only the time that is left);
* retries with exponential backoff on network errors, timeouts, 429 and 5xx (``Retry-After``
  honoured), a byte cap per response (also after gzip), and redirects followed one hop at a time
  (each hop checked against robots.txt) up to a limit;
* no private, loopback or link-local addresses unless the operator configured that very host by
  its address: the name is resolved, every address checked, and the socket connected to the
  checked address (so DNS cannot answer differently between check and connect), on every hop.

It is built on the standard library's ``urllib.request`` rather than a client library: redirects,
retries and size limits are handled here by hand anyway (each hop must pass robots.txt and the
delay), and the deadline and address rules sit in a small ``http.client`` connection subclass,
so a client would add a dependency without removing code.

Decoding lives here too (:func:`decode_html`): HTTP charset, then ``<meta charset>``, then
detection, so a CP949 board never reaches the store as mojibake.
"""

from __future__ import annotations

import email.message
import http.client
import re
import socket
import time
import urllib.error
import urllib.request
import urllib.robotparser
import zlib
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urljoin, urlsplit

from feedkit import __version__
from feedkit.config import FetchConfig
from feedkit.errors import FeedkitError
from feedkit.ingest.charset import decode_html
from feedkit.ingest.netguard import (
    AddressRefused,
    _Guard,
    _GuardedHTTPHandler,
    _GuardedHTTPSHandler,
    _norm_host,
    _system_resolve,
    _within,
    check_addresses,
)

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})


MAX_RETRY_AFTER = 120.0   # never sleep longer than this on a server's say-so


MAX_CRAWL_DELAY = 60.0


ROBOTS_MAX_BYTES = 512_000


_CHUNK = 65536


class FetchError(FeedkitError):
    """A URL could not be fetched; the message names the URL and why."""


class HttpStatusError(FetchError):
    """The server answered with a status other than 200 (or 304); ``status`` says which."""

    def __init__(self, message: str, status: int):
        super().__init__(message)
        self.status = status


class AddressRefusedError(FetchError):
    """The URL's host is on an address feedkit does not fetch from (see check_addresses)."""


class NetworkError(FetchError):
    """No answer at all, every attempt: the connection was refused or dropped, the name did
    not resolve, or the server timed out. ``reason`` is the why without the URL."""

    def __init__(self, url: str, reason: str):
        super().__init__(f"{url}: {reason}")
        self.reason = reason


@dataclass(frozen=True)
class FetchSettings:
    """How a :class:`Fetcher` behaves; the defaults are ``[fetch]``'s own (one source of truth)."""

    user_agent: str = f"feedkit/{__version__}"
    delay: float = FetchConfig.delay
    timeout: float = FetchConfig.timeout
    retries: int = FetchConfig.retries
    backoff: float = FetchConfig.backoff
    max_bytes: int = FetchConfig.max_bytes
    max_redirects: int = FetchConfig.max_redirects

    @classmethod
    def from_config(cls, config) -> FetchSettings:
        """The ``[fetch]`` section, with the User-Agent composed from the contact."""
        f = config.fetch
        contact = f.contact or config.site.email or config.site.feed_url
        agent = f.user_agent or f"feedkit/{__version__} (+{contact})"
        return cls(user_agent=agent, delay=f.delay, timeout=f.timeout, retries=f.retries,
                   backoff=f.backoff, max_bytes=f.max_bytes, max_redirects=f.max_redirects)

    @property
    def robots_token(self) -> str:
        """The product token robots.txt groups are matched against (``feedkit``)."""
        return self.user_agent.split("/", 1)[0].split()[0] if self.user_agent else "feedkit"


@dataclass
class Response:
    url: str                      # the final URL after redirects (base for relative links)
    status: int                   # 200, or 304 when the cached copy is still good
    body: bytes = b""
    headers: email.message.Message = field(default_factory=email.message.Message)
    requested: str = ""           # the URL asked for (the cache key)

    @property
    def not_modified(self) -> bool:
        return self.status == 304

    @property
    def content_type(self) -> str:
        return (self.headers.get_content_type() or "").lower()

    @property
    def charset(self) -> str:
        return (self.headers.get_content_charset() or "").lower()

    def text(self, override: str = "") -> str:
        return decode_html(self.body, self.charset, override)


class HttpCache:
    """ETag / Last-Modified per URL in the store's ``http_cache`` table.

    New validators are only *staged* while a source is read; :meth:`commit` writes them after
    that source's articles are stored. Otherwise a run that fetched page 1 and then failed would
    be answered ``304`` next time and never finish the job.
    """

    def __init__(self, db):
        self.db = db
        self.staged: dict[str, tuple[str, str]] = {}

    def get(self, url: str) -> tuple[str, str]:
        row = self.db.execute("SELECT etag, last_modified FROM http_cache WHERE url = ?",
                              (url,)).fetchone()
        return (row[0], row[1]) if row else ("", "")

    def stage(self, url: str, etag: str, last_modified: str) -> None:
        self.staged[url] = (etag, last_modified)

    def discard(self) -> None:
        self.staged.clear()

    def commit(self) -> None:
        now = datetime.now(UTC).isoformat(timespec="seconds")
        self.db.executemany(
            "INSERT INTO http_cache (url, etag, last_modified, fetched_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (url) DO UPDATE SET etag = excluded.etag, "
            "last_modified = excluded.last_modified, fetched_at = excluded.fetched_at",
            [(u, e, lm, now) for u, (e, lm) in self.staged.items()])
        self.staged.clear()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Redirects come back as 3xx so :class:`Fetcher` can check each hop itself."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


@dataclass
class FetchStats:
    requests: int = 0
    not_modified: int = 0
    retries: int = 0
    bytes: int = 0
    seconds: float = 0.0          # wall time inside requests (incl. politeness waits)


class Fetcher:
    """One polite HTTP client for a whole ``feedkit update`` run (shared by every source, so
    the per-host delay also holds across sources on the same site)."""

    def __init__(self, settings: FetchSettings, cache: HttpCache | None = None,
                 sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], float] = time.monotonic, *,
                 private_hosts: Iterable[str] = (),
                 resolve: Callable[[str, int], list[str]] | None = None):
        """``private_hosts``: hosts that may be on a private, loopback or link-local address
        (see :func:`private_hosts_of`); every other host must resolve to public addresses only.
        ``resolve`` (host, port) → IP addresses, the system resolver by default."""
        self.settings = settings
        self.cache = cache
        self.sleep = sleep
        self.clock = clock
        self.stats = FetchStats()
        self.private_hosts = {_norm_host(h) for h in private_hosts}
        self.resolve = resolve or _system_resolve
        self._last: dict[str, float] = {}          # host → time of the last request
        self._robots: dict[str, urllib.robotparser.RobotFileParser | str] = {}

    # -- public --------------------------------------------------------------------------------

    def get(self, url: str, *, conditional: bool = True, max_bytes: int | None = None,
            check_robots: bool = True, hosts: Collection[str] | None = None,
            method: str = "GET") -> Response:
        """GET ``url`` following redirects; raise :class:`FetchError` with the reason.

        ``conditional`` sends the remembered validators (and stages new ones): a 304 comes back
        as a :class:`Response` with ``status == 304`` and no body. ``hosts``: when given, every
        hop (the URL and each redirect) must be on one of these host names. ``method="HEAD"``
        asks for the headers only (an image's type, see :mod:`feedkit.ingest.images`).
        """
        started = self.clock()
        try:
            return self._get(url, conditional, max_bytes or self.settings.max_bytes,
                             check_robots, hosts, method)
        finally:
            self.stats.seconds += self.clock() - started

    # -- internals -----------------------------------------------------------------------------

    def _get(self, url: str, conditional: bool, max_bytes: int, check_robots: bool,
             hosts: Collection[str] | None = None, method: str = "GET") -> Response:
        etag, last_modified = ("", "")
        if conditional and self.cache is not None:
            etag, last_modified = self.cache.get(url)
        seen = [url]
        current = url
        while True:
            _check_scheme(current)
            if hosts is not None and _norm_host(urlsplit(current).hostname or "") not in hosts:
                raise FetchError(f"{url}: redirected to {current}, which is not on the source's "
                                 f"host ({', '.join(sorted(hosts))}; see allow_hosts)")
            if check_robots:
                self._check_robots(current)
            status, headers, body = self._attempts(current, etag, last_modified, max_bytes,
                                                   method)
            if status in REDIRECT_STATUSES:
                location = headers.get("Location")
                if not location:
                    raise FetchError(f"{current}: HTTP {status} redirect without a Location")
                target = urljoin(current, location.strip())
                if target in seen:
                    raise FetchError(f"{url}: redirect loop ({' -> '.join([*seen, target])})")
                if len(seen) > self.settings.max_redirects:
                    raise FetchError(f"{url}: more than {self.settings.max_redirects} redirects")
                seen.append(target)
                current = target
                continue
            if status == 304:
                if not (etag or last_modified):
                    raise FetchError(f"{current}: HTTP 304 to an unconditional request")
                self.stats.not_modified += 1
                return Response(url=current, status=304, headers=headers, requested=url)
            if status != 200:
                reason = http.client.responses.get(status, "")
                raise HttpStatusError(f"{current}: HTTP {status} {reason}".rstrip(), status)
            if conditional and self.cache is not None:
                new_etag = headers.get("ETag", "") or ""
                new_lm = headers.get("Last-Modified", "") or ""
                if new_etag or new_lm:
                    self.cache.stage(url, new_etag, new_lm)
            return Response(url=current, status=200, body=body, headers=headers, requested=url)

    def _attempts(self, url: str, etag: str, last_modified: str, max_bytes: int,
                  method: str = "GET") -> tuple[int, email.message.Message, bytes]:
        """One request with retries; returns (status, headers, body) of the last attempt."""
        s = self.settings
        attempt = 0
        while True:
            wait = s.backoff * (2 ** attempt)
            try:
                status, headers, body = self._once(url, etag, last_modified, max_bytes, method)
            except _Retryable as exc:
                if attempt >= s.retries:
                    tries = f" after {attempt + 1} attempts" if attempt else ""
                    raise NetworkError(url, f"{exc}{tries}") from None
            else:
                if status not in RETRY_STATUSES:
                    return status, headers, body
                if attempt >= s.retries:
                    reason = http.client.responses.get(status, "")
                    tries = f" after {attempt + 1} attempts" if attempt else ""
                    raise FetchError(f"{url}: HTTP {status} {reason}{tries}")
                retry_after = _retry_after(headers.get("Retry-After"))
                if retry_after is not None:
                    wait = max(wait, min(retry_after, MAX_RETRY_AFTER))
            attempt += 1
            self.stats.retries += 1
            if wait > 0:
                self.sleep(wait)

    def _once(self, url: str, etag: str, last_modified: str, max_bytes: int,
              method: str = "GET") -> tuple[int, email.message.Message, bytes]:
        s = self.settings
        self._wait_turn(url)
        headers = {
            "User-Agent": s.user_agent,
            "Accept": "text/html,application/xhtml+xml,application/rss+xml,application/atom+xml,"
                      "application/xml;q=0.9,*/*;q=0.8",
            "Accept-Language": "ko,en;q=0.5",
            "Accept-Encoding": "gzip",
        }
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        request = urllib.request.Request(url, headers=headers, method=method)
        deadline = self.clock() + s.timeout
        self.stats.requests += 1
        try:
            return self._exchange(request, url, max_bytes, deadline)
        finally:
            self._last[_host(url)] = self.clock()   # failed attempts count for the delay too

    def _exchange(self, request: urllib.request.Request, url: str, max_bytes: int,
                  deadline: float) -> tuple[int, email.message.Message, bytes]:
        s = self.settings
        guard = _Guard(deadline, self.clock, urlsplit(url).hostname or "", self._connect)
        opener = urllib.request.build_opener(_NoRedirect(), _GuardedHTTPHandler(guard),
                                             _GuardedHTTPSHandler(guard))
        try:
            response = opener.open(request, timeout=s.timeout)
        except urllib.error.HTTPError as exc:   # 3xx (not followed), 304, 4xx, 5xx
            response = exc
        except urllib.error.URLError as exc:
            if isinstance(exc.reason, AddressRefused):
                raise AddressRefusedError(f"{url}: {exc.reason}") from None
            if isinstance(exc.reason, TimeoutError) or guard.expired:
                raise _Retryable(f"timed out after {s.timeout:g} s") from None
            raise _Retryable(_network_reason(exc.reason)) from None
        except AddressRefused as exc:
            raise AddressRefusedError(f"{url}: {exc}") from None
        except TimeoutError:
            raise _Retryable(f"timed out after {s.timeout:g} s") from None
        except (http.client.HTTPException, ConnectionError, OSError) as exc:
            if guard.expired:
                raise _Retryable(f"timed out after {s.timeout:g} s") from None
            raise _Retryable(_network_reason(exc)) from None
        try:
            status = response.status if hasattr(response, "status") else response.code
            hdrs = response.headers
            reads = status == 200 and request.get_method() != "HEAD"
            body = self._read(response, url, max_bytes, deadline) if reads else b""
        finally:
            response.close()
        return status, hdrs, body

    def _read(self, response, url: str, max_bytes: int, deadline: float) -> bytes:
        s = self.settings
        length = response.headers.get("Content-Length")
        if length and length.isdigit() and int(length) > max_bytes:
            raise FetchError(f"{url}: response of {int(length):,} bytes is larger than the "
                             f"limit of {max_bytes:,} bytes ([fetch] max_bytes)")
        gz = "gzip" in (response.headers.get("Content-Encoding") or "").lower()
        inflate = zlib.decompressobj(16 + zlib.MAX_WBITS) if gz else None
        chunks: list[bytes] = []
        size = 0
        while True:
            remaining = deadline - self.clock()
            if remaining <= 0:
                raise _Retryable(f"timed out after {s.timeout:g} s while downloading")
            try:
                # read1: at most one socket read, so a server that trickles bytes is caught by
                # the deadline check above instead of holding a 64 KiB read open forever.
                chunk = response.read1(_CHUNK)
            except TimeoutError:
                raise _Retryable(f"timed out after {s.timeout:g} s while downloading") from None
            except (http.client.HTTPException, ConnectionError, OSError) as exc:
                raise _Retryable(_network_reason(exc)) from None
            if not chunk:
                break
            self.stats.bytes += len(chunk)
            if inflate is not None:
                try:
                    chunk = inflate.decompress(chunk, max_bytes + 1 - size)
                except zlib.error as exc:
                    raise FetchError(f"{url}: broken gzip body: {exc}") from None
            size = _take(chunks, chunk, size, url, max_bytes)
        if inflate is not None:
            _take(chunks, inflate.flush(), size, url, max_bytes)
        return b"".join(chunks)

    def _connect(self, host: str, port: int, guard: _Guard) -> socket.socket:
        """A TCP connection to ``host`` on an address that passed :func:`check_addresses`."""
        try:
            addresses = _within(guard, self.resolve, host, port)
        except TimeoutError:
            raise
        except OSError as exc:
            raise OSError(f"cannot resolve {host}: {getattr(exc, 'strerror', None) or exc}"
                          ) from None
        allowed = check_addresses(host, addresses, self.private_hosts)
        last: OSError | None = None
        for address in allowed:
            family = socket.AF_INET6 if ":" in address else socket.AF_INET
            sock = socket.socket(family, socket.SOCK_STREAM)
            try:
                sock.settimeout(guard.left())
                sock.connect((address, port))
                return sock
            except OSError as exc:
                sock.close()
                last = exc
                if isinstance(exc, TimeoutError):
                    raise
        raise last or OSError(f"cannot resolve {host}")

    def _wait_turn(self, url: str) -> None:
        host = _host(url)
        last = self._last.get(host)
        if last is None:
            return
        delay = max(self.settings.delay, self._crawl_delay(url))
        wait = last + delay - self.clock()
        if wait > 0:
            self.sleep(wait)

    # -- robots.txt ----------------------------------------------------------------------------

    def _robots_for(self, url: str) -> urllib.robotparser.RobotFileParser | str:
        origin = _origin(url)
        if origin not in self._robots:
            self._robots[origin] = self._load_robots(origin)
        return self._robots[origin]

    def _load_robots(self, origin: str) -> urllib.robotparser.RobotFileParser | str:
        """A parser, or a string saying why the whole site is off limits."""
        parser = urllib.robotparser.RobotFileParser(origin + "/robots.txt")
        try:
            response = self._get(origin + "/robots.txt", False, ROBOTS_MAX_BYTES, False)
        except AddressRefusedError:
            raise   # said as it is, not as "robots.txt could not be read"
        except NetworkError as exc:
            # The site did not answer at all (a closed port, a wrong name, a server down): that
            # is what the operator must fix, so it comes first; robots.txt is only where it
            # showed, being the first thing asked for.
            return (f"{exc.reason} (asking for {origin}/robots.txt, which is read first; "
                    "nothing on the site was fetched)")
        except FetchError as exc:
            text = str(exc)
            m = re.search(r"HTTP (\d{3})", text)
            if m and 400 <= int(m.group(1)) < 500:
                parser.parse([])   # RFC 9309: "unavailable" — no rules apply
                return parser
            return f"robots.txt could not be read ({text}), so the site is not crawled"
        parser.parse(decode_html(response.body, response.charset).splitlines())
        return parser

    def _check_robots(self, url: str) -> None:
        robots = self._robots_for(url)
        if isinstance(robots, str):
            raise FetchError(f"{url}: {robots}")
        if not robots.can_fetch(self.settings.robots_token, url):
            raise FetchError(f"{url}: disallowed by {_origin(url)}/robots.txt for "
                             f"{self.settings.robots_token!r}")

    def _crawl_delay(self, url: str) -> float:
        robots = self._robots.get(_origin(url))
        if robots is None or isinstance(robots, str):
            return 0.0
        value = robots.crawl_delay(self.settings.robots_token)
        try:
            return min(float(value), MAX_CRAWL_DELAY) if value else 0.0
        except (TypeError, ValueError):
            return 0.0


class _Retryable(Exception):
    """A failure worth another attempt (network error, timeout)."""


def _check_scheme(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise FetchError(f"{url}: not an http(s) URL")


def host_of(url: str) -> str:
    """The host name of ``url`` as compared by the same-host rule (lower case, no port)."""
    try:
        return _norm_host(urlsplit(url).hostname or "")
    except ValueError:
        return ""


def _host(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.hostname}:{parts.port or ''}"


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _take(chunks: list[bytes], chunk: bytes, size: int, url: str, max_bytes: int) -> int:
    """Append one piece of a (decompressed) body; the body's size so far, or a FetchError once
    it passes ``max_bytes`` (a gzip bomb is stopped here too, by its inflated size)."""
    size += len(chunk)
    if size > max_bytes:
        raise FetchError(f"{url}: response is larger than the limit of {max_bytes:,} "
                         "bytes ([fetch] max_bytes)")
    chunks.append(chunk)
    return size


def _network_reason(reason: object) -> str:
    if isinstance(reason, TimeoutError):
        return "timed out"
    text = getattr(reason, "strerror", None) or str(reason) or type(reason).__name__
    return f"network error: {text}"


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        from email.utils import parsedate_to_datetime

        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return max(0.0, (when - datetime.now(UTC)).total_seconds())
