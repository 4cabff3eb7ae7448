"""The cross-run cache of CLDR dates never hands one language's dates to another (issue 27,
item 6).

Babel's answers are kept in the user's cache folder (:mod:`feedkit.text.cldr`), shared by every
site a user builds. Two languages can format a date with the *same pattern* and still write
different words: a Japanese and a Chinese catalog that both translate the date message as
``{date:y年M月d日(E)}`` give ``(金)`` and ``(周五)``; two catalogs just started with ``pybabel
init`` both fall back to CLDR's ``yMMMEd`` skeleton. Each must get its own language's dates from
the cache, whichever ran first: two sites, and one site that switches ``[site] language``.

Every build is the real command in its own process (a fresh interpreter, so only the cache folder
carries answers from one run to the next), all with one ``XDG_CACHE_HOME``.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import Site
from lxml import html as lxml_html

REPO = Path(__file__).resolve().parents[1]
HEADER = ('msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n'
          '"Plural-Forms: nplurals=1; plural=0;\\n"\n\n')
# One date message translated with one pattern, the same in both languages.
SHARED_PATTERN = 'msgid "{date:EEE d MMM y}"\nmsgstr "{date:y年M月d日(E)}"\n'
FRIDAY = "//time[@datetime='2024-12-20T10:00:00+09:00']"   # a sample article's date

# (catalog text, the language's dates on the index page and the digest archive's week of
# 16-22 December 2024)
CASES = {
    "same translated pattern": (HEADER + SHARED_PATTERN, {
        "ja": ("2024年12月20日(金)", "2024年12月16日～22日"),
        "zh": ("2024年12月20日(周五)", "2024年12月16日\u2009–\u200922日"),
    }),
    "just started catalogs (CLDR skeleton)": (HEADER, {
        "ja": ("2024年12月20日(金)", "2024年12月16日～22日"),
        "zh": ("2024年12月20日周五", "2024年12月16日\u2009–\u200922日"),
    }),
}


def _catalog(site: Site, code: str, text: str) -> None:
    folder = site.root / "locale" / code / "LC_MESSAGES"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "feedkit.po").write_text(text, encoding="utf-8")


def _build(site: Site, cache: Path) -> tuple[str, str]:
    """`feedkit build` in a new process; the date of the sample's Friday article on the index
    page, and the days of its week (CLDR's interval format) on the digest archive."""
    env = {**os.environ, "XDG_CACHE_HOME": str(cache), "PYTHONPATH": str(REPO)}
    env.pop("FEEDKIT_NO_CACHE", None)
    result = subprocess.run(
        [sys.executable, "-m", "feedkit", "--config", str(site.config), "build", "--now",
         "2024-12-31T12:00"], capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    page = lxml_html.fromstring((site.out / "index.html").read_bytes())
    archive = (site.out / "digest" / "index.html").read_text(encoding="utf-8")
    week = re.search(r"2024年12月16日[^<]{0,4}22日", archive)
    return page.xpath(f"string({FRIDAY})"), week.group(0) if week else ""


def _site(root: Path, language: str, catalogs: dict[str, str]) -> Site:
    site = Site(root)
    site.edit_config(('language = "ko"', f'language = "{language}"'))
    for code, text in catalogs.items():
        _catalog(site, code, text)
    site.run("import")
    return site


@pytest.mark.parametrize("case", CASES)
def test_two_sites_sharing_a_pattern_each_get_their_own_languages_dates(tmp_path, case):
    text, expected = CASES[case]
    cache = tmp_path / "cache"
    ja = _site(tmp_path / "ja", "ja", {"ja": text})
    zh = _site(tmp_path / "zh", "zh", {"zh": text})
    assert _build(ja, cache) == expected["ja"]
    assert any((cache / "feedkit" / "cldr").iterdir())   # the cache is in use
    assert _build(zh, cache) == expected["zh"]     # after ja's answers were kept
    assert _build(ja, cache) == expected["ja"]     # after zh's too


@pytest.mark.parametrize("case", CASES)
def test_a_site_switching_language_gets_the_new_languages_dates(tmp_path, case):
    text, expected = CASES[case]
    cache = tmp_path / "cache"
    site = _site(tmp_path / "site", "zh", {"ja": text, "zh": text})
    assert _build(site, cache) == expected["zh"]
    site.edit_config(('language = "zh"', 'language = "ja"'))
    assert _build(site, cache) == expected["ja"]
    site.edit_config(('language = "ja"', 'language = "zh"'))
    assert _build(site, cache) == expected["zh"]
