"""The editor's note (issue 13): ``feedkit digest note --week W TEXT`` (or ``--file``, or
``--clear``) puts a short Markdown note at the top of that week's email (HTML and text part) and
its archive page, sanitised like article HTML, and the email still fits its size budget.

Through the CLI; the HTML read back with lxml, the .eml with the email package, sizes measured
here from the decoded part (what Gmail's clip counts).
"""

from __future__ import annotations

import json
from email import message_from_bytes
from email.policy import default as default_policy
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from _digest_support import korean_articles
from conftest import Site
from lxml import html as lxml_html

from feedkit.digest.week import Week

WEEK = "2024-W51"   # the sample's last week with news
NOTE = ("**이번 주**에는 [머드축제 안내](/festival/2025)가 있습니다.\n"
        "다음 주 월요일은 휴무입니다.\n\n- 민원실 운영: 9시–18시\n- 문의: 041-930-3114")


def sections_start(html: str) -> int:
    return html.index('class="section')


def html_of(site: Site, week: str = WEEK) -> str:
    return site.run("digest", "render", "--week", week, "--html", "-").stdout


def test_the_note_is_at_the_top_of_the_email_text_part_and_archive_page(site, backend):
    site.use(backend)
    site.run("import")
    saved = site.run("digest", "note", "--week", WEEK, NOTE)
    assert f"{WEEK}: note saved" in saved.output

    html = html_of(site)
    doc = lxml_html.fromstring(html)
    (cell,) = doc.xpath("//td[contains(@class, 'note')]")
    assert cell.xpath(".//strong/text()") == ["이번 주"]
    # relative links made absolute against [site] url (a mail client has nothing to resolve
    # them against), as for article bodies
    assert cell.xpath(".//a/@href") == ["https://www.brcn.go.kr/festival/2025"]
    assert cell.xpath(".//li/text()") == ["민원실 운영: 9시–18시", "문의: 041-930-3114"]
    assert cell.xpath(".//br")   # the editor's line break stays a line break
    assert html.index("이번 주") < sections_start(html)
    assert "style=" in lxml_html.tostring(cell, encoding="unicode")   # inlined like the rest
    head = html.split("</head>")[0]
    assert "prefers-color-scheme: dark" in head and ".note" in head   # its dark-mode rule kept
    # a week without a note carries none of it
    plain = html_of(site, "2024-W32")
    assert ".note" not in plain and 'class="note' not in plain

    text = site.run("digest", "render", "--week", WEEK, "--text", "-").stdout
    assert NOTE in text
    assert text.index(NOTE) < text.index("== ")

    site.run("build")
    page = (site.out / "digest" / f"{WEEK}.html").read_text("utf-8")
    assert "<strong>이번 주</strong>" in page
    assert page.index("이번 주") < sections_start(page)
    # only that week
    other = sorted((site.out / "digest").glob("2024-W*.html"))[0]
    assert other.name != f"{WEEK}.html" and "이번 주</strong>" not in other.read_text("utf-8")

    shown = site.run("digest", "note", "--week", WEEK)
    assert shown.stdout == NOTE + "\n"


def test_changing_or_clearing_a_note_rebuilds_that_archive_page(site, backend):
    site.use(backend)
    site.run("import")
    site.run("build")
    page = site.out / "digest" / f"{WEEK}.html"
    before = page.read_bytes()
    site.run("digest", "note", "--week", WEEK, "첫 메모")
    site.run("build")
    assert "첫 메모" in page.read_text("utf-8")
    site.run("digest", "note", "--week", WEEK, "고친 메모")
    site.run("build")
    assert "고친 메모" in page.read_text("utf-8") and "첫 메모" not in page.read_text("utf-8")
    cleared = site.run("digest", "note", "--week", WEEK, "--clear")
    assert "cleared" in cleared.output
    site.run("build")
    assert page.read_bytes() == before
    assert "no note" in site.run("digest", "note", "--week", WEEK).output


def test_a_note_from_a_file_or_stdin(site, tmp_path, backend):
    site.use(backend)
    site.run("import")
    note = tmp_path / "note.md"
    note.write_bytes("\ufeff## 알림\r\n\r\n*연말* 휴무 안내\r\n".encode())   # BOM, CRLF (Notepad)
    site.run("digest", "note", "--week", WEEK, "--file", str(note))
    assert site.run("digest", "note", "--week", WEEK).stdout == "## 알림\n\n*연말* 휴무 안내\n"
    from click.testing import CliRunner

    from feedkit.cli import cli

    piped = CliRunner().invoke(cli, ["--config", str(site.config), "digest", "note", "--week",
                                     WEEK, "--file", "-"], input="표준 입력의 메모\n")
    assert piped.exit_code == 0, piped.output
    assert "<p>표준 입력의 메모</p>" in html_of(site).replace(' style="margin:0 0 8px"', "")


def test_a_note_is_sanitised_like_article_html(site):
    site.run("import")
    hostile = ("<script>alert(1)</script> [클릭](javascript:alert(1)) "
               '<img src=x onerror="alert(1)"> [메일](mailto:minwon@brcn.go.kr)\n\n'
               "![지도](https://www.brcn.go.kr/map.png)")
    site.run("digest", "note", "--week", WEEK, hostile)
    web = site.run("digest", "render", "--week", WEEK, "--web", "-").stdout
    for html in (html_of(site), web):
        doc = lxml_html.fromstring(html)
        (cell,) = doc.xpath("//td[contains(@class, 'note')]")
        assert not cell.xpath(".//script") and not doc.xpath("//script")
        assert not [a for el in cell.iter() for a in el.attrib if a.startswith("on")]
        assert cell.xpath(".//a/@href") == ["mailto:minwon@brcn.go.kr"]
        assert cell.xpath(".//img/@src") == ["https://www.brcn.go.kr/map.png"]
        # the raw HTML the editor typed is shown as text, not obeyed
        assert "<script>alert(1)</script>" in cell.text_content()


@pytest.mark.parametrize("args, why", [
    (["x" * 2001], "at most 2000"),
    (["   \n  "], "empty"),
    (["text", "--clear"], "--clear"),
    (["text", "--file", "note.md"], "--file"),
])
def test_bad_notes_are_refused_in_one_line(site, args, why):
    site.run("import")
    result = site.run("digest", "note", "--week", WEEK, *args, ok=False)
    assert result.exit_code == 2
    assert why in result.output and "Traceback" not in result.output
    assert "no note" in site.run("digest", "note", "--week", WEEK).output


def _eml_html(path: Path) -> tuple[bytes, int]:
    """(the HTML part as a mail client decodes it, the number of articles it shows)."""
    msg = message_from_bytes(path.read_bytes(), policy=default_policy)
    part = next(p for p in msg.walk() if p.get_content_type() == "text/html")
    data = part.get_payload(decode=True)
    return data, data.count(b'class="item-title"')


def test_the_size_budget_holds_with_the_longest_note(tmp_path):
    """A week too big for the budget: the note takes its room from the articles, never from
    the budget."""
    week = Week.parse("2024-W24", ZoneInfo("Asia/Seoul"))
    articles = korean_articles(400, week.start)
    data = tmp_path / "week.jsonl"
    data.write_text("".join(json.dumps(a.to_record(), ensure_ascii=False) + "\n"
                            for a in articles), "utf-8")
    budget = 60_000
    site = Site(tmp_path / "site", extra=f"""
[digest]
from = "보령시 소식 <news@example.org>"
to = ["kim@example.com"]
max_html_bytes = {budget}
""")
    site.run("import", str(data))
    plain = tmp_path / "plain.eml"
    site.run("digest", "render", "--week", "2024-W24", "--eml", str(plain))
    size0, shown0 = (lambda d: (len(d[0]), d[1]))(_eml_html(plain))
    assert size0 <= budget and 0 < shown0 < 400

    longest = ("**보령시** 주간 소식 편집자의 말: "
               + "머드축제와 해수욕장 안내, 민원실 운영 시간 " * 80)[:2000]
    site.run("digest", "note", "--week", "2024-W24", longest)
    noted = tmp_path / "noted.eml"
    site.run("digest", "render", "--week", "2024-W24", "--eml", str(noted))
    html, shown1 = _eml_html(noted)
    assert len(html) <= budget
    assert "편집자의 말".encode() in html
    assert html.index("편집자의 말".encode()) < html.index(b'class="section')
    assert 0 < shown1 < shown0


def test_a_note_file_that_is_not_utf8_is_refused_in_one_line(site, tmp_path):
    """Korean Windows editors still save as CP949 by default: one line naming the file and the
    fix, exit 2, not a UnicodeDecodeError."""
    site.run("import")
    note = tmp_path / "note.md"
    note.write_bytes("연말 휴무 안내".encode("cp949"))
    result = site.run("digest", "note", "--week", WEEK, "--file", str(note), ok=False)
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit)       # handled, not a crash
    assert f"--file: {note}: not UTF-8" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "no note" in site.run("digest", "note", "--week", WEEK).output


def test_a_note_on_a_week_without_news_is_saved_with_a_warning(site):
    """A note for a week that has no articles is read by nobody (no digest goes out for an
    empty week): most likely a wrong --week. It is kept (news may still come, or the editor
    fixes the week), but the editor is told, on stderr, why it will not be seen."""
    site.run("import")
    past = site.run("digest", "note", "--week", "2024-W30", "휴가철 안내", "--now",
                    "2024-12-30 09:00")
    assert "2024-W30: note saved" in past.stdout
    assert past.stderr.strip() == ("warning: 2024-W30 has no articles, so no digest is sent "
                                   "for it and nobody will read this note (is --week right?)")
    assert site.run("digest", "note", "--week", "2024-W30").stdout == "휴가철 안내\n"
    # The week still under way: the note may yet be read.
    ahead = site.run("digest", "note", "--week", "2025-W01", "새해 인사", "--now",
                     "2024-12-30 09:00")
    assert ahead.stderr.strip() == ("warning: 2025-W01 has no articles yet: the note is shown "
                                    "only if news is published before the week ends")
    # A week with news: no warning.
    quiet = site.run("digest", "note", "--week", WEEK, NOTE, "--now", "2024-12-30 09:00")
    assert quiet.stderr == ""
