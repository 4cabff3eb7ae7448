"""Constant template messages are translated when a template compiles (feedkit.text.templating):
the pages must be exactly what Jinja2's own i18n extension gives when it translates at render
time, and a changed catalog must never be served from a template compiled with the old one."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from jinja2 import Environment, FileSystemLoader, select_autoescape

from feedkit.text import i18n
from feedkit.text.templating import environment

SOURCE = (
    '{{ _("Latest news") }}|{{ gettext("a %% b") }}|{{ pgettext("page title", "Feeds") }}|'
    '{{ _("Latest news") ~ "<i>" }}|{{ _("%(name)s feed", name="<x>") }}|'
    '{{ (_("Latest news") if flag else _("a %% b")) | upper }}|{{ _("Untranslated & plain") }}\n'
)

CATALOG = '''msgid ""
msgstr ""
"Content-Type: text/plain; charset=UTF-8\\n"
"Plural-Forms: nplurals=1; plural=0;\\n"

msgid "Latest news"
msgstr "<b>최신</b> & 소식"

msgid "a %% b"
msgstr "ㄱ %% ㄴ"

msgctxt "page title"
msgid "Feeds"
msgstr "피드 & 구독"

msgid "%(name)s feed"
msgstr "%(name)s 피드"
'''


def _site(tmp_path: Path) -> tuple[Path, i18n.Language]:
    templates = tmp_path / "templates"
    templates.mkdir()
    for name in ("page.html.j2", "page.txt.j2"):
        (templates / name).write_text(SOURCE, encoding="utf-8")
    po = tmp_path / "locale" / "xx" / "LC_MESSAGES" / "feedkit.po"
    po.parent.mkdir(parents=True)
    po.write_text(CATALOG, encoding="utf-8")
    i18n.refresh()
    return templates, i18n.get("xx", tmp_path / "locale")


@pytest.mark.parametrize("name", ["page.html.j2", "page.txt.j2"])
@pytest.mark.parametrize("flag", [True, False])
def test_folded_messages_render_exactly_as_jinjas_i18n_does(tmp_path, name, flag):
    """HTML (autoescaped: a translation's markup is kept, what it is joined with is escaped)
    and text (nothing escaped), '%%' read as '%', context messages, placeholders."""
    templates, lang = _site(tmp_path)
    reference = Environment(
        loader=FileSystemLoader(str(templates)),
        autoescape=select_autoescape(("html", "htm", "xml", "xsl", "html.j2", "xml.j2")),
        extensions=["jinja2.ext.i18n"], keep_trailing_newline=True)
    reference.install_gettext_translations(lang.translations, newstyle=True)
    expected = reference.get_template(name).render(flag=flag)
    assert "<b>최신</b>" in expected and "ㄱ % ㄴ" in expected     # the catalog is in use
    assert environment(templates, lang).get_template(name).render(flag=flag) == expected


def test_constant_messages_are_no_longer_calls_in_the_compiled_template(tmp_path):
    templates, lang = _site(tmp_path)
    env = environment(templates, lang)
    joined = '{{ _("Latest news") ~ "<i>" }}|'
    code = env.compile(SOURCE.replace(joined, ""), name="page.html.j2", raw=True)
    for folded in ("'Latest news'", "'a %% b'", "'Feeds'", "'Untranslated & plain'"):
        assert folded not in code
    assert "'%(name)s feed'" in code     # a placeholder: translated when it renders
    # joined with ~: Jinja would join the constants as plain text, so it stays a call
    assert "'Latest news'" in env.compile(joined, name="page.html.j2", raw=True)


def test_an_edited_catalog_is_never_served_from_a_template_compiled_with_the_old_one(tmp_path):
    """The compiled templates in the user cache are named by the catalogs' content: a new
    process with the edited catalog compiles again instead of loading the old words."""
    templates, _ = _site(tmp_path)
    code = ("import sys; from pathlib import Path; from feedkit.text import i18n; "
            "from feedkit.text.templating import environment; "
            "lang = i18n.get('xx', Path(sys.argv[2])); "
            "print(environment(Path(sys.argv[1]), lang).get_template('page.txt.j2')"
            ".render(flag=True).split('|')[0])")

    def first_word() -> str:
        return subprocess.run(
            [sys.executable, "-c", code, str(templates), str(tmp_path / "locale")],
            capture_output=True, text=True, check=True,
            env={**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")},
        ).stdout.strip()

    assert first_word() == "<b>최신</b> & 소식"
    assert list((tmp_path / "cache" / "feedkit" / "jinja").iterdir())   # compiled and kept
    po = tmp_path / "locale" / "xx" / "LC_MESSAGES" / "feedkit.po"
    po.write_text(CATALOG.replace("<b>최신</b> & 소식", "새 소식"), encoding="utf-8")
    assert first_word() == "새 소식"
