"""STARTTLS, implicit TLS and login against a real aiosmtpd server with a throw-away
self-signed certificate (made with the openssl CLI; skipped where it is missing). The client
verifies certificates as in production: the test trusts its certificate via $SSL_CERT_FILE,
which OpenSSL's default verify paths honour."""

from __future__ import annotations

import shutil
import socket
import ssl
import subprocess
from contextlib import contextmanager
from datetime import datetime

import pytest
from _digest_support import SEOUL, Behaviour, RecordingHandler, config_for, korean_articles
from _digest_support import store_with as make_store

from feedkit.digest.week import Week
from feedkit.errors import ConfigError, FeedkitError
from feedkit.mail.send import send_week

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs openssl")
W24 = datetime(2024, 6, 10, tzinfo=SEOUL)
NOW = datetime(2024, 6, 17, 9, 0, tzinfo=SEOUL)
WEEK = Week.parse("2024-W24", SEOUL)


@pytest.fixture(autouse=True)
def _send_secret(monkeypatch):
    monkeypatch.setenv("FEEDKIT_SECRET", "test-secret-0123456789abcdef")


@pytest.fixture(scope="module")
def cert(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tls")
    key, crt = folder / "key.pem", folder / "cert.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(crt)], check=True, capture_output=True)
    return crt, key


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class _Auth:
    def __call__(self, server, session, envelope, mechanism, auth_data):
        from aiosmtpd.smtp import AuthResult

        ok = auth_data.login == b"news" and auth_data.password == b"pa55"
        return AuthResult(success=ok, handled=False)  # handled=False: aiosmtpd replies 535


@contextmanager
def tls_server(cert, *, implicit: bool):
    from aiosmtpd.controller import Controller

    crt, key = cert
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(crt, key)
    handler = RecordingHandler(Behaviour())
    port = _free_port()
    # aiosmtpd only counts STARTTLS as TLS for auth_require_tls; under implicit TLS the
    # whole session is encrypted anyway.
    kwargs = {"authenticator": _Auth(), "auth_require_tls": not implicit}
    if implicit:
        controller = Controller(handler, hostname="127.0.0.1", port=port, ssl_context=context,
                                **kwargs)
    else:
        controller = Controller(handler, hostname="127.0.0.1", port=port, tls_context=context,
                                require_starttls=True, **kwargs)
    controller.start()
    try:
        yield handler, port
    finally:
        controller.stop()


@pytest.mark.parametrize("implicit", [False, True], ids=["starttls", "implicit"])
def test_tls_and_login(tmp_path, cert, monkeypatch, implicit):
    monkeypatch.setenv("SSL_CERT_FILE", str(cert[0]))
    monkeypatch.setenv("FEEDKIT_SMTP_PASSWORD", "pa55")
    with tls_server(cert, implicit=implicit) as (server, port):
        config = config_for(tmp_path, digest={"to": ["a@example.com", "b@example.com"]},
                            smtp={"port": port, "tls": "implicit" if implicit else "starttls",
                                  "username": "news"})
        store = make_store(tmp_path, korean_articles(3, W24))
        report = send_week(config, store, WEEK, now=NOW)
        assert report.ok and len(report.sent) == 2
        assert server.count_by_recipient() == {"a@example.com": 1, "b@example.com": 1}

        monkeypatch.setenv("FEEDKIT_SMTP_PASSWORD", "wrong")
        store.db.execute("DELETE FROM send_log")
        with pytest.raises(FeedkitError, match="login as 'news' refused"):
            send_week(config, store, WEEK, now=NOW)
        store.close()


def test_untrusted_certificate_is_refused(tmp_path, cert, monkeypatch):
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.setenv("FEEDKIT_SMTP_PASSWORD", "pa55")
    with tls_server(cert, implicit=False) as (server, port):
        config = config_for(tmp_path, digest={"to": ["a@example.com"]},
                            smtp={"port": port, "tls": "starttls", "username": "news"})
        store = make_store(tmp_path, korean_articles(3, W24))
        with pytest.raises(FeedkitError, match="TLS failed"):
            send_week(config, store, WEEK, now=NOW)
        assert server.received == []
        store.close()


@pytest.mark.parametrize("implicit", [False, True], ids=["starttls", "implicit"])
def test_ca_file_trusts_a_private_ca(tmp_path, cert, monkeypatch, implicit):
    """[smtp] ca_file: a city relay with a certificate from its own CA, trusted without
    touching the system's store (no $SSL_CERT_FILE here)."""
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.setenv("FEEDKIT_SMTP_PASSWORD", "pa55")
    with tls_server(cert, implicit=implicit) as (server, port):
        smtp = {"port": port, "tls": "implicit" if implicit else "starttls",
                "username": "news", "ca_file": str(cert[0])}
        config = config_for(tmp_path, digest={"to": ["a@example.com"]}, smtp=smtp)
        store = make_store(tmp_path, korean_articles(3, W24))
        report = send_week(config, store, WEEK, now=NOW)
        assert report.ok and server.count_by_recipient() == {"a@example.com": 1}
        store.db.execute("DELETE FROM send_log")
        # a ca_file that is not a certificate: a configuration error naming the file
        (tmp_path / "not-a-cert.pem").write_text("hello\n", encoding="utf-8")
        config = config_for(tmp_path, digest={"to": ["a@example.com"]},
                            smtp={**smtp, "ca_file": "not-a-cert.pem"})
        with pytest.raises(ConfigError, match=r"not-a-cert\.pem: \[smtp\] ca_file"):
            send_week(config, store, WEEK, now=NOW)
        store.close()
