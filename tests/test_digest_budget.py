"""The email's size budget, measured as a recipient's mail client gets it.

Gmail clips an HTML part over 102 KB mid-layout. ``[digest] max_html_bytes`` must hold for the
part *as sent*: after line ends become CRLF on the wire, and with each recipient's own
unsubscribe link (HTML-escaped: ``&`` is ``&amp;``) in place of the placeholder. The messages
here go through the real send path to a real SMTP server, and their size is read back with the
standard library's parser from the bytes the server received.
"""

from __future__ import annotations

import os
from datetime import datetime
from email import message_from_bytes
from email.policy import default as default_policy
from pathlib import Path
from unittest.mock import patch

import pytest
from _digest_support import (
    SEOUL,
    SITE_AND_SENDER_TOML,
    config_for,
    korean_articles,
    smtp_server,
    store_with,
)

from feedkit.digest.week import Week
from feedkit.mail.send import send_week

W24 = datetime(2024, 6, 10, tzinfo=SEOUL)
SHORT = "a@example.com"
# a long address, with a character the link must percent-encode
LONG = "someone.with.a.rather.long.name+weekly-digest@mail.subdomain.example.com"
# personal, with `&` (escaped to `&amp;` in the HTML) and the address in it
PERSONAL = "https://news.example.org/unsubscribe?list=weekly&who={email}&sig={token}"


def _html_parts_received(handler) -> dict[str, bytes]:
    """recipient -> the HTML part as a mail client decodes it from the received bytes."""
    out = {}
    for r in handler.received:
        msg = message_from_bytes(r.data, policy=default_policy)
        out[r.rcpt[0]] = msg.get_body(("html",)).get_payload(decode=True)
    return out


def _send(folder, **digest) -> tuple[object, dict[str, bytes]]:
    """Send W24 from a fresh store (its send log has not sent it yet) to a real SMTP server;
    the report and the HTML parts the server received."""
    folder.mkdir()
    week = Week.parse("2024-W24", SEOUL)
    with smtp_server() as (handler, port):
        config = config_for(folder, smtp={"host": "127.0.0.1", "port": port, "tls": "none"},
                            digest={"to": [SHORT, LONG], "unsubscribe": [PERSONAL],
                                    "summary_chars": 0, **digest})
        # the send log needs its key ($FEEDKIT_SECRET, a CI secret in real use)
        with store_with(folder, korean_articles(30, W24)) as store, patch.dict(
                os.environ, {"FEEDKIT_SECRET": "budget-test-secret-0123456789"}):
            report = send_week(config, store, week, now=week.end)
        assert sorted(report.sent) == sorted([SHORT, LONG]), report
        return report, _html_parts_received(handler)


def test_the_budget_holds_to_the_byte_for_the_longest_personal_link(tmp_path, monkeypatch):
    """Four sections, one article each (``max_items = 1``, no budget to speak of), give the
    size S of the long recipient's HTML part as received. With ``max_html_bytes = S`` the same
    four articles fit exactly; with ``S - 1`` they must not: three are shown and every part is
    within the budget.

    The long recipient's link is 72 bytes longer than the placeholder and the part has about
    90 lines (each one byte longer as CRLF): ignoring the reserve for personal links, measuring
    before CRLF, or allowing any slack over the budget sends S bytes against S - 1."""
    monkeypatch.setenv("FEEDKIT_UNSUBSCRIBE_SECRET", "s3cret")
    report, parts = _send(tmp_path / "one-each", max_items=1)
    assert report.shown == 4
    size = len(parts[LONG])
    assert len(parts[SHORT]) < size  # the long link makes the long recipient's part larger
    # the long link is really in it, escaped as HTML
    assert b"someone.with.a.rather.long.name%2Bweekly-digest" in parts[LONG]
    assert b"&amp;who=" in parts[LONG]

    report, exact = _send(tmp_path / "exact", max_html_bytes=size)
    assert report.shown == 4
    assert exact[LONG] == parts[LONG]  # the same four articles, to the byte

    # one byte less: with the whole week offered, and with just those four offered
    for name, cap in (("one-less", 0), ("one-less-of-four", 1)):
        report, tight = _send(tmp_path / name, max_html_bytes=size - 1, max_items=cap)
        assert report.shown == 3
        for rcpt, html in tight.items():
            assert len(html) <= size - 1, (name, rcpt, len(html))


def test_budget_counts_crlf_line_ends(tmp_path):
    """The same rendering measured as sent is larger than as rendered by exactly its line count
    (every LF becomes CRLF, plus the final line end), read back from the wire with the standard
    library's parser."""
    from feedkit.digest.compose import make_digest
    from feedkit.digest.render import DigestRenderer
    from feedkit.mail.message import build_message, issue_time, message_bytes

    config = config_for(tmp_path)
    week = Week.parse("2024-W24", SEOUL)
    digest = make_digest(config, week, korean_articles(10, W24))
    body = DigestRenderer(config).email(digest)
    msg = build_message(config, digest, body, "s", SHORT, issue_time(week))
    received = message_from_bytes(message_bytes(msg), policy=default_policy)
    wire = received.get_body(("html",)).get_payload(decode=True)
    html = body.personal("https://news.example.org/unsubscribe")[0].encode("utf-8")
    assert wire == html.replace(b"\n", b"\r\n") + b"\r\n"
    assert len(wire) - len(html) == html.count(b"\n") + 2 > 50


@pytest.mark.parametrize("budget", [12_000, 50_000])
def test_render_cli_reports_and_respects_the_size_as_sent(tmp_path, budget):
    """`digest render --eml` for a recipient with a long personal link fits the budget too."""
    from click.testing import CliRunner

    from feedkit.cli import cli

    store_with(tmp_path, korean_articles(120, W24)).close()
    (tmp_path / "config.toml").write_text(SITE_AND_SENDER_TOML + f"""to = ["{SHORT}"]
unsubscribe = ["https://news.example.org/unsubscribe?list=weekly&who={{email}}"]
max_html_bytes = {budget}
""", encoding="utf-8")
    eml = tmp_path / "out.eml"
    result = CliRunner().invoke(cli, ["--config", str(tmp_path / "config.toml"), "digest",
                                       "render", "--week", "2024-W24", "--eml", str(eml),
                                       "--to", LONG])
    assert result.exit_code == 0, result.output
    msg = message_from_bytes(eml.read_bytes(), policy=default_policy)
    html = msg.get_body(("html",)).get_payload(decode=True)
    assert LONG.split("+")[0].encode() in html
    assert len(html) <= budget
    assert budget - len(html) < 3_000  # capped to fit, not emptied


def test_a_template_showing_the_link_twice_keeps_room_for_both(tmp_path, monkeypatch):
    """A city's own template with the unsubscribe link at the top as well as in the footer:
    each recipient's long link is in the part twice, so the budget keeps room twice. Measured
    as above: the size S of the long recipient's part with four articles; at S - 1 three are
    shown and every part as received is within the budget."""
    monkeypatch.setenv("FEEDKIT_UNSUBSCRIBE_SECRET", "s3cret")
    bundled = Path(__file__).resolve().parents[1] / "templates" / "digest.html.j2"
    folder = tmp_path / "mytemplates"
    folder.mkdir()
    top = '<body class="body">\n<p><a href="{{ unsubscribe_url }}">수신거부</a></p>'
    text = bundled.read_text(encoding="utf-8")
    assert text.count('<body class="body">') == 1
    (folder / "digest.html.j2").write_text(text.replace('<body class="body">', top),
                                           encoding="utf-8")
    report, parts = _send(tmp_path / "one-each", max_items=1, templates=str(folder))
    assert report.shown == 4
    assert parts[LONG].count(b"someone.with.a.rather.long.name%2Bweekly-digest") == 2
    size = len(parts[LONG])
    report, tight = _send(tmp_path / "one-less", max_html_bytes=size - 1,
                          templates=str(folder))
    assert report.shown == 3
    for rcpt, html in tight.items():
        assert len(html) <= size - 1, (rcpt, len(html))
