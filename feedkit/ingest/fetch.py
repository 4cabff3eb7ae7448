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

import codecs
import contextlib
import email.message
import http.client
import io
import ipaddress
import re
import socket
import threading
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
from feedkit.errors import FeedkitError

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
MAX_RETRY_AFTER = 120.0   # never sleep longer than this on a server's say-so
MAX_CRAWL_DELAY = 60.0
ROBOTS_MAX_BYTES = 512_000
_CHUNK = 65536


class FetchError(FeedkitError):
    """A URL could not be fetched; the message names the URL and why."""


class AddressRefusedError(FetchError):
    """The URL's host is on an address feedkit does not fetch from (see check_addresses)."""


@dataclass(frozen=True)
class FetchSettings:
    user_agent: str = f"feedkit/{__version__}"
    delay: float = 1.0
    timeout: float = 20.0
    retries: int = 3
    backoff: float = 1.0
    max_bytes: int = 5_000_000
    max_redirects: int = 5

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
            check_robots: bool = True, hosts: Collection[str] | None = None) -> Response:
        """GET ``url`` following redirects; raise :class:`FetchError` with the reason.

        ``conditional`` sends the remembered validators (and stages new ones): a 304 comes back
        as a :class:`Response` with ``status == 304`` and no body. ``hosts``: when given, every
        hop (the URL and each redirect) must be on one of these host names.
        """
        started = self.clock()
        try:
            return self._get(url, conditional, max_bytes or self.settings.max_bytes,
                             check_robots, hosts)
        finally:
            self.stats.seconds += self.clock() - started

    # -- internals -----------------------------------------------------------------------------

    def _get(self, url: str, conditional: bool, max_bytes: int, check_robots: bool,
             hosts: Collection[str] | None = None) -> Response:
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
            status, headers, body = self._attempts(current, etag, last_modified, max_bytes)
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
                raise FetchError(f"{current}: HTTP {status} {reason}".rstrip())
            if conditional and self.cache is not None:
                new_etag = headers.get("ETag", "") or ""
                new_lm = headers.get("Last-Modified", "") or ""
                if new_etag or new_lm:
                    self.cache.stage(url, new_etag, new_lm)
            return Response(url=current, status=200, body=body, headers=headers, requested=url)

    def _attempts(self, url: str, etag: str, last_modified: str,
                  max_bytes: int) -> tuple[int, email.message.Message, bytes]:
        """One request with retries; returns (status, headers, body) of the last attempt."""
        s = self.settings
        attempt = 0
        while True:
            wait = s.backoff * (2 ** attempt)
            try:
                status, headers, body = self._once(url, etag, last_modified, max_bytes)
            except _Retryable as exc:
                if attempt >= s.retries:
                    tries = f" after {attempt + 1} attempts" if attempt else ""
                    raise FetchError(f"{url}: {exc}{tries}") from None
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

    def _once(self, url: str, etag: str, last_modified: str,
              max_bytes: int) -> tuple[int, email.message.Message, bytes]:
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
        request = urllib.request.Request(url, headers=headers, method="GET")
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
            body = self._read(response, url, max_bytes, deadline) if status == 200 else b""
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
            size += len(chunk)
            if size > max_bytes:
                raise FetchError(f"{url}: response is larger than the limit of {max_bytes:,} "
                                 "bytes ([fetch] max_bytes)")
            chunks.append(chunk)
        if inflate is not None:
            tail = inflate.flush()
            size += len(tail)
            if size > max_bytes:
                raise FetchError(f"{url}: response is larger than the limit of {max_bytes:,} "
                                 "bytes ([fetch] max_bytes)")
            chunks.append(tail)
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


# ---------------------------------------------------------------------------------------------
# Where a request may go, and by when it must be done


class AddressRefused(OSError):
    """A host resolved to an address feedkit does not fetch from (not retried)."""


def _norm_host(host: str) -> str:
    return host.strip().strip("[]").lower().rstrip(".")


def _non_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if ip.version == 6 and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not ip.is_global or ip.is_multicast


def private_hosts_of(hosts: Iterable[str]) -> set[str]:
    """Of the hosts an operator wrote in the config, those allowed to be private: an address
    literal in a private, loopback or link-local range (``http://127.0.0.1:8080/``,
    ``http://10.1.2.3/``) and ``localhost``. A *name* never qualifies, even if it resolves to a
    private address today: DNS can change under a crawler (the classic way to make it fetch
    ``169.254.169.254`` and publish the answer), an address written in the config cannot."""
    out = set()
    for host in hosts:
        host = _norm_host(host)
        if host == "localhost":
            out.add(host)
            continue
        try:
            if _non_public(host):
                out.add(host)
        except ValueError:
            continue
    return out


def check_addresses(host: str, addresses: Iterable[str],
                    private_hosts: Collection[str]) -> list[str]:
    """The addresses ``host`` may be fetched from; raise :class:`AddressRefused` when any of
    them is private, loopback, link-local or otherwise not public and ``host`` is not one of
    ``private_hosts``. Any, not all: a name with one public and one internal address would
    otherwise reach the internal one whenever the public one is slow."""
    addresses = list(dict.fromkeys(addresses))
    if not addresses:
        raise OSError(f"cannot resolve {host}: no address")
    if _norm_host(host) in private_hosts:
        return addresses
    for address in addresses:
        if _non_public(address):
            raise AddressRefused(
                f"{host} is on the non-public address {address}; feedkit fetches private, "
                "loopback and link-local addresses only for a source configured by that "
                "address (e.g. url = \"http://10.0.0.5/\")")
    return addresses


def _within(guard: _Guard, fn: Callable[[str, int], list[str]], host: str,
            port: int) -> list[str]:
    """``fn(host, port)`` (a DNS lookup) bounded by the deadline too: ``getaddrinfo`` has no
    timeout of its own, and a resolver that never answers would hold the run forever. It runs
    in a daemon thread that is abandoned, not waited for, when the deadline comes first."""
    result: list = []
    error: list[BaseException] = []

    def lookup() -> None:
        try:
            result.append(fn(host, port))
        except BaseException as exc:   # handed to the caller below
            error.append(exc)

    thread = threading.Thread(target=lookup, name=f"resolve {host}", daemon=True)
    thread.start()
    thread.join(guard.left())
    if thread.is_alive():
        guard.expired = True
        raise TimeoutError(f"no DNS answer for {host} before the deadline")
    if error:
        raise error[0]
    return result[0]


def _system_resolve(host: str, port: int) -> list[str]:
    return [info[4][0] for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)]


class _Guard:
    """One request's deadline and address rule, enforced at the socket.

    ``http.client`` reads the status line and headers with ``readline``, which calls ``recv``
    as often as it takes: a per-read socket timeout alone lets a server that sends one byte a
    second hold a request open forever. So every read and write here first sets the socket's
    timeout to the time *left* until the deadline (and fails once none is left), and the
    connect plus TLS handshake run under a timer that shuts the socket down at the deadline.
    """

    def __init__(self, deadline: float, clock: Callable[[], float], target: str,
                 connect: Callable[[str, int, _Guard], socket.socket]):
        self.deadline = deadline
        self.clock = clock
        self.target = _norm_host(target)
        self._connect = connect
        self.expired = False

    def left(self) -> float:
        remaining = self.deadline - self.clock()
        if remaining <= 0:
            self.expired = True
            raise TimeoutError("deadline reached")
        return remaining

    def connect(self, host: str, port: int) -> socket.socket:
        if _norm_host(host) != self.target:
            # A proxy from the environment (http_proxy): it resolves the target itself, so the
            # address rule cannot be applied here; the operator chose that proxy.
            return socket.create_connection((host, port), self.left())
        return self._connect(host, port, self)

    def watchdog(self, sock: socket.socket) -> threading.Timer:
        def expire() -> None:
            self.expired = True
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

        timer = threading.Timer(max(self.deadline - self.clock(), 0), expire)
        timer.daemon = True
        timer.start()
        return timer


class _DeadlineReader(io.RawIOBase):
    """The socket's own reader, with the time left set as the timeout before every read."""

    def __init__(self, raw: io.RawIOBase, sock: socket.socket, guard: _Guard):
        self._raw, self._sock, self._guard = raw, sock, guard

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int | None:  # type: ignore[override]
        self._sock.settimeout(self._guard.left())
        try:
            return self._raw.readinto(buffer)
        except TimeoutError:
            self._guard.expired = True
            raise

    def close(self) -> None:
        if not self.closed:
            self._raw.close()   # releases the socket's reference count, as SocketIO does
        super().close()


class _DeadlineSocket:
    """Wraps a connected socket for ``http.client``: every read and write is bounded by what is
    left of the deadline. Anything else is passed through."""

    def __init__(self, sock: socket.socket, guard: _Guard):
        self._sock, self._guard = sock, guard

    def makefile(self, mode: str = "r", *args, **kwargs):
        raw = self._sock.makefile("rb", buffering=0)
        return io.BufferedReader(_DeadlineReader(raw, self._sock, self._guard))

    def sendall(self, data) -> None:
        self._sock.settimeout(self._guard.left())
        self._sock.sendall(data)

    def __getattr__(self, name: str):
        return getattr(self._sock, name)


def _guarded(base: type[http.client.HTTPConnection]) -> type[http.client.HTTPConnection]:
    class Guarded(base):  # type: ignore[valid-type, misc]
        def __init__(self, *args, guard: _Guard, **kwargs):
            super().__init__(*args, **kwargs)
            self._guard = guard
            self._timer: threading.Timer | None = None
            self._create_connection = self._guarded_create

        def _guarded_create(self, address, timeout=None, source_address=None):
            sock = self._guard.connect(*address)
            self._timer = self._guard.watchdog(sock)
            return sock

        def connect(self) -> None:
            try:
                super().connect()   # TCP, then (https) the TLS handshake, under the watchdog
            except OSError:
                if self._guard.expired:
                    raise TimeoutError("deadline reached") from None
                raise
            finally:
                if self._timer is not None:
                    self._timer.cancel()
            if self._guard.expired:
                raise TimeoutError("deadline reached")
            self.sock = _DeadlineSocket(self.sock, self._guard)

    Guarded.__name__ = f"Guarded{base.__name__}"
    return Guarded


_GuardedHTTP = _guarded(http.client.HTTPConnection)
_GuardedHTTPS = _guarded(http.client.HTTPSConnection)


class _GuardedHTTPHandler(urllib.request.HTTPHandler):
    def __init__(self, guard: _Guard):
        super().__init__()
        self._guard = guard

    def http_open(self, req):
        return self.do_open(lambda *a, **kw: _GuardedHTTP(*a, guard=self._guard, **kw), req)


class _GuardedHTTPSHandler(urllib.request.HTTPSHandler):
    def __init__(self, guard: _Guard):
        super().__init__()
        self._guard = guard

    def https_open(self, req):
        return self.do_open(lambda *a, **kw: _GuardedHTTPS(*a, guard=self._guard, **kw), req,
                            context=self._context)


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


# ---------------------------------------------------------------------------------------------
# Character sets

# Labels a Korean site may send, mapped to the codec that decodes what such sites really serve:
# "EUC-KR" pages routinely contain CP949-only syllables (똠, 햏), so every EUC-KR label is read as
# CP949, which is a superset.
_ALIASES = {
    "euc-kr": "cp949", "euckr": "cp949", "euc_kr": "cp949", "ks_c_5601-1987": "cp949",
    "ks_c_5601": "cp949", "ksc5601": "cp949", "ksc_5601": "cp949", "korean": "cp949",
    "x-windows-949": "cp949", "windows-949": "cp949", "ms949": "cp949", "uhc": "cp949",
    "iso-2022-kr": "iso2022_kr", "utf8": "utf-8",
}
# Defaults some servers add when nobody configured a charset: too weak to trust over the page.
_WEAK = {"iso-8859-1", "latin-1", "latin1", "us-ascii", "ascii", "windows-1252", "cp1252"}
_META = re.compile(
    rb"""<meta[^>]+?charset\s*=\s*["']?\s*([A-Za-z0-9_:.-]+)""", re.I)
_XML_DECL = re.compile(rb"""^\s*<\?xml[^>]+encoding\s*=\s*["']([A-Za-z0-9_.-]+)["']""")


def _codec(label: str) -> str | None:
    label = label.strip().strip("\"'").lower()
    if not label:
        return None
    label = _ALIASES.get(label, label)
    try:
        return codecs.lookup(label).name
    except LookupError:
        return None


def sniff_meta_charset(data: bytes) -> str:
    """The charset a page declares in ``<meta charset>`` / ``http-equiv`` or its XML prolog."""
    head = data[:16384]
    m = _XML_DECL.match(head) or _META.search(head)
    return m.group(1).decode("ascii", "replace").lower() if m else ""


def detect_encoding(data: bytes, http_charset: str = "", override: str = "") -> str:
    """The codec to read ``data`` with: override, then HTTP charset, then ``<meta charset>``,
    then detection (UTF-8 if it decodes, else CP949 if it decodes, else charset-normalizer).

    A declared charset that cannot decode the bytes is ignored rather than trusted into
    mojibake, and a "weak" HTTP default (ISO-8859-1) loses to the page's own declaration.
    """
    if override:
        codec = _codec(override)
        if codec:
            return codec
    if data.startswith(codecs.BOM_UTF8):
        return "utf-8"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    candidates: list[str] = []
    declared_http = _codec(http_charset) if http_charset else None
    declared_meta = _codec(sniff_meta_charset(data))
    if declared_http and http_charset.lower() not in _WEAK:
        candidates.append(declared_http)
    if declared_meta:
        candidates.append(declared_meta)
    if declared_http and http_charset.lower() in _WEAK:
        candidates.append(declared_http)
    for codec in candidates:
        if codec in ("latin_1", "iso8859-1", "ascii", "cp1252") and _looks_korean(data):
            continue  # a Western single-byte label on a page full of Korean bytes is wrong
        if _decodes(data, codec):
            return codec
    for codec in ("utf-8", "cp949"):
        if _decodes(data, codec):
            return codec
    from charset_normalizer import from_bytes

    best = from_bytes(data[:200_000]).best()
    if best is not None and best.encoding:
        return _codec(best.encoding) or "utf-8"
    return "utf-8"


def _decodes(data: bytes, codec: str) -> bool:
    try:
        data.decode(codec)
    except (UnicodeDecodeError, LookupError):
        return False
    return True


def _looks_korean(data: bytes) -> bool:
    """Many byte pairs in the EUC-KR Hangul range, or valid UTF-8 Hangul."""
    if _decodes(data, "utf-8"):
        return bool(re.search("[\uac00-\ud7a3]", data.decode("utf-8")))
    return len(re.findall(rb"[\xb0-\xc8][\xa1-\xfe]", data[:65536])) >= 4


def decode_html(data: bytes, http_charset: str = "", override: str = "") -> str:
    """Bytes of a page → text, with the codec :func:`detect_encoding` picks."""
    codec = detect_encoding(data, http_charset, override)
    text = data.decode(codec, errors="replace")
    return text[1:] if text.startswith("\ufeff") else text
