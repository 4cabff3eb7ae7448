"""Category slugs: the folder of each category feed, i.e. a public URL feed readers subscribe to.

Expected slugs are written by hand from the Revised Romanization of Korean (국어의 로마자 표기법,
문화체육관광부 고시 2014-42): initials, vowels and final consonants as its tables give them, jamo
by jamo, without the sound-change rules. They are not computed by feedkit.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import feedparser
import pytest
from conftest import Site

from feedkit.text.slugs import base_slug, category_slugs

# Every initial consonant, before ㅏ (RR table 2: ㄱ g, ㄲ kk, ㄴ n, ㄷ d, ㄸ tt, ㄹ r, ㅁ m, ㅂ b,
# ㅃ pp, ㅅ s, ㅆ ss, ㅇ silent, ㅈ j, ㅉ jj, ㅊ ch, ㅋ k, ㅌ t, ㅍ p, ㅎ h).
INITIALS = [
    ("가", "ga"), ("까", "kka"), ("나", "na"), ("다", "da"), ("따", "tta"), ("라", "ra"),
    ("마", "ma"), ("바", "ba"), ("빠", "ppa"), ("사", "sa"), ("싸", "ssa"), ("아", "a"),
    ("자", "ja"), ("짜", "jja"), ("차", "cha"), ("카", "ka"), ("타", "ta"), ("파", "pa"),
    ("하", "ha"),
]
# Every vowel, after the silent ㅇ (RR table 1).
VOWELS = [
    ("아", "a"), ("애", "ae"), ("야", "ya"), ("얘", "yae"), ("어", "eo"), ("에", "e"),
    ("여", "yeo"), ("예", "ye"), ("오", "o"), ("와", "wa"), ("왜", "wae"), ("외", "oe"),
    ("요", "yo"), ("우", "u"), ("워", "wo"), ("웨", "we"), ("위", "wi"), ("유", "yu"),
    ("으", "eu"), ("의", "ui"), ("이", "i"),
]
# The single final consonants, after 가 (RR: a final ㄱ ㄲ ㅋ is k; ㄷ ㅅ ㅆ ㅈ ㅊ ㅌ ㅎ are t;
# ㅂ ㅍ are p; ㄴ n, ㄹ l, ㅁ m, ㅇ ng).
FINALS = [
    ("각", "gak"), ("갂", "gak"), ("갘", "gak"), ("간", "gan"), ("갇", "gat"), ("갈", "gal"),
    ("감", "gam"), ("갑", "gap"), ("갚", "gap"), ("갓", "gat"), ("갔", "gat"), ("강", "gang"),
    ("갖", "gat"), ("갗", "gat"), ("같", "gat"), ("갛", "gat"),
]
# Department names as Korean city halls write them, romanised by hand.
DEPARTMENTS = [
    ("세무과", "semugwa"),
    ("관광과", "gwangwanggwa"),
    ("복지정책과", "bokjijeongchaekgwa"),
    ("안전총괄과", "anjeonchonggwalgwa"),
    ("해양정책과", "haeyangjeongchaekgwa"),
    ("기획감사실", "gihoekgamsasil"),
    ("건축과", "geonchukgwa"),
    ("평생학습과", "pyeongsaenghakseupgwa"),
    ("문화예술과", "munhwayesulgwa"),
    ("농업기술센터", "nongeopgisulsenteo"),
]


@pytest.mark.parametrize(("name", "slug"), INITIALS + VOWELS + FINALS + DEPARTMENTS,
                         ids=[slug for _, slug in INITIALS + VOWELS + FINALS + DEPARTMENTS])
def test_revised_romanization(name: str, slug: str) -> None:
    assert base_slug(name) == slug


@pytest.mark.parametrize(("name", "slug"), [
    ("Culture & Sports", "culture-sports"),
    ("IT정보과", "itjeongbogwa"),
    ("  주민복지과 (본청) ", "juminbokjigwa-boncheong"),
    ("Café Économie", "cafe-economie"),        # accents dropped, letters kept
    ("ＦＵＬＬ　ＷＩＤＴＨ", "full-width"),       # full-width Latin folded to ASCII
    ("세무과/../../etc", "semugwa-etc"),        # never a path: only [a-z0-9-] survive
])
def test_slugs_are_lowercase_ascii_path_segments(name: str, slug: str) -> None:
    assert base_slug(name) == slug


def test_long_names_are_cut_at_sixty_characters_without_a_trailing_hyphen() -> None:
    slug = base_slug("보령시 " * 20)                   # "boryeongsi-boryeongsi-..."
    assert len(slug) <= 60 and not slug.endswith("-")
    assert slug.startswith("boryeongsi-boryeongsi-")
    assert base_slug("x" * 59 + " y") == "x" * 59     # the cut falls on the hyphen
    assert base_slug("★ " + "x" * 70) == "x" * 60     # leading symbols do not count


def test_only_the_hangul_syllables_block_is_romanised() -> None:
    """힣 (U+D7A3) is the last syllable; the code point after it is not one."""
    assert base_slug("힣") == "hit"
    assert base_slug("힣\ud7a4") == "hit"
    assert base_slug("\uabff가") == "ga"               # the code point before 가 neither


# ---------------------------------------------------------------------------------------------
# What a subscriber sees: the category folders of a built site.

def build_with(tmp_path: Path, categories: list[str], slugs: dict[str, str] | None = None
               ) -> Site:
    """A site whose store holds one article per category, built."""
    site = Site(tmp_path / "site")
    if slugs:
        table = ", ".join(f"{json.dumps(k, ensure_ascii=False)} = {json.dumps(v)}"
                          for k, v in slugs.items())
        site.edit_config(("[feeds]\n", f"[feeds]\ncategory_slugs = {{ {table} }}\n"))
    src = tmp_path / "cats.jsonl"
    src.write_text("".join(json.dumps({
        "title": f"{name} 소식", "url": f"https://www.brcn.go.kr/news/{i}",
        "published": f"2024-06-{10 + i:02d} 09:00", "category": name}, ensure_ascii=False) + "\n"
        for i, name in enumerate(categories)), encoding="utf-8")
    site.run("import", str(src))
    site.run("build")
    return site


def folders(site: Site) -> dict[str, set[str]]:
    """Category folder → the categories its Atom feed's entries carry (read by feedparser)."""
    out = {}
    for folder in (site.out / "category").iterdir():
        parsed = feedparser.parse((folder / "atom.xml").read_bytes())
        assert not parsed.bozo, folder
        out[folder.name] = {t.term for e in parsed.entries for t in e.tags}
    return out


def test_department_feeds_live_at_their_romanised_urls(tmp_path: Path) -> None:
    names = [name for name, _ in DEPARTMENTS[:5]]
    site = build_with(tmp_path, names)
    assert folders(site) == {slug: {name} for name, slug in DEPARTMENTS[:5]}
    index = (site.out / "index.html").read_text(encoding="utf-8")
    for _, slug in DEPARTMENTS[:5]:
        assert f'href="category/{slug}/feed.xml"' in index


@pytest.mark.parametrize(("pair", "base"), [(("Culture & Sports", "culture / sports"),
                                            "culture-sports"),
                                           (("세무과", "「세무과」"), "semugwa")])
def test_names_that_romanise_alike_never_share_a_feed(tmp_path: Path, pair: tuple,
                                                      base: str) -> None:
    """Two categories whose names give the same slug get two folders (a hash tells them apart),
    and each folder's feed holds only its own category's news."""
    site = build_with(tmp_path, list(pair))
    got = folders(site)
    assert sorted(got.values(), key=sorted) == sorted(({pair[0]}, {pair[1]}), key=sorted)
    assert len(got) == 2
    for folder in got:
        assert re.fullmatch(re.escape(base) + r"(-[0-9a-f]{8})?", folder), folder


def test_names_without_romanisable_letters_get_distinct_hash_slugs(tmp_path: Path) -> None:
    site = build_with(tmp_path, ["★", "☆☆", "세무과"])
    got = folders(site)
    assert got.pop("semugwa") == {"세무과"}
    assert sorted(got.values(), key=sorted) == [{"★"}, {"☆☆"}]
    for folder in got:
        assert re.fullmatch(r"c-[0-9a-f]{8}", folder), folder


def test_category_slugs_from_the_config_pin_the_url(tmp_path: Path) -> None:
    site = build_with(tmp_path, ["세무과", "관광과"], slugs={"세무과": "tax"})
    assert folders(site) == {"tax": {"세무과"}, "gwangwanggwa": {"관광과"}}
    assert 'href="category/tax/feed.xml"' in (site.out / "index.html").read_text("utf-8")


def test_a_pinned_slug_is_not_taken_by_another_category(tmp_path: Path) -> None:
    """``세무과 = "tax"`` and a category literally called "Tax": the pin wins, the other moves."""
    site = build_with(tmp_path, ["세무과", "Tax"], slugs={"세무과": "tax"})
    got = folders(site)
    assert got.pop("tax") == {"세무과"}
    ((folder, cats),) = got.items()
    assert cats == {"Tax"} and re.fullmatch(r"tax-[0-9a-f]{8}", folder), folder


# ---------------------------------------------------------------------------------------------
# The rule older feedkit versions used (every name of a clash hashed, order-independent). A
# store upgraded from one seeds its category URLs with it, so those URLs do not move.

def blake(name: str) -> str:
    """The hash suffix as the rule defines it: BLAKE2b, 4 bytes, of the UTF-8 name."""
    return hashlib.blake2b(name.encode("utf-8"), digest_size=4).hexdigest()


def test_legacy_rule_plain_names_keep_their_plain_slug() -> None:
    assert category_slugs(["세무과", "관광과"]) == {"세무과": "semugwa", "관광과": "gwangwanggwa"}


def test_legacy_rule_hashes_every_name_of_a_clash() -> None:
    assert category_slugs(["Tax", "tax", "세무과"]) == {
        "Tax": f"tax-{blake('Tax')}", "tax": f"tax-{blake('tax')}", "세무과": "semugwa"}


def test_legacy_rule_overrides_and_names_without_letters() -> None:
    got = category_slugs(["관광과", "세무과", "★", "Tourism"], {"관광과": "tourism"})
    assert got == {"관광과": "tourism", "세무과": "semugwa", "★": f"c-{blake('★')}",
                   "Tourism": f"tourism-{blake('Tourism')}"}
