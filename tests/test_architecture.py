"""The package's structure stays true: no import cycle, and no arrow against the pipeline.

Reads every feedkit module's imports with ``ast`` — including imports inside functions, which
are still dependencies even when they dodge an import-time cycle, and the ``"feedkit.x:attr"``
strings of the CLI's lazily loaded commands (:mod:`feedkit.cli.lazy`), imported on first use —
and checks the graph:

* no cycle anywhere (a module that needs another that needs it back is one room, not two);
* the top of ``feedkit/`` is the pipeline, and every package imports only what sits under it
  (:data:`LAYERS`, read bottom-up): ``text`` (languages, dates, slugs, templates, cleaning) →
  ``store`` → ``subscribers`` → ``editorial`` → ``ingest`` | ``digest`` → ``mail`` → ``site`` →
  ``web`` → ``cli``. ``ingest`` is a side branch: it fills the store, and no stage that reads
  the store (``digest``, ``mail``, ``site``) imports it. The shared modules (``model``,
  ``errors``, ``progress``, ``privacy``, ``install``) are under everything; ``config`` reads
  the editor's vocabularies (categories, branding, licences) and store addresses, so it sits
  on ``editorial`` and under every stage after it; ``validate`` (a feed checker that knows
  feeds, not how feedkit writes them) imports no stage at all;
* a few arrows inside that order are banned too: rendering never imports delivery
  (``digest`` → ``mail``), the feed generators never read the store (``site.feeds`` →
  ``store``), and only the CLI starts the web endpoint.

It also keeps modules small: none over :data:`MAX_LINES` lines (one job per module).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import feedkit

PACKAGE = Path(feedkit.__file__).resolve().parent

# The pipeline's packages, bottom-up, each with why it stays under the ones after it. A package
# may import the ones before it, never one after it; ``ingest`` is a side branch, so the stages
# after it that read the store (digest, mail, site, web) may not import it either. Only the CLI,
# last, imports everything.
LAYERS = [
    ("feedkit.text", "the text tools sit under every stage"),
    ("feedkit.store", "the store sits under every stage that reads or writes it"),
    ("feedkit.subscribers", "the subscriber model sits under everything that mails or serves "
                            "them"),
    ("feedkit.editorial", "the editor's decisions sit under every stage that honours them"),
    ("feedkit.ingest", "ingest fills the store; it never renders, builds, mails or serves"),
    ("feedkit.digest", "the digest is rendered from the store, never from the fetchers"),
    ("feedkit.mail", "delivery sends a rendered digest; it never fetches or builds the site"),
    ("feedkit.site", "the site is built from the store; it never fetches"),
    ("feedkit.web", "only the CLI starts the web endpoint"),
    ("feedkit.cli", ""),
]
SHARED = ("feedkit.model", "feedkit.errors", "feedkit.progress", "feedkit.privacy",
          "feedkit.install")
"""The handful of small modules every stage shares; they import no stage."""
# Arrows that the order allows but that are banned anyway; checked first.
EXTRA = [
    ("feedkit.digest", "feedkit.mail", "rendering never imports delivery"),
    ("feedkit.site.feeds", "feedkit.store", "generators take records, never the store"),
]


def _layer_rules() -> list[tuple[str, str, str]]:
    """(room, banned, why) for every arrow against :data:`LAYERS` and :data:`SHARED`."""
    names = [name for name, _ in LAYERS]
    rules = [(room, banned, why)
             for i, (room, why) in enumerate(LAYERS) for banned in names[i + 1:]]
    after_ingest = LAYERS[names.index("feedkit.ingest") + 1:-1]
    rules += [(room, "feedkit.ingest", why) for room, why in after_ingest]
    rules += [(room, banned, "the shared modules import no stage")
              for room in SHARED for banned in names]
    rules += [("feedkit.config", banned, "the configuration sits under every stage that "
               "reads it") for banned in names[names.index("feedkit.ingest"):]]
    rules += [("feedkit.validate", banned, "the validator checks any feed, not feedkit's "
               "own code") for banned in names]
    return rules


# (what may not import, what it may not import, why). A name matches itself and its submodules.
# Each import is reported once, under the first rule it breaks: specific rules come first.
FORBIDDEN = [
    *EXTRA,
    ("feedkit", "feedkit.cli", "the library never imports the CLI"),
    ("feedkit", "feedkit.web", "only the CLI starts the web endpoint"),
    *_layer_rules(),
]
# Who may import a banned room anyway (itself and its submodules always may). Entry points above
# the CLI: `python -m feedkit` runs it, docgen documents it. The web endpoint: the CLI's command.
ALLOWED = {
    "feedkit.cli": ("feedkit.__main__",),
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
    assert {"feedkit.site.build", "feedkit.site.output", "feedkit.site.archive",
            "feedkit.mail.send", "feedkit.ingest.update", "feedkit.cli", "feedkit.cli.site",
            "feedkit.config", "feedkit.config.load"} <= set(graph)
    assert "feedkit.site.output" in graph["feedkit.site.build"]     # top-level import
    assert "feedkit.site.archive" in graph["feedkit.site.build"]    # inside build()
    assert "feedkit.site.build" in graph["feedkit.cli.site"]        # inside a command
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
        "cli/site.py": "from feedkit.site import build\n",
        "site/__init__.py": "",
        "site/build.py": "from feedkit.site.output import write\n",
        "site/output.py": "def write():\n    from feedkit.cli.site import main\n",  # lib -> cli
        "site/feeds.py": "def f():\n    from ..store import articles\n",      # relative import
        "site/serve.py": "from feedkit.web import app\n",                     # library -> web
        "config/__init__.py": "from feedkit.config.load import load\n",
        "config/load.py": "from .checks import check\n",
        "config/checks.py": "from feedkit.cli.common import f\n",            # library -> cli
        "config/model.py": "from feedkit.editorial import withdrawals\n"      # allowed: down
                           "from feedkit.digest import render\n",             # config -> up
        "validate/__init__.py": "from feedkit.store import articles\n",      # any stage
        "store/__init__.py": "",
        "store/articles.py": "from feedkit.text.slugs import slug\n",        # allowed: down
        "store/health.py": "from feedkit.editorial import withdrawals\n",    # store -> up
        "text/__init__.py": "",
        "text/slugs.py": "",
        "text/dates.py": "def f():\n    from feedkit.store.articles import Store\n",
        "editorial/__init__.py": "",
        "editorial/withdrawals.py": "from feedkit.store.articles import Store\n",  # allowed
        "digest/__init__.py": "",
        "digest/render.py": "from feedkit.mail.message import m\n",
        "digest/compose.py": "from feedkit.ingest.normalize import truncate\n",  # the old slip
        "mail/__init__.py": "",
        "mail/message.py": "from feedkit.digest import render\n",            # digest <-> mail
        "mail/send.py": "from feedkit.ingest.files import check_readable\n",
        "ingest/__init__.py": "",
        "ingest/normalize.py": "from feedkit.text.slugs import slug\n",      # allowed: down
        "ingest/files.py": "",
        "ingest/update.py": "import feedkit.site.build\nfrom ..site.output import write\n",
        "__main__.py": "from feedkit.cli import main\n",                   # allowed: entry point
        "cli/web.py": "from feedkit.web.app import make_app\n",           # allowed: CLI -> web
        "web/__init__.py": "",
        "web/app.py": "from feedkit.subscribers import repo\n",           # allowed: web -> model
        "subscribers/__init__.py": "",
        "subscribers/repo.py": "from feedkit.store.articles import x\n",  # allowed: down
        "subscribers/links.py": "from feedkit.web.app import u\nfrom feedkit.cli.common import f\n"
                                "from feedkit.mail import send\n",
        "privacy.py": "from feedkit.subscribers import repo\n",            # shared -> a stage
    }
    for rel, text in files.items():
        (pkg / rel).parent.mkdir(parents=True, exist_ok=True)
        (pkg / rel).write_text(text, encoding="utf-8")
    graph = import_graph(pkg)
    assert cycles(graph) == [["feedkit.cli", "feedkit.cli.common"],
                             ["feedkit.cli.site", "feedkit.site.build", "feedkit.site.output"],
                             ["feedkit.digest.render", "feedkit.mail.message"]]
    assert forbidden_arrows(graph) == [
        "feedkit.config.checks -> feedkit.cli.common: the library never imports the CLI",
        "feedkit.config.model -> feedkit.digest: the configuration sits under every stage "
        "that reads it",
        "feedkit.config.model -> feedkit.digest.render: the configuration sits under every "
        "stage that reads it",
        "feedkit.digest.compose -> feedkit.ingest.normalize: the digest is rendered from the "
        "store, never from the fetchers",
        "feedkit.digest.render -> feedkit.mail.message: rendering never imports delivery",
        "feedkit.ingest.update -> feedkit.site.build: ingest fills the store; it never renders, "
        "builds, mails or serves",
        "feedkit.ingest.update -> feedkit.site.output: ingest fills the store; it never "
        "renders, builds, mails or serves",
        "feedkit.mail.send -> feedkit.ingest.files: delivery sends a rendered digest; it never "
        "fetches or builds the site",
        "feedkit.privacy -> feedkit.subscribers: the shared modules import no stage",
        "feedkit.privacy -> feedkit.subscribers.repo: the shared modules import no stage",
        "feedkit.site.feeds -> feedkit.store: generators take records, never the store",
        "feedkit.site.feeds -> feedkit.store.articles: generators take records, never the "
        "store",
        "feedkit.site.output -> feedkit.cli.site: the library never imports the CLI",
        "feedkit.site.serve -> feedkit.web: only the CLI starts the web endpoint",
        "feedkit.site.serve -> feedkit.web.app: only the CLI starts the web endpoint",
        "feedkit.store.health -> feedkit.editorial: the store sits under every stage that "
        "reads or writes it",
        "feedkit.store.health -> feedkit.editorial.withdrawals: the store sits under every "
        "stage that reads or writes it",
        "feedkit.subscribers.links -> feedkit.cli.common: the library never imports the CLI",
        "feedkit.subscribers.links -> feedkit.mail: the subscriber model sits under "
        "everything that mails or serves them",
        "feedkit.subscribers.links -> feedkit.mail.send: the subscriber model sits under "
        "everything that mails or serves them",
        "feedkit.subscribers.links -> feedkit.web.app: only the CLI starts the web endpoint",
        "feedkit.text.dates -> feedkit.store.articles: the text tools sit under every stage",
        "feedkit.validate -> feedkit.store: the validator checks any feed, not feedkit's own "
        "code",
        "feedkit.validate -> feedkit.store.articles: the validator checks any feed, not "
        "feedkit's own code",
    ]


def test_the_real_tree_is_the_pipeline() -> None:
    """The top of ``feedkit/`` reads as the pipeline: the packages of :data:`LAYERS`, config and
    validate, and no more loose modules than the shared handful; each package says in its
    opening docstring what it owns."""
    top = sorted(p.name for p in PACKAGE.iterdir()
                 if p.name not in ("__pycache__", "locale", "templates")
                 and (p.suffix == ".py" or (p / "__init__.py").exists()))
    packages = {f"feedkit.{n}" for n in top if not n.endswith(".py")}
    modules = {f"feedkit.{n[:-3]}" for n in top if n.endswith(".py")}
    assert packages == {name for name, _ in LAYERS} | {"feedkit.config", "feedkit.validate"}
    assert modules == {*SHARED, "feedkit.__init__", "feedkit.__main__"}
    for name in packages:
        doc = ast.get_docstring(ast.parse(
            (PACKAGE / name.split(".")[1] / "__init__.py").read_text(encoding="utf-8")))
        assert doc and len(doc) > 80, f"{name}/__init__.py: say what the package owns"


def test_a_lazily_loaded_command_is_an_import(tmp_path: Path) -> None:
    """The CLI names its command modules as "feedkit.cli.site:build" strings, imported on first
    use: still an arrow, so a command module importing the package back is still a cycle."""
    pkg = tmp_path / "feedkit"
    files = {
        "__init__.py": "",
        "cli/__init__.py": 'COMMANDS = {"build": ("feedkit.cli.site:build", "Build.")}\n',
        "cli/site.py": "def build():\n    from feedkit.cli import COMMANDS\n",
        "cli/web.py": 'HELP = "see feedkit.cli.site: build"\n',     # prose, not a target
        "site/output.py": 'LOADER = "feedkit.cli.web:web"\n',        # library -> CLI, lazily
    }
    for rel, text in files.items():
        (pkg / rel).parent.mkdir(parents=True, exist_ok=True)
        (pkg / rel).write_text(text, encoding="utf-8")
    graph = import_graph(pkg)
    assert graph["feedkit.cli"] == {"feedkit.cli.site"}
    assert graph["feedkit.cli.web"] == set()
    assert cycles(graph) == [["feedkit.cli", "feedkit.cli.site"]]
    assert forbidden_arrows(graph) == [
        "feedkit.site.output -> feedkit.cli.web: the library never imports the CLI"]
