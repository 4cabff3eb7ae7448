"""Progress output: plain quarter lines off a terminal, a redrawn bar on one, nothing when quiet."""

from __future__ import annotations

import io

from conftest import Site

from feedkit.progress import Progress


class FakeTTY(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_plain_lines_off_a_terminal() -> None:
    out = io.StringIO()
    with Progress("import", 100, stream=out, unit="records", min_total=100) as bar:
        for _ in range(100):
            bar.advance()
    assert out.getvalue().splitlines() == [
        "import: 25/100 records", "import: 50/100 records", "import: 75/100 records"]
    assert "\r" not in out.getvalue() and "\x1b" not in out.getvalue()


def test_bar_on_a_terminal_is_redrawn_and_cleared() -> None:
    out = FakeTTY()
    bar = Progress("build", 10, stream=out, delay=0)
    bar.advance(5)
    assert "\r\x1b[Kbuild [############            ] 5/10" in out.getvalue()
    bar.close()
    assert out.getvalue().endswith("\r\x1b[K")


def test_short_work_prints_nothing() -> None:
    tty, log = FakeTTY(), io.StringIO()
    with Progress("x", 10, stream=tty) as a, Progress("x", 10, stream=log) as b:
        a.advance(10)  # done well within the half second before a bar appears
        b.advance(10)  # below min_total: not worth log lines
    assert tty.getvalue() == "" and log.getvalue() == ""


def test_disabled_prints_nothing() -> None:
    out = FakeTTY()
    with Progress("x", 4, stream=out, enabled=False) as bar:
        bar.advance(4)
    assert out.getvalue() == ""


def test_import_reports_progress_in_ci_logs(site: Site, tmp_path) -> None:
    src = tmp_path / "many.jsonl"
    src.write_text("".join(
        f'{{"title": "t{i}", "url": "https://a.example/{i}", "published": "2024-01-01"}}\n'
        for i in range(1200)), encoding="utf-8")
    result = site.run("import", str(src))
    assert result.stderr.splitlines() == ["import: 300/1200 records", "import: 600/1200 records",
                                          "import: 900/1200 records"]
    quiet = site.run("-q", "import", str(src))
    assert quiet.stderr == "" and quiet.stdout == ""
