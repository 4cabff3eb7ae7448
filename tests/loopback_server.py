"""A real HTTP server on 127.0.0.1 for the ingest tests and the benchmark.

Routes are exact paths (with query string). A route is either fixed bytes (optionally with an
ETag / Last-Modified that the server honours with a real 304) or a function that gets the request
handler and returns (status, headers, body). Every request is logged with its headers, so tests
assert what feedkit actually sent.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

Reply = tuple[int, dict[str, str], bytes]


def real_world_dir() -> Path | None:
    """``../shared/real-world`` beside the repo (or $FEEDKIT_REAL_WORLD), None when absent."""
    env = os.environ.get("FEEDKIT_REAL_WORLD")
    path = Path(env) if env else Path(__file__).resolve().parents[2] / "shared" / "real-world"
    return path if path.is_dir() else None


@dataclass
class Route:
    body: bytes = b""
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    etag: str = ""
    last_modified: str = ""
    fn: Callable[[BaseHTTPRequestHandler], Reply | None] | None = None


@dataclass
class Hit:
    path: str
    headers: dict[str, str]
    time: float


class Site:
    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.log: list[Hit] = []
        self.port = 0
        self.release = threading.Event()   # set on shutdown: frees handlers that "hang"

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str) -> str:
        return self.base + path

    def page(self, path: str, body: bytes | str, *, content_type: str = "text/html; charset=utf-8",
             status: int = 200, etag: str = "", last_modified: str = "",
             headers: dict[str, str] | None = None) -> None:
        data = body.encode("utf-8") if isinstance(body, str) else body
        hdrs = {"Content-Type": content_type} if content_type else {}
        hdrs.update(headers or {})
        self.routes[path] = Route(body=data, status=status, headers=hdrs, etag=etag,
                                  last_modified=last_modified)

    def handler(self, path: str,
                fn: Callable[[BaseHTTPRequestHandler], Reply | None]) -> None:
        self.routes[path] = Route(fn=fn)

    def hits(self, path: str) -> list[Hit]:
        return [h for h in self.log if h.path == path]

    def paths(self) -> list[str]:
        return [h.path for h in self.log]


def _make_handler(site: Site) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"

        def log_message(self, *args: object) -> None:  # keep test output clean
            pass

        def do_GET(self) -> None:
            site.log.append(Hit(self.path, {k.lower(): v for k, v in self.headers.items()},
                                time.monotonic()))
            route = site.routes.get(self.path)
            if route is None:
                status, headers, body = 404, {"Content-Type": "text/plain"}, b"not found"
            elif route.fn is not None:
                reply = route.fn(self)
                if reply is None:   # the function wrote its own response
                    return
                status, headers, body = reply
            else:
                status, headers, body = route.status, dict(route.headers), route.body
                if route.etag:
                    headers["ETag"] = route.etag
                if route.last_modified:
                    headers["Last-Modified"] = route.last_modified
                inm = self.headers.get("If-None-Match")
                ims = self.headers.get("If-Modified-Since")
                if (route.etag and inm == route.etag) or (
                        route.last_modified and not inm and ims == route.last_modified):
                    status, body = 304, b""
            try:
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                if "Content-Length" not in headers and status != 304:
                    self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if body and status != 304:
                    self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass

    return Handler


class serve:
    """``with serve(site) as site:`` — a threaded server on a free loopback port."""

    def __init__(self, site: Site):
        self.site = site
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _make_handler(site))
        self.server.daemon_threads = True
        self.server.block_on_close = False
        site.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.02,),
                                       daemon=True)

    def __enter__(self) -> Site:
        self.thread.start()
        return self.site

    def __exit__(self, *exc: object) -> None:
        self.site.release.set()
        self.server.shutdown()
        self.server.server_close()
