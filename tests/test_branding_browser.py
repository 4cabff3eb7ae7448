"""The branded email in a real browser: Chromium (the Debian package) driven by Playwright, at
375 px (a phone) in light and dark mode.

What is asserted is what a reader would see: the header rule and the week line in the city's
colour (computed style, after premailer inlined it), the dark-mode colour taking over under
``prefers-color-scheme: dark``, the logo actually loaded (served to the browser by Playwright's
request routing, so nothing leaves the machine), and no horizontal scrolling at 375 px. The
screenshots are saved in the test's tmp folder.

Skips cleanly, saying why, without the Playwright package or Chromium.
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import pytest
import tools
from test_branding import DIGEST, LOGO, branded, render_email

pytestmark = pytest.mark.browser

ACCENT = "#00704a"          # rgb(0, 112, 74)
ACCENT_DARK = "#7ee2b8"     # rgb(126, 226, 184)


def _png(width: int, height: int, rgb: tuple[int, int, int]) -> bytes:
    """A solid-colour PNG, written by hand (no imaging library needed)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    row = b"\x00" + bytes(rgb) * width
    return (b"\x89PNG\r\n\x1a\n"
            + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(row * height)) + chunk(b"IEND", b""))


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api",
                                   reason="needs Playwright: pip install -e '.[test]'")
    path = tools.chromium()
    tools.korean_font()
    with sync_api.sync_playwright() as p:
        try:
            b = p.chromium.launch(executable_path=path, args=["--no-sandbox"])
        except sync_api.Error as exc:
            pytest.skip(f"Chromium at {path} did not start under Playwright: "
                        f"{str(exc).splitlines()[0]}")
        yield b
        b.close()


def _open(browser, html_file: Path, scheme: str):
    page = browser.new_page(viewport={"width": 375, "height": 800}, color_scheme=scheme)
    requests: list[str] = []

    def logo(route):
        requests.append(route.request.url)
        route.fulfill(status=200, content_type="image/png", body=_png(160, 40, (0, 112, 74)))

    page.route(LOGO, logo)
    page.route("**/*", lambda route: route.fallback() if route.request.url.startswith(
        ("file:", LOGO)) else route.abort())   # nothing else leaves the machine
    page.goto(html_file.as_uri(), wait_until="load")
    return page, requests


def _colour(page, selector: str, prop: str) -> str:
    return page.eval_on_selector(selector, f"el => getComputedStyle(el).{prop}")


@pytest.mark.parametrize(("scheme", "accent"), [
    ("light", "rgb(0, 112, 74)"), ("dark", "rgb(126, 226, 184)")])
def test_the_branded_email_at_375px(browser, tmp_path, scheme, accent):
    site = branded(tmp_path, brand=f'''logo = "{LOGO}"
accent_color = "{ACCENT}"
accent_color_dark = "{ACCENT_DARK}"
contact_department = "보령시청 홍보담당관"
contact_address = "충청남도 보령시 성주산로 77"
contact_phone = "041-930-3114"
''', extra="")
    assert DIGEST in site.config.read_text(encoding="utf-8")
    site.run("import")
    html, _ = render_email(site)
    email = tmp_path / "email.html"
    email.write_text(html, encoding="utf-8")

    page, requests = _open(browser, email, scheme)
    try:
        assert requests == [LOGO]
        loaded = page.eval_on_selector(
            "img.logo", "img => img.complete && img.naturalWidth === 160 && "
                        "getComputedStyle(img).height === '40px'")
        assert loaded, "the logo did not load at 40 px high"
        assert _colour(page, ".eyebrow", "color") == accent
        assert _colour(page, ".header", "borderTopColor") == accent
        if scheme == "dark":   # the dark card really is dark: the dark accent is on #161b22
            assert _colour(page, ".card", "backgroundColor") == "rgb(22, 27, 34)"
        assert page.evaluate("document.documentElement.scrollWidth") <= 375
        contact = page.inner_text("p.contact")
        assert contact == "보령시청 홍보담당관 · 충청남도 보령시 성주산로 77 · 041-930-3114"
        shot = tmp_path / f"email-375-{scheme}.png"
        page.screenshot(path=str(shot), full_page=True)
        assert shot.stat().st_size > 10_000
    finally:
        page.close()
