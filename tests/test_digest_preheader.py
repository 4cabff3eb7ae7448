"""The hidden preheader reads as nothing hidden to spam filters (issue 22, item 4).

The line an inbox shows after the subject comes from a preheader at the top of the HTML part.
It used to be hidden with ``display:none; font-size:1px; opacity:0``: SpamAssassin 4 reads a
tiny font right before a word as invisible text (``__FONT_INVIS``; with a Message-ID that names
a host, ``FONT_INVIS_MSGID``, +1.0), and rspamd counts ``display:none`` or a zero font as an
invisible part (``MANY_INVISIBLE_PARTS``). Now it is folded to no height (``max-height:0;
overflow:hidden``, what Cerberus and Litmus use): SpamAssassin ``-L`` scores the rendered and
the sent message ≤ 0 with no invisible-text rule, even when the first headline starts with an
ASCII word (where the old markup tripped the rule), and no element of the email carries any
style rspamd or SpamAssassin reads as hidden. The old templates (tests/fixtures) show the rule
does fire on the old markup, so the check is not blind.
"""

from __future__ import annotations

import dataclasses
import re
from datetime import datetime
from email import message_from_bytes
from email.policy import default as default_policy
from pathlib import Path

import lxml.html
import pytest
from _digest_support import SEOUL, korean_articles, smtp_server, store_with
from click.testing import CliRunner
from conftest import REPO

from feedkit.cli import cli

W24 = datetime(2024, 6, 10, tzinfo=SEOUL)
OLD_TEMPLATES = REPO / "tests" / "fixtures" / "templates-before-branding"
INVISIBLE_RULES = re.compile(r"FONT_INVIS|STY_INVIS|INVISIBLE|FONT_TINY|TINY_FONT|ZERO_FONT")
# What spam filters read as hidden text, in an inline style (rspamd's html_block visibility,
# SpamAssassin's __FONT_INVIS / __STY_INVIS / __HTML_FONT_TINY_01).
HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden|opacity\s*:\s*0(?![.\d])"
                          r"|font-size\s*:\s*0*[0-4](?:\.\d+)?(?:px|pt)|font-size\s*:\s*0(?![.\d])"
                          r"|color\s*:\s*transparent", re.IGNORECASE)


def _site(folder: Path, port: int = 2525, templates: Path | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    # The first headline starts with an ASCII word: the old preheader's tiny font right
    # before a word character is what SpamAssassin's __FONT_INVIS looks for.
    articles = [dataclasses.replace(a, title=f"2024 Mud Festival {a.title}")
                for a in korean_articles(12, W24)]
    store_with(folder, articles).close()
    extra = f'templates = "{templates.as_posix()}"\n' if templates else ""
    (folder / "config.toml").write_text(
        '[site]\ntitle = "보령시 새소식"\nurl = "https://www.brcn.go.kr/"\n'
        'feed_url = "https://news.example.org/boryeong/"\n'
        '[digest]\nfrom = "보령시 소식 <news@example.org>"\nto = ["reader@example.com"]\n'
        'unsubscribe = ["mailto:leave@example.org?subject=unsubscribe%20{token}"]\n' + extra +
        f'[smtp]\nhost = "127.0.0.1"\nport = {port}\ntls = "none"\n', encoding="utf-8")
    return folder / "config.toml"


@pytest.fixture(autouse=True)
def _secrets(monkeypatch):
    monkeypatch.setenv("FEEDKIT_UNSUBSCRIBE_SECRET", "u" * 32)
    monkeypatch.setenv("FEEDKIT_SECRET", "preheader-test-secret-012345")


def _rendered(config: Path) -> bytes:
    eml = config.parent / "digest.eml"
    result = CliRunner().invoke(cli, ["--config", str(config), "digest", "render", "--week",
                                      "2024-W24", "--eml", str(eml)])
    assert result.exit_code == 0, result.output
    return eml.read_bytes()


def _html(eml: bytes) -> str:
    msg = message_from_bytes(eml, policy=default_policy)
    return msg.get_body(("html",)).get_content()


def test_no_element_of_the_email_is_styled_as_hidden_text(tmp_path):
    html = _html(_rendered(_site(tmp_path / "site")))
    doc = lxml.html.document_fromstring(html)
    hidden = [(el.tag, el.get("style")) for el in doc.iter()
              if isinstance(el.tag, str) and HIDDEN_STYLE.search(el.get("style") or "")]
    assert hidden == []
    # The preheader still leads the body's text (what an inbox shows as the preview) and is
    # folded away: no height, the overflow clipped, kept from screen readers.
    [pre] = doc.xpath("//div[contains(@class, 'preheader')]")
    style = pre.get("style").replace(" ", "")
    assert "max-height:0" in style and "overflow:hidden" in style
    assert pre.get("aria-hidden") == "true"
    assert doc.xpath("string(//body)").strip().startswith("2024 Mud Festival 보령시, ")


def test_spamassassin_scores_the_rendered_digest_at_most_zero(tmp_path):
    from test_digest_clients import _spamassassin

    score, rules = _spamassassin(_rendered(_site(tmp_path / "new")), tmp_path)
    assert not {r for r in rules if INVISIBLE_RULES.search(r)}, rules
    assert score <= 0, (score, rules)
    # The old markup, same week: SpamAssassin does see its hidden text (the rule works here).
    old = _rendered(_site(tmp_path / "old", templates=OLD_TEMPLATES))
    old_score, old_rules = _spamassassin(old, tmp_path)
    assert "FONT_INVIS_MSGID" in old_rules and old_score > 0, (old_score, old_rules)


def test_spamassassin_scores_the_sent_digest_at_most_zero(tmp_path):
    from test_digest_clients import _spamassassin

    with smtp_server() as (server, port):
        config = _site(tmp_path / "site", port)
        result = CliRunner().invoke(cli, ["--config", str(config), "digest", "send", "--week",
                                          "2024-W24"])
        assert result.exit_code == 0, result.output
    [got] = server.received
    assert '<div class="preheader" aria-hidden="true" style="max-height:0; overflow:hidden">' \
        '2024 Mud Festival' in _html(got.data)
    score, rules = _spamassassin(got.data, tmp_path)
    assert not {r for r in rules if INVISIBLE_RULES.search(r)}, rules
    assert score <= 0, (score, rules)
