"""The digest in a real browser: headless Chromium (the Debian package) at 375px and 600px.

Chromium is a fair stand-in for the WebKit/Blink mail clients (Apple Mail, iOS, Gmail's web
view of the HTML), not for Outlook's Word engine. Headless Chromium will not make a window
narrower than 500px, so each page is loaded in an iframe of the exact width, served by a real
http.server on 127.0.0.1, and a script in the harness page measures it after load.

Skips cleanly, saying why, where Chromium or a Korean font is not installed (tests/tools.py):
``apt-get install chromium fonts-noto-cjk``. Screenshots go to tests/artifacts/ (gitignored).
"""

from __future__ import annotations

import dataclasses
import functools
import http.server
import json
import subprocess
import threading
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import tools
from _digest_support import SEOUL, config_for, korean_articles

from feedkit.digest.compose import make_digest
from feedkit.digest.render import DigestRenderer
from feedkit.digest.week import Week

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"


pytestmark = pytest.mark.browser

HARNESS = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><style>body{margin:0} iframe{border:0;display:block}</style>
</head><body>
<iframe id="f" src="PAGE" width="WIDTH" height="HEIGHT"></iframe>
<pre id="probe">pending</pre>
<script>
window.addEventListener("load", function () {
  var doc = document.getElementById("f").contentDocument;
  var win = doc.defaultView;
  var width = doc.documentElement.clientWidth;
  var offenders = [];
  doc.querySelectorAll("body *").forEach(function (el) {
    var r = el.getBoundingClientRect();
    var hidden = win.getComputedStyle(el).display === "none" || r.width === 0;
    if (!hidden && r.right > width + 1) offenders.push(el.tagName + "." + el.className);
  });
  function measure(text) {
    var s = doc.createElement("span");
    s.textContent = text;
    s.style.fontSize = "20px";
    doc.body.appendChild(s);
    var w = s.getBoundingClientRect().width;
    s.remove();
    return w;
  }
  var card = doc.querySelector(".card");
  var h1 = doc.querySelector("h1");
  var pre = doc.querySelector(".preheader");
  document.getElementById("probe").textContent = JSON.stringify({
    width: width,
    scrollWidth: doc.documentElement.scrollWidth,
    offenders: offenders.slice(0, 10),
    hangul: measure("보령시청새소식안내"),
    tofu: measure("\\ue000\\ue001\\ue002\\ue003\\ue004\\ue005\\ue006\\ue007\\ue008"),
    wordBreak: win.getComputedStyle(doc.querySelector(".item")).wordBreak,
    dark: win.matchMedia("(prefers-color-scheme: dark)").matches,
    cardBackground: win.getComputedStyle(card).backgroundColor,
    titleColor: win.getComputedStyle(h1).color,
    preheaderVisible: pre ? pre.getBoundingClientRect().height > 0 &&
      win.getComputedStyle(pre).display !== "none" : false,
    itemTitleSize: win.getComputedStyle(doc.querySelector(".item-title")).fontSize
  });
});
</script></body></html>
"""


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """Render a 50-article Korean week (with a few nasty long words) and serve the folder."""
    tools.chromium()
    tools.korean_font()
    folder = tmp_path_factory.mktemp("browser")
    config = config_for(folder)
    start = datetime(2024, 6, 10, tzinfo=SEOUL)
    articles = sorted(korean_articles(50, start), key=lambda a: a.published, reverse=True)
    articles[0] = dataclasses.replace(
        articles[0], title="보령시대천해수욕장머드축제개막식및부대행사안내와교통통제구간알림",
        image="https://www.brcn.go.kr/img/mud.jpg")
    articles[1] = dataclasses.replace(
        articles[1], summary="첨부: https://www.brcn.go.kr/upload/board/2024/06/"
        "very_long_attachment_file_name_without_any_spaces_at_all_2024.hwpx 참고")
    articles.append(dataclasses.replace(articles[2], id="late", url="https://x.example/late",
                                        published=start + timedelta(days=6, hours=23)))
    digest = make_digest(config, Week.parse("2024-W24", SEOUL), articles)
    renderer = DigestRenderer(config)
    (folder / "email.html").write_text(renderer.email(digest).personal(
        "https://news.example.org/unsubscribe")[0], encoding="utf-8")
    (folder / "web.html").write_text(renderer.web_page(digest), encoding="utf-8")
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield folder, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        pass


def _chromium(*args: str) -> str:
    cmd = [tools.chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
           "--no-first-run", "--disable-extensions", "--virtual-time-budget=5000", *args]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=90)
    return done.stdout


def _probe(served, page: str, width: int, *, dark: bool = False, shot: str = "") -> dict:
    folder, base = served
    name = f"harness-{page}-{width}-{'dark' if dark else 'light'}.html"
    (folder / name).write_text(HARNESS.replace("PAGE", page).replace("WIDTH", str(width))
                               .replace("HEIGHT", "2400"), encoding="utf-8")
    flags = ["--force-dark-mode"] if dark else []
    dom = _chromium(*flags, "--window-size=700,2500", "--dump-dom", f"{base}/{name}")
    start = dom.index('<pre id="probe">') + len('<pre id="probe">')
    raw = dom[start:dom.index("</pre>", start)]
    result = json.loads(raw.replace("&quot;", '"').replace("&amp;", "&"))
    if shot:
        ARTIFACTS.mkdir(exist_ok=True)
        _chromium(*flags, f"--window-size={max(width, 500)},2400",
                  f"--screenshot={ARTIFACTS / shot}", f"{base}/{name}")
    return result


@pytest.mark.parametrize("width", [375, 600])
def test_email_fits_the_width_and_shows_hangul(served, width):
    got = _probe(served, "email.html", width, shot=f"digest-email-{width}.png")
    assert got["width"] == width
    assert got["scrollWidth"] <= width, got
    assert got["offenders"] == [], got
    # with a Korean font, Hangul has real glyphs: not the width of missing-glyph boxes
    assert got["hangul"] > 0 and abs(got["hangul"] - got["tofu"]) > 1, got
    assert got["wordBreak"] == "keep-all"
    assert got["preheaderVisible"] is False
    assert got["dark"] is False and got["cardBackground"] == "rgb(255, 255, 255)"
    # the mobile rules from <style> (kept with !important) win below 620px
    assert got["itemTitleSize"] == ("16px" if width < 620 else "17px")


def test_email_dark_mode(served):
    got = _probe(served, "email.html", 375, dark=True, shot="digest-email-375-dark.png")
    assert got["dark"] is True
    assert got["cardBackground"] == "rgb(22, 27, 34)"
    assert got["titleColor"] == "rgb(230, 237, 243)"
    assert got["offenders"] == []


@pytest.mark.parametrize("width", [375, 600])
def test_web_archive_page_fits(served, width):
    got = _probe(served, "web.html", width, shot=f"digest-web-{width}.png")
    assert got["scrollWidth"] <= width and got["offenders"] == [], got
