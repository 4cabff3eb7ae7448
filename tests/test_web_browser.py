"""Issue 15's "done when", end to end in a real browser (Playwright driving the Debian chromium):

subscribe through the form choosing two departments; read the confirmation email from an aiosmtpd
server on loopback; open the link and confirm; ``feedkit digest send`` then delivers that
subscriber a digest holding only those two departments; a mail provider's RFC 8058 one-click
POST unsubscribes; the next send skips them. Along the way a GET on each token link changes
nothing.

Everything runs here: the Flask app under waitress on 127.0.0.1, the SMTP server, the CLI.
Skipped cleanly without Playwright or chromium.
"""

from __future__ import annotations

import sqlite3
import threading
from datetime import UTC, datetime
from email.message import EmailMessage

import pytest
import tools
from _digest_support import SEOUL, korean_articles, smtp_server, store_with
from _web_support import SECRET, Client, Clock, _serve_until, links_in, path_of
from click.testing import CliRunner
from lxml import html as lxml_html

from feedkit.cli import cli

pytestmark = pytest.mark.browser

ADDRESS = "lee.seoyeon@example.org"
OTHER = "everything@example.org"
CHOSEN = ("세무과", "관광과")
OTHERS = ("복지정책과", "도서관")
# Two weeks of news in four departments: 2026-W46 (9-15 Nov) and 2026-W47 (16-22 Nov).
MONDAY = datetime(2026, 11, 9, 0, 0, tzinfo=SEOUL)

CONFIG = """
[site]
title = "보령시 새소식"
url = "https://www.brcn.go.kr/"
feed_url = "https://news.example.org/boryeong/"

[store]
path = "articles.db"

[digest]
from = "보령시 소식 <news@example.org>"
audience = "subscribers"
unsubscribe = ["mailto:leave@example.org"]

[smtp]
host = "127.0.0.1"
port = {port}
tls = "none"
retries = 0

[web]
url = "https://news.example.org/list/"
"""


def status(db, address: str) -> tuple[str, str]:
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT status, categories FROM subscribers WHERE address = ?",
                            (address,)).fetchone()


def sections(msg: EmailMessage) -> list[str]:
    """The section headings of the digest's HTML part, as a reader sees them."""
    page = lxml_html.fromstring(msg.get_body(("html",)).get_content())
    return [h.text.strip() for h in page.xpath("//h2[contains(@class, 'section-title')]")]


def send(config_path, week: str, now: str):
    result = CliRunner().invoke(cli, ["--config", str(config_path), "digest", "send",
                                      "--week", week, "--now", now])
    assert result.exit_code == 0, result.output + (result.stderr or "")
    return result


def test_subscribe_confirm_receive_only_my_departments_one_click_leave(tmp_path, monkeypatch):
    sync_api = pytest.importorskip("playwright.sync_api", reason="needs playwright (pip)")
    chromium = tools.chromium()
    monkeypatch.setenv("FEEDKIT_SECRET", SECRET)
    from feedkit.config import load_config
    from feedkit.store.articles import Store
    from feedkit.subscribers import repo
    from feedkit.web.app import create_app
    from feedkit.web.server import make_server

    store_with(tmp_path, korean_articles(56, MONDAY, days=14,
                                         categories=CHOSEN + OTHERS)).close()
    clock = Clock(datetime(2026, 11, 16, 1, 0, tzinfo=UTC))
    with smtp_server() as (smtp, smtp_port):
        config_path = tmp_path / "config.toml"
        config_path.write_text(CONFIG.format(port=smtp_port), encoding="utf-8")
        config = load_config(config_path)
        db = config.store_path
        with Store(db) as store:
            repo.add(store, OTHER, (), "ko", "command", "1", clock(), clock())
        app = create_app(config, secret=SECRET, now=clock, clock=clock.monotonic)
        server = make_server(app, host="127.0.0.1", port=0)
        stop = threading.Event()
        thread = threading.Thread(target=_serve_until, args=(server, stop), daemon=True)
        thread.start()
        base = f"http://127.0.0.1:{server.effective_port}"
        try:
            with sync_api.sync_playwright() as p:
                browser = p.chromium.launch(executable_path=chromium, headless=True,
                                            args=["--no-sandbox"])
                page = browser.new_page()

                # 1. The form, filled in as a person does.
                page.goto(f"{base}/subscribe")
                page.fill("#address", ADDRESS)
                for name in CHOSEN:
                    page.check(f"input[name=categories][value='{name}']")
                page.check("input[name=consent]")
                page.click("button[type=submit]")
                page.wait_for_url(f"{base}/subscribe/sent?lang=ko")
                assert "메일함을 확인해 주세요" in page.inner_text("main")
                app.extensions["feedkit"].outbox.join()   # recorded off the request thread
                assert status(db, ADDRESS) == ("pending", '["관광과", "세무과"]')

                # 2. The confirmation email, from the SMTP server.
                [mail] = smtp.received
                assert mail.rcpt == [ADDRESS]
                [link] = [u for u in links_in(mail.message.get_content()) if "/confirm/" in u]

                # 3. Opening the link (a GET, as a scanner would) confirms nothing; the button does.
                page.goto(base + path_of(link))
                assert status(db, ADDRESS)[0] == "pending"
                page.click("button[type=submit]")
                page.wait_for_selector("p.done")
                assert "구독되었습니다" in page.inner_text("main")
                assert status(db, ADDRESS)[0] == "active"
                browser.close()

            # 4. `feedkit digest send` for 2026-W46: only the two departments chosen.
            before = len(smtp.received)
            send(config_path, "2026-W46", "2026-11-16 10:00")
            got = {m.rcpt[0]: m.message for m in smtp.received[before:]}
            assert set(got) == {ADDRESS, OTHER}
            mine = got[ADDRESS]
            assert sorted(sections(mine)) == sorted(CHOSEN)
            assert sorted(sections(got[OTHER])) == sorted(CHOSEN + OTHERS)
            text = mine.get_body(("plain",)).get_content()
            # (the text part carries summaries, which may mention any word: its sections)
            headings = [line for line in text.splitlines() if line.startswith("== ")]
            assert len(headings) == 2 and all(name not in " ".join(headings)
                                              for name in OTHERS)
            unsubscribe = mine["List-Unsubscribe"]
            assert mine["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
            https = unsubscribe.split(",")[0].strip().strip("<>")
            assert https.startswith("https://news.example.org/list/unsubscribe/")

            # A GET on that link (a scanner again) changes nothing.
            provider = Client(server.effective_port)
            assert provider.get(path_of(https)).status == 200
            assert status(db, ADDRESS)[0] == "active"

            # 5. The mail provider's RFC 8058 one-click POST: no cookie, no form, no CSRF token.
            reply = provider.request("POST", path_of(https), "List-Unsubscribe=One-Click")
            assert reply.status == 200
            assert status(db, ADDRESS)[0] == "unsubscribed"

            # 6. The next week's send skips them; the other reader still gets it.
            clock.advance(7 * 24 * 3600)
            before = len(smtp.received)
            send(config_path, "2026-W47", "2026-11-23 10:00")
            assert [m.rcpt for m in smtp.received[before:]] == [[OTHER]]
        finally:
            stop.set()
            thread.join(5)
