"""The command line as a user meets it: help, version, exit codes, one-line errors."""

from __future__ import annotations

import os
import re
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


def test_help_and_a_command_import_only_what_they_use() -> None:
    """`feedkit --help` imports no command module and lists what the commands themselves would
    list; `feedkit build --help` imports the build command's module and no other family's."""
    code = (
        "import sys, click; from feedkit.cli import cli\n"
        "def show(*args):\n"
        "    try:\n        cli(list(args), prog_name='feedkit', standalone_mode=False)\n"
        "    except SystemExit:\n        pass\n"
        "    print('=====', sorted(m for m in sys.modules if m.startswith('feedkit.cli.')))\n"
        "show('--help')\n"
        "show('build', '--help')\n"
        "ctx = click.Context(cli)\n"
        "for name in cli.list_commands(ctx):\n"
        "    cli.get_command(ctx, name)\n"
        "show('--help')\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=REPO).stdout
    # help text, then "===== [the feedkit.cli modules loaded so far]", three times
    lazy_help, loaded, _build_help, loaded_build, eager_help, _, _ = re.split(
        r"^===== (.*)\n", out, flags=re.MULTILINE)
    assert loaded == "['feedkit.cli.common', 'feedkit.cli.lazy']"
    assert "'feedkit.cli.site'" in loaded_build
    for family in ("content", "digest", "editorial", "subscribers", "web"):
        assert f"'feedkit.cli.{family}'" not in loaded_build
    assert "Commands:\n  announce     Tell the WebSub hubs" in lazy_help
    assert "\n  build        Write feeds," in lazy_help
    assert "  web          Serve the subscribe," in lazy_help
    assert lazy_help == eager_help          # the table's summaries are the commands' own


def test_the_command_table_matches_the_commands() -> None:
    """`feedkit --help` lists commands from a table (feedkit.cli.COMMANDS) without importing
    them: each row must name a real command, by the name it has, with its own short help; and
    every command in the command modules must have a row."""
    import importlib

    import click

    from feedkit.cli import COMMANDS

    for name, row in COMMANDS.items():
        cmd = row.load()
        assert cmd.name == name, row.target
        assert row.summary == cmd.get_short_help_str(limit=10_000), row.target
    defined = set()
    for path in sorted((REPO / "feedkit" / "cli").glob("*.py")):
        if path.stem in ("__init__", "common", "lazy"):
            continue
        module = importlib.import_module(f"feedkit.cli.{path.stem}")
        found = {attr: obj for attr, obj in vars(module).items()
                 if isinstance(obj, click.Command)}
        inner = {id(sub) for obj in found.values() if isinstance(obj, click.Group)
                 for sub in obj.commands.values()}
        defined |= {f"{module.__name__}:{attr}" for attr, obj in found.items()
                    if id(obj) not in inner}
    assert defined == {row.target for row in COMMANDS.values()}
    assert len(COMMANDS) == 18                          # counted by hand in feedkit/cli/*.py


def test_only_the_program_freezes_what_it_loaded_out_of_the_collector(site: Site) -> None:
    """`feedkit` runs one command and exits, so it moves the loaded modules out of the cyclic
    collector's walks; a process that runs commands again and again (these tests, a program
    embedding the CLI) must not, or every earlier run's garbage would stay for good."""
    import gc

    before = gc.get_freeze_count()
    site.run("stats")
    assert gc.get_freeze_count() == before
    code = ("import gc, sys; from feedkit.cli import main; sys.argv = ['feedkit', 'stats']\n"
            "try:\n    main()\nexcept SystemExit:\n    pass\nprint(gc.get_freeze_count())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=site.root).stdout
    assert int(out.split()[-1]) > 10_000
