"""The weekly digest: week selection, grouping, the email's HTML and text, the MIME message."""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, date, datetime, timedelta
from email import message_from_bytes
from email.policy import default as default_policy
from urllib.parse import urlsplit

import cssutils
import pytest
from _digest_support import SEOUL, config_for, korean_articles, store_with
from lxml import html as lxml_html

from feedkit.config import ConfigError
from feedkit.digest.compose import allocate, load_digest, make_digest
from feedkit.digest.render import DigestRenderer
from feedkit.digest.week import Week
from feedkit.errors import FeedkitError
from feedkit.mail.message import build_message, issue_time, message_bytes, message_id
from feedkit.model import Article

W24 = datetime(2024, 6, 10, tzinfo=SEOUL)  # Monday of ISO week 2024-W24


def _art(i: int, when: datetime, category: str = "", **kw) -> Article:
    url = f"https://www.brcn.go.kr/news/{i}"
    return Article(id=url, url=url, title=kw.pop("title", f"소식 {i}"), published=when,
                   updated=when, category=category, **kw)


# -- weeks -----------------------------------------------------------------------------------


def test_week_parse_and_bounds_are_in_the_site_timezone():
    week = Week.parse("2024-W24", SEOUL)
    assert week.start == datetime(2024, 6, 10, 0, 0, tzinfo=SEOUL)
    assert week.end == datetime(2024, 6, 17, 0, 0, tzinfo=SEOUL)
    assert week.start.utcoffset() == timedelta(hours=9)
    assert week.range_text("ko") == "2024년 6월 10일 – 6월 16일"
    assert Week.parse("2024w24", SEOUL) == week


@pytest.mark.parametrize("text", ["2024-24", "W24", "2024-W54", "2023-W53", "2024-W00", ""])
def test_week_parse_rejects_bad_weeks(text):
    with pytest.raises(FeedkitError, match="--week"):
        Week.parse(text, SEOUL)


@pytest.mark.parametrize("today, expected", [
    (date(2024, 6, 17), "2024-W24"),   # Monday: the week that just ended
    (date(2024, 6, 23), "2024-W24"),   # Sunday: still the week before
    (date(2024, 6, 16), "2024-W23"),   # Sunday of W24: W24 is not complete yet
    (date(2025, 1, 1), "2024-W52"),    # across the new year
    (date(2021, 1, 4), "2020-W53"),    # a 53-week year
])
def test_default_week_is_the_last_complete_one(today, expected):
    assert Week.last_complete(today, SEOUL).label == expected


def test_week_selection_uses_seoul_midnight_not_utc(tmp_path, backend):
    config = config_for(tmp_path, backend)
    inside_first = datetime(2024, 6, 10, 0, 0, tzinfo=SEOUL)
    inside_last = datetime(2024, 6, 16, 23, 59, tzinfo=SEOUL)
    # 2024-06-16 15:30 UTC is Monday 00:30 in Seoul: next week.
    next_week = datetime(2024, 6, 16, 15, 30, tzinfo=UTC)
    before = datetime(2024, 6, 9, 23, 59, tzinfo=SEOUL)
    store = store_with(tmp_path, [_art(1, inside_first), _art(2, inside_last),
                                  _art(3, next_week), _art(4, before)], backend)
    digest = load_digest(config, store, Week.parse("2024-W24", SEOUL))
    assert sorted(a.title for a in digest.articles()) == ["소식 1", "소식 2"]
    store.close()


# -- grouping and caps -----------------------------------------------------------------------


def test_sections_follow_configured_order_then_size_then_uncategorised_last(tmp_path):
    articles = [
        _art(1, W24 + timedelta(hours=1), "관광과"),
        _art(2, W24 + timedelta(hours=2), "세무과"),
        _art(3, W24 + timedelta(hours=3), "복지과"),
        _art(4, W24 + timedelta(hours=4), "복지과"),
        _art(5, W24 + timedelta(hours=5), ""),
        _art(6, W24 + timedelta(hours=6), "관광과"),
        _art(7, W24 + timedelta(hours=7), "관광과"),
    ]
    newest_first = sorted(articles, key=lambda a: a.published, reverse=True)
    config = config_for(tmp_path, digest={"categories": ["세무과"]})
    digest = make_digest(config, Week.parse("2024-W24", SEOUL), newest_first)
    assert [s.title for s in digest.sections] == ["세무과", "관광과", "복지과", "기타 소식"]
    tour = digest.sections[1].articles
    assert [a.title for a in tour] == ["소식 7", "소식 6", "소식 1"]


def test_allocate_is_round_robin_and_respects_per_section_cap(tmp_path):
    week = Week.parse("2024-W24", SEOUL)
    arts = korean_articles(10, W24, categories=["가"]) + korean_articles(
        2, W24, categories=["나"], prefix="b")
    config = config_for(tmp_path)
    digest = make_digest(config, week, arts)
    assert allocate(digest.sections, None) == [10, 2]
    assert allocate(digest.sections, 5) == [3, 2]
    assert allocate(digest.sections, 1) == [1, 0]
    assert allocate(digest.sections, None, per_section=4) == [4, 2]


# -- the email HTML --------------------------------------------------------------------------


def _email(tmp_path, n=12, **digest_cfg):
    config = config_for(tmp_path, digest=digest_cfg) if digest_cfg else config_for(tmp_path)
    week = Week.parse("2024-W24", SEOUL)
    digest = make_digest(config, week, sorted(korean_articles(n, W24), reverse=True,
                                              key=lambda a: a.published))
    renderer = DigestRenderer(config)
    return config, digest, renderer, renderer.email(digest)


def test_email_html_structure_follows_email_practice(tmp_path):
    _config, digest, _renderer, body = _email(tmp_path)
    doc = lxml_html.document_fromstring(body.html)
    assert doc.get("lang") == "ko"
    assert "<!--[if mso]>" in body.html and 'width="600"' in body.html
    tables = doc.xpath("//table")
    assert tables and all(t.get("role") == "presentation" for t in tables)
    assert doc.xpath("//h1") and len(doc.xpath("//h2")) == len(digest.sections)
    # the week as people say it (issue 9 item 12), never the ISO "2024-W24"
    assert "2024년 6월 둘째 주" in doc.xpath("string(//p[@class='eyebrow'])")
    assert "6월 10일 – 16일" in doc.xpath("string(//p[@class='week'])")
    assert "W24" not in doc.xpath("string(//body)").replace("2024-W24.html", "")
    pre = doc.xpath("//div[contains(@class, 'preheader')]")[0]
    assert digest.articles()[0].title in pre.text_content()
    # folded to no height, not display:none (which spam filters read as hidden text: issue 22)
    assert "max-height:0" in pre.get("style").replace(" ", "")
    # each article: title as a link to its URL, a Korean date, the category
    for a in digest.articles():
        link = doc.xpath(f"//a[@href='{a.url}']")
        assert link and link[0].text_content() == a.title
    first = digest.articles()[0].published
    assert f"{first.month}월 {first.day}일 (" in body.html
    assert "word-break:keep-all" in body.html.replace(" ", "")
    assert "Malgun Gothic" in body.html and "Apple SD Gothic Neo" in body.html
    footer = doc.xpath("string(//td[contains(@class, 'footer')])")
    assert "신청" in footer  # why the reader gets it
    hrefs = set(doc.xpath("//a/@href"))
    assert "https://news.example.org/boryeong/digest/2024-W24.html" in hrefs  # web view
    assert "https://news.example.org/boryeong/feed.xml" in hrefs  # feed
    assert any(h.startswith("https://unsubscribe.invalid/") for h in hrefs)  # placeholder


def _plain_rules(css_text: str):
    """(selector, {property: value}) of every rule premailer must inline: no @media, no
    pseudo-classes."""
    sheet = cssutils.parseString(css_text, validate=False)
    for rule in sheet:
        if rule.type != rule.STYLE_RULE:
            continue
        for selector in rule.selectorList:
            text = selector.selectorText
            if ":" in text:
                continue
            props = {p.name: p.value for p in rule.style}
            yield text, props


def test_all_styling_is_inlined_and_media_rules_are_kept(tmp_path):
    from cssselect import GenericTranslator

    _config, _digest, renderer, body = _email(tmp_path)
    doc = lxml_html.document_fromstring(body.html)
    checked = 0
    for selector, props in _plain_rules(renderer.css):
        for el in doc.xpath(GenericTranslator().css_to_xpath(selector)):
            style = (el.get("style") or "").replace(" ", "").lower()
            for name in props:
                assert f"{name}:" in style, f"{selector}: {name} not inlined on <{el.tag}>"
            checked += 1
    assert checked > 50
    head_css = "".join(doc.xpath("//head/style/text()"))
    assert "@media screen and (max-width" in head_css
    assert "prefers-color-scheme: dark" in head_css
    dark = head_css[head_css.index("prefers-color-scheme"):]
    assert dark.count("!important") >= 5
    # nothing but @media and pseudo-class rules is left in <head>
    for rule in cssutils.parseString(head_css, validate=False):
        assert rule.type == rule.MEDIA_RULE or ":" in rule.selectorText
    assert re.search(r"#[0-9a-f]{3}[;\"' ]", body.html) is None  # six-digit colours only


def test_lead_images_have_empty_alt_because_the_title_follows(tmp_path):
    """Image-blocking clients (Outlook, Naver Mail) show alt text in place of the image: with
    the title as alt, every title showed twice. The image is decorative next to its title."""
    config = config_for(tmp_path)
    arts = [dataclasses.replace(a, image=f"https://www.brcn.go.kr/img/{i}.jpg")
            for i, a in enumerate(korean_articles(4, W24))]
    digest = make_digest(config, Week.parse("2024-W24", SEOUL), arts)
    html = DigestRenderer(config).email(digest).html
    images = lxml_html.document_fromstring(html).xpath("//img")
    assert len(images) == 4
    for img in images:
        assert img.get("alt") == ""  # present and empty
        title = img.getnext()
        assert title.tag == "h3" and title.text_content().startswith("보령시, ")


def test_a_300_article_week_fits_under_gmails_clip_and_links_the_rest(tmp_path):
    config, digest, _renderer, body = _email(tmp_path, n=300)
    msg = build_message(config, digest, body, "s", "a@example.com", issue_time(digest.week))
    received = message_from_bytes(message_bytes(msg), policy=default_policy)
    size = len(received.get_body(("html",)).get_payload(decode=True))
    assert config.digest.max_html_bytes == 100_000
    assert 95_000 < size <= 100_000, size  # as a mail client decodes it; capped, not emptied
    assert 0 < body.shown < 300 and body.hidden == 300 - body.shown
    doc = lxml_html.document_fromstring(body.html)
    shown_links = {a.url for a in digest.articles()} & set(doc.xpath("//a/@href"))
    assert len(shown_links) == body.shown
    assert f"이번 주 소식 {body.hidden}건 더 보기" in doc.text_content()
    more = doc.xpath("//a[contains(@class, 'more-link')]/@href")
    assert more and all(h.startswith(
        "https://news.example.org/boryeong/digest/2024-W24.html#") for h in more)
    # every section still appears
    assert len(doc.xpath("//h2")) == len(digest.sections)
    # the text part lists exactly the shown articles
    urls_in_text = {u for u in re.findall(r"https://www\.brcn\.go\.kr/news/\S+", body.text)}
    assert urls_in_text == shown_links


def test_max_items_caps_each_section(tmp_path):
    _config, digest, _renderer, body = _email(tmp_path, n=40, max_items=3)
    assert body.shown == 3 * len(digest.sections)
    assert body.counts == [3] * len(digest.sections)


def test_a_small_week_is_not_capped(tmp_path):
    _config, _digest, _renderer, body = _email(tmp_path, n=12)
    assert body.shown == 12 and body.hidden == 0
    assert "더 보기" not in body.html


def test_hostile_article_content_shows_no_executable_markup(tmp_path):
    config = config_for(tmp_path)
    evil = Article(
        id="x", url="javascript:alert(1)",
        title='<script>alert("t")</script><img src=x onerror=alert(2)>',
        published=W24 + timedelta(hours=3), updated=W24 + timedelta(hours=3),
        summary='"><svg onload=alert(3)> </p><iframe src="javascript:alert(4)">',
        category='"><script>alert(5)</script>', image="javascript:alert(6)",
    )
    evil2 = dataclasses.replace(evil, id="y", url="https://ok.example/a\"onmouseover=\"x",
                                image="data:image/svg+xml,<svg onload=alert(7)>")
    digest = make_digest(config, Week.parse("2024-W24", SEOUL), [evil, evil2])
    renderer = DigestRenderer(config)
    for html in (renderer.email(digest).html, renderer.web_page(digest)):
        doc = lxml_html.document_fromstring(html)
        assert not doc.xpath("//script | //iframe | //svg | //object | //embed")
        for el in doc.iter():
            if not isinstance(el.tag, str):
                continue
            for name, value in el.attrib.items():
                assert not name.lower().startswith("on"), (el.tag, name)
                if name in ("href", "src"):
                    assert urlsplit(value).scheme in ("", "http", "https", "mailto"), value
                    assert "alert" not in value, value
        # the text survived, visibly, as text
        assert '<script>alert("t")</script>' in doc.text_content()


def test_text_part_has_every_shown_article(tmp_path):
    _config, digest, _renderer, body = _email(tmp_path, n=9)
    for a in digest.articles():
        local = a.published.astimezone(SEOUL)
        assert a.title in body.text
        assert a.url in body.text
        assert f"{local.month}월 {local.day}일" in body.text
    assert "<" not in body.text.replace("<digest", "")  # not HTML
    assert "https://news.example.org/boryeong/digest/2024-W24.html" in body.text


# -- the message -----------------------------------------------------------------------------


def test_message_headers_and_parts(tmp_path):
    config, digest, renderer, body = _email(tmp_path, n=5)
    when = issue_time(digest.week)
    msg = build_message(config, digest, body, renderer.subject(digest), "reader@example.com",
                        when)
    parsed = message_from_bytes(message_bytes(msg), policy=default_policy)
    assert parsed.get_content_type() == "multipart/alternative"
    parts = list(parsed.iter_parts())
    assert [p.get_content_type() for p in parts] == ["text/plain", "text/html"]
    assert all(p.get_content_charset() == "utf-8" for p in parts)
    assert parsed["Subject"] == "보령시 주간 소식 · 6월 둘째 주 (6월 10일 – 16일)"
    raw_headers = message_bytes(msg).split(b"\r\n\r\n")[0]
    assert raw_headers.isascii()  # Korean is RFC 2047-encoded
    assert parsed["From"].addresses[0].addr_spec == "news@example.org"
    assert parsed["From"].addresses[0].display_name == "보령시 소식"
    assert parsed["To"] == "reader@example.com"
    assert parsed["Message-ID"].endswith("@example.org>")
    assert "<digest.news.example.org>" in parsed["List-Id"]
    assert parsed["List-Unsubscribe"] == ("<mailto:leave@lists.example.org>, "
                                          "<https://news.example.org/unsubscribe>")
    # an https link, but no endpoint ([web] url) to take the one-click POST (issue 22)
    assert parsed["List-Unsubscribe-Post"] is None
    assert parsed["Date"].datetime == when
    html_part = parts[1].get_content()
    assert "https://news.example.org/unsubscribe" in html_part
    assert "unsubscribe.invalid" not in html_part + parts[0].get_content()


def test_long_unsubscribe_urls_are_folded_between_entries_not_encoded(tmp_path):
    long = "https://news.example.org/unsubscribe/" + "x" * 120 + "?e={email}"
    config, digest, _renderer, body = _email(tmp_path, n=1, unsubscribe=[
        "mailto:leave@lists.example.org?subject=unsubscribe", long])
    raw = message_bytes(build_message(config, digest, body, "s", "r@example.com",
                                      issue_time(digest.week)))
    head = raw.split(b"\r\n\r\n")[0].decode("ascii")
    line = re.search(r"List-Unsubscribe: (.*?)\r\n(?! )", head, re.S)[1]
    assert "=?" not in line
    assert line.replace("\r\n ", " ") == (
        "<mailto:leave@lists.example.org?subject=unsubscribe>, <"
        + long.format(email="r@example.com") + ">")
    parsed = message_from_bytes(raw, policy=default_policy)
    assert long.format(email="r@example.com") in str(parsed["List-Unsubscribe"])


def test_no_one_click_header_without_https_unsubscribe(tmp_path):
    config, digest, _renderer, body = _email(tmp_path, n=2,
                                            unsubscribe="mailto:leave@lists.example.org")
    msg = build_message(config, digest, body, "s", "r@example.com", issue_time(digest.week))
    assert msg["List-Unsubscribe"] == "<mailto:leave@lists.example.org>"
    assert msg["List-Unsubscribe-Post"] is None


def test_message_id_is_stable_per_week_and_recipient(tmp_path):
    config = config_for(tmp_path)
    w24, w25 = Week.parse("2024-W24", SEOUL), Week.parse("2024-W25", SEOUL)
    a = message_id(config, w24, "A@example.com", "example.org")
    assert a == message_id(config, w24, "a@example.com", "example.org")
    assert a != message_id(config, w25, "a@example.com", "example.org")
    assert a != message_id(config, w24, "b@example.com", "example.org")
    assert re.fullmatch(r"<[^<>@\s]+@example\.org>", a)


def test_personal_unsubscribe_links(tmp_path, monkeypatch):
    config, digest, _renderer, body = _email(
        tmp_path, n=2, unsubscribe=["https://news.example.org/u?e={email}&t={token}"])
    monkeypatch.delenv("FEEDKIT_UNSUBSCRIBE_SECRET", raising=False)
    with pytest.raises(FeedkitError, match="FEEDKIT_UNSUBSCRIBE_SECRET"):
        build_message(config, digest, body, "s", "a@example.com", issue_time(digest.week))
    monkeypatch.setenv("FEEDKIT_UNSUBSCRIBE_SECRET", "s3cret")
    links = {}
    for rcpt in ("a+x@example.com", "b@example.com"):
        msg = build_message(config, digest, body, "s", rcpt, issue_time(digest.week))
        header = msg["List-Unsubscribe"]
        assert header.startswith("<https://news.example.org/u?e=")
        html_part = msg.get_body(("html",)).get_content()
        href = re.search(r'href="(https://news\.example\.org/u\?[^"]+)"', html_part)[1]
        assert href.replace("&amp;", "&") == header[1:-1]
        links[rcpt] = header
    assert links["a+x@example.com"] != links["b@example.com"]
    assert "a%2Bx@example.com" in links["a+x@example.com"]


# -- config ----------------------------------------------------------------------------------


def test_config_rejects_unknown_subject_placeholder(tmp_path):
    with pytest.raises(ConfigError, match=r"\[digest\] subject"):
        config_for(tmp_path, digest={"subject": "{site} {week_label}"})


def test_config_rejects_bad_tls_mode_and_unsubscribe(tmp_path):
    with pytest.raises(ConfigError, match=r"\[smtp\] tls"):
        config_for(tmp_path, smtp={"tls": "ssl"})
    with pytest.raises(ConfigError, match=r"\[digest\] unsubscribe"):
        config_for(tmp_path, digest={"unsubscribe": "ftp://x.example/u"})
    with pytest.raises(ConfigError, match=r"\[digest\] unsubscribe"):
        config_for(tmp_path, digest={"unsubscribe": "https://x.example/u?{name}"})


def test_smtp_tls_mode_defaults_follow_starttls(tmp_path):
    assert config_for(tmp_path, smtp={"tls": ""}).smtp.tls_mode == "starttls"
    assert config_for(tmp_path, smtp={"tls": "", "starttls": False}).smtp.tls_mode == "none"
    assert config_for(tmp_path, smtp={"tls": "implicit"}).smtp.tls_mode == "implicit"


def test_rendering_is_quiet_on_stderr(tmp_path, capfd):
    _email(tmp_path, n=30)  # mso-* and -webkit-* properties must not make cssutils complain
    captured = capfd.readouterr()
    assert captured.err == "" and captured.out == ""


def test_own_templates_folder_overrides_the_bundled_css(tmp_path):
    from feedkit.text.templating import find_template

    own = tmp_path / "mine"
    own.mkdir()
    bundled = find_template("digest.css", None).read_text(encoding="utf-8")
    (own / "digest.css").write_text(bundled.replace("#0b57d0", "#aa3300"), encoding="utf-8")
    _config, _digest, _renderer, body = _email(tmp_path, n=3, templates="mine")
    assert "#aa3300" in body.html and "#0b57d0" not in body.html


def test_safe_url_keeps_http_links_and_drops_spaces_controls_and_other_schemes():
    from feedkit.digest.render import safe_url

    for good in ("https://www.brcn.go.kr/news/view.do?nttId=1", "http://a.example/보령?q=가#x"):
        assert safe_url(good) == good
    for bad in ("javascript:alert(1)", "ftp://a.example/f", "https:///nohost", "http://[::1",
                "https://a.example/a b", "https://a.example/a\tb", "https://a.example/\x07",
                "https://a.example/a\x1fb", "https://a.example/a\u00a0b",   # no-break space
                "https://a.example/a\u3000b", "https://a.example/a\u2028b"):  # ideographic, LS
        assert safe_url(bad) == "", bad
