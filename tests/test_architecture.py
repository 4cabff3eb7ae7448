"""The package's structure stays true: no import cycle, and no arrow against the pipeline.

Reads every feedkit module's imports with ``ast`` — including imports inside functions, which
are still dependencies even when they dodge an import-time cycle, and the ``"feedkit.x:attr"``
strings of the CLI's lazily loaded commands (:mod:`feedkit.cli.lazy`), imported on first use —
and checks the graph:

* no cycle anywhere (a module that needs another that needs it back is one room, not two);
* the library never imports the CLI (the ``feedkit.cli`` package, every module in it, only
  parses, calls and prints; its command modules import ``feedkit.cli.common``, never the
  package's ``__init__``, which would be a cycle);
* rendering never imports delivery (``feedkit.digest*`` → ``feedkit.mail*``);
* generators never read the store (``feedkit.feeds`` → ``feedkit.store``);
* ingest never builds (``feedkit.ingest*`` → ``feedkit.build`` / ``feedkit.output``);
* only the CLI starts the web endpoint (``feedkit.web`` is imported by ``feedkit.cli*`` alone),
  and the subscriber model stays under both (``feedkit.subscribers*`` never imports
  ``feedkit.web`` or ``feedkit.cli``): these rules hold trivially until those packages exist.

It also keeps modules small: none over :data:`MAX_LINES` lines (one job per module).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import feedkit

PACKAGE = Path(feedkit.__file__).resolve().parent

# (what may not import, what it may not import, why). A name matches itself and its submodules.
# Each import is reported once, under the first rule it breaks: specific rules come first.
FORBIDDEN = [
    ("feedkit.subscribers", "feedkit.web",
     "the subscriber model sits under the web endpoint, never above it"),
    ("feedkit.subscribers", "feedkit.cli", "the subscriber model never imports the CLI"),
    ("feedkit", "feedkit.cli", "the library never imports the CLI"),
    ("feedkit", "feedkit.web", "only the CLI starts the web endpoint"),
    ("feedkit.digest", "feedkit.mail", "rendering never imports delivery"),
    ("feedkit.feeds", "feedkit.store", "generators take records, never the store"),
    ("feedkit.ingest", "feedkit.build", "ingest returns reports, never builds"),
    ("feedkit.ingest", "feedkit.output", "ingest never writes output"),
]
# Who may import a banned room anyway (itself and its submodules always may). Entry points above
# the CLI: `python -m feedkit` runs it, docgen documents it. The web endpoint: the CLI's command.
ALLOWED = {
    "feedkit.cli": ("feedkit.__main__", "feedkit.docgen"),
    "feedkit.web": ("feedkit.cli",),
}
MAX_LINES = 600
# A lazily imported object, named the way importlib's entry points name one: "module:attribute".
LAZY_TARGET = re.compile(r"(feedkit(?:\.\w+)*):[\w.]+")


def module_name(path: Path, root: Path) -> str:
    rel = path.relative_to(root.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path, name: str, modules: set[str]) -> set[str]:
    """The feedkit modules ``path`` imports anywhere in its code (top level or in a function);
    ``from feedkit.x import y`` counts ``feedkit.x.y`` when that is a module."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[:len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            targets = [f"{base}.{alias.name}" for alias in node.names] + [base]
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            lazy = LAZY_TARGET.fullmatch(node.value)
            if not lazy:
                continue
            targets = [lazy[1]]
        else:
            continue
        for target in targets:
            while target and target not in modules:
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def import_graph(root: Path = PACKAGE) -> dict[str, set[str]]:
    paths = {module_name(p, root): p for p in sorted(root.rglob("*.py"))}
    modules = set(paths)
    graph = {name: imports_of(path, name, modules) for name, path in paths.items()}
    # Importing a.b.c runs a/__init__ and a/b/__init__ first, but those only hold docstrings
    # here; an edge to a package means "its __init__", which the check treats like any module.
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every strongly connected group of more than one module (Tarjan), as a sorted list."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return sorted(groups)


def _within(name: str, room: str) -> bool:
    return name == room or name.startswith(room + ".")


def forbidden_arrows(graph: dict[str, set[str]]) -> list[str]:
    found = []
    for src, targets in sorted(graph.items()):
        for dst in sorted(targets):
            for room, banned, why in FORBIDDEN:
                allowed = (banned, *ALLOWED.get(banned, ()))
                if any(_within(src, a) for a in allowed):
                    continue
                if _within(src, room) and _within(dst, banned):
                    found.append(f"{src} -> {dst}: {why}")
                    break
    return found


def long_modules(root: Path = PACKAGE, limit: int = MAX_LINES) -> list[str]:
    """``path: N lines`` for every module over ``limit`` lines, longest first."""
    sizes = [(len(p.read_text(encoding="utf-8").splitlines()), p.relative_to(root.parent))
             for p in root.rglob("*.py")]
    return [f"{rel.as_posix()}: {n} lines" for n, rel in sorted(sizes, reverse=True) if n > limit]


def test_the_reader_sees_every_module_and_imports_inside_functions() -> None:
    graph = import_graph()
    # Written by hand from the code: the build room and the rooms it calls.
    assert {"feedkit.build", "feedkit.output", "feedkit.digest.archive",
            "feedkit.mail.send", "feedkit.ingest.update", "feedkit.cli", "feedkit.cli.site",
            "feedkit.config", "feedkit.config.load"} <= set(graph)
    assert "feedkit.output" in graph["feedkit.build"]           # top-level import
    assert "feedkit.digest.archive" in graph["feedkit.build"]   # inside build()
    assert "feedkit.build" in graph["feedkit.cli.site"]         # inside a command
    assert "feedkit.cli.site" in graph["feedkit.cli"]           # the package gathers commands
    assert "feedkit.cli.web" in graph["feedkit.cli"]            # ... by "module:attr" names
    assert "feedkit.config.checks" in graph["feedkit.config.load"]
    assert "feedkit.config" in graph["feedkit.digest.render"]   # the re-exporting __init__


def test_no_import_cycle() -> None:
    found = cycles(import_graph())
    assert found == [], "import cycles:\n" + "\n".join(" <-> ".join(g) for g in found)


def test_no_import_against_the_pipeline() -> None:
    found = forbidden_arrows(import_graph())
    assert found == [], "imports against the pipeline:\n" + "\n".join(found)


def test_no_module_is_over_the_size_limit() -> None:
    found = long_modules()
    assert found == [], (f"modules over {MAX_LINES} lines (split them by job):\n"
                         + "\n".join(found))


def test_the_size_check_lists_each_long_module(tmp_path: Path) -> None:
    pkg = tmp_path / "feedkit"
    (pkg / "digest").mkdir(parents=True)
    (pkg / "__init__.py").write_text("", encoding="utf-8")
    (pkg / "store.py").write_text("x = 1\n" * 600, encoding="utf-8")          # at the limit
    (pkg / "cli.py").write_text("x = 1\n" * 601, encoding="utf-8")            # one over
    (pkg / "digest" / "render.py").write_text("x = 1\n" * 900, encoding="utf-8")
    assert long_modules(pkg) == ["feedkit/digest/render.py: 900 lines",
                                 "feedkit/cli.py: 601 lines"]


def test_the_checks_catch_a_cycle_and_each_forbidden_arrow(tmp_path: Path) -> None:
    """The checker itself on a made-up package: it must see what it is there to see."""
    pkg = tmp_path / "feedkit"
    files = {
        "__init__.py": "",
        "cli/__init__.py": "from feedkit.cli import common, site\n",
        "cli/common.py": "def f():\n    from feedkit.cli import main\n",   # back to __init__
        "cli/site.py": "from feedkit import build\n",
        "build.py": "from feedkit.output import write\n",
        "output.py": "def write():\n    from feedkit.cli.site import main\n",   # lib -> cli
        "config/__init__.py": "from feedkit.config.load import load\n",
        "config/load.py": "from .checks import check\n",
        "config/checks.py": "from feedkit.cli.common import f\n",            # library -> cli
        "store.py": "",
        "feeds.py": "def f():\n    from . import store\n",                   # relative import
        "digest/__init__.py": "",
        "digest/render.py": "from feedkit.mail.message import m\n",
        "mail/__init__.py": "",
        "mail/message.py": "from feedkit.digest import render\n",            # digest <-> mail
        "ingest/__init__.py": "",
        "ingest/update.py": "import feedkit.build\nfrom ..output import write\n",
        "__main__.py": "from feedkit.cli import main\n",                   # allowed: entry point
        "docgen.py": "def f():\n    from feedkit.cli import cli\n",        # allowed: documents it
        "cli/web.py": "from feedkit.web.app import make_app\n",           # allowed: CLI -> web
        "web/__init__.py": "",
        "web/app.py": "from feedkit.subscribers import repo\n",           # allowed: web -> model
        "serve.py": "from feedkit.web import app\n",                      # library -> web
        "subscribers/__init__.py": "",
        "subscribers/repo.py": "from feedkit.store import x\n",
        "subscribers/links.py": "from feedkit.web.app import u\nfrom feedkit.cli.common import f\n",
    }
    for rel, text in files.items():
        (pkg / rel).parent.mkdir(parents=True, exist_ok=True)
        (pkg / rel).write_text(text, encoding="utf-8")
    graph = import_graph(pkg)
    assert cycles(graph) == [["feedkit.build", "feedkit.cli.site", "feedkit.output"],
                             ["feedkit.cli", "feedkit.cli.common"],
                             ["feedkit.digest.render", "feedkit.mail.message"]]
    assert forbidden_arrows(graph) == [
        "feedkit.config.checks -> feedkit.cli.common: the library never imports the CLI",
        "feedkit.digest.render -> feedkit.mail.message: rendering never imports delivery",
        "feedkit.feeds -> feedkit.store: generators take records, never the store",
        "feedkit.ingest.update -> feedkit.build: ingest returns reports, never builds",
        "feedkit.ingest.update -> feedkit.output: ingest never writes output",
        "feedkit.output -> feedkit.cli.site: the library never imports the CLI",
        "feedkit.serve -> feedkit.web: only the CLI starts the web endpoint",
        "feedkit.serve -> feedkit.web.app: only the CLI starts the web endpoint",
        "feedkit.subscribers.links -> feedkit.cli.common: the subscriber model never imports "
        "the CLI",
        "feedkit.subscribers.links -> feedkit.web.app: the subscriber model sits under the web "
        "endpoint, never above it",
    ]


def test_a_lazily_loaded_command_is_an_import(tmp_path: Path) -> None:
    """The CLI names its command modules as "feedkit.cli.site:build" strings, imported on first
    use: still an arrow, so a command module importing the package back is still a cycle."""
    pkg = tmp_path / "feedkit"
    files = {
        "__init__.py": "",
        "cli/__init__.py": 'COMMANDS = {"build": ("feedkit.cli.site:build", "Build.")}\n',
        "cli/site.py": "def build():\n    from feedkit.cli import COMMANDS\n",
        "cli/web.py": 'HELP = "see feedkit.cli.site: build"\n',     # prose, not a target
        "output.py": 'LOADER = "feedkit.cli.web:web"\n',             # library -> CLI, lazily
    }
    for rel, text in files.items():
        (pkg / rel).parent.mkdir(parents=True, exist_ok=True)
        (pkg / rel).write_text(text, encoding="utf-8")
    graph = import_graph(pkg)
    assert graph["feedkit.cli"] == {"feedkit.cli.site"}
    assert graph["feedkit.cli.web"] == set()
    assert cycles(graph) == [["feedkit.cli", "feedkit.cli.site"]]
    assert forbidden_arrows(graph) == [
        "feedkit.output -> feedkit.cli.web: the library never imports the CLI"]
