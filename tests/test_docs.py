"""The README is tested like code: its reference sections are generated from the config schema
and the Click commands (and must be up to date), and every key, command and option it mentions
in prose must exist."""

from __future__ import annotations

import dataclasses
import re
import shlex

import click
import pytest
from conftest import REPO
from test_workflow import parse_like_click

from feedkit.cli import cli
from feedkit.cli.docgen import update
from feedkit.config import SECTIONS, load_config, toml_key

README = (REPO / "README.md").read_text(encoding="utf-8")


def known_keys() -> dict[str, set[str]]:
    return {section: {toml_key(f) for f in dataclasses.fields(cls)}
            for section, (cls, _) in SECTIONS.items()}


def test_generated_reference_is_up_to_date() -> None:
    assert update(README) == README, "run: python -m feedkit.cli.docgen"


def test_every_config_key_is_documented_and_every_documented_key_exists() -> None:
    documented: dict[str, set[str]] = {}
    for section, block in re.findall(
            r"#### `\[\[?(\w+)\]\]?`\n(.*?)(?=\n#### |\n<!-- END)", README, re.S):
        documented[section] = set(re.findall(r"^\| `(\w+)` \|", block, re.M))
    assert documented == known_keys()


def test_keys_mentioned_in_prose_exist() -> None:
    keys = known_keys()
    mentioned = set(re.findall(r"`\[(\w+)\] (\w+)`", README))
    mentioned |= set(re.findall(r"\[(\w+)\] `(\w+)`", README))
    assert mentioned, "the README names keys as `[section] key`"
    unknown = {(s, k) for s, k in mentioned if s not in keys or k not in keys[s]}
    assert not unknown


def test_every_command_is_documented() -> None:
    ctx = click.Context(cli)
    names = []
    for name in cli.list_commands(ctx):
        cmd = cli.get_command(ctx, name)
        if isinstance(cmd, click.Group):
            names += [f"{name} {sub}" for sub in cmd.list_commands(ctx)]
        else:
            names.append(name)
    for name in names:
        assert f"#### `feedkit {name}`" in README, name


def test_the_reference_says_which_options_are_required() -> None:
    """`withdraw` refuses to run without --reason: its reference must say so, in the usage line
    and in the option's row, for every command with such an option."""
    required = []
    for full, cmd in _all_commands():
        for param in cmd.params:
            if isinstance(param, click.Option) and param.required:
                required.append((full, param.opts[0]))
    assert ("feedkit withdraw", "--reason") in required
    for full, opt in required:
        section = README.split(f"#### `{full}`\n", 1)[1].split("\n#### ", 1)[0]
        usage = section.split("```\n", 2)[1]
        assert f" {opt} " in usage, (full, usage)
        assert re.search(rf"^\| `{opt}` .*\| \*\*Required\.\*\* ", section, re.M), (full, opt)


def _all_commands():
    from feedkit.cli.docgen import _commands

    return _commands(cli, "feedkit")


def command_lines() -> list[str]:
    """`feedkit …` invocations in the README's shell examples (not the generated reference)."""
    prose = README.split("<!-- BEGIN GENERATED: cli -->")[0]
    lines = []
    for block in re.findall(r"```sh\n(.*?)```", prose, re.S):
        for line in block.splitlines():
            for part in re.split(r"&&|\|\||;", line.split("#")[0]):
                part = part.strip()
                part = re.sub(r"^(\w+=\S+\s+)+", "", part)  # VAR=value feedkit ...
                if part.startswith("feedkit "):
                    lines.append(part)
    return lines


@pytest.mark.parametrize("line", command_lines())
def test_readme_commands_parse(line: str) -> None:
    parse_like_click(shlex.split(line)[1:])


def test_example_configs_load() -> None:
    for path in [REPO / "config.toml", *sorted((REPO / "examples").glob("*.toml"))]:
        load_config(path)
