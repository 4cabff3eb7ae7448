"""``[categories.names]`` wildcards match whole department names (issue 27).

``*`` matches any characters, but the pattern must cover the *whole* name: ``"*면"`` gathers the
township offices (주포면, 남포면), never 면허민원과 (a licence desk that starts with 면) or
읍면동지원과 (a support office with 면 inside its name). The same for every form the README
documents: a suffix (``*면``), a prefix (``대천*``), a fixed part in the middle (``대천*동``),
several stars (``*천*동``) and a fixed part inside (``*도서관*``). Checked where a reader sees
it: the category feeds of a real build, read back with feedparser.
"""

from __future__ import annotations

import json

import feedparser
import pytest
from conftest import Site

from feedkit.editorial.categories import parse_categories

# department -> (does "*면" take it, does "대천*" take it, ...): the table below says which.
DEPARTMENTS = ["주포면", "남포면", "면허민원과", "읍면동지원과", "웅천읍", "읍사무소",
               "대천1동", "대천2동", "대천해수욕장", "신대천동", "대천동물보호센터",
               "중앙도서관", "도서관정책과", "어린이도서관분관", "세무과", "천북면"]

# (pattern, the departments it gathers, among DEPARTMENTS): whole names only.
FORMS = [
    ("*면", {"주포면", "남포면", "천북면"}),                   # suffix
    ("*읍", {"웅천읍"}),                                       # suffix; 읍사무소 starts with 읍
    ("대천*", {"대천1동", "대천2동", "대천해수욕장", "대천동물보호센터"}),   # prefix
    ("대천*동", {"대천1동", "대천2동"}),                        # fixed start and end
    ("*천*동", {"대천1동", "대천2동", "신대천동"}),              # several stars
    ("*도서관*", {"중앙도서관", "도서관정책과", "어린이도서관분관"}),   # inside
]


@pytest.mark.parametrize("pattern, gathers", FORMS, ids=[p for p, _ in FORMS])
def test_each_wildcard_form_gathers_whole_names_only(pattern, gathers):
    cmap = parse_categories({"names": {"모음": [pattern]}})
    assert {d for d in DEPARTMENTS if cmap.shown(d) == "모음"} == gathers
    for other in set(DEPARTMENTS) - gathers:
        assert cmap.shown(other) == other   # shown under its own name, untouched


def test_regex_characters_in_a_pattern_are_plain_text():
    """A department name may hold characters a regular expression treats specially."""
    cmap = parse_categories({"names": {"모음": ["(구)*", "*.동", "*[면]"]}})
    assert cmap.shown("(구)보령군청") == "모음"
    assert cmap.shown("구보령군청") == "구보령군청"
    assert cmap.shown("대천.동") == "모음"
    assert cmap.shown("대천1동") == "대천1동"      # "." is a dot, not any character
    assert cmap.shown("주포[면]") == "모음"
    assert cmap.shown("주포면") == "주포면"        # "[면]" is those three characters


def _site(tmp_path) -> Site:
    site = Site(tmp_path / "site", extra='''
[categories.names]
"면 소식" = ["*면"]
"대천 소식" = ["대천*동"]
''')
    rows = tmp_path / "rows.jsonl"
    rows.write_text("".join(json.dumps({
        "title": f"{dept} 알림", "url": f"https://www.brcn.go.kr/news/{n}",
        "published": f"2024-06-{10 + n % 5:02d} 09:{n:02d}", "department": dept},
        ensure_ascii=False) + "\n" for n, dept in enumerate(DEPARTMENTS)), encoding="utf-8")
    site.run("import", str(rows))
    return site


def test_category_feeds_gather_whole_names_only(tmp_path):
    """What a reader subscribed to the "면 소식" feed gets: the township offices, not the
    licence desk or the support office whose names merely contain 면."""
    site = _site(tmp_path)
    site.run("build", "--now", "2024-06-20T12:00")
    feeds = {}
    for folder in (site.out / "category").iterdir():
        parsed = feedparser.parse((folder / "feed.xml").read_bytes())
        feeds[parsed.feed.title.split(" — ", 1)[1]] = {
            e.title.removesuffix(" 알림") for e in parsed.entries}
    assert feeds["면 소식"] == {"주포면", "남포면", "천북면"}
    assert feeds["대천 소식"] == {"대천1동", "대천2동"}
    # Every other department keeps its own feed under its own name.
    for dept in set(DEPARTMENTS) - {"주포면", "남포면", "천북면", "대천1동", "대천2동"}:
        assert feeds[dept] == {dept}
