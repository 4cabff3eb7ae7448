"""The command line as a user meets it: help, version, exit codes, one-line errors."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner
from conftest import REPO, Site

from feedkit import __version__
from feedkit.cli import cli


def test_help_lists_the_commands() -> None:
    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0
    for command in ("import", "build", "validate"):
        assert command in result.output


def test_version() -> None:
    result = CliRunner().invoke(cli, ["--version"])
    assert result.exit_code == 0
    assert __version__ in result.output


def test_python_dash_m_and_console_script_work() -> None:
    out = subprocess.run([sys.executable, "-m", "feedkit", "--version"], capture_output=True,
                         text=True, check=True)
    assert __version__ in out.stdout


def test_quiet_and_verbose(site: Site) -> None:
    quiet = CliRunner().invoke(cli, ["--config", str(site.config), "--quiet", "import"])
    assert quiet.exit_code == 0 and quiet.output == ""
    verbose = CliRunner().invoke(cli, ["--config", str(site.config), "--verbose", "build"])
    assert verbose.exit_code == 0
    assert "wrote feed.xml" in verbose.output
    both = CliRunner().invoke(cli, ["--config", str(site.config), "-q", "-v", "build"])
    assert both.exit_code == 2 and "cannot be used together" in both.output


def test_import_with_no_file_sources_is_an_error(tmp_path: Path) -> None:
    site = Site(tmp_path)
    text = site.config.read_text(encoding="utf-8")
    start = text.index("[[sources]]")
    site.config.write_text(text[:start] + text[text.index("[feeds]"):], encoding="utf-8")
    result = site.run("import", ok=False)
    assert result.exit_code == 2  # a configuration error
    assert "no files given and no file sources" in result.stderr


def test_validate_on_a_missing_folder_is_an_error(site: Site, tmp_path: Path) -> None:
    result = site.run("validate", str(tmp_path / "nowhere"), ok=False)
    assert result.exit_code == 2  # a bad argument
    assert "no such folder" in result.stderr


def test_validate_passes_on_a_fresh_build_and_fails_on_a_broken_feed(built_site: Site) -> None:
    ok = built_site.run("validate")
    assert "all feeds valid" in ok.output
    feed = built_site.out / "feed.xml"
    feed.write_text(feed.read_text(encoding="utf-8").replace("</channel>", ""), encoding="utf-8")
    bad = built_site.run("validate", ok=False)
    assert bad.exit_code == 1
    assert "feed.xml" in bad.stderr


def test_unknown_command_and_bad_option_exit_2(site: Site) -> None:
    assert site.run("frobnicate", ok=False).exit_code == 2
    assert site.run("build", "--bogus", ok=False).exit_code == 2


def test_help_is_fast_because_heavy_modules_load_lazily() -> None:
    """Not a timing test: checks that --help imports none of the heavy libraries."""
    code = ("import sys; from feedkit.cli import cli\n"
            "try:\n    cli(['--help'])\nexcept SystemExit:\n    pass\n"
            "heavy = [m for m in ('feedgen', 'lxml', 'jinja2', 'premailer', 'nh3', 'dateutil')"
            " if m in sys.modules]\n"
            "print('HEAVY', heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=REPO, env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})
    assert "HEAVY []" in out.stdout
