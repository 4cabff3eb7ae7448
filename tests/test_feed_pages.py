"""The page a person lands on instead of raw XML (issue 9, Feeds 8): feeds.html and one page per
category folder, in plain Korean, checked by lxml (what it says), the Nu HTML Checker (valid
HTML) and headless Chromium (it fits a phone, Hangul renders, no XSLT anywhere). Also: the XSL,
when a site keeps it, shows summaries escaped once; the channel description is escaped."""

from __future__ import annotations

import functools
import http.server
import json
import subprocess
import threading
from pathlib import Path

import feedparser
import pytest
import tools
from conftest import Site
from lxml import etree
from lxml import html as lxml_html

FEED_URL = "https://news.example.org/boryeong/"
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"


def _page(path: Path):
    return lxml_html.fromstring(path.read_text(encoding="utf-8"))


def test_feeds_page_says_what_a_feed_is_and_gives_the_addresses(built_site: Site) -> None:
    page = _page(built_site.out / "feeds.html")
    assert page.get("lang") == "ko"
    text = page.text_content()
    assert "피드(RSS)는 새 글이 올라오면 자동으로 알려 주는 주소입니다" in text
    # Each address whole, as selectable text (copy buttons come with copy.js: tests/
    # test_accessibility.py clicks them)
    assert [c.text_content() for c in page.cssselect("code.address-url")] == [
        FEED_URL + "feed.xml", FEED_URL + "atom.xml", FEED_URL + "feed.json"]
    assert [b.get("data-copy") for b in page.cssselect("button.copy[hidden]")] == [
        "addr-rss", "addr-atom", "addr-json"]
    # Every feed at once, for a reader's import (tests/test_opml.py imports it into newsboat)
    assert page.cssselect('a[href="feeds.opml"]')
    # The latest items, newest first, as the store has them.
    titles = [a.text_content() for a in page.cssselect("ol.news a.title")]
    newest = [t for (t,) in built_site.rows(
        "SELECT title FROM articles ORDER BY published_ts DESC, id DESC LIMIT 30")]
    assert titles == newest
    # Autodiscovery for browsers and readers that look for it.
    alternates = [(x.get("type"), x.get("href")) for x in page.iter("link")
                  if x.get("rel") == "alternate"]
    assert ("application/rss+xml", FEED_URL + "feed.xml") in alternates
    # Every category page is linked, and exists.
    for href in [a.get("href") for a in page.cssselect("#more ~ ul a")]:
        assert (built_site.out / href).is_file(), href


def test_each_category_folder_has_its_own_page(built_site: Site) -> None:
    cats = dict(built_site.rows("SELECT category, count(*) FROM articles WHERE category != '' "
                                "GROUP BY category"))
    assert "세무과" in cats
    page = _page(built_site.out / "category" / "semugwa" / "index.html")
    assert page.cssselect("h1")[0].text_content() == "세무과 피드"
    assert page.cssselect("code.address-url")[0].text_content() == (
        FEED_URL + "category/semugwa/feed.xml")
    assert page.cssselect('a[href="../../feeds.opml"]')
    assert len(page.cssselect("ol.news li")) == cats["세무과"]
    assert page.cssselect("header a")[0].get("href") == "../../index.html"


def test_index_links_to_the_feed_pages(built_site: Site) -> None:
    page = _page(built_site.out / "index.html")
    hrefs = [a.get("href") for a in page.iter("a")]
    assert "feeds.html" in hrefs and "category/semugwa/index.html" in hrefs


def test_feed_pages_pass_vnu(built_site: Site) -> None:
    jar = tools.vnu_jar()
    pages = [built_site.out / "feeds.html", *sorted((built_site.out / "category").glob(
        "*/index.html")), built_site.out / "index.html"]
    done = subprocess.run([tools.java(), "-jar", str(jar), "--format", "json", "--errors-only",
                           *map(str, pages)], capture_output=True, text=True, timeout=300)
    errors = [m for m in json.loads(done.stderr)["messages"] if m["type"] == "error"]
    assert errors == []


NASTY = "AT&T <요금> 안내 & 1 < 2"


def _nasty_site(tmp_path: Path) -> Site:
    site = Site(tmp_path / "site")
    site.edit_config(('language = "ko"', 'language = "ko"\ndescription = "AT&T <안내> 소식"'))
    src = tmp_path / "nasty.jsonl"
    src.write_text(json.dumps({"title": "요금 안내", "url": "https://a.example/1",
                               "published": "2025-12-10 09:00", "summary": NASTY},
                              ensure_ascii=False) + "\n", encoding="utf-8")
    site.run("import", str(src))
    return site


def test_xsl_shows_summaries_escaped_once(tmp_path: Path) -> None:
    site = _nasty_site(tmp_path)
    site.edit_config(("[feeds]\n", "[feeds]\nstylesheet = true\n"))
    site.run("build")
    transform = etree.XSLT(etree.parse(str(site.out / "feed.xsl")))
    for name in ("feed.xml", "atom.xml"):
        result = transform(etree.parse(str(site.out / name)))
        shown = lxml_html.fromstring(str(result)).cssselect("li p")[0].text_content()
        assert shown == NASTY, name


def test_channel_description_is_escaped_like_everything_else(tmp_path: Path) -> None:
    site = _nasty_site(tmp_path)
    site.run("build")
    for name in ("feed.xml", "atom.xml"):
        detail = feedparser.parse((site.out / name).read_bytes()).feed.subtitle_detail
        # RSS: HTML whose text is the sentence (a reader shows "<안내>", not a stray tag);
        # Atom: the plain text itself.
        text = (lxml_html.fragment_fromstring(detail.value, create_parent="p").text_content()
                if detail.type == "text/html" else detail.value)
        assert text == "AT&T <안내> 소식", (name, detail)
    assert json.loads((site.out / "feed.json").read_bytes())["description"] == (
        "AT&T <안내> 소식")
    page = _page(site.out / "feeds.html")
    assert "AT&T <안내> 소식" in page.cssselect("header")[0].text_content()
    check = site.run("validate", ok=False)
    assert check.exit_code == 0, check.output + check.stderr


# -- Chromium -----------------------------------------------------------------------------------

PROBE = """<script>
window.addEventListener("load", function () {
  var d = document.documentElement, offenders = [];
  document.querySelectorAll("body *").forEach(function (el) {
    var r = el.getBoundingClientRect();
    if (r.width > 0 && r.right > d.clientWidth + 1) offenders.push(el.tagName);
  });
  function measure(t) { var s = document.createElement("span"); s.textContent = t;
    s.style.fontSize = "20px"; document.body.appendChild(s);
    var w = s.getBoundingClientRect().width; s.remove(); return w; }
  var out = document.createElement("pre"); out.id = "probe";
  out.textContent = JSON.stringify({width: d.clientWidth, scrollWidth: d.scrollWidth,
    offenders: offenders.slice(0, 5), hangul: measure("보령시청새소식안내"),
    tofu: measure("\\ue000\\ue001\\ue002\\ue003\\ue004\\ue005\\ue006\\ue007\\ue008"),
    inputWidth: document.querySelector(".address-url").getBoundingClientRect().width,
    stylesheets: document.querySelectorAll("link[rel=stylesheet]").length});
  document.body.appendChild(out);
});
</script>"""


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def _chromium(*args: str) -> str:
    cmd = [tools.chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
           "--no-first-run", "--disable-extensions", "--virtual-time-budget=5000", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=90).stdout


@pytest.mark.browser
def test_feed_page_in_chromium_fits_a_phone_and_shows_hangul(built_site: Site) -> None:
    tools.chromium()
    fc = subprocess.run(["fc-list", ":lang=ko"], capture_output=True, text=True).stdout
    if not fc.strip():
        pytest.skip("no Korean font installed (apt-get install fonts-noto-cjk)")
    out = built_site.out
    page = (out / "feeds.html").read_text(encoding="utf-8")
    (out / "probe.html").write_text(page.replace("</body>", PROBE + "</body>"), "utf-8")
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(_Quiet, directory=str(out)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        # Headless Chromium will not go below 500px wide; 500 is narrower than most layouts
        # break at, and the page has no fixed widths.
        dom = _chromium("--window-size=500,1400", "--dump-dom", f"{base}/probe.html")
        start = dom.index('<pre id="probe">') + len('<pre id="probe">')
        got = json.loads(dom[start:dom.index("</pre>", start)].replace("&quot;", '"')
                         .replace("&amp;", "&"))
        ARTIFACTS.mkdir(exist_ok=True)
        _chromium("--window-size=800,1200", f"--screenshot={ARTIFACTS / 'feeds-page.png'}",
                  f"{base}/feeds.html")
    finally:
        server.shutdown()
        server.server_close()
    assert got["scrollWidth"] <= got["width"] and got["offenders"] == [], got
    assert got["hangul"] > 0 and abs(got["hangul"] - got["tofu"]) > 1, got
    assert got["inputWidth"] > 300, got  # the address box spans the column, easy to select
    assert "XSLT" not in dom
    assert (ARTIFACTS / "feeds-page.png").stat().st_size > 10_000
