"""Hostile servers and links (issue 14): a deadline that holds whatever phase a server drips,
and no fetching of other hosts or of private addresses a configured source did not name.

Every server here is real and on loopback: a thread that writes one byte a second, a listening
socket whose accept queue is full, a second server on 127.0.0.2.
"""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

import pytest
from loopback_server import Site, serve

from feedkit.ingest.fetch import Fetcher, FetchError, FetchSettings
from feedkit.ingest.netguard import AddressRefused, check_addresses, private_hosts_of

TIMEOUT = 2.0
SLACK = 1.0   # what "ends by the deadline" may overshoot by: scheduling, not another drip


def fetcher(**changes) -> Fetcher:
    settings = FetchSettings(**{**dict(user_agent="feedkit/test", delay=0, timeout=TIMEOUT,
                                       retries=0, backoff=0, max_bytes=100_000), **changes})
    return Fetcher(settings, private_hosts={"127.0.0.1"})


@pytest.fixture
def site():
    s = Site()
    with serve(s):
        yield s


def _drip(handler, site: Site, head: bytes, slow: bytes) -> None:
    """Send ``head`` at once, then ``slow`` one byte a second until the test is over."""
    try:
        handler.wfile.write(head)
        for byte in slow:
            if site.release.wait(1.0):
                return
            handler.wfile.write(bytes([byte]))
    except OSError:
        pass   # the client gave up, as it should


PHASES = {
    "status line": (b"", b"HTTP/1.0 200 OK\r\n" + b"X" * 100),
    "headers": (b"HTTP/1.0 200 OK\r\n", b"Content-Type: text/html\r\nX-Slow: " + b"a" * 100),
    "body": (b"HTTP/1.0 200 OK\r\nContent-Type: text/html\r\nContent-Length: 200\r\n\r\n",
             b"b" * 200),
}


@pytest.mark.parametrize("phase", PHASES)
def test_a_server_dripping_any_phase_is_cut_at_the_deadline(site, phase):
    head, slow = PHASES[phase]
    site.handler("/drip", lambda h: _drip(h, site, head, slow))
    started = time.monotonic()
    with pytest.raises(FetchError, match=r"/drip: timed out after 2 s"):
        fetcher().get(site.url("/drip"))
    elapsed = time.monotonic() - started
    assert TIMEOUT - 0.1 <= elapsed < TIMEOUT + SLACK, f"{phase}: took {elapsed:.2f} s"
    assert len(site.hits("/drip")) == 1


def test_connect_that_never_completes_is_cut_at_the_deadline():
    # A listening socket with a full accept queue: the kernel drops further SYNs, so connect()
    # hangs just as it does towards a host that silently drops packets.
    with socket.socket() as listener, socket.socket() as filler:
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        port = listener.getsockname()[1]
        filler.connect(("127.0.0.1", port))
        started = time.monotonic()
        with pytest.raises(FetchError, match=r"timed out after 2 s"):
            fetcher().get(f"http://127.0.0.1:{port}/x", check_robots=False)
        elapsed = time.monotonic() - started
    assert TIMEOUT - 0.1 <= elapsed < TIMEOUT + SLACK


def test_tls_handshake_to_a_silent_server_is_cut_at_the_deadline():
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(5)
        port = listener.getsockname()[1]
        accepted: list[socket.socket] = []
        thread = threading.Thread(target=lambda: accepted.append(listener.accept()[0]),
                                  daemon=True)
        thread.start()
        started = time.monotonic()
        with pytest.raises(FetchError, match=r"timed out after 2 s"):
            fetcher().get(f"https://127.0.0.1:{port}/x", check_robots=False)
        elapsed = time.monotonic() - started
        for conn in accepted:
            conn.close()
    assert TIMEOUT - 0.1 <= elapsed < TIMEOUT + SLACK


def test_update_with_a_dripping_source_ends_by_the_deadline(site, tmp_path):
    """The issue's reproduction: `feedkit update` with `timeout` against a source that drips its
    headers; the command (robots.txt, the page, build) ends about when the deadline says."""
    from click.testing import CliRunner

    from feedkit.cli import cli

    head, slow = PHASES["headers"]
    site.handler("/news", lambda h: _drip(h, site, head, slow))
    config = tmp_path / "config.toml"
    config.write_text(
        '[site]\ntitle = "t"\nurl = "https://city.example/"\nfeed_url = "https://f.example/"\n'
        f'[fetch]\ntimeout = {TIMEOUT}\nretries = 0\ndelay = 0\n'
        f'[[sources]]\nkind = "feed"\nurl = "{site.url("/news")}"\n', encoding="utf-8")
    started = time.monotonic()
    result = CliRunner().invoke(cli, ["--config", str(config), "update", "--no-build"])
    elapsed = time.monotonic() - started
    assert result.exit_code != 0
    assert "timed out after 2 s" in result.output
    assert elapsed < TIMEOUT + SLACK + 1.0, f"update took {elapsed:.2f} s"


# ---------------------------------------------------------------------------------------------
# Addresses


def test_private_hosts_are_only_addresses_written_in_the_config():
    assert private_hosts_of(["127.0.0.1", "10.0.0.5", "[::1]", "localhost", "LocalHost",
                             "www.brcn.go.kr", "93.184.216.34", "169.254.169.254"]) == \
        {"127.0.0.1", "10.0.0.5", "::1", "localhost", "169.254.169.254"}


@pytest.mark.parametrize("address", ["127.0.0.1", "10.1.2.3", "172.16.0.9", "192.168.1.1",
                                     "169.254.169.254", "::1", "fe80::1", "fd00::5",
                                     "::ffff:127.0.0.1", "0.0.0.0", "100.64.0.1"])
def test_a_name_on_a_non_public_address_is_refused(address):
    with pytest.raises(AddressRefused, match=rf"news\.example\.org is on the non-public "
                                             rf"address {address}"):
        check_addresses("news.example.org", [address], set())


def test_one_private_address_among_public_ones_is_refused():
    with pytest.raises(AddressRefused, match=r"10\.0\.0\.1"):
        check_addresses("news.example.org", ["93.184.216.34", "10.0.0.1"], set())


def test_public_addresses_and_configured_private_hosts_pass():
    assert check_addresses("news.example.org", ["93.184.216.34", "2606:2800:220:1::1"],
                           set()) == ["93.184.216.34", "2606:2800:220:1::1"]
    assert check_addresses("127.0.0.1", ["127.0.0.1"], {"127.0.0.1"}) == ["127.0.0.1"]


def test_a_public_name_resolving_to_loopback_is_never_connected_to(site):
    """A name the config does not give by address, whose DNS answer is private (here a resolver
    that answers 127.0.0.1, where a real server listens): refused before any byte is sent."""
    site.page("/secret", "internal")
    resolved: list[str] = []

    def resolve(host: str, port: int) -> list[str]:
        resolved.append(host)
        return ["127.0.0.1"]

    f = Fetcher(FetchSettings(delay=0, retries=2, timeout=TIMEOUT), resolve=resolve)
    with pytest.raises(FetchError, match=r"news\.example\.org is on the non-public address "
                                         r"127\.0\.0\.1"):
        f.get(f"http://news.example.org:{site.port}/secret", check_robots=False)
    assert resolved == ["news.example.org"]          # refused at once, not retried
    assert site.log == []
    # The same fetch with that name configured by the operator as private reaches the server:
    # the refusal above was the address rule, nothing else.
    f = Fetcher(FetchSettings(delay=0, retries=0, timeout=TIMEOUT), resolve=resolve,
                private_hosts={"news.example.org"})
    assert f.get(f"http://news.example.org:{site.port}/secret",
                 check_robots=False).body == b"internal"
    assert site.hits("/secret")[0].headers["host"] == f"news.example.org:{site.port}"


def test_a_source_on_a_name_resolving_to_a_private_address_says_so(site):
    """With robots.txt checked first (as update does), the refusal is still the first thing
    said, not "robots.txt could not be read"."""
    f = Fetcher(FetchSettings(delay=0, retries=0, timeout=TIMEOUT),
                resolve=lambda host, port: ["10.0.0.5"])
    with pytest.raises(FetchError, match=r"^http://intranet\.example\.org/robots\.txt: "
                                         r"intranet\.example\.org is on the non-public address "
                                         r"10\.0\.0\.5; feedkit fetches private"):
        f.get("http://intranet.example.org/board")


def test_redirect_to_a_private_address_is_refused(site):
    """A configured public source (its name resolved by a fake resolver to the real loopback
    server, allowed like an operator's own address) redirecting to link-local metadata."""
    site.page("/go", "", status=302, headers={"Location": "http://169.254.169.254/latest/"})
    f = Fetcher(FetchSettings(delay=0, retries=0, timeout=TIMEOUT),
                resolve=lambda host, port: ["127.0.0.1"] if host == "127.0.0.1" else [host],
                private_hosts={"127.0.0.1"})
    with pytest.raises(FetchError, match=r"169\.254\.169\.254 is on the non-public address"):
        f.get(site.url("/go"), check_robots=False)


# ---------------------------------------------------------------------------------------------
# Hosts: an html source fetches only on its own host


def _loopback2_available() -> bool:
    try:
        with socket.socket() as s:
            s.bind(("127.0.0.2", 0))
        return True
    except OSError:
        return False


def _config(tmp_path: Path, source: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(
        '[site]\ntitle = "t"\nurl = "https://city.example/"\nfeed_url = "https://f.example/"\n'
        '[fetch]\ndelay = 0\nretries = 0\ntimeout = 5\n' + source, encoding="utf-8")
    return path


@pytest.mark.skipif(not _loopback2_available(), reason="cannot bind 127.0.0.2 here")
def test_links_to_another_host_are_not_fetched_nor_published(site, tmp_path):
    """The issue's reproduction: a list page on 127.0.0.1 linking to a page on 127.0.0.2."""
    import sqlite3
    from http.server import ThreadingHTTPServer

    from loopback_server import _make_handler

    other = Site()
    other.page("/secret.html", "<h1>비밀</h1><div class='body'>INTERNAL-SECRET</div>")
    server = ThreadingHTTPServer(("127.0.0.2", 0), _make_handler(other))
    threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True).start()
    secret = f"http://127.0.0.2:{server.server_address[1]}/secret.html"
    try:
        site.page("/list", f"""<ul>
          <li><a href="/view?id=1">우리 글</a><span>2025.12.01</span></li>
          <li><a href="{secret}">남의 글</a><span>2025.12.02</span></li>
          </ul><a class="next" href="{secret}?page=2">다음</a>""")
        site.page("/view?id=1", "<h1>우리 글</h1><div class='body'>본문</div>")
        config = _config(tmp_path, f'''[[sources]]
kind = "html"
url = "{site.url('/list')}"
next_page = "a.next"
detail = {{ body = "div.body" }}
[sources.selectors]
item = "li"
title = "a"
date = "span"
''')
        from click.testing import CliRunner

        from feedkit.cli import cli

        result = CliRunner().invoke(cli, ["--config", str(config), "update"])
        assert other.log == []                        # nothing ever reached 127.0.0.2
        assert f"detail page {secret} not fetched: it is not on the source's host" \
            in result.output
        assert f"next page {secret}?page=2 not fetched" in result.output
        db = sqlite3.connect(tmp_path / "articles.db")
        rows = dict(db.execute("SELECT title, content_html FROM articles"))
        assert set(rows) == {"우리 글", "남의 글"}      # the foreign row keeps its list fields
        assert "본문" in rows["우리 글"] and rows["남의 글"] == ""
        published = "".join(p.read_text(encoding="utf-8", errors="replace")
                            for p in (tmp_path / "public").rglob("*") if p.is_file())
        assert "INTERNAL-SECRET" not in published
    finally:
        server.shutdown()
        server.server_close()


def test_allow_hosts_lets_detail_pages_on_a_listed_host_be_read(site, tmp_path):
    """`localhost` is the same server under another name: refused by default, read once listed."""
    import sqlite3

    from click.testing import CliRunner

    from feedkit.cli import cli

    site.page("/list", f"""<ul><li><a href="http://localhost:{site.port}/view?id=1">글</a>
        <span>2025.12.01</span></li></ul>""")
    site.page("/view?id=1", "<div class='body'>상세 본문</div>")
    source = f'''[[sources]]
kind = "html"
url = "{site.url('/list')}"
detail = {{ body = "div.body" }}
ALLOW
[sources.selectors]
item = "li"
title = "a"
date = "span"
'''
    config = _config(tmp_path, source.replace("ALLOW", ""))
    CliRunner().invoke(cli, ["--config", str(config), "update", "--no-build"])
    assert site.hits("/view?id=1") == []
    (tmp_path / "articles.db").unlink()
    config = _config(tmp_path, source.replace("ALLOW", 'allow_hosts = ["localhost"]'))
    result = CliRunner().invoke(cli, ["--config", str(config), "update", "--no-build"])
    assert result.exit_code == 0, result.output
    assert len(site.hits("/view?id=1")) == 1
    body = sqlite3.connect(tmp_path / "articles.db").execute(
        "SELECT content_html FROM articles").fetchone()[0]
    assert "상세 본문" in body


@pytest.mark.skipif(__import__("shutil").which("openssl") is None, reason="needs openssl")
def test_https_through_the_guarded_connection_still_verifies_certificates(tmp_path, monkeypatch):
    """The deadline and address rules sit under TLS, not instead of it: an untrusted
    certificate is refused, a trusted one (via $SSL_CERT_FILE) is read."""
    import ssl
    import subprocess
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    key, crt = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-keyout", str(key), "-out", str(crt), "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True)

    class Hello(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Length", "5")
            self.end_headers()
            self.wfile.write(b"hello")

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Hello)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(crt, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"https://127.0.0.1:{server.server_address[1]}/x"
    try:
        with pytest.raises(FetchError, match="CERTIFICATE_VERIFY_FAILED"):
            fetcher().get(url, check_robots=False)
        monkeypatch.setenv("SSL_CERT_FILE", str(crt))
        assert fetcher().get(url, check_robots=False).body == b"hello"
    finally:
        server.shutdown()
        server.server_close()


def test_a_resolver_that_never_answers_is_cut_at_the_deadline():
    """getaddrinfo has no timeout; a stuck DNS lookup must not outlast the request's deadline.
    (The resolver is the injectable one, sleeping as a dead DNS server makes getaddrinfo do.)"""
    stop = threading.Event()

    def stuck(host: str, port: int) -> list[str]:
        stop.wait(30)
        return ["127.0.0.1"]

    f = Fetcher(FetchSettings(delay=0, retries=0, timeout=TIMEOUT), resolve=stuck,
                private_hosts={"news.example.org"})
    started = time.monotonic()
    try:
        with pytest.raises(FetchError, match=r"news\.example\.org/x: timed out after 2 s"):
            f.get("http://news.example.org/x", check_robots=False)
    finally:
        stop.set()
    assert TIMEOUT - 0.1 <= time.monotonic() - started < TIMEOUT + SLACK
