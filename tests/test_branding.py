"""Branding without templates: ``[site] logo``, ``accent_color``, the contact line.

Contrast ratios are checked against published WCAG values (WebAIM's contrast checker: #767676
on white is the lightest grey that passes AA at 4.54:1, #777777 fails at 4.48:1, #595959 is
7.00:1, #949494 is 3.03:1), not against the function's own arithmetic.
"""

from __future__ import annotations

import pytest

from feedkit.editorial.branding import (
    AA_TEXT,
    DARK_BACKGROUND,
    Contact,
    contrast,
    lighten_for_dark,
    make_brand,
    parse_hex,
)
from feedkit.errors import ConfigError


@pytest.mark.parametrize(("colour", "ratio"), [
    ("#000000", 21.0), ("#ffffff", 1.0), ("#767676", 4.54), ("#777777", 4.48),
    ("#595959", 7.00), ("#949494", 3.03), ("#fff", 1.0), ("0B57D0", 6.39),
])
def test_contrast_against_white_matches_published_values(colour, ratio):
    assert round(contrast(colour, "#ffffff"), 2) == ratio


def test_parse_hex_reads_short_and_long_forms_and_refuses_names():
    assert parse_hex("#0b57d0") == (11, 87, 208)
    assert parse_hex("#abc") == (0xaa, 0xbb, 0xcc)
    for bad in ("blue", "#12345", "#gggggg", "rgb(0,0,0)", ""):
        with pytest.raises(ValueError):
            parse_hex(bad)


def test_a_colour_too_light_on_white_is_a_config_error_naming_the_ratio():
    with pytest.raises(ConfigError) as err:
        make_brand(accent_color="#777777")
    assert str(err.value).startswith("[site] accent_color: #777777 on white has a contrast "
                                     "ratio of 4.48:1; links and the button text need at "
                                     "least 4.5:1 (WCAG AA)")
    assert make_brand(accent_color="#767676").accent == "#767676"


def test_a_given_dark_mode_colour_is_checked_against_the_dark_background():
    with pytest.raises(ConfigError) as err:
        make_brand(accent_color="#0b57d0", accent_color_dark="#0b57d0")
    message = str(err.value)
    assert message.startswith("[site] accent_color_dark: #0b57d0 on the dark-mode background "
                              "#161b22 has a contrast ratio of")
    assert "at least 4.5:1" in message
    brand = make_brand(accent_color="#0B57D0", accent_color_dark="#79B8FF")
    assert (brand.accent, brand.accent_dark) == ("#0b57d0", "#79b8ff")


def test_the_derived_dark_colour_is_the_first_5_percent_step_that_passes():
    for accent in ("#0b57d0", "#c8102e", "#00704a", "#000000", "#595959"):
        dark = lighten_for_dark(accent)
        assert contrast(dark, DARK_BACKGROUND) >= AA_TEXT, accent
        # same hue, lighter: every channel moved toward 255 by the same fraction
        r, g, b = parse_hex(accent)
        dr, dg, db = parse_hex(dark)
        assert dr >= r and dg >= g and db >= b
    # a colour already readable on the dark card is kept as it is
    assert lighten_for_dark("#79b8ff") == "#79b8ff"
    # the steps written out independently: the first that passes is the one returned
    dark = lighten_for_dark("#0b57d0")
    steps = [tuple(round(c + (255 - c) * t / 20) for c in (11, 87, 208)) for t in range(21)]
    hexes = ["#" + "".join(f"{c:02x}" for c in s) for s in steps]
    first = next(h for h in hexes if contrast(h, DARK_BACKGROUND) >= 4.5)
    assert dark == first


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"logo": "http://www.brcn.go.kr/logo.png"}, "[site] logo: 'http://www.brcn.go.kr/logo.png' "
                                                 "must be an https:// image URL"),
    ({"logo": "logo.png"}, "[site] logo: 'logo.png' must be an https:// image URL"),
    ({"accent_color": "blue"}, "[site] accent_color: 'blue' is not a hex colour"),
    ({"accent_color_dark": "#79b8ff"}, "[site] accent_color_dark: set accent_color too"),
    ({"phone": "call us"}, "[site] contact_phone: 'call us' is not a phone number"),
    ({"address": "충남\n보령시"}, "[site] contact_address: one line of text"),
])
def test_bad_branding_keys_are_config_errors_naming_the_key(kwargs, message):
    with pytest.raises(ConfigError) as err:
        make_brand(**kwargs)
    assert str(err.value).startswith(message)
    assert err.value.exit_code == 2


def test_nothing_set_is_no_brand_and_the_contact_line_reads_in_order():
    assert make_brand() is None
    contact = Contact("홍보담당관", "충청남도 보령시 성주산로 77", "041-930-3114")
    assert contact.line() == "홍보담당관 · 충청남도 보령시 성주산로 77 · 041-930-3114"
    assert contact.tel == "tel:0419303114"
    assert Contact(phone="+82 41-930-3114").tel == "tel:+82419303114"
    assert contact.items()[2] == ("041-930-3114", "tel:0419303114")


# -- through the CLI: a branded site, its email, and templates copied before branding ----------

from email import message_from_bytes  # noqa: E402
from email.policy import default as default_policy  # noqa: E402
from pathlib import Path  # noqa: E402

from conftest import REPO, Site  # noqa: E402
from lxml import html as lxml_html  # noqa: E402

OLD_TEMPLATES = REPO / "tests" / "fixtures" / "templates-before-branding"
LOGO = "https://www.brcn.go.kr/images/kor/common/logo.png"
BRAND = f'''logo = "{LOGO}"
accent_color = "#00704A"
contact_department = "보령시청 홍보담당관"
contact_address = "충청남도 보령시 성주산로 77"
contact_phone = "041-930-3114"
'''
DIGEST = '''
[digest]
archive = true
from = "보령시 소식 <news@example.org>"
to = ["subscribers@lists.example.org"]
unsubscribe = ["https://news.example.org/unsubscribe"]
'''


def branded(tmp_path: Path, brand: str = BRAND, extra: str = "") -> Site:
    site = Site(tmp_path / "site", extra=DIGEST + extra)
    site.edit_config(('timezone = "Asia/Seoul"\n', 'timezone = "Asia/Seoul"\n' + brand))
    return site


def inline_style(html: str, css_class: str) -> str:
    """The style attribute of the first element with ``css_class``, without spaces."""
    import lxml.html

    [el] = lxml.html.document_fromstring(html).find_class(css_class)[:1]
    return el.get("style", "").replace(" ", "")


def render_email(site: Site) -> tuple[str, str]:
    eml = site.root / "week.eml"
    site.run("digest", "render", "--week", "2024-W51", "--eml", str(eml))
    msg = message_from_bytes(eml.read_bytes(), policy=default_policy)
    return (msg.get_body(("html",)).get_content(), msg.get_body(("plain",)).get_content())


def test_the_brand_appears_in_the_index_the_archive_and_the_email(tmp_path):
    site = branded(tmp_path)
    site.run("import")
    site.run("build", "--now", "2024-12-31T12:00")
    contact_html = ('보령시청 홍보담당관 · 충청남도 보령시 성주산로 77 · '
                    '<a href="tel:0419303114">041-930-3114</a>')
    for page in ("index.html", "digest/index.html"):
        text = (site.out / page).read_text(encoding="utf-8")
        assert f'<img class="logo" src="{LOGO}" height="40" alt="보령시 새소식">' in text, page
        assert contact_html in text, page
        assert "a { color: #00704a; }" in text, page
    week = (site.out / "digest" / "2024-W51.html").read_text(encoding="utf-8")
    assert f'src="{LOGO}"' in week and '<p class="contact">' in week
    assert ".eyebrow, .item-link, .more-link, .nav-link { color: #00704a; }" in week

    html, text = render_email(site)
    assert f'src="{LOGO}"' in html
    # premailer inlined the accent into the elements themselves (Gmail ignores <style>)
    assert "color:#00704a" in inline_style(html, "eyebrow")
    assert "border-top-color:#00704a" in inline_style(html, "header")
    assert 'href="tel:0419303114"' in html
    assert "보령시청 홍보담당관 · 충청남도 보령시 성주산로 77 · 041-930-3114" in text


def test_a_colour_without_contrast_stops_the_build_with_exit_2(tmp_path):
    site = branded(tmp_path, 'accent_color = "#ffcc00"\n')
    result = site.run("build", ok=False)
    assert result.exit_code == 2
    assert ("config.toml: [site] accent_color: #ffcc00 on white has a contrast ratio of "
            "1.51:1") in result.stderr   # by hand: L(#ffcc00) = 0.644, 1.05 / 0.694
    assert "Traceback" not in result.output


def _files(out: Path) -> dict[str, bytes]:
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*"))
            if p.is_file()}


def test_templates_copied_before_branding_still_build_the_same_site(tmp_path):
    """A site that copied the templates before branding (and before the catalogs) still builds
    with them when it sets no brand: every output its templates do not make is byte-identical
    to the bundled templates' (the feeds, feeds.opml, copy.js), and its pages and email show
    the same articles and links. (Until issue 28 the pages were byte-identical too; its
    additions, the licence line, the OPML link, the copy buttons, the landmarks and the
    digest's fuller text part, are in the bundled templates only.)"""
    plain = Site(tmp_path / "bundled", extra=DIGEST)
    copied = Site(tmp_path / "copied", extra=DIGEST)
    copied.edit_config(('out = "public"\n',
                        f'out = "public"\ntemplates = "{OLD_TEMPLATES.as_posix()}"\n'))
    for site in (plain, copied):
        site.run("import")
        site.run("build", "--now", "2024-12-31T12:00")
    old, new = _files(copied.out), _files(plain.out)
    assert set(old) == set(new)
    assert {k: v for k, v in old.items() if not k.endswith(".html")} == {
        k: v for k, v in new.items() if not k.endswith(".html")}
    for rel in (k for k in old if k.endswith(".html")):
        links = [set(lxml_html.fromstring(files[rel]).xpath("//a/@href"))
                 for files in (old, new)]
        assert links[0] <= links[1], rel
    (old_html, old_text), (new_html, new_text) = render_email(copied), render_email(plain)
    for part in (lxml_html.fromstring(old_html), lxml_html.fromstring(new_html)):
        assert [h.text_content() for h in part.cssselect("h3.item-title")] == [
            h.text_content() for h in lxml_html.fromstring(new_html).cssselect("h3.item-title")]
    titles = [h.text_content() for h in lxml_html.fromstring(new_html).cssselect("h3")]
    assert titles and all(t in old_text and t in new_text for t in titles)


def test_old_templates_with_a_brand_render_and_take_the_accent(tmp_path):
    """The old digest.css knows nothing of [site] accent_color, yet the email takes it (the
    brand's CSS is appended); the old pages simply show no logo."""
    site = branded(tmp_path, extra="")
    site.edit_config(('out = "public"\n',
                      f'out = "public"\ntemplates = "{OLD_TEMPLATES.as_posix()}"\n'))
    site.run("import")
    site.run("build", "--now", "2024-12-31T12:00")
    assert "logo" not in (site.out / "index.html").read_text(encoding="utf-8")
    html, _ = render_email(site)
    assert "color:#00704a" in inline_style(html, "eyebrow")


def test_branded_pages_and_email_are_valid_html(tmp_path):
    """The Nu HTML Checker finds nothing in the branded pages, and in the email only what the
    unbranded one already has (the Outlook namespaces and legacy table attributes)."""
    import json
    import subprocess

    import tools
    from test_digest_clients import LEGACY_EMAIL

    jar = tools.vnu_jar()
    site = branded(tmp_path)
    site.run("import")
    site.run("build", "--now", "2024-12-31T12:00")
    html, _ = render_email(site)
    email = tmp_path / "email.html"
    email.write_text(html, encoding="utf-8")
    pages = [site.out / "index.html", site.out / "digest" / "index.html",
             site.out / "digest" / "2024-W51.html"]
    done = subprocess.run([tools.java(), "-jar", str(jar), "--format", "json", "--errors-only",
                           *map(str, [*pages, email])], capture_output=True, text=True,
                          timeout=300)
    errors = [m for m in json.loads(done.stderr)["messages"] if m["type"] == "error"
              and not (m["url"].endswith("email.html") and LEGACY_EMAIL.search(m["message"]))]
    assert errors == []
