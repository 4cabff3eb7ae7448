"""Every feed in one click (issue 28, item 2): ``public/feeds.opml``, imported by newsboat.

newsboat (the Debian package) imports the OPML file with ``-i`` into its list of feeds, then
fetches every one of them from the built folder served on loopback: all of the site's feeds (the
news, each department's, the weekly digest's) arrive, with the titles the OPML gives them.
"""

from __future__ import annotations

import functools
import http.server
import sqlite3
import subprocess
import threading
from pathlib import Path

from conftest import Site
from lxml import etree
from lxml import html as lxml_html
from tools import newsboat


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def outlines(path: Path) -> list[dict[str, str]]:
    root = etree.parse(str(path)).getroot()
    assert root.tag == "opml" and root.get("version") == "2.0"
    return [dict(o.attrib) for o in root.iter("outline") if o.get("xmlUrl")]


def test_the_opml_lists_every_feed_and_the_pages_link_to_it(built_site: Site) -> None:
    out = built_site.out
    feeds = outlines(out / "feeds.opml")
    base = "https://news.example.org/boryeong/"
    expected = {base + "feed.xml", base + "digest/feed.xml"} | {
        base + p.relative_to(out).as_posix() for p in out.glob("category/*/feed.xml")}
    assert {f["xmlUrl"] for f in feeds} == expected
    assert feeds[0]["xmlUrl"] == base + "feed.xml" and feeds[0]["text"] == "보령시 새소식"
    assert all(f["type"] == "rss" and f["title"] == f["text"] and f["htmlUrl"] for f in feeds)
    # the department feeds sit in one folder outline
    folder = etree.parse(str(out / "feeds.opml")).getroot().find("body/outline[2]")
    assert folder.get("text") == "분야별 피드" and folder.get("xmlUrl") is None
    for rel, href in (("index.html", "feeds.opml"), ("feeds.html", "feeds.opml"),
                      ("category/semugwa/index.html", "../../feeds.opml")):
        page = lxml_html.fromstring((out / rel).read_bytes())
        assert page.cssselect(f'a[href="{href}"][type="text/x-opml"]'), rel
    # the same site gives the same bytes; a rebuild leaves the file alone
    before = (out / "feeds.opml").read_bytes()
    built_site.run("build")
    assert (out / "feeds.opml").read_bytes() == before


def test_newsboat_imports_every_feed_from_the_opml_and_reads_them_all(tmp_path: Path) -> None:
    exe = newsboat()
    served = tmp_path / "site"
    site = Site(served)
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(_Quiet, directory=str(site.out)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}/"
    try:
        site.edit_config(('feed_url = "https://news.example.org/boryeong/"',
                          f'feed_url = "{base}"'))
        site.run("import")
        site.run("build", "--now", "2024-12-31T12:00")
        feeds = outlines(site.out / "feeds.opml")
        home = tmp_path / "home"
        home.mkdir()
        urls, cache = home / "urls", home / "cache.db"
        urls.write_text("", encoding="utf-8")
        env = {"HOME": str(home), "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"}
        imported = subprocess.run([exe, "-u", str(urls), "-c", str(cache), "-C", "/dev/null",
                                   "-i", str(site.out / "feeds.opml")], env=env,
                                  capture_output=True, text=True, timeout=60)
        assert imported.returncode == 0, imported.stderr
        lines = [line for line in urls.read_text(encoding="utf-8").splitlines() if line]
        assert sorted(line.split()[0] for line in lines) == sorted(f["xmlUrl"] for f in feeds)
        # the folder became a tag on each department feed
        tagged = [line for line in lines if "/category/" in line]
        assert tagged and all(line.endswith('"분야별 피드"') for line in tagged)
        subprocess.run([exe, "-u", str(urls), "-c", str(cache), "-C", "/dev/null", "-x",
                        "reload"], env=env, check=True, capture_output=True, timeout=60)
    finally:
        server.shutdown()
        server.server_close()
    with sqlite3.connect(cache) as db:
        got = dict(db.execute("SELECT rssurl, title FROM rss_feed"))
        counts = dict(db.execute("SELECT feedurl, count(*) FROM rss_item GROUP BY feedurl"))
    assert got == {f["xmlUrl"]: f["title"] for f in feeds}
    assert set(counts) == set(got) and all(counts.values())
