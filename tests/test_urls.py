"""URLs: configured ones in canonical form (issue 9, Feeds 4); what import accepts, validate
accepts (Feeds 5). Checked with feedparser and `feedkit validate`; expected URLs by hand."""

from __future__ import annotations

import json
from pathlib import Path

import feedparser
from conftest import Site


def test_configured_urls_are_canonical_in_every_output(tmp_path: Path) -> None:
    site = Site(tmp_path)
    site.edit_config(('url = "https://www.brcn.go.kr/"', 'url = "HTTPS://WWW.Brcn.go.kr"'),
                     ('feed_url = "https://news.example.org/boryeong/"',
                      'feed_url = "https://News.Example.ORG:443/boryeong/"'))
    site.run("import")
    site.run("build")
    for name in ("feed.xml", "atom.xml"):
        parsed = feedparser.parse((site.out / name).read_bytes())
        assert parsed.feed.link == "https://www.brcn.go.kr/"
        assert [x.href for x in parsed.feed.links if x.rel == "self"] == [
            f"https://news.example.org/boryeong/{name}"]
    data = json.loads((site.out / "feed.json").read_bytes())
    assert data["home_page_url"] == "https://www.brcn.go.kr/"
    assert data["feed_url"] == "https://news.example.org/boryeong/feed.json"
    result = site.run("validate", ok=False)
    assert "NonCanonicalURI" not in result.output + result.stderr
    assert result.exit_code == 0, result.output + result.stderr


def test_scaffold_placeholder_host_is_still_caught_after_lower_casing(tmp_path: Path) -> None:
    site = Site(tmp_path)
    site.edit_config(('url = "https://www.brcn.go.kr/"', 'url = "https://TODO.example.go.kr/"'))
    site.run("import")
    result = site.run("build", ok=False)
    assert result.exit_code == 2 and "[site] url" in result.stderr


BRACKETS = "https://www.brcn.go.kr/board.php?cat[]=3&idx=1"
RECORDS = [
    {"title": "대괄호 주소", "url": BRACKETS, "published": "2025-12-10 09:00",
     "image": "https://www.brcn.go.kr/img/lead[1].jpg",
     "content_html": '<p><a href="/board.php?cat[]=4">목록</a> {x|y}</p>'},
    {"title": "비밀번호 주소", "url": "https://admin:s3cret@www.brcn.go.kr/private",
     "published": "2025-12-10 10:00"},
]


def test_urls_import_accepts_pass_validate(tmp_path: Path) -> None:
    site = Site(tmp_path / "site")
    src = tmp_path / "urls.jsonl"
    src.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in RECORDS),
                   encoding="utf-8")
    result = site.run("import", str(src), ok=False)
    assert result.exit_code != 0  # one record refused
    # The refusal names the line and the reason, and never repeats the password.
    refused = [line for line in result.stderr.splitlines() if "urls.jsonl:2:" in line]
    assert len(refused) == 1 and "user name or password" in refused[0]
    assert "s3cret" not in result.output + result.stderr
    assert site.rows("SELECT url, image FROM articles") == [
        ("https://www.brcn.go.kr/board.php?cat%5B%5D=3&idx=1",
         "https://www.brcn.go.kr/img/lead%5B1%5D.jpg")]
    content = site.rows("SELECT content_html FROM articles")[0][0]
    assert 'href="https://www.brcn.go.kr/board.php?cat%5B%5D=4"' in content
    site.run("build")
    entry = feedparser.parse((site.out / "feed.xml").read_bytes()).entries[0]
    assert entry.link == "https://www.brcn.go.kr/board.php?cat%5B%5D=3&idx=1"
    check = site.run("validate", ok=False)
    assert check.exit_code == 0, check.output + check.stderr
