"""A small WebSub hub and subscriber on loopback, written from the W3C recommendation (2018).

Nothing on the package index is a maintained hub that runs without a broker (Flask-WebSub's hub
needs Celery), so the tests bring their own, kept to what the recommendation says a hub does:

* **subscribe** (§5.1): ``hub.mode=subscribe``, ``hub.topic``, ``hub.callback``, optional
  ``hub.secret``; answered ``202 Accepted``, then the intent is verified (§5.3) with a GET to
  the callback carrying ``hub.challenge``, which the subscriber must echo;
* **publish** (left to hubs by §7; what hubs do): ``hub.mode=publish`` naming the topic in the
  field this hub reads: ``hub.url`` (Google's hub, Superfeedr) or ``hub.topic`` (Switchboard,
  Flask-WebSub). A request without it is refused (``400``), so a publisher that sends only the
  other convention fails against this hub;
* **content distribution** (§7): the hub fetches the topic and POSTs the bytes to each
  subscriber of it, with ``Link: <hub>; rel="hub", <topic>; rel="self"`` and, with a secret,
  ``X-Hub-Signature: sha256=HMAC``.

:class:`Subscriber` is the other end: it echoes the challenge of the topics it asked for and
keeps what it is sent (after checking the signature). Everything runs on 127.0.0.1 and stops with
the ``with`` block; waits are bounded.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def _start(handler: type[BaseHTTPRequestHandler]) -> tuple[ThreadingHTTPServer, str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/"


@dataclass
class Subscription:
    topic: str
    callback: str
    secret: str = ""


class Hub:
    """``with Hub("hub.url") as hub:``; ``hub.url`` is its endpoint."""

    def __init__(self, topic_field: str = "hub.url"):
        assert topic_field in ("hub.url", "hub.topic")
        self.topic_field = topic_field
        self.subscriptions: list[Subscription] = []
        self.published: list[str] = []        # topics, as publish requests named them
        self.refused: list[str] = []          # why each refused request was refused
        self.delivered: list[tuple[str, str]] = []   # (topic, callback)
        self.lock = threading.Lock()
        self.url = ""

    def __enter__(self) -> Hub:
        hub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                form = dict(urllib.parse.parse_qsl(self.rfile.read(length).decode("ascii")))
                status, text = hub.handle(form)
                self.send_response(status)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(text)))
                self.end_headers()
                self.wfile.write(text)

        self.server, self.url = _start(Handler)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def handle(self, form: dict[str, str]) -> tuple[int, bytes]:
        mode = form.get("hub.mode")
        if mode == "subscribe":
            if not form.get("hub.topic") or not form.get("hub.callback"):
                return 400, b"hub.topic and hub.callback are required"
            sub = Subscription(form["hub.topic"], form["hub.callback"], form.get("hub.secret", ""))
            threading.Thread(target=self._verify, args=(sub,), daemon=True).start()
            return 202, b""
        if mode == "publish":
            topic = form.get(self.topic_field)
            if not topic:
                with self.lock:
                    self.refused.append(f"publish without {self.topic_field}")
                return 400, f"{self.topic_field} is required".encode()
            with self.lock:
                self.published.append(topic)
            threading.Thread(target=self._distribute, args=(topic,), daemon=True).start()
            return 204, b""
        return 400, b"unknown hub.mode"

    def _verify(self, sub: Subscription) -> None:
        challenge = secrets.token_urlsafe(16)
        query = urllib.parse.urlencode({"hub.mode": "subscribe", "hub.topic": sub.topic,
                                        "hub.challenge": challenge,
                                        "hub.lease_seconds": "864000"})
        sep = "&" if "?" in sub.callback else "?"
        try:
            with urllib.request.urlopen(sub.callback + sep + query, timeout=5) as resp:
                echoed = resp.read().decode("utf-8")
        except OSError:
            return
        if echoed == challenge:
            with self.lock:
                self.subscriptions.append(sub)

    def _distribute(self, topic: str) -> None:
        with self.lock:
            subs = [s for s in self.subscriptions if s.topic == topic]
        if not subs:
            return       # nobody to tell: the topic is not even fetched
        with urllib.request.urlopen(topic, timeout=5) as resp:
            body = resp.read()
            ctype = resp.headers.get("Content-Type", "application/octet-stream")
        for sub in subs:
            headers = {"Content-Type": ctype,
                       "Link": f'<{self.url}>; rel="hub", <{topic}>; rel="self"'}
            if sub.secret:
                digest = hmac.new(sub.secret.encode(), body, hashlib.sha256).hexdigest()
                headers["X-Hub-Signature"] = f"sha256={digest}"
            request = urllib.request.Request(sub.callback, data=body, headers=headers,
                                             method="POST")
            with urllib.request.urlopen(request, timeout=5):
                pass
            with self.lock:
                self.delivered.append((topic, sub.callback))

    def wait_subscribed(self, count: int, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while len(self.subscriptions) < count:
            assert time.monotonic() < deadline, "the subscription was not verified in time"
            time.sleep(0.02)


@dataclass
class Delivery:
    topic: str        # from the Link rel="self" header
    hub: str          # from the Link rel="hub" header
    content_type: str
    body: bytes


@dataclass
class Subscriber:
    """A subscriber's callback endpoint; ``deliveries`` is what the hubs pushed to it."""

    secret: str = field(default_factory=lambda: secrets.token_hex(16))
    wanted: set[str] = field(default_factory=set)
    deliveries: list[Delivery] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)
    url: str = ""

    def __enter__(self) -> Subscriber:
        me = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:   # intent verification (§5.3)
                q = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(self.path).query))
                ok = q.get("hub.mode") == "subscribe" and q.get("hub.topic") in me.wanted
                body = q.get("hub.challenge", "").encode() if ok else b""
                self.send_response(200 if ok else 404)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self) -> None:  # content distribution (§7, §8)
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                expected = "sha256=" + hmac.new(me.secret.encode(), body,
                                                 hashlib.sha256).hexdigest()
                if not hmac.compare_digest(self.headers.get("X-Hub-Signature", ""), expected):
                    me.rejected.append("bad signature")
                else:
                    links = dict((rel, url) for url, rel in _links(self.headers.get("Link", "")))
                    me.deliveries.append(Delivery(links.get("self", ""), links.get("hub", ""),
                                                  self.headers.get("Content-Type", ""), body))
                self.send_response(202)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server, self.url = _start(Handler)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def subscribe(self, hub: str, topic: str) -> int:
        """Ask ``hub`` for ``topic`` (§5.1); the HTTP status of the hub's answer."""
        self.wanted.add(topic)
        data = urllib.parse.urlencode({"hub.mode": "subscribe", "hub.topic": topic,
                                       "hub.callback": self.url + "callback",
                                       "hub.secret": self.secret}).encode()
        with urllib.request.urlopen(urllib.request.Request(hub, data=data), timeout=5) as r:
            return r.status

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Delivery]:
        deadline = time.monotonic() + timeout
        while len(self.deliveries) < count:
            assert time.monotonic() < deadline, \
                f"{len(self.deliveries)} of {count} deliveries arrived in time"
            time.sleep(0.02)
        return list(self.deliveries)


def _links(header: str) -> list[tuple[str, str]]:
    """``<url>; rel="x", <url2>; rel="y"`` as [(url, rel)]."""
    out = []
    for part in header.split(","):
        if ";" not in part:
            continue
        url, _, params = part.partition(";")
        rel = params.split("=", 1)[-1].strip().strip('"')
        out.append((url.strip().strip("<>"), rel))
    return out
