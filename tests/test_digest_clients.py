"""The digest checked by programs nobody on the project wrote: the Nu HTML Checker (vnu) for the
email's HTML part and the archive pages, SpamAssassin for the message as sent.

Each skips cleanly (saying what to install) where its tool is missing; see tests/tools.py.
"""

from __future__ import annotations

import dataclasses
import json
import re
import subprocess
from datetime import datetime
from email import message_from_bytes
from email.policy import default as default_policy
from pathlib import Path

import pytest
import tools
from _digest_support import SEOUL, config_for, korean_articles, store_with

from feedkit.digest.compose import make_digest
from feedkit.digest.render import DigestRenderer
from feedkit.digest.week import Week
from feedkit.mail.message import build_message, issue_time, message_bytes

W24 = datetime(2024, 6, 10, tzinfo=SEOUL)

# The only errors vnu may report on the email: attributes email clients need and HTML5 has
# dropped (the issue's list). Anything else is a real error.
LEGACY_EMAIL = re.compile(
    r"Attribute “xmlns:[vo]” not allowed here"
    r"|The “(bgcolor|cellpadding|cellspacing|align|border|width)” attribute on the “(table|td)”")


def _vnu(*files: Path) -> list[dict]:
    """vnu's errors (not warnings) for ``files``, as its JSON messages."""
    jar = tools.vnu_jar()
    done = subprocess.run([tools.java(), "-jar", str(jar), "--format", "json", "--errors-only",
                           *map(str, files)], capture_output=True, text=True, timeout=300)
    return [m for m in json.loads(done.stderr)["messages"] if m["type"] == "error"]


def _week(folder: Path, n: int = 40, **site):
    config = config_for(folder, site=site) if site else config_for(folder)
    articles = sorted(korean_articles(n, W24), key=lambda a: a.published, reverse=True)
    # lead images on a third of them (the Outlook width problem lives on <img>), and three
    # one-notice 동/면 offices, which fold into one section
    articles = [dataclasses.replace(a, image=f"https://www.brcn.go.kr/img/{i}.jpg")
                if i % 3 == 0 else a for i, a in enumerate(articles)]
    for i, office in zip((1, 2, 4), ("대천1동", "웅천읍", "주포면"), strict=True):
        articles[i] = dataclasses.replace(articles[i], category=office)
    return config, make_digest(config, Week.parse("2024-W24", SEOUL), articles)


def _email_as_received(config, digest) -> bytes:
    """The HTML part exactly as a mail client decodes it from the bytes on the wire."""
    renderer = DigestRenderer(config)
    msg = build_message(config, digest, renderer.email(digest), renderer.subject(digest),
                        "reader@example.com", issue_time(digest.week))
    received = message_from_bytes(message_bytes(msg), policy=default_policy)
    return received.get_body(("html",)).get_payload(decode=True)


@pytest.fixture(scope="module")
def checked(tmp_path_factory) -> tuple[Path, dict[str, list[str]]]:
    """Korean and English emails and a built archive, checked in one vnu run (a JVM start
    costs seconds): ``(folder, {file name: [error messages]})``."""
    from click.testing import CliRunner

    from feedkit.cli import cli

    folder = tmp_path_factory.mktemp("vnu")
    config, digest = _week(folder)
    (folder / "email-ko.html").write_bytes(_email_as_received(config, digest))
    en = folder / "en"
    en.mkdir()
    config_en, digest_en = _week(en, title="Springfield News", language="en")
    (folder / "email-en.html").write_bytes(_email_as_received(config_en, digest_en))

    store_with(folder, digest.articles()).close()
    (folder / "config.toml").write_text(
        '[site]\ntitle = "보령시 새소식"\nurl = "https://www.brcn.go.kr/"\n'
        'feed_url = "https://news.example.org/boryeong/"\n'
        '[digest]\nsubscribe = "https://news.example.org/subscribe"\n', encoding="utf-8")
    result = CliRunner().invoke(cli, ["--config", str(folder / "config.toml"), "build",
                                      "--now", "2024-06-19 09:00"])
    assert result.exit_code == 0, result.output
    pages = [folder / "email-ko.html", folder / "email-en.html",
             *sorted((folder / "public" / "digest").glob("*.html"))]
    errors: dict[str, list[str]] = {p.name: [] for p in pages}
    for m in _vnu(*pages):
        errors[Path(m["url"].removeprefix("file:")).name].append(m["message"])
    return folder, errors


def test_email_html_passes_vnu_with_only_legacy_email_attributes(checked):
    folder, errors = checked
    for name in ("email-ko.html", "email-en.html"):
        real = [m for m in errors[name] if not LEGACY_EMAIL.search(m)]
        assert real == [], (name, real)
        # Outlook's Word engine needs a pixel width on images (it ignores max-width)
        html = (folder / name).read_text(encoding="utf-8")
        widths = re.findall(r'<img\b[^>]*\bwidth="([^"]*)"', html)
        assert widths and set(widths) == {"552"}, widths
        assert re.search(r"<body\b[^>]*\bwidth=", html) is None
        assert '<meta name="x-apple-disable-message-reformatting" content="">' in html
    assert "읍·면·동 소식" in (folder / "email-ko.html").read_text(encoding="utf-8")


def test_archive_pages_pass_vnu_without_any_error(checked):
    _folder, errors = checked
    pages = {n: e for n, e in errors.items() if not n.startswith("email-")}
    assert set(pages) == {"2024-W24.html", "index.html"}
    assert pages == {"2024-W24.html": [], "index.html": []}


# -- SpamAssassin ----------------------------------------------------------------------------

SPAM_THRESHOLD = 1.0  # a clean digest scores -0.0; one GB_CUSTOM_HTM_URI hit alone is +1.0


def _spamassassin(eml: bytes, home: Path) -> tuple[float, set[str]]:
    """SpamAssassin's score and rule names for a message (local tests only: -L)."""
    import os

    done = subprocess.run([tools.spamassassin(), "-L", "-t"], input=eml, capture_output=True,
                          timeout=120, env={**os.environ, "HOME": str(home)})
    out = done.stdout.decode("utf-8", "replace")
    m = re.search(r"^X-Spam-Status: \w+, score=(-?[\d.]+) required=[\d.]+ tests=(.*?)"
                  r" autolearn=", out, re.MULTILINE | re.DOTALL)
    assert m, out[:2000]
    rules = {r.strip() for r in re.split(r"[,\s]+", m[2]) if r.strip() and r.strip() != "none"}
    return float(m[1]), rules


def _render_eml(folder: Path, unsubscribe: list[str], monkeypatch) -> bytes:
    """`feedkit digest render --eml` for a 40-article week, as the CLI writes it."""
    from click.testing import CliRunner

    from feedkit.cli import cli

    monkeypatch.setenv("FEEDKIT_UNSUBSCRIBE_SECRET", "s3cret")
    folder.mkdir()
    _config, digest = _week(folder)
    store_with(folder, digest.articles()).close()
    links = ", ".join(f'"{u}"' for u in unsubscribe)
    (folder / "config.toml").write_text(
        '[site]\ntitle = "보령시 새소식"\nurl = "https://www.brcn.go.kr/"\n'
        'feed_url = "https://news.example.org/boryeong/"\n'
        '[digest]\nfrom = "보령시 소식 <news@example.org>"\nto = ["reader@example.com"]\n'
        f'unsubscribe = [{links}]\n', encoding="utf-8")
    eml = folder / "digest.eml"
    result = CliRunner().invoke(cli, ["--config", str(folder / "config.toml"), "digest",
                                      "render", "--week", "2024-W24", "--eml", str(eml)])
    assert result.exit_code == 0, result.output
    return eml.read_bytes()


def _sample_unsubscribe(path: Path) -> list[str]:
    """The unsubscribe URLs a sample config shows, its commented-out ones included."""
    text = path.read_text(encoding="utf-8")
    block = text[text.index("unsubscribe = "):]
    block = block[:block.index("]") + 1]
    return re.findall(r'"((?:mailto|https?):[^"]+)"', block)


def test_sample_configs_show_a_token_https_link_beside_mailto():
    urls = _sample_unsubscribe(tools.REPO / "config.toml")
    assert [u.split(":")[0] for u in urls] == ["mailto", "https"], urls
    assert "{token}" in urls[1] and "{email}" not in " ".join(urls), urls


def test_the_scaffold_shows_a_mailto_link_whose_request_proves_the_reader():
    """A new city's list lives in a secret and its site on a static host: the scaffold shows
    the mailto: link with the reader's {token} in its subject, which 'digest unsubscribes'
    reads, and no https link nothing would answer (issue 22)."""
    urls = _sample_unsubscribe(tools.REPO / "templates/scaffold/config.toml")
    assert urls == ["mailto:news-leave@example.go.kr?subject=unsubscribe%20{token}"]


def test_rendered_digest_with_the_recommended_unsubscribe_links_is_not_spammy(
        tmp_path, monkeypatch):
    """The form the sample config shows: mailto plus https with {token}."""
    urls = _sample_unsubscribe(tools.REPO / "config.toml")
    eml = _render_eml(tmp_path / "token", urls, monkeypatch)
    # No [web] url: no endpoint answers a one-click POST, so none is offered (issue 22).
    assert b"List-Unsubscribe-Post" not in eml
    score, rules = _spamassassin(eml, tmp_path)
    assert "GB_CUSTOM_HTM_URI" not in rules, rules
    assert score < SPAM_THRESHOLD, (score, rules)


def test_an_address_in_the_unsubscribe_link_costs_spam_points_and_is_warned_about(
        tmp_path, monkeypatch):
    """Why {token} is recommended: the same digest with {email} in the https link trips
    GB_CUSTOM_HTM_URI, and `digest render` says so."""
    from click.testing import CliRunner

    from feedkit.cli import cli

    eml = _render_eml(tmp_path / "email", ["https://news.example.org/unsubscribe?email={email}"],
                      monkeypatch)
    score, rules = _spamassassin(eml, tmp_path)
    assert "GB_CUSTOM_HTM_URI" in rules and score >= SPAM_THRESHOLD, (score, rules)
    result = CliRunner().invoke(cli, ["--config", str(tmp_path / "email" / "config.toml"),
                                      "digest", "render", "--week", "2024-W24", "--text", "-"])
    assert result.exit_code == 0
    assert "GB_CUSTOM_HTM_URI" in result.stderr and "{token}" in result.stderr
