"""With ``[web] url`` set the site's pages send readers to the endpoint's form; without it the
build is what it was (bench/compare_builds.py --check holds the byte-for-byte proof)."""

from __future__ import annotations

from lxml import html as lxml_html

FORM = "https://news.example.org/list/subscribe"


def hrefs(path) -> list[str]:
    return lxml_html.fromstring(path.read_bytes()).xpath("//a/@href")


def pages(site):
    archive = sorted((site.out / "digest").glob("20*.html"))
    feed_pages = [site.out / "feeds.html", *sorted(site.out.glob("category/*/index.html"))]
    return [site.out / "index.html", *feed_pages, site.out / "digest" / "index.html",
            archive[-1]]


def test_with_web_url_the_index_feed_pages_and_archive_link_to_the_form(site):
    site.config.write_text(site.config.read_text(encoding="utf-8")
                           + '\n[web]\nurl = "https://news.example.org/list/"\n',
                           encoding="utf-8")
    site.run("import")
    site.run("build")
    found = pages(site)
    assert len(found) >= 5
    for page in found:
        assert FORM in hrefs(page), page
    assert "주간 소식지 메일로 받기" in (site.out / "index.html").read_text(encoding="utf-8")


def test_without_it_no_page_links_to_a_form_and_setting_it_rebuilds_the_pages(site):
    site.run("import")
    site.run("build")
    for page in pages(site):
        assert not any(h.endswith("/subscribe") for h in hrefs(page)), page
    site.config.write_text(site.config.read_text(encoding="utf-8")
                           + '\n[web]\nurl = "https://news.example.org/list/"\n',
                           encoding="utf-8")
    site.run("build")
    for page in pages(site):
        assert FORM in hrefs(page), page


def test_the_form_wins_over_a_list_address_and_without_it_only_the_archive_links(site):
    # The sample config has [digest] subscribe = "mailto:subscribers-join@...": before the
    # endpoint existed, only the digest archive showed it, and so it stays without [web] url.
    site.config.write_text(site.config.read_text(encoding="utf-8")
                           + '\n[digest]\nsubscribe = "mailto:join@lists.example.org"\n',
                           encoding="utf-8")
    site.run("import")
    site.run("build")
    assert "mailto:join@lists.example.org" in hrefs(site.out / "digest" / "index.html")
    assert "mailto:join@lists.example.org" not in hrefs(site.out / "index.html")
    site.config.write_text(site.config.read_text(encoding="utf-8")
                           + '\n[web]\nurl = "https://news.example.org/list/"\n',
                           encoding="utf-8")
    site.run("build")
    for page in pages(site):
        assert FORM in hrefs(page), page
        assert "mailto:join@lists.example.org" not in hrefs(page), page
