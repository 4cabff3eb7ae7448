"""Where a fetch may connect: public addresses only, unless the operator configured the host by
a private address; checked on the resolved address at connect time (no DNS rebinding), with a
whole-request deadline on the socket.
"""

from __future__ import annotations

import contextlib
import http.client
import io
import ipaddress
import socket
import threading
import urllib.error
import urllib.request
import urllib.robotparser
from collections.abc import Callable, Collection, Iterable


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
