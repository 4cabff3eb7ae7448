"""``feedkit serve``: a real http.server on 127.0.0.1 (port 0, in a thread), fetched over HTTP.

The built files must come back byte for byte with types a browser displays; the digest preview
must show the store's articles for the pinned week and be rendered live; nothing outside the
output folder may be reachable. The CLI command itself runs once as a real process, stopped
with SIGINT like a user's Ctrl-C.
"""

from __future__ import annotations

import http.client
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from contextlib import contextmanager
from datetime import date, datetime, time, timedelta
from email.message import Message
from http.cookiejar import CookieJar
from zoneinfo import ZoneInfo

import pytest
from conftest import REPO, Site
from lxml import html as lxml_html

from feedkit.config import load_config
from feedkit.site.serve import is_loopback, make_server, url_for

SEOUL = ZoneInfo("Asia/Seoul")


# One browser: it keeps the preview's cookie, set by opening the address serve prints.
BROWSER = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))


@contextmanager
def running(site: Site, *, login: bool = True, **kw):
    """The real server for ``site``, serving in a thread until the block ends; ``login``:
    the browser has opened the printed preview address (so it holds the cookie)."""
    server = make_server(load_config(site.config), host="127.0.0.1", port=0, **kw)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        if login:
            assert fetch(server.preview.key.address(server.url("/_preview/")))[0] == 200
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def fetch(url: str, method: str = "GET") -> tuple[int, Message, bytes]:
    """(status, headers (case-insensitive), body), for error statuses too."""
    req = urllib.request.Request(url, method=method)
    try:
        with BROWSER.open(req, timeout=10) as resp:
            return resp.status, resp.headers, resp.read()
    except urllib.error.HTTPError as err:
        return err.code, err.headers, err.read()


def raw_get(server, path: str) -> tuple[int, bytes]:
    """GET with the path sent exactly as written (no client-side normalisation)."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        conn.putrequest("GET", path, skip_accept_encoding=True)
        conn.endheaders()
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def week_bounds(label: str) -> tuple[int, int]:
    """[start, end) of an ISO week in Seoul, as the store's unix timestamps."""
    year, number = label.split("-W")
    monday = date.fromisocalendar(int(year), int(number), 1)
    start = datetime.combine(monday, time(0), tzinfo=SEOUL)
    return int(start.timestamp()), int((start + timedelta(days=7)).timestamp())


def titles_in(site: Site, label: str) -> set[str]:
    start, end = week_bounds(label)
    return {t for (t,) in site.rows(
        "SELECT title FROM articles WHERE published_ts >= ? AND published_ts < ?", start, end)}


def week_of(ts: int) -> str:
    year, number, _ = datetime.fromtimestamp(ts, SEOUL).isocalendar()
    return f"{year}-W{number:02d}"


def page_text(body: bytes) -> str:
    return lxml_html.fromstring(body.decode("utf-8")).text_content()


# -- static files ------------------------------------------------------------------------------


def test_built_files_come_back_byte_for_byte_with_browser_content_types(built_site):
    expected = {
        "index.html": "text/html; charset=utf-8",
        "feed.xml": "application/xml; charset=utf-8",
        "atom.xml": "application/xml; charset=utf-8",
        "feed.json": "application/json; charset=utf-8",
        "feed.xsl": "text/xsl; charset=utf-8",
        "feeds.html": "text/html; charset=utf-8",
        "digest/feed.xml": "application/xml; charset=utf-8",
    }
    # feed.xsl is written only for sites that ask for it.
    built_site.edit_config(("[feeds]\n", "[feeds]\nstylesheet = true\n"))
    built_site.run("build")
    with running(built_site) as server:
        for rel, ctype in expected.items():
            status, headers, body = fetch(server.url("/" + rel))
            assert status == 200, rel
            assert headers["Content-Type"] == ctype, rel
            assert body == (built_site.out / rel).read_bytes(), rel
        # "/" is the built front page, not a listing.
        status, headers, body = fetch(server.url("/"))
        assert status == 200 and body == (built_site.out / "index.html").read_bytes()


def test_unknown_paths_are_404(built_site):
    with running(built_site) as server:
        for path in ("/nope.html", "/category/nope/feed.xml", "/_preview/nope",
                     "/_preview/digest/2024-W60", "/_preview/digest/2024-W24/extra"):
            status, _headers, _body = fetch(server.url(path))
            assert status == 404, path


TRAVERSALS = [
    "/../config.toml",
    "/%2e%2e/config.toml",
    "/%2E%2E/config.toml",
    "/%2e%2e%2fconfig.toml",
    "/..%2fconfig.toml",
    "/..%2Fconfig.toml",
    "/digest/../../config.toml",
    "/digest/%2e%2e/%2e%2e/config.toml",
    "//../config.toml",
    "/./.././config.toml",
    "/..%5cconfig.toml",
    "/%2e%2e%5cconfig.toml",
    "/../articles.db",
]


def test_path_traversal_never_leaves_the_output_folder(built_site):
    secret = built_site.config.read_bytes()
    with running(built_site) as server:
        for path in TRAVERSALS:
            status, body = raw_get(server, path)
            assert status in (400, 404), path
            assert secret not in body and b"SQLite format" not in body, path
        # "/../" collapses to "/": the output folder's own front page, not the folder above.
        status, body = raw_get(server, "/../")
        assert status == 200 and body == (built_site.out / "index.html").read_bytes()
        assert b"config.toml" not in body


def test_a_symlink_out_of_the_folder_is_not_followed(built_site):
    (built_site.out / "leak.toml").symlink_to(built_site.config)
    (built_site.out / "up").symlink_to(built_site.root, target_is_directory=True)
    with running(built_site) as server:
        for path in ("/leak.toml", "/up/config.toml", "/up/"):
            status, body = raw_get(server, path)
            assert status == 404, path
            assert built_site.config.read_bytes() not in body and b"config.toml" not in body


def test_a_directory_index_symlinked_out_of_the_folder_is_not_served(built_site):
    """Issue 14: public/x/index.html -> /etc/passwd was served for /x/."""
    passwd = built_site.root.joinpath("/etc/passwd").read_bytes()
    (built_site.out / "x").mkdir()
    (built_site.out / "x" / "index.html").symlink_to("/etc/passwd")
    (built_site.out / "y").mkdir()
    (built_site.out / "y" / "index.htm").symlink_to(built_site.config)
    # A symlink that stays inside the folder is still fine.
    (built_site.out / "z").mkdir()
    (built_site.out / "z" / "index.html").symlink_to(built_site.out / "index.html")
    with running(built_site) as server:
        for path in ("/x/", "/x", "/x/index.html", "/y/", "/y/index.htm"):
            status, body = raw_get(server, path)
            assert status == 404, path
            assert passwd not in body and built_site.config.read_bytes() not in body, path
        status, body = raw_get(server, "/z/")
        assert status == 200 and body == (built_site.out / "index.html").read_bytes()


# -- the digest preview --------------------------------------------------------------------------


def test_preview_shows_the_pinned_weeks_articles_as_digest_render_does(built_site):
    # The week of the newest article, whichever that is in the sample.
    (newest,) = built_site.rows("SELECT max(published_ts) FROM articles")[0]
    label = week_of(newest)
    wanted = titles_in(built_site, label)
    others = {t for (t,) in built_site.rows("SELECT title FROM articles")} - wanted
    assert wanted and others
    # A day of the week after: /_preview/digest is the week `digest send` sends next.
    pinned = datetime.fromtimestamp(newest, SEOUL).date() + timedelta(days=7)
    with running(built_site, today=pinned) as server:
        status, headers, body = fetch(server.url("/_preview/digest"))
        assert status == 200
        assert headers["Content-Type"] == "text/html; charset=utf-8"
        assert headers["Cache-Control"] == "no-store"
        text = page_text(body)
        for title in wanted:
            assert title in text
        for title in others:
            assert title not in text
        # The same week by its label gives the same page.
        assert fetch(server.url(f"/_preview/digest/{label}"))[2] == body
        status, headers, plain = fetch(server.url("/_preview/digest.txt"))
        assert status == 200 and headers["Content-Type"] == "text/plain; charset=utf-8"
        assert all(t in plain.decode("utf-8") for t in wanted)
        assert fetch(server.url(f"/_preview/digest/{label}.txt"))[2] == plain
        status, headers, empty = fetch(server.url("/_preview/digest"), method="HEAD")
        assert status == 200 and empty == b"" and int(headers["Content-Length"]) == len(body)

    # What a recipient gets: the inlined email, exactly as `digest render` writes it.
    rendered = built_site.run("digest", "render", "--week", label, "--html", "-")
    assert body == rendered.stdout_bytes
    assert b' style="' in body
    rendered_text = built_site.run("digest", "render", "--week", label, "--text", "-")
    assert plain == rendered_text.stdout_bytes


def test_an_empty_week_says_so_and_links_to_the_latest_week_with_news(built_site):
    stamps = sorted(ts for (ts,) in built_site.rows("SELECT published_ts FROM articles"))
    weeks = sorted({week_of(ts) for ts in stamps})
    # A day two weeks after the second-newest article's week... that has no news of its own.
    day = datetime.fromtimestamp(stamps[-2], SEOUL).date() + timedelta(days=14)
    empty_label = f"{day.isocalendar()[0]}-W{day.isocalendar()[1]:02d}"
    assert empty_label not in weeks
    latest_before = max(w for w in weeks if w <= empty_label)
    # Pinned a week later: the empty week is the one due, which /_preview/digest shows.
    with running(built_site, today=day + timedelta(days=7)) as server:
        status, headers, body = fetch(server.url("/_preview/digest"))
        assert status == 200 and headers["Content-Type"] == "text/html; charset=utf-8"
        doc = lxml_html.fromstring(body.decode("utf-8"))
        assert empty_label in doc.text_content()
        assert "소식이 없" in doc.text_content()   # the sample site is Korean
        links = doc.xpath("//a/@href")
        assert f"/_preview/digest/{latest_before}" in links
        status, _headers, linked = fetch(server.url(f"/_preview/digest/{latest_before}"))
        assert status == 200
        assert all(t in page_text(linked) for t in titles_in(built_site, latest_before))
        status, _headers, plain = fetch(server.url("/_preview/digest.txt"))
        assert status == 200 and f"/_preview/digest/{latest_before}" in plain.decode("utf-8")
        # The index lists every week with news.
        status, _headers, index = fetch(server.url("/_preview/"))
        hrefs = lxml_html.fromstring(index.decode("utf-8")).xpath("//a/@href")
        assert {f"/_preview/digest/{w}" for w in weeks} <= set(hrefs)


def test_preview_is_rendered_live_from_the_templates_on_disk(tmp_path):
    site = Site(tmp_path, extra='\n[digest]\ntemplates = "mine"\n')
    mine = tmp_path / "mine"
    mine.mkdir()
    template = mine / "digest.html.j2"
    original = (REPO / "templates" / "digest.html.j2").read_text(encoding="utf-8")
    template.write_text(original, encoding="utf-8")
    site.run("import")
    site.run("build")
    (newest,) = site.rows("SELECT max(published_ts) FROM articles")[0]
    label = week_of(newest)
    marker = "미리보기-표시-7f3e"
    with running(site) as server:
        url = server.url(f"/_preview/digest/{label}")
        assert marker not in fetch(url)[2].decode("utf-8")
        template.write_text(original.replace("</body>", f"<p>{marker}</p></body>"),
                            encoding="utf-8")
        stamp = template.stat().st_mtime + 5
        os.utime(template, (stamp, stamp))
        assert marker in fetch(url)[2].decode("utf-8")
        # A broken template while editing: an error page naming it, the server keeps running.
        template.write_text("{% if %}", encoding="utf-8")
        os.utime(template, (stamp + 5, stamp + 5))
        status, _headers, body = fetch(url)
        assert status == 500 and b"digest.html.j2" in body and b"template error" in body
        assert fetch(server.url("/index.html"))[0] == 200


# -- helpers -------------------------------------------------------------------------------------


@pytest.mark.parametrize("host, loopback", [
    ("127.0.0.1", True), ("127.0.0.2", True), ("localhost", True), ("::1", True),
    ("[::1]", True), ("0.0.0.0", False), ("::", False), ("192.168.0.10", False),
    ("example.org", False),
])
def test_is_loopback(host, loopback):
    assert is_loopback(host) is loopback


def test_printed_urls_open_in_a_browser():
    assert url_for("0.0.0.0", 8000) == "http://127.0.0.1:8000/"
    assert url_for("::1", 8000, "/_preview/digest") == "http://[::1]:8000/_preview/digest"


# -- the CLI -------------------------------------------------------------------------------------


def test_serve_help_documents_the_options_and_the_preview(site):
    result = site.run("serve", "--help")
    for option in ("--port", "--host", "--no-build", "--today"):
        assert option in result.output
    assert "/_preview/digest" in result.output


def test_a_port_in_use_is_a_one_line_error(built_site):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = built_site.run("serve", "--no-build", "--port", str(port), ok=False)
    assert result.exit_code != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("feedkit: error:")
    assert f":{port}" in lines[0] and "cannot listen" in lines[0]
    assert "Traceback" not in result.output


def test_a_non_loopback_host_is_warned_about(built_site):
    # 192.0.2.1 (TEST-NET-1) is on no interface here: the warning comes first, then the
    # bind fails, so nothing is ever exposed.
    result = built_site.run("serve", "--no-build", "--host", "192.0.2.1", "--port", "0",
                            ok=False)
    assert "not a loopback address" in result.stderr
    assert result.exit_code != 0 and "cannot listen" in result.stderr


def test_no_build_without_an_output_folder_fails_cleanly(site):
    site.run("import")
    result = site.run("serve", "--no-build", "--port", "0", ok=False)
    assert result.exit_code != 0 and "no such folder" in result.stderr


def test_cli_builds_serves_and_stops_cleanly_on_ctrl_c(site):
    site.run("import")
    env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "feedkit", "--config", str(site.config), "serve", "--port", "0",
         "--today", "2024-08-09"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        url = None
        for line in proc.stdout:
            m = re.search(r"at (http://127\.0\.0\.1:\d+/)", line)
            if m:
                url = m.group(1)
                break
        assert url, proc.stderr.read()
        # It built first: the served front page is the one now on disk.
        status, _headers, body = fetch(url)
        assert status == 200 and body == (site.out / "index.html").read_bytes()
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=15)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
    assert "Traceback" not in err and "Stopped." in out


def test_preview_footer_shows_the_first_recipients_link_or_a_shared_one(tmp_path, monkeypatch):
    site = Site(tmp_path, extra='\n[digest]\nto = ["reader@example.org"]\nunsubscribe = '
                                '["https://news.example.org/leave?e={email}&t={token}", '
                                '"mailto:leave@example.org"]\n')
    site.run("import")
    site.run("build")
    (newest,) = site.rows("SELECT max(published_ts) FROM articles")[0]
    path = f"/_preview/digest/{week_of(newest)}"
    monkeypatch.delenv("FEEDKIT_UNSUBSCRIBE_SECRET", raising=False)
    with running(site) as server:
        # No secret for {token}: the preview still renders, with the link everyone shares.
        status, _headers, body = fetch(server.url(path))
        assert status == 200
        hrefs = lxml_html.fromstring(body.decode("utf-8")).xpath("//a/@href")
        assert "mailto:leave@example.org" in hrefs
        assert not any("leave?e=" in h for h in hrefs)
        monkeypatch.setenv("FEEDKIT_UNSUBSCRIBE_SECRET", "s3cret")
        hrefs = lxml_html.fromstring(fetch(server.url(path))[2].decode("utf-8")).xpath("//a/@href")
        personal = [h for h in hrefs if h.startswith("https://news.example.org/leave?")]
        assert personal and "e=reader@example.org" in personal[0]


# -- the editor's Monday: the due week first, staff pages like the rest -------------------------


def approval_site(tmp_path) -> Site:
    site = Site(tmp_path, extra="\n[digest]\nrequire_approval = true\n")
    site.run("import")
    site.run("build")
    return site


def test_the_week_that_is_due_comes_first_with_its_approval_state(tmp_path):
    """On the Tuesday after 2024-W51 the week waiting for approval is W51, not the week under
    way (W52): serve names it first, with its state, and /_preview/digest is it."""
    from feedkit.site.serve import preview_lines

    site = approval_site(tmp_path)
    tuesday = date(2024, 12, 24)
    with running(site, today=tuesday) as server:
        first, preview, this_week, index = preview_lines(server)
        assert first == ("Next digest, week 2024-W51 (2024년 12월 16일 – 12월 22일): "
                         "1 article(s), waiting for approval (run 'feedkit digest approve "
                         "--week 2024-W51' once it is checked)")
        assert preview == ("  preview (open this address first: it holds this session's key): "
                           f"{server.preview.key.address(server.url('/_preview/digest'))}"
                           f" · plain text: {server.url('/_preview/digest.txt')}")
        assert this_week == ("This week so far (2024-W52): "
                             f"{server.url('/_preview/digest/2024-W52')}")
        assert index == f"All weeks and a test send: {server.url('/_preview/')}"
        # The preview without a week is the due week's email, as `digest render` writes it.
        assert fetch(server.url("/_preview/digest"))[2] == site.run(
            "digest", "render", "--week", "2024-W51", "--html", "-").stdout_bytes
        doc = lxml_html.fromstring(fetch(server.url("/_preview/"))[2].decode("utf-8"))
        (due,) = doc.xpath("//section[@id='due']")
        assert due.xpath("h3/text()")[0].strip() == "다음 소식지: 2024-W51"
        assert "승인 대기 중" in due.text_content() and "--week 2024-W51" in due.text_content()
        text = doc.text_content()
        assert text.index("다음 소식지: 2024-W51") < text.index("이번 주 (진행 중)")
        assert doc.xpath("//select[@name='week']/option[@selected]/@value") == ["2024-W51"]

        site.run("digest", "approve", "--week", "2024-W51", "--now", "2024-12-24 09:00")
        assert preview_lines(server)[0] == (
            "Next digest, week 2024-W51 (2024년 12월 16일 – 12월 22일): 1 article(s), "
            "approved; the next 'feedkit digest send' sends it")
        doc = lxml_html.fromstring(fetch(server.url("/_preview/"))[2].decode("utf-8"))
        assert "승인됨: 다음 예약 실행 때 발송됩니다." in doc.xpath("//section[@id='due']")[0] \
            .text_content()

    # No approval needed, sent on Tuesdays, seen on the Monday: when it goes out.
    plain = Site(tmp_path / "plain", extra='\n[digest]\nsend_day = "tuesday"\n')
    plain.run("import")
    plain.run("build")
    with running(plain, today=date(2024, 12, 23)) as server:
        assert preview_lines(server)[0] == (
            "Next digest, week 2024-W51 (2024년 12월 16일 – 12월 22일): 1 article(s), "
            "'feedkit digest send' sends it from 2024-12-24 08:00 (Asia/Seoul)")
        doc = lxml_html.fromstring(fetch(server.url("/_preview/"))[2].decode("utf-8"))
        assert ("2024년 12월 24일 (화) 08:00부터 발송됩니다."
                in doc.xpath("//section[@id='due']")[0].text_content())


def test_the_staff_pages_speak_the_sites_language_and_look_like_its_pages(tmp_path):
    """The preview's index, a week without news and a test send's outcome were bare English
    pages: now they are in the site's language, in the layout (and branding) of the list's
    pages, and valid HTML."""
    import json

    import tools

    site = approval_site(tmp_path)
    with running(site, today=date(2024, 12, 24)) as server:
        pages = {"index": fetch(server.url("/_preview/"))[2],
                 "empty": fetch(server.url("/_preview/digest/2024-W30"))[2]}
        # A refused test send (no token) from the editor's browser (it holds the preview's
        # cookie): the outcome page, in Korean, status 403.
        key = server.preview.key
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        conn.request("POST", "/_preview/send", body="week=2024-W51&to=a%40example.org",
                     headers={"Content-Type": "application/x-www-form-urlencoded",
                              "Cookie": f"{key.cookie_name(server.port)}={key.cookie_value}"})
        reply = conn.getresponse()
        pages["result"] = reply.read()
        conn.close()
        assert reply.status == 403
        # Whoever has not opened the printed address gets a page saying so, in the same look.
        status, pages["locked"] = raw_get(server, "/_preview/")
        assert status == 403
    web_layout = (REPO / "templates" / "web" / "base.html.j2").read_text(encoding="utf-8")
    look = re.search(r"header \{[^}]*\}", web_layout).group(0)   # the site's header rule
    for name, body in pages.items():
        text = body.decode("utf-8")
        doc = lxml_html.fromstring(text)
        assert doc.get("lang") == "ko", name
        assert look in text, name
        assert doc.xpath("//header/h1/text()") == ["보령시 주간 소식"], name
        assert "담당자용 화면" in doc.xpath("string(//footer)"), name
    assert "테스트 발송을 거절했습니다: 양식이 만료되었습니다" in page_text(pages["result"])
    assert "소식이 없어" in page_text(pages["empty"])
    assert "출력한 주소로 여세요" in page_text(pages["locked"])
    jar = tools.vnu_jar()
    files = []
    for name, body in pages.items():
        path = tmp_path / f"{name}.html"
        path.write_bytes(body)
        files.append(str(path))
    done = subprocess.run([tools.java(), "-jar", str(jar), "--format", "json", "--errors-only",
                           *files], capture_output=True, text=True, timeout=300)
    errors = [(m.get("url", "").rsplit("/", 1)[-1], m["message"])
              for m in json.loads(done.stderr)["messages"] if m["type"] == "error"]
    assert errors == []
