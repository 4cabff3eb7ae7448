"""``[categories]``: departments shown under the city's names, in its order, some kept out of the
feeds or the digest; category feed URLs that survive a rename. Feeds are read back with
feedparser, the digest through the CLI's text part, the store with sqlite3. The tests that
select by category (IN / NOT IN lists, the remembered slugs) run on SQLite and on PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path

import feedparser
import pytest
from conftest import Site

# (department, url tail, published): all in ISO week 2024-W24 (10-16 June 2024)
ROWS = [
    ("세무과", "tax1", "2024-06-10 09:00"),
    ("대천1동", "d1", "2024-06-11 09:00"),
    ("웅천읍", "w1", "2024-06-11 10:00"),
    ("주포면", "j1", "2024-06-12 09:00"),
    ("인사과", "hr1", "2024-06-12 10:00"),
    ("일자리과", "job1", "2024-06-13 09:00"),
    ("일자리과", "job2", "2024-06-13 10:00"),
    ("문화관광과", "cul1", "2024-06-14 09:00"),
]
NOW = "2024-06-20T12:00"
DIGEST = '''
[digest]
from = "보령시 소식 <news@example.org>"
to = ["subscribers@lists.example.org"]
unsubscribe = ["https://news.example.org/unsubscribe"]
'''
CATEGORIES = '''
[categories]
order = ["읍·면·동 소식", "문화관광과"]
exclude_from_feeds = ["인사과"]
exclude_from_digest = ["일자리 소식"]

[categories.names]
"세무 소식" = ["세무과"]
"일자리 소식" = ["일자리과"]
"읍·면·동 소식" = ["대천1동", "*읍", "*면"]
'''


def make_site(tmp_path: Path, categories: str = "", backend=None) -> Site:
    site = Site(tmp_path / "site", extra=DIGEST + categories)
    if backend is not None:
        site.use(backend)
    src = tmp_path / "rows.jsonl"
    src.write_text("".join(json.dumps({
        "title": f"{dept} 알림 {tail}", "url": f"https://www.brcn.go.kr/news/{tail}",
        "published": when, "department": dept}, ensure_ascii=False) + "\n"
        for dept, tail, when in ROWS), encoding="utf-8")
    site.run("import", str(src))
    return site


def set_categories(site: Site, text: str) -> None:
    config = site.config.read_text(encoding="utf-8").split("\n[categories]")[0].rstrip("\n")
    site.config.write_text(config + "\n" + text, encoding="utf-8")


def feeds(site: Site) -> dict[str, tuple[str, set[str]]]:
    """Category folder -> (its feed's title, the URL tails it carries)."""
    out = {}
    for folder in sorted((site.out / "category").iterdir()):
        parsed = feedparser.parse((folder / "feed.xml").read_bytes())
        out[folder.name] = (parsed.feed.title,
                            {e.link.rsplit("/", 1)[-1] for e in parsed.entries})
    return out


def tails(path: Path) -> set[str]:
    return {e.link.rsplit("/", 1)[-1] for e in feedparser.parse(path.read_bytes()).entries}


def digest_text(site: Site) -> str:
    return site.run("digest", "render", "--week", "2024-W24", "--now", NOW,
                    "--text", "-").stdout


def test_names_merge_rename_order_and_exclude(tmp_path, backend):
    site = make_site(tmp_path, backend=backend)
    site.run("build", "--now", NOW)
    before = feeds(site)
    slug = {title.split(" — ")[1]: folder for folder, (title, _) in before.items()}

    set_categories(site, CATEGORIES)
    site.run("build", "--now", NOW)
    got = feeds(site)
    current = {title.split(" — ")[1]: (folder, links) for folder, (title, links) in got.items()}
    # the rename keeps 세무과's URL; the merge keeps its first department's (대천1동)
    assert current["세무 소식"] == (slug["세무과"], {"tax1"})
    assert current["일자리 소식"] == (slug["일자리과"], {"job1", "job2"})
    assert current["읍·면·동 소식"] == (slug["대천1동"], {"d1", "w1", "j1"})
    # excluded from feeds: no feed of its own (its old folder is deleted), not in the main feed
    assert "인사과" not in current and not (site.out / "category" / slug["인사과"]).exists()
    assert "hr1" not in tails(site.out / "feed.xml")
    assert tails(site.out / "feed.xml") == {t for _, t, _ in ROWS} - {"hr1"}
    index = (site.out / "index.html").read_text(encoding="utf-8")
    assert "인사과 알림" not in index
    # the feed items carry the shown name
    entry = next(e for e in feedparser.parse((site.out / "feed.xml").read_bytes()).entries
                 if e.link.endswith("/w1"))
    assert [t.term for t in entry.tags] == ["읍·면·동 소식"]
    # order: the index lists the category feeds in the configured order, then by size
    names = ("읍·면·동 소식", "문화관광과", "일자리 소식", "세무 소식")   # by size: 3, 1, 2, 1
    positions = [index.index(f">{n}</a>") for n in names]
    assert positions == sorted(positions)

    text = digest_text(site)
    # excluded from the digest: 일자리 소식 is gone; 인사과 (excluded only from feeds) is there
    assert "일자리과 알림" not in text and "인사과 알림" in text
    # "== 읍·면·동 소식 3건 ==": the name, then the count as the HTML part labels it
    sections = [line.strip("= ").rsplit(" ", 1)[0] for line in text.splitlines()
                if line.startswith("== ")]
    assert sections[:2] == ["읍·면·동 소식", "문화관광과"]
    assert set(sections) == {"읍·면·동 소식", "문화관광과", "세무 소식", "인사과"}
    # a gathering section says where each item came from; a renamed one need not
    assert "· 웅천읍" in text and "· 세무과" not in text


def test_a_rename_keeps_the_feed_url(tmp_path, backend):
    site = make_site(tmp_path, CATEGORIES, backend)
    site.run("build", "--now", NOW)
    first = {title: folder for folder, (title, _) in feeds(site).items()}
    set_categories(site, CATEGORIES.replace('"세무 소식"', '"세금 소식"')
                   .replace('"읍·면·동 소식" =', '"우리 동네 소식" =')
                   .replace('"읍·면·동 소식", ', '"우리 동네 소식", '))
    site.run("build", "--now", NOW)
    second = {title: folder for folder, (title, _) in feeds(site).items()}
    assert second["보령시 새소식 — 세금 소식"] == first["보령시 새소식 — 세무 소식"]
    assert second["보령시 새소식 — 우리 동네 소식"] == first["보령시 새소식 — 읍·면·동 소식"]


def test_without_categories_nothing_changes(tmp_path):
    plain = make_site(tmp_path / "a")
    empty = make_site(tmp_path / "b", "\n[categories]\n")
    for site in (plain, empty):
        site.run("build", "--now", NOW)
    files = [{p.relative_to(s.out).as_posix(): p.read_bytes() for p in sorted(s.out.rglob("*"))
              if p.is_file()} for s in (plain, empty)]
    assert files[0] == files[1]
    assert digest_text(plain) == digest_text(empty)


@pytest.mark.parametrize(("section", "message"), [
    ('[categories]\nhide = ["인사과"]\n',
     "config.toml: [categories] hide: unknown key (known: names, order, exclude_from_feeds, "
     "exclude_from_digest, exclude)"),
    ('[categories]\nexclude = ["대천1동"]\n[categories.names]\n"읍·면·동 소식" = ["대천1동"]\n',
     "config.toml: [categories] exclude: '대천1동' is merged into '읍·면·동 소식' by "
     "[categories.names], so it is not shown under its own name; exclude '읍·면·동 소식' "
     "instead, or take '대천1동' out of the merge"),
    ('[categories]\norder = ["세무과"]\n[categories.names]\n"세무 소식" = ["세무과"]\n',
     "config.toml: [categories] order: '세무과' is merged into '세무 소식'"),
    ('[categories.names]\n"가" = ["세무과"]\n"나" = ["세무과"]\n',
     "config.toml: [categories.names] '세무과' is listed under both '가' and '나'"),
    ('[categories.names]\n"모두" = ["*"]\n',
     "config.toml: [categories.names] '모두': '*' would gather every department into one"),
    ('[categories]\nexclude = ["인사과"]\nexclude_from_feeds = ["인사과"]\n',
     "config.toml: [categories] exclude_from_feeds: '인사과' is already in exclude"),
    ('[categories]\norder = ["세무과", "세무과"]\n',
     "config.toml: [categories] order: '세무과' is listed twice"),
    ('[categories.names]\n"세무 소식" = "세무과"\n"빈 목록" = []\n',
     "config.toml: [categories.names] '빈 목록': list at least one department"),
    ('[categories]\norder = ["세무과"]\n',
     "config.toml: [digest] categories: [categories] order replaces it; keep one of the two"),
])
def test_mistakes_are_config_errors_with_exit_2(tmp_path, section, message):
    site = Site(tmp_path / "site", extra=DIGEST + "\n" + section)
    if "replaces it" in message:
        site.edit_config(("[digest]\n", '[digest]\ncategories = ["세무과"]\n'))
    result = site.run("build", ok=False)
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert "Traceback" not in result.output
