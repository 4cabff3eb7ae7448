"""Test sends are never taken for duplicates (issue 27, item 2).

Mail systems that de-duplicate by Message-ID (Gmail does) drop a message whose ID they have
seen. So two test sends to the same address, and a test send followed by the real send, must
carry Message-IDs that differ from each other and from anything derived only from the address
and the week: the ID a rendered ``.eml`` of that week for that address carries (``digest render
--eml``, made from nothing else), and the real send's (fixed per week and reader, so that a
re-sent copy *is* dropped). Both audiences: the list, and subscribers with their own editions.

Through the CLI against a real aiosmtpd server on 127.0.0.1; the real send on both backends.
"""

from __future__ import annotations

import re
from email import message_from_bytes

import pytest
from _digest_support import smtp_server
from test_digest_proof import NOW, WEEK, digest_site

KIM = "kim@example.com"


@pytest.fixture(autouse=True)
def _secrets(monkeypatch):
    monkeypatch.setenv("FEEDKIT_SECRET", "proof-ids-secret-0123456789")
    monkeypatch.setenv("FEEDKIT_UNSUBSCRIBE_SECRET", "unsubscribe-secret-0123456789")


def _test_send(site, smtp) -> str:
    before = len(smtp.received)
    result = site.run("digest", "send", "--to", KIM, "--week", WEEK, "--now", NOW)
    assert "test sent to" in result.output, result.output
    (got,) = smtp.received[before:]
    assert got.rcpt == [KIM]
    return got.message["Message-ID"]


def _rendered_id(site, tmp_path) -> str:
    """The Message-ID of the week's .eml rendered for KIM: made from the address and the
    week only (no secret, no send log)."""
    eml = tmp_path / "kim.eml"
    site.run("digest", "render", "--week", WEEK, "--eml", str(eml), "--to", KIM)
    return message_from_bytes(eml.read_bytes())["Message-ID"]


def _ids_differ(test_ids: list[str], rendered: str, planned: str, real: str) -> None:
    assert len(set(test_ids)) == len(test_ids), test_ids            # each test its own ID
    assert rendered not in test_ids
    assert planned == real                                          # the real one is fixed
    assert real not in test_ids
    for mid in [*test_ids, real]:
        assert re.fullmatch(r"<[^<>@\s]+@[^<>@\s]+>", mid), mid     # still a valid msg-id


def test_list_mode_test_sends_have_ids_of_their_own(tmp_path, backend):
    with smtp_server() as (smtp, port):
        site = digest_site(tmp_path / "site", port, backend=backend)
        tests = [_test_send(site, smtp), _test_send(site, smtp)]
        dry = site.run("-v", "digest", "send", "--week", WEEK, "--now", NOW, "--dry-run")
        [planned] = re.findall(rf"would send to {re.escape(KIM)} \((<[^)]+>)\)", dry.output)
        site.run("digest", "send", "--week", WEEK, "--now", NOW)
        [real] = [m.message["Message-ID"] for m in smtp.received[2:] if m.rcpt == [KIM]]
        tests.append(_test_send(site, smtp))   # a test after the real send, too
    _ids_differ(tests, _rendered_id(site, tmp_path), planned, real)


def test_subscriber_mode_test_sends_have_ids_of_their_own(tmp_path):
    with smtp_server() as (smtp, port):
        site = digest_site(tmp_path / "site", port, extra='audience = "subscribers"\n')
        for address in (KIM, "lee@example.org"):
            site.run("subscribers", "add", address)
        tests = [_test_send(site, smtp), _test_send(site, smtp)]
        dry = site.run("-v", "digest", "send", "--week", WEEK, "--now", NOW, "--dry-run")
        [planned] = re.findall(rf"would send to {re.escape(KIM)} \((<[^)]+>)\)", dry.output)
        site.run("digest", "send", "--week", WEEK, "--now", NOW)
        [real] = [m.message["Message-ID"] for m in smtp.received[2:] if m.rcpt == [KIM]]
        tests.append(_test_send(site, smtp))
    _ids_differ(tests, _rendered_id(site, tmp_path), planned, real)
