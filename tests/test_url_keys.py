"""Issue 22 item 9: withdrawals and duplicates match on one key per URL.

``withdraw URL`` was undone by the same article under another spelling (``http://``, an upper-case
host, ``:443``, ``#x``, ``utm_*``, ``%49``), and such a spelling made a second article. The key
(:mod:`feedkit.text.urlkey`) folds what cannot change the page the server sends, and nothing
that can: distinct articles are never merged. The store tests run on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json

import pytest
from conftest import Site
from hypothesis import given
from hypothesis import strategies as st

from feedkit.store import articles
from feedkit.text.urlkey import parsed_key, url_key

# The sample's "적극행정 우수사례" article (as in test_withdraw.py).
GONE = "https://www.brcn.go.kr/prog/publicNews/kor/sub01_01/view.do?nttId=18377"
SPELLINGS = (
    "http://www.brcn.go.kr/prog/publicNews/kor/sub01_01/view.do?nttId=18377",
    "https://WWW.BRCN.GO.KR:443/prog/publicNews/kor/sub01_01/view.do?nttId=18377#content",
    "http://www.brcn.go.kr:80/prog/publicNews/kor/sub01_01/view.do?nttId=18377",
    "https://www.brcn.go.kr/prog/publicNews/kor/sub01_01/view.do?utm_source=newsletter&nttId"
    "=18377&utm_medium=email&fbclid=abc",
    "https://www.brcn.go.kr/prog/publicNews/kor/sub01_01/%76iew.do?nttId=%31%38377",
    "https://www.brcn.go.kr./prog/publicNews/kor/sub01_01/view.do?nttId=18377&",
)
# Each could be another page: never the same key as GONE.
OTHERS = (
    "https://www.brcn.go.kr/prog/publicNews/kor/sub01_01/View.do?nttId=18377",    # path case
    "https://www.brcn.go.kr/prog/publicNews/kor/sub01_01/view.do/?nttId=18377",   # slash
    "https://brcn.go.kr/prog/publicNews/kor/sub01_01/view.do?nttId=18377",        # no www.
    "https://www.brcn.go.kr:8443/prog/publicNews/kor/sub01_01/view.do?nttId=18377",
    "http://www.brcn.go.kr:443/prog/publicNews/kor/sub01_01/view.do?nttId=18377",
    "https://www.brcn.go.kr/prog/publicNews/kor/sub01_01/view.do?nttId=18378",
    "https://www.brcn.go.kr/prog/publicNews/kor/sub01_01/view.do?nttid=18377",    # param case
    "https://www.brcn.go.kr/prog/publicNews/kor/sub01_01/view.do?nttId=18377&page=2",
    "https://www.brcn.go.kr/prog/publicNews/kor/sub01_01%2Fview.do?nttId=18377",  # %2F is not /
    "https://www.brcn.go.kr/prog/publicNews/kor/sub01_01/view.do",
)


def test_one_key_for_every_spelling_and_never_for_another_page() -> None:
    assert {url_key(u) for u in (GONE, *SPELLINGS)} == {url_key(GONE)}
    keys = [url_key(u) for u in (GONE, *OTHERS)]
    assert len(set(keys)) == len(keys), keys
    # order of parameters, + against %20, and non-ASCII against its UTF-8 escapes
    assert url_key("https://x.kr/a?a=1&b=2") != url_key("https://x.kr/a?b=2&a=1")
    assert url_key("https://x.kr/a?q=a+b") != url_key("https://x.kr/a?q=a%20b")
    assert url_key("https://예시.한국/뉴스?제목=소식") == url_key(
        "https://xn--vv4b11d.xn--3e0b707e/%eb%89%b4%ec%8a%a4?%EC%A0%9C%EB%AA%A9=%EC%86%8C%EC%8B%9D")


_PART = st.text(alphabet="aZ09-._~%2fF4e!$&'()*+,;=:@/?#한 ", max_size=12)


@given(host=st.sampled_from(["x.kr", "X.kr", "www.brcn.go.kr", "예시.한국", "a-b.org."]),
       scheme=st.sampled_from(["http", "https", "HTTPS"]),
       port=st.sampled_from(["", ":80", ":443", ":8080"]),
       path=_PART, query=_PART)
def test_the_quick_path_agrees_with_the_long_one(host, scheme, port, path, query) -> None:
    url = f"{scheme}://{host}{port}/{path}" + (f"?{query}" if query else "")
    assert url_key(url) == parsed_key(url)


@pytest.fixture
def site(site: Site, backend) -> Site:
    site.use(backend)
    site.run("import")
    return site


def _jsonl(site: Site, name: str, records: list[dict]) -> str:
    path = site.root / name
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records),
                    encoding="utf-8")
    return str(path)


def test_withdraw_by_any_spelling_and_no_spelling_brings_it_back(site: Site) -> None:
    r = site.run("withdraw", SPELLINGS[1], "--reason", "정정 보도", "--no-build")
    assert "withdrawn" in r.output
    assert site.rows("SELECT id FROM withdrawn") == [(GONE,)]
    # The source offers it again under every other spelling: each one is kept out.
    again = _jsonl(site, "again.jsonl", [{"url": u, "title": "다시 올림",
                                          "published": "2024-08-09"} for u in SPELLINGS[:1]]
                   + [{"id": f"re-{i}", "url": u, "title": "다시 올림",
                       "published": "2024-08-09"} for i, u in enumerate(SPELLINGS)])
    result = site.run("import", again)
    assert "0 inserted" in result.stdout
    assert f"{len(SPELLINGS) + 1} withdrawn earlier" in result.stdout
    assert site.rows("SELECT count(*) FROM articles WHERE title = '다시 올림'") == [(0,)]
    site.run("build")
    assert "적극행정 우수사례" not in (site.out / "feed.xml").read_text(encoding="utf-8")
    # withdrawing again by a third spelling finds the earlier withdrawal; restore by a fourth
    assert "already withdrawn" in site.run("withdraw", SPELLINGS[3], "--reason", "x",
                                           "--no-build").output
    site.run("restore", SPELLINGS[4], "--no-build")
    assert site.rows("SELECT id, url_key FROM articles WHERE id = ?", GONE) == [
        (GONE, url_key(GONE))]


def test_another_spelling_of_a_stored_article_is_that_article(site: Site) -> None:
    before = site.rows("SELECT id, url, hash FROM articles ORDER BY id")
    spelt = _jsonl(site, "spelt.jsonl", [{"url": u, "title": "보령시, “2024년 상반기 적극행정 우수"
                                                        "사례 선정” (수정)",
                                          "published": "2024-08-09"} for u in SPELLINGS])
    result = site.run("import", spelt)
    # one update (the new title), the other spellings are that same article again: no new
    # article, no rejected record (a store's own export may hold two spellings written by an
    # older feedkit: importing it must not fail)
    assert f"0 inserted, 1 updated, {len(SPELLINGS) - 1} unchanged, 0 rejected" in result.stdout
    after = site.rows("SELECT id, url FROM articles ORDER BY id")
    assert after == [(i, u) for i, u, _h in before]         # same ids (GUIDs), same URLs
    assert site.scalar("SELECT title FROM articles WHERE id = ?", GONE).endswith("(수정)")
    # Pages that could be other pages are other articles.
    others = _jsonl(site, "others.jsonl", [{"url": u, "title": f"다른 글 {i}",
                                            "published": "2024-08-09"}
                                           for i, u in enumerate(OTHERS)])
    assert f"{len(OTHERS)} inserted" in site.run("import", others).stdout


def test_articles_with_their_own_ids_are_never_merged_by_url(site: Site) -> None:
    twins = _jsonl(site, "twins.jsonl", [{"id": f"notice-{i}", "url": u, "title": f"공지 {i}",
                                          "published": "2024-06-01"}
                                         for i, u in enumerate(("https://a.example/notice",
                                                                "http://A.example/notice#x"))])
    assert "2 inserted" in site.run("import", twins).stdout
    assert site.rows("SELECT id FROM articles WHERE id LIKE 'notice-%' ORDER BY id") == [
        ("notice-0",), ("notice-1",)]


def test_the_migration_gives_stored_articles_their_keys(tmp_path, backend, monkeypatch) -> None:
    site = Site(tmp_path).use(backend)
    with monkeypatch.context() as m:   # a store as feedkit wrote it before URL keys
        m.setattr(articles, "MIGRATIONS", articles.MIGRATIONS[:7])
        m.setattr(articles, "SCHEMA_VERSION", 7)
        backend.open_store().close()
    assert "url_key" not in backend.columns("articles")
    at = "2024-08-09T10:00:00+09:00"
    for url in (GONE, "https://www.brcn.go.kr/other"):
        backend.execute(
            "INSERT INTO articles (id, url, title, published, published_ts, updated, updated_ts, "
            "hash, first_seen, last_changed) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            url, url, "예전 글", at, 1723165200, at, 1723165200, "h", at, at)
    site.run("stats")                   # any command opens, and so migrates, the store
    rows = site.rows("SELECT url, url_key FROM articles ORDER BY url")
    assert len(rows) == 2 and all(key == url_key(url) for url, key in rows)
    site.run("withdraw", SPELLINGS[0], "--reason", "정정", "--no-build")
    assert site.rows("SELECT id FROM withdrawn") == [(GONE,)]
