"""Languages are catalogs (issue 10): every human-facing string goes through gettext, dates
through Babel's CLDR data; ``ko`` and ``en`` ship, and a site adds a language by adding a
catalog."""

from __future__ import annotations

import ast
import os
import re
import shutil
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po
from lxml import html as lxml_html

from feedkit.text import i18n
from feedkit.text.dates import (
    format_date,
    format_range,
    format_year,
    week_days,
    week_label,
    week_name,
)

REPO = Path(__file__).resolve().parents[1]
LOCALE = REPO / "feedkit" / "locale"
FIXTURE_LOCALE = Path(__file__).resolve().parent / "fixtures" / "locale"
SHIPPED = ("ko", "en")


def _extracted() -> dict[tuple[str | None, str], str]:
    """Every message in the code and templates, found by Babel's own extractors with the
    mapping the README's `pybabel extract` command uses (babel.cfg)."""
    with open(REPO / "babel.cfg", encoding="utf-8") as fh:
        method_map, options_map = parse_mapping_cfg(fh)
    found: dict[tuple[str | None, str], str] = {}
    for filename, lineno, message, _comments, context in extract_from_dir(
            str(REPO), method_map, options_map):
        msgid = message if isinstance(message, str) else message[0]
        found[(context, msgid)] = f"{filename}:{lineno}"
    return found


def _catalog(path: Path):
    with open(path, "rb") as fh:
        return read_po(fh)


def _keys(catalog) -> set[tuple[str | None, str]]:
    return {(m.context, m.id if isinstance(m.id, str) else m.id[0]) for m in catalog if m.id}


def test_the_code_has_messages_to_translate():
    found = _extracted()
    assert len(found) >= 70
    # one from a template, one from Python code, one date pattern
    assert (None, "Latest news") in found and found[(None, "Latest news")].startswith(
        "templates/")
    assert (None, "Attachments") in found and "ingest/update.py" in found[(None, "Attachments")]
    assert (None, "{date:EEE d MMM y}") in found


@pytest.mark.parametrize("name", [*SHIPPED, "feedkit.pot"])
def test_every_catalog_has_every_message_and_no_stale_one(name):
    """A new `_("...")` or `{% trans %}` without a catalog entry fails here, naming where it is;
    run the README's pybabel commands and translate it."""
    path = LOCALE / name if name.endswith(".pot") else (
        LOCALE / name / "LC_MESSAGES" / "feedkit.po")
    found = _extracted()
    have = _keys(_catalog(path))
    missing = sorted(f"{where}: {key[1]!r}" + (f" (context {key[0]!r})" if key[0] else "")
                     for key, where in found.items() if key not in have)
    assert not missing, f"{path.relative_to(REPO)} lacks:\n" + "\n".join(missing)
    stale = sorted(have - set(found), key=str)
    assert not stale, f"{path.relative_to(REPO)} holds messages no code uses: {stale}"


def test_korean_catalog_translates_everything_and_passes_babels_checks():
    catalog = _catalog(LOCALE / "ko" / "LC_MESSAGES" / "feedkit.po")
    assert catalog.plural_forms == "nplurals=1; plural=0;"
    untranslated = [m.id for m in catalog if m.id and (
        m.fuzzy or not all(m.string if isinstance(m.string, tuple) else (m.string,)))]
    assert not untranslated, untranslated
    for code in SHIPPED:
        errors = [(m.id, [str(e) for e in errs])
                  for m, errs in _catalog(LOCALE / code / "LC_MESSAGES" / "feedkit.po").check()]
        assert not errors, (code, errors)


# -- Korean output: byte-identical to the hand-written formats it replaced --------------------

_KO_WEEKDAYS = "월화수목금토일"


def _old_korean_date(value: date, year: bool, weekday: bool) -> str:
    """The hand-written Korean format feedkit used before the catalogs (the reference)."""
    text = f"{value.month}월 {value.day}일"
    if year:
        text = f"{value.year}년 {text}"
    if weekday:
        text += f" ({_KO_WEEKDAYS[value.weekday()]})"
    return text


def _old_korean_week(monday: date) -> tuple[str, str, str]:
    ordinals = ("첫째", "둘째", "셋째", "넷째", "다섯째")
    last = monday + timedelta(days=6)
    end = f"{last.day}일" if last.month == monday.month else f"{last.month}월 {last.day}일"
    days = f"{monday.month}월 {monday.day}일 – {end}"
    thursday = monday + timedelta(days=3)
    name = f"{thursday.month}월 {ordinals[(thursday.day - 1) // 7]} 주"
    return days, name, f"{thursday.year}년 {name}"


def test_korean_dates_match_the_old_hand_written_format_on_every_day_of_three_years():
    day = date(2024, 1, 1)
    while day.year < 2027:
        for year in (True, False):
            for weekday in (True, False):
                assert format_date(day, "ko", year=year, weekday=weekday) == _old_korean_date(
                    day, year, weekday)
        last = day + timedelta(days=6)
        first = _old_korean_date(day, True, False)
        second = _old_korean_date(last, last.year != day.year, False)
        assert format_range(day, last, "ko-KR") == f"{first} – {second}"
        day += timedelta(days=1)
    monday = date(2024, 1, 1)
    while monday.year < 2027:
        days, name, name_year = _old_korean_week(monday)
        assert week_days(monday, "ko") == days
        assert week_name(monday, "ko") == name
        assert week_name(monday, "ko", year=True) == name_year
        assert week_label(monday, "ko") == f"{name} ({days})"
        monday += timedelta(days=7)
    assert format_date(date(2024, 6, 11), "ko") == "2024년 6월 11일 (화)"
    assert format_year(2024, "ko") == "2024년"


def test_english_dates_keep_their_format():
    assert format_date(date(2024, 6, 11), "en") == "Tue 11 Jun 2024"
    assert format_date(date(2024, 9, 5), "en", year=False) == "Thu 5 Sep"
    assert format_range(date(2024, 12, 30), date(2025, 1, 5), "en") == (
        "30 Dec 2024 – 5 Jan 2025")
    assert week_label(date(2025, 12, 29), "en") == "Week of 29 December 2025 – 4 January 2026"


# -- which catalog a language gets --------------------------------------------------------------


def test_a_regional_tag_falls_back_to_its_language_and_an_unknown_one_to_english():
    assert i18n.candidates("ko-KR") == ["ko_KR", "ko"]
    assert i18n.candidates("zh-hant-tw") == ["zh_Hant_TW", "zh_Hant", "zh"]
    ko = i18n.get("ko-KR")
    assert (ko.code, ko.gettext("Unsubscribe"), str(ko.locale)) == ("ko", "수신 거부", "ko")
    fr = i18n.get("fr")
    assert (fr.code, fr.gettext("Unsubscribe"), str(fr.locale)) == ("en", "Unsubscribe", "en")
    assert format_date(date(2024, 6, 11), fr) == "Tue 11 Jun 2024"  # English, not "mar."
    # English plural rules from the en catalog's header
    en = i18n.get("en")
    assert en.ngettext("%(num)d story", "%(num)d stories", 1) % {"num": 1} == "1 story"
    assert en.ngettext("%(num)d story", "%(num)d stories", 2) % {"num": 2} == "2 stories"


def test_the_active_language_serves_plain_underscore():
    assert i18n._("Unsubscribe") == "Unsubscribe"
    with i18n.activate("ko") as lang:
        assert lang.code == "ko"
        assert i18n._("Unsubscribe") == "수신 거부"
        assert i18n.pgettext("digest section", "Other news") == "기타 소식"
    assert i18n._("Unsubscribe") == "Unsubscribe"


# -- a third language from a site's own catalog ---------------------------------------------------


def _japanese_site(site):
    site.edit_config(('language = "ko"', 'language = "ja"'))
    shutil.copytree(FIXTURE_LOCALE, site.root / "locale")
    return site


def test_a_site_adds_japanese_by_adding_a_catalog(site):
    _japanese_site(site)
    site.run("import")
    site.run("build", "--now", "2024-12-31T12:00")
    page = lxml_html.fromstring((site.out / "index.html").read_bytes())
    assert page.xpath("string(//h2[@id='latest'])") == "最新ニュース"
    assert page.xpath("string(//h2[@id='feeds'])") == "フィードの購読"
    # 2024-12-20 was a Friday: CLDR's Japanese weekday, the fixture catalog's pattern
    assert page.xpath("string(//time[@datetime='2024-12-20T10:00:00+09:00'])") == (
        "2024年12月20日(金)")
    feeds = lxml_html.fromstring((site.out / "feeds.html").read_bytes())
    assert feeds.xpath("string(//h1)") == "すべてのニュースのフィード"
    archive = lxml_html.fromstring((site.out / "digest" / "index.html").read_bytes())
    assert archive.xpath("string(//h2[@id='y2024'])") == "2024年"

    out = site.root / "w51"
    site.run("digest", "render", "--week", "2024-W51", "--text", str(out) + ".txt",
             "--html", str(out) + ".html")
    text = (site.root / "w51.txt").read_text(encoding="utf-8")
    lines = text.splitlines()
    # Monday 16 December 2024: the third week of December (its Thursday is the 19th)
    assert lines[0] == "보령시 새소식 週刊ニュース — 2024年12月第3週(12月16日～22日)"
    assert lines[1] == "12月16日～22日 · 1件のニュース"   # the HTML part's week line (issue 28)
    assert "  12月20日(金)" in lines
    assert "ウェブで見る: https://news.example.org/boryeong/digest/2024-W51.html" in lines
    email = lxml_html.fromstring((site.root / "w51.html").read_bytes())
    assert email.xpath("string(//p[@class='week'])") == "12月16日～22日 · 1件のニュース"
    assert email.xpath("string(//span[@class='count'])") == "1件"


def test_editing_a_site_catalog_rebuilds_the_pages(site):
    _japanese_site(site)
    site.run("import")
    site.run("build", "--now", "2024-12-31T12:00")
    po = site.root / "locale" / "ja" / "LC_MESSAGES" / "feedkit.po"
    po.write_text(po.read_text(encoding="utf-8").replace(
        'msgstr "最新ニュース"', 'msgstr "新着"'), encoding="utf-8")
    site.run("build", "--now", "2024-12-31T12:00")
    page = lxml_html.fromstring((site.out / "index.html").read_bytes())
    assert page.xpath("string(//h2[@id='latest'])") == "新着"


def test_a_site_catalog_overrides_korean_wording_message_by_message(site):
    ko = site.root / "locale" / "ko" / "LC_MESSAGES"
    ko.mkdir(parents=True)
    (ko / "feedkit.po").write_text(
        'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n'
        '"Plural-Forms: nplurals=1; plural=0;\\n"\n\n'
        'msgid "Latest news"\nmsgstr "보령 소식"\n', encoding="utf-8")
    site.run("import")
    site.run("build", "--now", "2024-12-31T12:00")
    page = lxml_html.fromstring((site.out / "index.html").read_bytes())
    assert page.xpath("string(//h2[@id='latest'])") == "보령 소식"       # the site's
    assert page.xpath("string(//h2[@id='feeds'])") == "피드 구독"         # the bundled ko
    assert page.xpath("string(//time[@datetime='2024-12-20T10:00:00+09:00'])") == (
        "2024년 12월 20일 (금)")


def test_a_language_without_any_catalog_is_english(site):
    site.edit_config(('language = "ko"', 'language = "fr"'))
    site.run("import")
    site.run("build", "--now", "2024-12-31T12:00")
    page = lxml_html.fromstring((site.out / "index.html").read_bytes())
    assert page.xpath("string(//h2[@id='latest'])") == "Latest news"
    assert page.xpath("string(//time[@datetime='2024-12-20T10:00:00+09:00'])") == (
        "Fri 20 Dec 2024")
    assert page.xpath("string(/html/@lang)") == "fr"


def test_a_catalog_just_started_gives_cldr_dates_and_english_words(site):
    """`pybabel init` gives a catalog with every msgstr empty: words stay English until
    translated, but dates already follow the language (CLDR's own formats), not English order."""
    ja = site.root / "locale" / "ja" / "LC_MESSAGES"
    ja.mkdir(parents=True)
    (ja / "feedkit.po").write_text(
        'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n'
        '"Plural-Forms: nplurals=1; plural=0;\\n"\n\nmsgid "Latest news"\nmsgstr ""\n',
        encoding="utf-8")
    site.edit_config(('language = "ko"', 'language = "ja-JP"'))
    site.run("import")
    site.run("build", "--now", "2024-12-31T12:00")
    page = lxml_html.fromstring((site.out / "index.html").read_bytes())
    assert page.xpath("string(//h2[@id='latest'])") == "Latest news"
    assert page.xpath("string(//time[@datetime='2024-12-20T10:00:00+09:00'])") == (
        "2024年12月20日(金)")
    lang = i18n.get("ja", site.root / "locale")
    assert week_days(date(2024, 12, 30), lang) == "2024年12月30日～2025年1月5日"
    assert format_range(date(2024, 6, 10), date(2024, 6, 16), lang) == "2024年6月10日～16日"
    assert format_year(2024, lang) == "2024年"


def test_a_broken_site_catalog_is_a_one_line_configuration_error(site):
    _japanese_site(site)
    po = site.root / "locale" / "ja" / "LC_MESSAGES" / "feedkit.po"
    text = po.read_text(encoding="utf-8")
    site.run("import")
    for broken, says in [
        ("hello world\n", "feedkit.po: not a valid gettext catalog"),
        # a placeholder the message does not have: caught by Babel's checks at load time
        (text.replace('"ニュース%(num)d件"', '"ニュース%(nmu)d件"'), "unknown named placeholder"),
        # a date field the message does not fill
        (text.replace('"{date:y年M月d日(E)}"', '"{dtae:y年M月d日(E)}"'),
         "the translation '{dtae:y年M月d日(E)}' cannot be used"),
    ]:
        po.write_text(broken, encoding="utf-8")
        result = site.run("build", "--now", "2024-12-31T12:00", ok=False)
        assert result.exit_code == 2, result.output
        assert says in result.output
        assert "feedkit.po" in result.output
        assert len(result.output.strip().splitlines()) == 1, result.output
        assert not (site.out / "index.html").exists()   # nothing half-built


# -- no words outside the catalogs ----------------------------------------------------------------

_HANGUL = re.compile(r"[\uac00-\ud7a3]")
# Korean in Python string literals is allowed only where it is *input*, not output: patterns
# that parse Korean pages, and example values in configuration docs.
_HANGUL_OK = {
    "feedkit/ingest/normalize.py": "parses Korean dates and board badges",
    "feedkit/ingest/html_source.py": "the default attachment label of the library API",
    "feedkit/ingest/charset.py": "recognises Hangul when guessing an encoding",
    "feedkit/digest/compose.py": "recognises 읍·면·동 office names",
    "feedkit/config.py": "example values in the key documentation",
    "feedkit/text/slugs.py": "romanisation tables",
    "feedkit/subscribers/listfile.py": "reads the Korean column names of a city's list (이메일)",
    # source detect reads Korean boards: their date forms, labels, office names, pager words.
    "feedkit/ingest/detect/dates.py": "recognises Korean date forms and labels (등록일)",
    "feedkit/ingest/detect/detail.py": "tells attachment viewers (미리보기) from downloads",
    "feedkit/ingest/detect/fields.py": "recognises department labels and office names (관광과)",
    "feedkit/ingest/detect/paging.py": "recognises a pager's words (다음, 2페이지)",
    "feedkit/ingest/detect/rows.py": "recognises Korean dates when measuring a page",
    "feedkit/ingest/detect/run.py": "the default attachment label of the library API",
}


def _strings_outside_docstrings(tree: ast.AST):
    docstrings = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                docstrings.add(id(body[0].value))
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and (
                id(node) not in docstrings):
            yield node


def test_no_korean_words_in_python_output_strings():
    """Korean text belongs in the ko catalog; a Korean literal in code is a string that
    bypassed it (patterns that *read* Korean pages are listed above)."""
    offenders = []
    for path in sorted((REPO / "feedkit").rglob("*.py")):
        rel = path.relative_to(REPO).as_posix()
        if rel in _HANGUL_OK or rel.startswith("feedkit/config/"):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        offenders += [f"{rel}:{n.lineno}: {n.value!r}" for n in _strings_outside_docstrings(tree)
                      if _HANGUL.search(n.value)]
    assert not offenders, "\n".join(offenders)


def test_bundled_templates_choose_no_words_by_language():
    """No `ko` branches and no Korean words in the bundled templates (outside comments and the
    font names in CSS): every word is a message."""
    for path in sorted((REPO / "templates").rglob("*.j2")):
        text = re.sub(r"\{#.*?#\}", "", path.read_text(encoding="utf-8"), flags=re.S)
        text = text.replace("'맑은 고딕'", "")
        assert not re.search(r"\bko\b", text), path.name
        assert not _HANGUL.search(text), (path.name, _HANGUL.search(text))


def test_a_command_that_loads_the_config_speaks_the_sites_language_until_it_ends(site):
    """`from feedkit.text.i18n import _` in a command: the site's language while the command runs
    (the CLI activates it when it loads the config), English again afterwards."""
    import click

    from feedkit.cli.common import Context

    with click.Context(click.Command("probe")):
        obj = Context(str(site.config), 0)
        assert i18n._("Unsubscribe") == "Unsubscribe"      # no config loaded yet
        assert obj.config.site.language == "ko"
        assert i18n._("Unsubscribe") == "수신 거부"
    assert i18n._("Unsubscribe") == "Unsubscribe"


# Names, not words: the feed formats and their media types.
_NOT_WORDS = {"rss", "atom", "json", "RSS", "Atom", "JSON Feed", "application/rss+xml",
              "application/atom+xml", "application/feed+json"}


def test_bundled_templates_have_no_plain_words():
    """Every word a bundled template writes is a message: no text between the tags and no
    string constant in an expression outside _()/ngettext()/pgettext()/{% trans %} (read from
    Jinja2's own parse of each template, so a new plain string fails here, naming it)."""
    from jinja2 import Environment, nodes

    env = Environment(extensions=["jinja2.ext.i18n"])
    env.install_null_translations(newstyle=True)  # type: ignore[attr-defined]
    gettext = {"_", "gettext", "ngettext", "pgettext", "npgettext"}
    word = re.compile(r"[^\W\d_]{2,}")

    def constants(node):
        if (isinstance(node, nodes.Call) and isinstance(node.node, nodes.Name)
                and node.node.name in gettext):
            return
        if isinstance(node, nodes.Const) and isinstance(node.value, str):
            yield node.value
        for child in node.iter_child_nodes():
            yield from constants(child)

    offenders = []
    for path in sorted((REPO / "templates").rglob("*.j2")):
        tree = env.parse(path.read_text(encoding="utf-8"))
        data = "".join(n.data for n in tree.find_all(nodes.TemplateData))
        data = re.sub(r"<style.*?</style>|<!--.*?-->", " ", data, flags=re.S)
        text = re.sub(r"<[^>]*>|&\w+;", " ", data)
        offenders += [f"{path.name}: text {w!r}" for w in word.findall(text)
                      if w not in _NOT_WORDS]
        for node in [*tree.find_all(nodes.Output), *tree.find_all(nodes.Assign)]:
            offenders += [f"{path.name}: {c!r}" for c in constants(node)
                          if word.search(c) and c not in _NOT_WORDS]
    assert not offenders, "\n".join(offenders)


def _translate_in_a_new_process(cache: Path, **env: str) -> tuple[str, bool]:
    """(Korean for "Unsubscribe", whether Babel's .po parser was imported) in a fresh
    interpreter whose user cache folder is ``cache``."""
    code = ("import sys; from feedkit.text import i18n; "
            "print(i18n.get('ko').gettext('Unsubscribe')); "
            "print('babel.messages.pofile' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**os.environ, "XDG_CACHE_HOME": str(cache), **env}).stdout
    word, parsed = out.splitlines()
    return word, parsed == "True"


def test_compiled_catalogs_are_kept_in_the_user_cache_by_content(tmp_path):
    """The second process reads the compiled catalog instead of parsing the .po; an entry that
    is not a .mo is compiled again; FEEDKIT_NO_CACHE keeps nothing."""
    cache = tmp_path / "cache"
    assert _translate_in_a_new_process(cache) == ("수신 거부", True)
    entries = sorted((cache / "feedkit" / "catalogs").iterdir())
    assert len(entries) == 2 and all(e.suffix == ".mo" for e in entries)    # ko, en
    assert _translate_in_a_new_process(cache) == ("수신 거부", False)
    for entry in entries:
        entry.write_bytes(b"half a file")
    assert _translate_in_a_new_process(cache) == ("수신 거부", True)
    assert all(e.read_bytes()[:4] == b"\xde\x12\x04\x95" for e in entries)  # rewritten
    other = tmp_path / "other"
    assert _translate_in_a_new_process(other, FEEDKIT_NO_CACHE="1") == ("수신 거부", True)
    assert not (other / "feedkit").exists()


_DATES_CODE = """\
import sys
from datetime import date
from pathlib import Path
from feedkit.text import i18n
from feedkit.text.dates import format_date, format_range, week_days
ja = i18n.get("ja", Path(sys.argv[1]))
print(format_date(date(2024, 12, 20), "ko"))
print(format_date(date(2024, 12, 20), "en"))
print(week_days(date(2024, 12, 30), "ko"))
print(format_date(date(2024, 12, 20), ja))
print(format_range(date(2024, 6, 10), date(2024, 6, 16), ja))
print("babel" in sys.modules)
"""


def _dates_in_a_new_process(cache: Path, locale: Path, **env: str) -> tuple[list[str], bool]:
    """(dates formatted in a fresh interpreter whose user cache folder is ``cache``, whether it
    imported Babel). The Japanese catalog is a just-started one, so its dates are CLDR's own
    skeleton and interval formats."""
    out = subprocess.run([sys.executable, "-c", _DATES_CODE, str(locale)], capture_output=True,
                         text=True, check=True,
                         env={**os.environ, "XDG_CACHE_HOME": str(cache), **env}).stdout
    *dates, imported = out.splitlines()
    return dates, imported == "True"


def test_cldr_dates_are_remembered_across_runs_so_babel_is_not_imported(tmp_path):
    """Babel's answers are kept in the user cache: a second process formats the same days
    without importing Babel (about 30 ms of a cold build), and gives the same text; an entry
    that is not one is asked of Babel again; FEEDKIT_NO_CACHE keeps nothing."""
    locale = tmp_path / "locale"
    (locale / "ja" / "LC_MESSAGES").mkdir(parents=True)
    (locale / "ja" / "LC_MESSAGES" / "feedkit.po").write_text(
        'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n', encoding="utf-8")
    expected = ["2024년 12월 20일 (금)", "Fri 20 Dec 2024", "12월 30일 – 1월 5일",
                "2024年12月20日(金)", "2024年6月10日～16日"]
    cache = tmp_path / "cache"
    assert _dates_in_a_new_process(cache, locale) == (expected, True)
    entries = sorted((cache / "feedkit" / "cldr").iterdir())
    # one file per (Babel, locale, pattern): ko's and en's date messages, ja's skeleton and
    # interval, ko's two week-days patterns
    assert len(entries) >= 4 and all(e.suffix == ".json" for e in entries)
    assert _dates_in_a_new_process(cache, locale) == (expected, False)
    for entry in entries:
        entry.write_bytes(b'{"half a')
    assert _dates_in_a_new_process(cache, locale) == (expected, True)
    assert _dates_in_a_new_process(cache, locale) == (expected, False)
    other = tmp_path / "other"
    assert _dates_in_a_new_process(other, locale, FEEDKIT_NO_CACHE="1") == (expected, True)
    assert not (other / "feedkit").exists()


def test_a_run_adds_its_days_to_what_another_run_saved_meanwhile(tmp_path, monkeypatch):
    """Runs that started from the same memo file all keep their new days: saving merges with
    what the file holds by then, and the next run takes every day from it."""
    import json

    from feedkit.text import cldr

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr(cldr, "_memos", {})
    monkeypatch.setattr(cldr, "_pending", [])
    assert cldr.remembered("xx", "date", "d", "2024-01-01", lambda: "one") == "one"
    (memo,) = cldr._memos.values()
    memo.path.write_text('{"2024-01-02": "two"}', encoding="utf-8")  # another run's save
    cldr.save()
    assert json.loads(memo.path.read_text(encoding="utf-8")) == {
        "2024-01-01": "one", "2024-01-02": "two"}
    monkeypatch.setattr(cldr, "_memos", {})
    asked: list[str] = []
    for day in ("2024-01-01", "2024-01-02"):
        cldr.remembered("xx", "date", "d", day, lambda day=day: asked.append(day) or "?")
    assert asked == []
