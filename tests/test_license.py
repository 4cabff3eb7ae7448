"""The licence every public work must carry (issue 28, item 3): 공공누리 and Creative Commons.

``[site] license`` is the site's, a source's ``license`` overrides it for its articles, a record's
own ``license`` wins over both; each article keeps its code in the store (a migration, both
backends) and in the export. Feeds state it as RSS ``<copyright>``/``dc:rights``, Atom
``<rights>`` and ``<link rel="license">`` (RFC 4946), JSON Feed ``_license`` (read here by
feedparser and as JSON); the W3C-style validator accepts all of it. ``none`` states nothing.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import feedparser
import pytest
from conftest import Site

import feedkit.store.articles as articles_module
from feedkit.model import Article
from feedkit.store.article_extras import MIGRATION as EXTRAS_MIGRATION

KOGL1 = ("공공누리 제1유형: 출처표시", "https://www.kogl.or.kr/info/licenseType1.do")
KOGL4 = ("공공누리 제4유형: 출처표시+상업적 이용금지+변경금지",
         "https://www.kogl.or.kr/info/licenseType4.do")
CC_BY = ("크리에이티브 커먼즈 저작자표시 4.0 국제 (CC BY 4.0)",
         "https://creativecommons.org/licenses/by/4.0/")

RECORDS = {
    # another body's news, republished: that body's type (the source's license)
    "jeonnam.jsonl": ('{"title": "전라남도 소식", "url": "https://www.jeonnam.go.kr/n/1", '
                      '"published": "2024-12-19", "department": "전라남도"}\n'),
    # korea.kr: text under type 1, photos excluded; one record names its own licence
    "korea.jsonl": ('{"title": "정책브리핑 소식", "url": "https://www.korea.kr/n/1", '
                    '"published": "2024-12-18", "department": "정책브리핑"}\n'
                    '{"title": "정책브리핑 사진 공개", "url": "https://www.korea.kr/n/2", '
                    '"published": "2024-12-17", "department": "정책브리핑", '
                    '"license": "cc-by-4.0"}\n'),
}
SOURCES = """
[[sources]]
kind = "jsonl"
path = "{root}/jeonnam.jsonl"
license = "kogl-4"

[[sources]]
kind = "jsonl"
path = "{root}/korea.jsonl"
license = "kogl-1"
license_excludes_photos = true
"""


@pytest.fixture
def licensed(site: Site) -> Site:
    for name, text in RECORDS.items():
        (site.root / name).write_text(text, encoding="utf-8")
    site.edit_config(('language = "ko"\n', 'language = "ko"\nlicense = "kogl-1"\n'))
    site.config.write_text(site.config.read_text(encoding="utf-8")
                           + SOURCES.format(root=site.root.as_posix()), encoding="utf-8")
    site.run("import")
    site.run("build", "--now", "2024-12-31T12:00")
    return site


def entry_rights(path: Path) -> dict[str, tuple[str, str]]:
    """link -> (rights text, licence link) as feedparser reads RSS or Atom."""
    feed = feedparser.parse(path.read_bytes())
    out = {}
    for e in feed.entries:
        licence = [link.href for link in e.get("links", []) if link.rel == "license"]
        out[e.link] = (e.get("rights", ""), licence[0] if licence else "")
    return out


def test_each_item_carries_its_licence_in_every_format(licensed: Site) -> None:
    out = licensed.out
    rss, atom = entry_rights(out / "feed.xml"), entry_rights(out / "atom.xml")
    photos = (KOGL1[0] + " (사진 제외)", KOGL1[1])
    expected = {"https://www.jeonnam.go.kr/n/1": KOGL4, "https://www.korea.kr/n/1": photos,
                "https://www.korea.kr/n/2": CC_BY}
    for url, (name, link) in expected.items():
        assert rss[url][0] == name and atom[url] == (name, link), url
    sample = [url for url in rss if "brcn.go.kr" in url]
    assert sample and all(rss[u][0] == KOGL1[0] and atom[u] == KOGL1 for u in sample)
    # A feed that mixes licences states each item's, and none for the whole feed.
    assert "rights" not in feedparser.parse((out / "feed.xml").read_bytes()).feed
    as_json = json.loads((out / "feed.json").read_text(encoding="utf-8"))
    assert "_license" not in as_json
    by_url = {i["url"]: i["_license"] for i in as_json["items"]}
    assert by_url["https://www.korea.kr/n/1"] == {
        "about": "https://github.com/feedkit/feedkit#licence", "code": "kogl-1:text",
        "name": photos[0], "url": photos[1]}
    assert by_url["https://www.jeonnam.go.kr/n/1"]["code"] == "kogl-4"
    # A department feed whose items share one licence states it for the whole feed too.
    folder = next(p.parent for p in out.glob("category/*/feed.xml")
                  if "jeonnam" in p.read_text(encoding="utf-8"))
    for name in ("feed.xml", "atom.xml"):
        whole = feedparser.parse((folder / name).read_bytes()).feed
        assert whole.rights == KOGL4[0], name
    atom_links = feedparser.parse((folder / "atom.xml").read_bytes()).feed.links
    assert [link.href for link in atom_links if link.rel == "license"] == [KOGL4[1]]
    assert json.loads((folder / "feed.json").read_bytes())["_license"]["code"] == "kogl-4"
    check = licensed.run("validate", ok=False)
    assert check.exit_code == 0, check.output + check.stderr


def test_the_licence_is_kept_per_article_and_round_trips_through_export(licensed: Site,
                                                                       tmp_path: Path) -> None:
    stored = dict(licensed.rows("SELECT url, license FROM articles"))
    assert stored["https://www.jeonnam.go.kr/n/1"] == "kogl-4"
    assert stored["https://www.korea.kr/n/1"] == "kogl-1:text"
    assert stored["https://www.korea.kr/n/2"] == "cc-by-4.0"
    assert {v for k, v in stored.items() if "brcn.go.kr" in k} == {""}   # the site's
    exported = tmp_path / "store.jsonl"
    licensed.run("export", "--out", str(exported))
    lines = exported.read_text(encoding="utf-8").splitlines()
    assert sum('"license": ' in line for line in lines) == 3   # only where set
    again = Site(tmp_path / "again")
    again.run("import", str(exported))
    assert dict(again.rows("SELECT url, license FROM articles")) == stored


def test_changing_the_sites_licence_changes_every_article_without_its_own(licensed: Site):
    licensed.edit_config(('license = "kogl-1"\n', 'license = "cc-by-sa-4.0"\n'))
    licensed.run("build", "--now", "2024-12-31T12:00")
    rss = entry_rights(licensed.out / "feed.xml")
    assert rss["https://www.jeonnam.go.kr/n/1"][0] == KOGL4[0]
    sample = [v[0] for u, v in rss.items() if "brcn.go.kr" in u]
    cc_by_sa = "크리에이티브 커먼즈 저작자표시-동일조건변경허락 4.0 국제 (CC BY-SA 4.0)"
    assert set(sample) == {cc_by_sa}


def test_no_licence_states_nothing(built_site: Site) -> None:
    for name in ("feed.xml", "atom.xml", "feed.json", "index.html", "feeds.html"):
        text = (built_site.out / name).read_text(encoding="utf-8")
        for word in ("rights", "copyright", "license", "licence", "공공누리"):
            assert word not in text, (name, word)


@pytest.mark.parametrize(("toml", "message"), [
    ('license = "kogl-5"', "[site] license: unknown licence 'kogl-5'"),
    ('license = "kogl-1:text"', "use license_excludes_photos"),
])
def test_a_wrong_licence_is_a_configuration_error(site: Site, toml: str, message: str) -> None:
    site.edit_config(('language = "ko"\n', f'language = "ko"\n{toml}\n'))
    result = site.run("build", ok=False)
    assert result.exit_code == 2 and message in result.output + result.stderr


def test_a_record_with_an_unknown_licence_is_rejected_by_line(site: Site, tmp_path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"title": "가", "url": "https://a.example/1", "published": "2024-06-11", '
                   '"license": "all-rights"}\n', encoding="utf-8")
    result = site.run("import", str(bad), ok=False)
    assert result.exit_code == 3
    assert f"{bad}:1: license: unknown licence 'all-rights'" in result.stderr


def test_a_store_from_before_the_licence_gains_the_columns(backend, monkeypatch) -> None:
    """The licence's migration (and every one after it): a store from before it (both backends)
    upgrades in place, its articles keep their hashes and read as the site's licence."""
    step = articles_module.MIGRATIONS.index(EXTRAS_MIGRATION)
    old = articles_module.MIGRATIONS[:step]
    when = datetime(2024, 6, 11, tzinfo=UTC)
    article = Article(id="https://a.example/1", url="https://a.example/1", title="가",
                      published=when, updated=when)
    monkeypatch.setattr(articles_module, "MIGRATIONS", old)
    monkeypatch.setattr(articles_module, "SCHEMA_VERSION", len(old))
    with backend.open_store() as store:
        assert store.schema_version == len(old)
        stamp = when.isoformat()
        with store.transaction():
            store.db.execute(
                "INSERT INTO articles (id, url, title, published, published_ts, updated, "
                "updated_ts, hash, first_seen, last_changed) VALUES (?,?,?,?,?,?,?,?,?,?)",
                (article.id, article.url, article.title, stamp, int(when.timestamp()), stamp,
                 int(when.timestamp()), article.content_hash(), stamp, stamp))
    monkeypatch.undo()
    with backend.open_store() as store:
        assert store.schema_version == articles_module.SCHEMA_VERSION > len(old)
        (got,) = store.latest(1)
        assert got.article == article and got.hash == article.content_hash()
        assert (got.article.license, got.article.image_type) == ("", "")
        with store.transaction():
            result = store.upsert([article])
        assert result.unchanged == 1                      # the same hash: not "changed"
        licensed = Article(**{**article.to_record(), "published": when, "updated": when,
                              "tags": (), "license": "kogl-2"})
        with store.transaction():
            assert store.upsert([licensed]).updated == 1
        assert store.get(article.id).license == "kogl-2"
