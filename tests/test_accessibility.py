"""Pages every resident can use (issue 28, item 6): axe-core 4 and a phone-sized Chromium.

Every page feedkit writes or serves is loaded in headless Chromium (the Debian package, driven by
Playwright: no browser download) and checked with axe-core 4 (Deque's engine, the npm package
that `.ci/run` installs into .tools/, injected into the page): zero violations of WCAG 2.0, 2.1
and 2.2 at levels A and AA plus axe's best practices, in light and dark mode. The pages: the
index, feeds.html, every category page, the digest archive's index and every week page (which
is what ``digest render --web`` writes); the web endpoint's subscribe, sent, confirm, confirmed,
preferences, unsubscribe, bad-link and not-found pages (under waitress); the ``/_preview/``
staff pages of ``feedkit serve`` (the week list, the digest as sent, an empty week).

At 390 px (an iPhone's width) no Hangul word breaks across lines anywhere (every run of Hangul
syllables is measured with DOM ranges: one line box each), nothing is wider than the screen, and
the feed pages' addresses are whole: a copy button that works, and without JavaScript a field
that selects the whole address in one click. Screenshots go to tests/artifacts/ (gitignored).

Skips cleanly, saying why, without Playwright, Chromium, a Korean font or axe-core.
"""

from __future__ import annotations

import functools
import http.server
import json
import threading
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import pytest
import tools
from conftest import Site

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa", "best-practice"]
PHONE = {"width": 390, "height": 844}

# Each run of Hangul syllables must sit on one line: its DOM range has one line box.
HANGUL_BREAKS = """() => {
  const broken = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const el = node.parentElement;
    if (!el || el.closest("script, style, [hidden], [aria-hidden=true]")) continue;
    const style = getComputedStyle(el);
    if (style.display === "none" || style.visibility === "hidden") continue;
    if (el.getBoundingClientRect().right <= 0) continue;   // off-screen (a honeypot field)
    for (const m of node.data.matchAll(/[\\uac00-\\ud7a3]{2,}/g)) {
      const range = document.createRange();
      range.setStart(node, m.index);
      range.setEnd(node, m.index + m[0].length);
      const tops = new Set([...range.getClientRects()].filter(r => r.width > 0)
                                                      .map(r => Math.round(r.top)));
      if (tops.size > 1) broken.push(m[0]);
    }
  }
  return broken;
}"""
TOO_WIDE = """() => {
  const width = document.documentElement.clientWidth, wide = [];
  document.querySelectorAll("body *").forEach(el => {
    const r = el.getBoundingClientRect();
    if (r.width > 0 && r.right > width + 1 && getComputedStyle(el).display !== "none")
      wide.push(el.tagName + "." + el.className);
  });
  return wide;
}"""


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api",
                                   reason="needs Playwright: pip install -e '.[test]'")
    path = tools.chromium()
    tools.korean_font()
    tools.axe_core()
    with sync_api.sync_playwright() as p:
        try:
            b = p.chromium.launch(executable_path=path, args=["--no-sandbox"])
        except sync_api.Error as exc:
            pytest.skip(f"Chromium at {path} did not start under Playwright: "
                        f"{str(exc).splitlines()[0]}")
        yield b
        b.close()


def axe(page) -> list[str]:
    """axe-core's violations on the page as loaded: one line per rule and element."""
    page.add_script_tag(path=str(tools.axe_core()))
    result = page.evaluate("tags => axe.run(document, {runOnly: {type: 'tag', values: tags}, "
                           "resultTypes: ['violations']})", TAGS)
    return [f"{v['id']} ({v['impact']}): {n['target']} {n['failureSummary'].splitlines()[-1]}"
            for v in result["violations"] for n in v["nodes"]]


def check_page(browser, url: str, name: str, *, screenshot: bool = True,
               login: str | None = None) -> dict[str, list]:
    """Problems on one page, light and dark, at 390 px: axe's, Hangul words split across lines,
    anything wider than the screen. ``login``: an address to open first in the same browser
    context (the preview's printed address, which sets its cookie)."""
    found: dict[str, list] = {}
    for scheme in ("light", "dark"):
        # bypass_csp: axe is injected into pages whose CSP (the web endpoint's) forbids scripts
        page = browser.new_page(viewport=PHONE, color_scheme=scheme, bypass_csp=True)
        page.route("**/*", lambda route: route.continue_() if route.request.url.startswith(
            ("http://127.0.0.1", "data:")) else route.abort())    # nothing leaves the machine
        if login:
            page.goto(login, wait_until="load")
        page.goto(url, wait_until="load")
        if screenshot:
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / f"a11y-{name}-{scheme}.png"), full_page=True)
        for key, problems in (("axe", axe(page)), ("hangul", page.evaluate(HANGUL_BREAKS)),
                              ("wide", page.evaluate(TOO_WIDE))):
            if problems:
                found[f"{key} {scheme}"] = problems
        page.close()
    return found


@contextmanager
def static(folder: Path):
    handler = functools.partial(_Quiet, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


OTHER_BODY = ('{"title": "전라남도, 섬 지역 여객선 운항 확대",'
              ' "url": "https://www.jeonnam.go.kr/news/1",'
              ' "published": "2024-12-18 09:00", "department": "전라남도 대변인실",'
              ' "summary": "다른 기관의 소식을 그 기관의 공공누리 유형으로 함께 싣습니다."}\n')


@pytest.fixture(scope="module")
def full_site(tmp_path_factory) -> Site:
    """The sample with everything a page can show: a licence (and one article under another
    body's), the contact line, the subscribe link, the digest archive."""
    site = Site(tmp_path_factory.mktemp("a11y"))
    other = site.root / "other.jsonl"
    other.write_text(OTHER_BODY, encoding="utf-8")
    site.edit_config(('language = "ko"\n', 'language = "ko"\nlicense = "kogl-1"\n'
                      'contact_department = "보령시 홍보담당관"\n'
                      'contact_phone = "041-930-3114"\n'))
    site.config.write_text(site.config.read_text(encoding="utf-8") + f"""
[[sources]]
kind = "jsonl"
path = "{other.as_posix()}"
license = "kogl-4"

[web]
url = "https://news.example.org/list/"
""", encoding="utf-8")
    site.run("import")
    site.run("build", "--now", "2024-12-31T12:00")
    return site


def site_pages(out: Path) -> list[str]:
    pages = ["index.html", "feeds.html", "digest/index.html"]
    pages += sorted(p.relative_to(out).as_posix() for p in out.glob("category/*/index.html"))
    pages += sorted(p.relative_to(out).as_posix() for p in out.glob("digest/*-W*.html"))
    return pages


def test_every_built_page_passes_axe_and_breaks_no_hangul_word_at_390px(browser, full_site):
    out = full_site.out
    pages = site_pages(out)
    assert len(pages) >= 10 and any("/category/" in "/" + p for p in pages)
    problems = {}
    with static(out) as base:
        for rel in pages:
            name = rel.replace("/", "_").removesuffix(".html")
            found = check_page(browser, base + rel, name)
            if found:
                problems[rel] = found
    assert problems == {}, json.dumps(problems, ensure_ascii=False, indent=1)


def test_the_licence_shows_with_its_official_mark_text_and_link(full_site):
    from lxml import html as lxml_html

    for rel in ("index.html", "feeds.html", "digest/index.html"):
        page = lxml_html.fromstring((full_site.out / rel).read_text(encoding="utf-8"))
        (notice,) = page.cssselect("footer .license a[rel=license]")
        assert notice.text_content() == "공공누리 제1유형: 출처표시", rel
        assert notice.get("href") == "https://www.kogl.or.kr/info/licenseType1.do"
    index = lxml_html.fromstring((full_site.out / "index.html").read_text(encoding="utf-8"))
    marks = [a.text_content() for a in index.cssselect(".meta a[rel=license]")]
    assert marks == ["공공누리 제4유형: 출처표시+상업적 이용금지+변경금지"]   # the other body's


def test_feed_addresses_copy_with_a_button_and_select_whole_without_javascript(browser,
                                                                              full_site):
    out = full_site.out
    with static(out) as base:
        for rel, address in (("feeds.html", "https://news.example.org/boryeong/feed.xml"),
                             ("category/semugwa/index.html",
                              "https://news.example.org/boryeong/category/semugwa/feed.xml")):
            # With JavaScript: the button copies the whole address.
            context = browser.new_context(viewport=PHONE, permissions=[
                "clipboard-read", "clipboard-write"])
            page = context.new_page()
            page.goto(base + rel, wait_until="load")
            field = page.locator("#addr-rss")
            assert field.inner_text() == address
            whole = field.evaluate("el => el.scrollWidth <= el.clientWidth && "
                                   "el.getBoundingClientRect().right <= innerWidth")
            assert whole, "the address is cut off at 390 px"
            button = page.locator("button[data-copy=addr-rss]")
            assert button.is_visible()
            button.click()
            page.wait_for_function("() => document.querySelector("
                                   "'button[data-copy=addr-rss] + .copied').textContent")
            assert page.evaluate("navigator.clipboard.readText()") == address
            assert page.locator("button[data-copy=addr-rss] + .copied").inner_text() == (
                "복사했습니다")
            context.close()
            # Without JavaScript: no button, and one click selects the whole address.
            context = browser.new_context(viewport=PHONE, java_script_enabled=False)
            page = context.new_page()
            page.goto(base + rel, wait_until="load")
            assert not page.locator("button[data-copy=addr-rss]").is_visible()
            page.locator("#addr-rss").click()
            context.close()
            # (selection is read with a script, so in a page of its own with JavaScript on:
            # user-select: all is what makes the one click select everything)
            page = browser.new_page(viewport=PHONE)
            page.goto(base + rel, wait_until="load")
            page.evaluate("document.querySelectorAll('button[data-copy]').forEach("
                          "b => b.hidden = true)")
            page.locator("#addr-rss").click()
            assert page.evaluate("getSelection().toString()") == address
            page.close()


def test_every_page_of_the_web_endpoint_passes_axe(browser, tmp_path):
    """subscribe, sent, confirm (the button), confirmed, preferences, unsubscribe, a bad
    link, a page that is not there: as waitress serves them."""
    from _web_support import SECRET, WEB_URL, endpoint, links_in, path_of

    from feedkit.subscribers import repo
    from feedkit.subscribers.links import personal_urls

    with endpoint(tmp_path) as ep:
        base = f"http://127.0.0.1:{ep.port}"
        pages: dict[str, str] = {"subscribe": "/subscribe", "not-found": "/nope",
                                 "bad-link": "/confirm/not-a-token"}
        client = ep.client()
        reply = client.subscribe("reader@example.org", ["세무과"])
        assert reply.status in (200, 303), reply.status
        pages["sent"] = "/subscribe/sent?lang=ko"
        (mail,) = ep.mails(wait_for=1)
        (confirm,) = [u for u in links_in(mail.message.get_content()) if "/confirm/" in u]
        pages["confirm"] = path_of(confirm)
        with ep.store() as store:
            sid = repo.find(store, "reader@example.org").id
        links = personal_urls(WEB_URL, SECRET, sid)
        pages["preferences"] = path_of(links["preferences"])
        pages["unsubscribe"] = path_of(links["unsubscribe"])
        problems = {}
        for name, path in pages.items():
            found = check_page(browser, base + path, f"web-{name}")
            if found:
                problems[name] = found
        # The page after pressing "confirm".
        page = browser.new_page(viewport=PHONE, bypass_csp=True)
        page.goto(base + pages["confirm"])
        page.click("button[type=submit]")
        page.wait_for_selector("p.done")
        confirmed = axe(page) + page.evaluate(HANGUL_BREAKS)
        page.close()
        if confirmed:
            problems["confirmed"] = confirmed
    assert problems == {}, json.dumps(problems, ensure_ascii=False, indent=1)


def test_the_preview_staff_pages_pass_axe(browser, full_site):
    """``feedkit serve``'s /_preview/: the list of weeks (with the test-send form), the
    digest as a recipient gets it, an empty week, and the page for whoever has not opened the
    printed address (no session key yet)."""
    from feedkit.config import load_config
    from feedkit.site.serve import make_server

    server = make_server(load_config(full_site.config), host="127.0.0.1", port=0,
                         today=date(2024, 12, 20))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        problems = {}
        login = server.preview.key.address(base + "/_preview/")
        for name, path, key in (("preview-index", "/_preview/", login),
                                ("preview-digest", "/_preview/digest/2024-W51", login),
                                ("preview-empty", "/_preview/digest/2024-W40", login),
                                ("preview-locked", "/_preview/", None)):
            found = check_page(browser, base + path, name, login=key)
            if found:
                problems[name] = found
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
    assert problems == {}, json.dumps(problems, ensure_ascii=False, indent=1)
