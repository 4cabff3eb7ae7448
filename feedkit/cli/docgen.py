"""Generate the README's configuration and CLI reference from the code itself.

The config dataclasses (with their ``_doc`` metadata) and the Click commands are the source of
truth; ``python -m feedkit.cli.docgen`` rewrites the marked sections of README.md, and a test fails
when they are out of date, so the docs can never promise a key or option the code lacks.
"""

from __future__ import annotations

import dataclasses
import inspect
import sys
import types
import typing
from pathlib import Path

import click

from feedkit.config import SECTIONS, toml_key

BEGIN = "<!-- BEGIN GENERATED: {name} -->"
END = "<!-- END GENERATED: {name} -->"


def _type_name(hint: typing.Any) -> str:
    origin = typing.get_origin(hint)
    if origin is tuple:
        return "list of strings"
    if origin is dict:
        return "table of strings"
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_type_name(a) for a in typing.get_args(hint) if a is not type(None))
    return {str: "string", int: "integer", bool: "boolean", float: "number"}.get(hint, str(hint))


def _default(f: dataclasses.Field) -> str:
    if f.default is not dataclasses.MISSING:
        value = f.default
    elif f.default_factory is not dataclasses.MISSING:
        value = f.default_factory()
    else:
        return "**required**"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, str):
        return f'`"{value}"`' if value else '`""`'
    if isinstance(value, tuple | list):
        return "`[" + ", ".join(f'"{v}"' for v in value) + "]`"
    if isinstance(value, dict):
        return "`{}`" if not value else f"`{value}`"
    return f"`{value}`"


def config_reference() -> str:
    out = []
    for section, (cls, is_array) in SECTIONS.items():
        header = f"[[{section}]]" if is_array else f"[{section}]"
        out.append(f"#### `{header}`\n")
        if cls.__doc__ and not cls.__doc__.startswith(cls.__name__ + "("):
            out.append(" ".join(cls.__doc__.split()) + "\n")
        out.append("| key | type | default | meaning |")
        out.append("| --- | --- | --- | --- |")
        hints = typing.get_type_hints(cls)
        for f in dataclasses.fields(cls):
            doc = f.metadata.get("doc", "").replace("|", "\\|")
            out.append(f"| `{toml_key(f)}` | {_type_name(hints[f.name])} | {_default(f)} "
                       f"| {doc} |")
        out.append("")
    return "\n".join(out).rstrip() + "\n"


def _commands(group: click.Group, prefix: str) -> list[tuple[str, click.Command]]:
    result = []
    ctx = click.Context(group)
    for name in group.list_commands(ctx):
        cmd = group.get_command(ctx, name)
        if cmd is None or cmd.hidden:
            continue
        full = f"{prefix} {name}"
        if isinstance(cmd, click.Group):
            result += _commands(cmd, full)
        else:
            result.append((full, cmd))
    return result


def cli_reference() -> str:
    from feedkit.cli import cli

    out = []
    for full, cmd in [("feedkit", cli), *_commands(cli, "feedkit")]:
        ctx = click.Context(cmd, info_name=full)
        pieces = cmd.collect_usage_pieces(ctx)
        # A required option is part of the usage line, not hidden behind [OPTIONS]: the
        # command does nothing without it (`withdraw --reason TEXT`).
        required = [f"{p.opts[0]} {p.make_metavar(ctx)}" for p in cmd.params
                    if isinstance(p, click.Option) and p.required and not p.is_flag]
        if required and pieces and pieces[0] == "[OPTIONS]":
            pieces[1:1] = required
        out.append(f"#### `{full}`\n")
        out.append(f"```\n{full} {' '.join(pieces)}\n```\n")
        help_text = inspect.cleandoc(cmd.help or "").split("\f")[0].strip()
        if help_text:
            paragraphs = [" ".join(p.split()) for p in help_text.split("\n\n")]
            out.append("\n\n".join(paragraphs) + "\n")
        rows = []
        for param in cmd.params:  # -h/--help is left out: every command has it
            if isinstance(param, click.Option):
                names = ", ".join(f"`{o}`" for o in param.opts + param.secondary_opts)
                if not param.is_flag and not param.count:
                    names += f" `{param.make_metavar(ctx)}`"
                names = names.replace("|", "\\|")
                meaning = (param.help or "").replace("|", "/")
                if param.required:
                    meaning = f"**Required.** {meaning}"
                rows.append(f"| {names} | {meaning} |")
        if rows:
            out.append("| option | meaning |\n| --- | --- |")
            out += rows
            out.append("")
    return "\n".join(out).rstrip() + "\n"


GENERATORS = {"config": config_reference, "cli": cli_reference}


def update(text: str) -> str:
    for name, gen in GENERATORS.items():
        begin, end = BEGIN.format(name=name), END.format(name=name)
        if begin not in text or end not in text:
            raise SystemExit(f"README.md lacks the markers {begin} … {end}")
        head, rest = text.split(begin, 1)
        _, tail = rest.split(end, 1)
        text = f"{head}{begin}\n{gen()}{end}{tail}"
    return text


def main() -> None:
    readme = Path(sys.argv[1] if len(sys.argv) > 1 else "README.md")
    text = readme.read_text(encoding="utf-8")
    new = update(text)
    if new != text:
        readme.write_text(new, encoding="utf-8")
        print(f"{readme}: reference sections updated")
    else:
        print(f"{readme}: up to date")


if __name__ == "__main__":
    main()
