"""The digest's web archive in ``feedkit build``, and ``feedkit digest render`` on the CLI."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta
from email import message_from_bytes
from email.policy import default as default_policy
from pathlib import Path

import feedparser
from _digest_support import (
    SEOUL,
    SITE_AND_SENDER_TOML,
    config_for,
    korean_articles,
    store_with,
    write_config_toml,
)
from click.testing import CliRunner
from lxml import etree
from lxml import html as lxml_html

from feedkit.cli import cli
from feedkit.site.build import build

W24 = datetime(2024, 6, 10, tzinfo=SEOUL)


def _iso_label(dt: datetime) -> str:
    y, w, _ = dt.astimezone(SEOUL).isocalendar()
    return f"{y}-W{w:02d}"


def _three_weeks():
    return (korean_articles(5, W24 - timedelta(days=14), prefix="p")
            + korean_articles(7, W24, prefix="q")
            + korean_articles(4, W24 + timedelta(days=7), prefix="r"))


def test_build_writes_a_page_per_week_an_index_and_a_feed(tmp_path, backend):
    articles = _three_weeks()
    config = config_for(tmp_path, backend)
    store = store_with(tmp_path, articles, backend)
    out = tmp_path / "public"
    build(config, store, out)
    weeks = sorted({_iso_label(a.published) for a in articles}, reverse=True)
    assert weeks == ["2024-W25", "2024-W24", "2024-W22"]
    pages = sorted(p.name for p in (out / "digest").glob("20*.html"))
    assert pages == sorted(f"{w}.html" for w in weeks)

    # a week's page has every article of that week, and links to its neighbours
    page = lxml_html.parse(str(out / "digest" / "2024-W24.html")).getroot()
    hrefs = set(page.xpath("//a/@href"))
    for a in articles:
        assert (a.url in hrefs) == (_iso_label(a.published) == "2024-W24")
    assert "2024-W22.html" in hrefs and "2024-W25.html" in hrefs and "index.html" in hrefs
    assert page.xpath("//link[@rel='alternate']/@href") == ["feed.xml"]
    # web pages keep their CSS in <style> (a browser needs no inlining)
    assert "font-family" in "".join(page.xpath("//head/style/text()"))

    # the archive index lists every week, newest first, and the main index links it
    index = lxml_html.parse(str(out / "digest" / "index.html")).getroot()
    listed = [h for h in index.xpath("//a/@href") if h.startswith("20")]
    assert listed == [f"{w}.html" for w in weeks]
    main = lxml_html.parse(str(out / "index.html")).getroot()
    assert "digest/index.html" in main.xpath("//a/@href")

    # the digest feed parses cleanly and links each week's page
    feed = feedparser.parse((out / "digest" / "feed.xml").read_bytes())
    assert feed.bozo == 0, feed.get("bozo_exception")
    assert feed.version == "rss20"
    assert [e.link for e in feed.entries] == [
        f"https://news.example.org/boryeong/digest/{w}.html" for w in weeks]
    first = feed.entries[0]
    week_articles = [a for a in articles if _iso_label(a.published) == "2024-W25"]
    for a in week_articles:
        assert a.title in first.content[0].value
    root = etree.fromstring((out / "digest" / "feed.xml").read_bytes())
    self_link = root.xpath("//atom:link[@rel='self']/@href",
                           namespaces={"atom": "http://www.w3.org/2005/Atom"})
    assert self_link == ["https://news.example.org/boryeong/digest/feed.xml"]
    store.close()


def test_only_changed_weeks_are_rerendered(tmp_path, backend):
    articles = _three_weeks()
    config = config_for(tmp_path, backend)
    store = store_with(tmp_path, articles, backend)
    out = tmp_path / "public"
    build(config, store, out)
    before = {p: p.stat().st_mtime_ns for p in (out / "digest").iterdir()}

    again = build(config, store, out)
    assert again.written == []

    # change one article in W24: its page, the index (headlines) and the feed change
    changed = dataclasses.replace(articles[6], title=articles[6].title + " (수정)")
    assert _iso_label(changed.published) == "2024-W24"
    with store.transaction():
        store.upsert([changed])
    report = build(config, store, out)
    digest_written = sorted(w for w in report.written if w.startswith("digest/"))
    assert "digest/2024-W24.html" in digest_written
    assert "digest/2024-W22.html" not in digest_written
    assert "digest/2024-W25.html" not in digest_written
    assert (out / "digest" / "2024-W22.html").stat().st_mtime_ns == before[
        out / "digest" / "2024-W22.html"]
    assert "(수정)" in (out / "digest" / "2024-W24.html").read_text(encoding="utf-8")
    store.close()


def test_archive_is_deterministic(tmp_path):
    articles = _three_weeks()
    outs = []
    for name in ("one", "two"):
        folder = tmp_path / name
        folder.mkdir()
        config = config_for(folder)
        store = store_with(folder, articles)
        build(config, store, folder / "public")
        store.close()
        outs.append({p.name: p.read_bytes() for p in (folder / "public" / "digest").iterdir()})
    assert outs[0] == outs[1]


def test_web_page_has_every_article_of_a_big_week(tmp_path):
    articles = korean_articles(300, W24)
    config = config_for(tmp_path)
    store = store_with(tmp_path, articles)
    build(config, store, tmp_path / "public")
    page = (tmp_path / "public" / "digest" / "2024-W24.html").read_text(encoding="utf-8")
    assert all(a.url in page for a in articles)
    assert "더 보기" not in page
    store.close()


def test_archive_can_be_switched_off(tmp_path):
    config = config_for(tmp_path, digest={"archive": False})
    store = store_with(tmp_path, korean_articles(3, W24))
    build(config, store, tmp_path / "public")
    assert not (tmp_path / "public" / "digest").exists()
    main = (tmp_path / "public" / "index.html").read_text(encoding="utf-8")
    assert "digest/index.html" not in main
    store.close()


# -- feedkit digest render -------------------------------------------------------------------


def _cli_setup(tmp_path: Path, articles, backend=None) -> list[str]:
    store = backend.store_lines() if backend is not None else ""
    write_config_toml(tmp_path, SITE_AND_SENDER_TOML + """\
to = ["subscribers@lists.example.org"]
unsubscribe = ["mailto:leave@lists.example.org", "https://news.example.org/u?e={email}"]

""" + store)
    store_with(tmp_path, articles, backend).close()
    return ["--config", str(tmp_path / "config.toml"), "digest", "render"]


def test_cli_render_eml_is_reproducible_and_parses(tmp_path, backend):
    base = _cli_setup(tmp_path, korean_articles(6, W24), backend)
    runner = CliRunner()
    for name in ("a.eml", "b.eml"):
        result = runner.invoke(cli, [*base, "--today", "2024-06-19", "--eml",
                                     str(tmp_path / name)])
        assert result.exit_code == 0, result.output
        assert "2024-W24" in result.output and "6 article(s)" in result.output
    a, b = (tmp_path / "a.eml").read_bytes(), (tmp_path / "b.eml").read_bytes()
    assert a == b
    msg = message_from_bytes(a, policy=default_policy)
    assert msg["To"] == "subscribers@lists.example.org"
    assert msg["Date"].datetime == datetime(2024, 6, 17, tzinfo=SEOUL)
    assert "e=subscribers@lists.example.org" in msg["List-Unsubscribe"]


def test_cli_render_html_and_text_files(tmp_path):
    articles = korean_articles(4, W24)
    base = _cli_setup(tmp_path, articles)
    result = CliRunner().invoke(cli, [*base, "--week", "2024-W24", "--html",
                                      str(tmp_path / "d.html"), "--text", str(tmp_path / "d.txt"),
                                      "--web", str(tmp_path / "w.html")])
    assert result.exit_code == 0, result.output
    html = (tmp_path / "d.html").read_text(encoding="utf-8")
    text = (tmp_path / "d.txt").read_text(encoding="utf-8")
    assert all(a.url in html and a.url in text and a.title in text for a in articles)
    assert "unsubscribe.invalid" not in html + text
    assert "https://news.example.org/u?e=subscribers@lists.example.org" in text
    assert "<style>" in (tmp_path / "w.html").read_text(encoding="utf-8")


def test_cli_render_text_to_stdout(tmp_path):
    articles = korean_articles(2, W24)
    base = _cli_setup(tmp_path, articles)
    result = CliRunner().invoke(cli, [*base, "--week", "2024-W24", "--text", "-"])
    assert result.exit_code == 0
    assert articles[0].title in result.stdout


def test_cli_render_empty_week_fails_unless_allowed(tmp_path):
    base = _cli_setup(tmp_path, korean_articles(2, W24))
    runner = CliRunner()
    out = tmp_path / "empty.html"
    result = runner.invoke(cli, [*base, "--week", "2024-W30", "--html", str(out)])
    assert result.exit_code == 1
    assert "2024-W30" in result.output and "no articles" in result.output
    assert "Traceback" not in result.output
    assert not out.exists()
    result = runner.invoke(cli, [*base, "--week", "2024-W30", "--allow-empty", "--html", str(out)])
    assert result.exit_code == 0, result.output
    assert "이번 주에는 새 소식이 없습니다" in out.read_text(encoding="utf-8")


def test_cli_render_bad_week_is_one_line(tmp_path):
    base = _cli_setup(tmp_path, korean_articles(2, W24))
    result = CliRunner().invoke(cli, [*base, "--week", "2024-W99", "--html", "-"])
    assert result.exit_code == 2  # a usage error
    assert result.output.strip() == "feedkit: error: --week: 2024 has no ISO week 99"


def test_archive_pages_are_web_pages_that_say_how_to_subscribe(tmp_path):
    """No "you received this email", no unsubscribe link (personal or not) on a web page; the
    subscribe address from config and the digest feed instead. The email keeps both."""
    config = config_for(tmp_path, digest={
        "subscribe": "https://news.example.org/subscribe",
        "unsubscribe": ["mailto:leave@lists.example.org", "https://news.example.org/bye"]})
    store = store_with(tmp_path, _three_weeks())
    build(config, store, tmp_path / "public")
    store.close()
    for name in ("2024-W24.html", "index.html"):
        page = lxml_html.parse(str(tmp_path / "public" / "digest" / name)).getroot()
        text = page.text_content()
        hrefs = page.xpath("//a/@href")
        assert "받으셨습니다" not in text and "신청하셔서" not in text, name
        assert "수신 거부" not in text and "unsubscribe" not in text.lower(), name
        assert not [h for h in hrefs if "leave@" in h or h.endswith("/bye")], name
        subscribe = page.xpath("//a[@href='https://news.example.org/subscribe']")
        assert subscribe and subscribe[0].text_content() == "구독을 신청", name
        assert "feed.xml" in page.xpath("//p[contains(@class, 'subscribe')]//a/@href"), name

    from feedkit.digest.compose import load_digest
    from feedkit.digest.render import DigestRenderer
    from feedkit.digest.week import Week

    with store_with(tmp_path, []) as st:
        digest = load_digest(config, st, Week.parse("2024-W24", SEOUL))
    email = lxml_html.document_fromstring(DigestRenderer(config).email(digest).html)
    assert "신청하셔서 이 메일을 받으셨습니다" in email.text_content()
    assert "수신 거부" in email.text_content()


def test_archive_without_a_subscribe_address_still_offers_the_digest_feed(tmp_path):
    config = config_for(tmp_path)
    assert config.digest.subscribe == ""
    store = store_with(tmp_path, _three_weeks())
    build(config, store, tmp_path / "public")
    store.close()
    page = lxml_html.parse(str(tmp_path / "public" / "digest" / "2024-W24.html")).getroot()
    para = page.xpath("//p[contains(@class, 'subscribe')]")[0]
    assert para.xpath(".//a/@href") == ["feed.xml"]
    assert "구독을 신청" not in para.text_content()


def test_config_rejects_a_subscribe_value_that_is_not_a_link(tmp_path):
    import pytest

    from feedkit.config import ConfigError

    with pytest.raises(ConfigError, match=r"\[digest\] subscribe: expected a mailto: or http"):
        config_for(tmp_path, digest={"subscribe": "join us at the city hall"})


# -- completed weeks only (issue 9, item 14) -------------------------------------------------


def _digest_files(out: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((out / "digest").iterdir())}


def test_the_archive_and_digest_feed_hold_completed_weeks_only(tmp_path, backend):
    """On Wednesday of W25 the archive has W24 and before, not the week in progress."""
    articles = _three_weeks()  # W22, W24, W25
    config = config_for(tmp_path, backend)
    store = store_with(tmp_path, articles, backend)
    out = tmp_path / "public"
    build(config, store, out, now=datetime(2024, 6, 19, 9, 0, tzinfo=SEOUL))
    store.close()
    pages = sorted(p.name for p in (out / "digest").glob("20*.html"))
    assert pages == ["2024-W22.html", "2024-W24.html"]
    index = lxml_html.parse(str(out / "digest" / "index.html")).getroot()
    assert [h for h in index.xpath("//a/@href") if h.startswith("20")] == [
        "2024-W24.html", "2024-W22.html"]
    w24 = lxml_html.parse(str(out / "digest" / "2024-W24.html")).getroot()
    assert w24.xpath("//a[@rel='next']") == []  # no link to a page that does not exist yet
    feed = feedparser.parse((out / "digest" / "feed.xml").read_bytes())
    assert [e.link for e in feed.entries] == [
        "https://news.example.org/boryeong/digest/2024-W24.html",
        "https://news.example.org/boryeong/digest/2024-W22.html"]
    # the site's own feeds still carry this week's news
    site_feed = feedparser.parse((out / "feed.xml").read_bytes())
    assert any(e.link.endswith("/r0000") for e in site_feed.entries)


def test_same_store_same_day_same_archive_bytes(tmp_path):
    """Morning and night of the same Wednesday, with news arriving in between: the archive
    does not change (the new article belongs to the week in progress)."""
    articles = _three_weeks()
    late = korean_articles(1, datetime(2024, 6, 19, 12, 0, tzinfo=SEOUL), days=1, prefix="z")
    outs = []
    for name, when, extra in (("morning", datetime(2024, 6, 19, 0, 0), []),
                              ("night", datetime(2024, 6, 19, 23, 59, 59), late)):
        folder = tmp_path / name
        folder.mkdir()
        config = config_for(folder)
        with store_with(folder, articles + extra) as store:
            build(config, store, folder / "public", now=when.replace(tzinfo=SEOUL))
        outs.append(_digest_files(folder / "public"))
    assert outs[0] == outs[1]
    assert "2024-W25.html" not in outs[0]


def test_a_week_joins_the_archive_when_it_ends_even_if_the_store_did_not_change(tmp_path, backend):
    articles = _three_weeks()
    config = config_for(tmp_path, backend)
    store = store_with(tmp_path, articles, backend)
    out = tmp_path / "public"
    sunday_night = datetime(2024, 6, 23, 23, 59, 59, tzinfo=SEOUL)
    build(config, store, out, now=sunday_night)
    assert not (out / "digest" / "2024-W25.html").exists()
    assert build(config, store, out, now=sunday_night).written == []
    report = build(config, store, out, now=datetime(2024, 6, 24, 0, 0, tzinfo=SEOUL))
    store.close()
    assert "digest/2024-W25.html" in report.written
    assert "digest/feed.xml" in report.written and "digest/index.html" in report.written
    # the week before now links forward to it
    w24 = lxml_html.parse(str(out / "digest" / "2024-W24.html")).getroot()
    assert w24.xpath("//a[@rel='next']/@href") == ["2024-W25.html"]


def test_future_dated_articles_open_no_archive_week(tmp_path):
    """A record dated 2099 is held back (feeds rule); and even a site that publishes ahead
    gets no 2099-W01 page: that week has not ended."""
    future = korean_articles(1, datetime(2099, 1, 1, 9, 0, tzinfo=SEOUL), days=1, prefix="f")
    for name, publish_future in (("held", False), ("ahead", True)):
        folder = tmp_path / name
        folder.mkdir()
        config = config_for(folder, build={"out": "public",
                                           "publish_future": publish_future})
        with store_with(folder, _three_weeks() + future) as store:
            build(config, store, folder / "public",
                  now=datetime(2024, 7, 1, 9, 0, tzinfo=SEOUL))
        files = _digest_files(folder / "public")
        assert "2099-W01.html" not in files
        assert b"2099" not in files["feed.xml"] and b"2099" not in files["index.html"]
        assert sorted(f for f in files if f.startswith("20")) == [
            "2024-W22.html", "2024-W24.html", "2024-W25.html"]


def test_cli_build_now_pins_the_archive(tmp_path, backend):
    store_with(tmp_path, _three_weeks(), backend).close()
    path = write_config_toml(tmp_path, SITE_AND_SENDER_TOML + "\n" + backend.store_lines())
    result = CliRunner().invoke(cli, ["--config", str(path), "build",
                                      "--now", "2024-06-19 09:00"])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (tmp_path / "public" / "digest").glob("20*.html")) == [
        "2024-W22.html", "2024-W24.html"]
