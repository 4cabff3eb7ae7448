"""`feedkit init`: a new site that loads, builds once its TODO values are set, names the feedkit
that made it in requirements.txt, and is never clobbered by accident."""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import REPO

from feedkit.cli import cli
from feedkit.config import load_config
from feedkit.install import DISTRIBUTION, requirement_from_direct_url
from feedkit.site.scaffold import init_site

REAL_SITE = {
    '"TODO: 우리 시 새소식"': '"진해구 새소식"',
    '"https://TODO.example.go.kr/"': '"https://www.example.go.kr/"',
    '"https://TODO.github.io/TODO/"': '"https://news.example.org/jinhae/"',
}


def run(*args: str):
    return CliRunner().invoke(cli, list(args))


def fill_in(config: Path) -> None:
    text = config.read_text(encoding="utf-8")
    for old, new in REAL_SITE.items():
        assert old in text, old
        text = text.replace(old, new)
    config.write_text(text, encoding="utf-8")


def one_article(site: Path) -> None:
    (site / "data" / "articles.jsonl").write_text(json.dumps(
        {"title": "첫 소식", "url": "https://www.example.go.kr/1", "published": "2026-11-02"},
        ensure_ascii=False) + "\n", encoding="utf-8")


def test_init_scaffolds_a_site_that_builds_once_the_todos_are_set(tmp_path: Path) -> None:
    site = tmp_path / "site"
    result = run("init", str(site))
    assert result.exit_code == 0, result.output
    for rel in ("config.toml", ".gitignore", "requirements.txt", "data/articles.jsonl",
                ".github/workflows/feedkit.yml", ".github/dependabot.yml"):
        assert (site / rel).is_file(), rel
    # Dependabot keeps the workflow's hash-pinned actions current.
    assert (site / ".github" / "dependabot.yml").read_bytes() == (
        REPO / "templates" / "scaffold" / "dependabot.yml").read_bytes()
    assert not (site / "templates").exists(), "templates are copied only with --templates"
    # init names the keys to edit.
    assert "[site] title, [site] url, [site] feed_url" in result.output
    config = load_config(site / "config.toml")
    assert config.templates_dir is None
    assert config.sources[0].path == "data/articles.jsonl"
    one_article(site)
    assert run("--config", str(site), "import").exit_code == 0
    # Placeholders never ship: one line per key, exit 2, nothing written.
    refused = run("--config", str(site), "build")
    assert refused.exit_code == 2
    lines = refused.stderr.splitlines()
    assert [line.split(": ")[3] for line in lines] == [
        "[site] title", "[site] url", "[site] feed_url"], lines
    assert "'TODO: 우리 시 새소식'" in lines[0]
    assert not (site / "public").exists()
    # Nor does a digest go out with them.
    config_text = (site / "config.toml").read_text(encoding="utf-8")
    (site / "config.toml").write_text(config_text.replace(
        '# from = "우리 시 소식', 'from = "우리 시 소식').replace("# [digest]", "[digest]"),
        encoding="utf-8")
    send = run("--config", str(site), "digest", "send", "--week", "2026-W45", "--dry-run")
    assert send.exit_code == 2 and "[site] title: still the placeholder" in send.stderr
    fill_in(site / "config.toml")
    built = run("--config", str(site), "build")
    assert built.exit_code == 0, built.output
    index = (site / "public" / "index.html").read_text(encoding="utf-8")
    assert "진해구 새소식" in index and "TODO" not in index


def test_init_with_templates_copies_them_and_uses_them(tmp_path: Path) -> None:
    site = tmp_path / "site"
    assert run("init", str(site), "--templates").exit_code == 0
    for name in ("index.html.j2", "feed.xsl", "digest.html.j2"):
        assert (site / "templates" / name).is_file(), name
    config = load_config(site / "config.toml")
    assert config.templates_dir == site / "templates"
    fill_in(site / "config.toml")
    one_article(site)
    (site / "templates" / "index.html.j2").write_text("custom {{ articles|length }}\n",
                                                       encoding="utf-8")
    assert run("--config", str(site), "import").exit_code == 0
    assert run("--config", str(site), "build").exit_code == 0
    assert (site / "public" / "index.html").read_text(encoding="utf-8") == "custom 1\n"


def test_init_refuses_to_overwrite_without_force(tmp_path: Path) -> None:
    assert run("init", str(tmp_path)).exit_code == 0
    config = tmp_path / "config.toml"
    config.write_text("# mine\n", encoding="utf-8")
    again = run("init", str(tmp_path))
    assert again.exit_code == 2
    assert "would overwrite config.toml" in again.stderr and "--force" in again.stderr
    assert config.read_text(encoding="utf-8") == "# mine\n"


def test_force_refreshes_the_scaffold_and_keeps_the_sites_work(tmp_path: Path) -> None:
    assert run("init", str(tmp_path), "--templates").exit_code == 0
    config = tmp_path / "config.toml"
    mine = config.read_text(encoding="utf-8").replace("# [smtp]", "[smtp]")
    config.write_text(mine, encoding="utf-8")
    data = tmp_path / "data" / "articles.jsonl"
    data.write_text('{"title": "keep me"}\n', encoding="utf-8")
    workflow = tmp_path / ".github" / "workflows" / "feedkit.yml"
    workflow.write_text("old workflow\n", encoding="utf-8")
    (tmp_path / "requirements.txt").write_text("feedkit\n", encoding="utf-8")
    custom = tmp_path / "templates" / "index.html.j2"
    custom.write_text("mine\n", encoding="utf-8")
    ignore = tmp_path / ".gitignore"
    ignore.write_text("/secrets/\n/public/\n", encoding="utf-8")   # theirs, ours partly gone

    forced = run("init", str(tmp_path), "--force")
    assert forced.exit_code == 0, forced.output
    assert config.read_text(encoding="utf-8") == mine, "config.toml is never replaced"
    beside = tmp_path / "config.toml.new"
    assert beside.is_file() and "TODO" in beside.read_text(encoding="utf-8")
    assert "config.toml.new" in forced.output
    assert data.read_text(encoding="utf-8") == '{"title": "keep me"}\n', "data is never emptied"
    assert workflow.read_bytes() == (REPO / "templates/scaffold/feedkit.yml").read_bytes()
    assert DISTRIBUTION in (tmp_path / "requirements.txt").read_text(encoding="utf-8") or \
        str(REPO) in (tmp_path / "requirements.txt").read_text(encoding="utf-8")
    assert custom.read_text(encoding="utf-8") == "mine\n", "templates only with --templates"
    ignored = ignore.read_text(encoding="utf-8").splitlines()
    assert ignored[:2] == ["/secrets/", "/public/"] and ignored.count("/public/") == 1
    assert "/recipients*" in ignored and "/articles.db" in ignored
    # --force --templates does refresh the copies (the user asked for them).
    assert run("init", str(tmp_path), "--force", "--templates").exit_code == 0
    assert custom.read_bytes() == (REPO / "templates" / "index.html.j2").read_bytes()
    assert config.read_text(encoding="utf-8") == mine


def test_requirement_lines_from_pep_610_records() -> None:
    vcs = json.dumps({"url": "https://github.com/example/feedkit.git",
                      "vcs_info": {"vcs": "git", "commit_id": "0123abcd" * 5,
                                   "requested_revision": "main"}})
    assert requirement_from_direct_url(vcs).requirement == (
        "feedkit-city @ git+https://github.com/example/feedkit.git@" + "0123abcd" * 5)
    editable = json.dumps({"url": "file:///home/me/feed%20kit", "dir_info": {"editable": True}})
    spec = requirement_from_direct_url(editable)
    assert (spec.requirement, spec.portable) == ("/home/me/feed kit", False)
    local = json.dumps({"url": "file:///srv/feedkit", "dir_info": {}})
    assert requirement_from_direct_url(local).requirement == "/srv/feedkit"
    wheel = json.dumps({"url": "https://example.org/feedkit_city-0.2.0-py3-none-any.whl",
                        "archive_info": {"hash": "sha256=00"}})
    assert requirement_from_direct_url(wheel).requirement == (
        "feedkit-city @ https://example.org/feedkit_city-0.2.0-py3-none-any.whl")
    assert requirement_from_direct_url(None, version="0.3.1").requirement == "feedkit-city==0.3.1"


def test_the_postgres_extra_goes_into_the_one_requirement() -> None:
    """pip 23 cannot join a git line with a separate feedkit-city[postgres] (see
    tests/test_release.py, which runs it): the extra is written into the one requirement."""
    vcs = json.dumps({"url": "https://github.com/example/feedkit.git",
                      "vcs_info": {"vcs": "git", "commit_id": "0123abcd" * 5}})
    assert requirement_from_direct_url(vcs).with_extras("postgres") == (
        "feedkit-city[postgres] @ git+https://github.com/example/feedkit.git@" + "0123abcd" * 5)
    assert requirement_from_direct_url(None, version="0.3.1").with_extras("postgres") == (
        "feedkit-city[postgres]==0.3.1")
    wheel = json.dumps({"url": "https://example.org/feedkit_city-0.2.0-py3-none-any.whl",
                        "archive_info": {}})
    assert requirement_from_direct_url(wheel).with_extras("postgres", "dkim") == (
        "feedkit-city[postgres,dkim] @ https://example.org/feedkit_city-0.2.0-py3-none-any.whl")
    local = json.dumps({"url": "file:///srv/feedkit", "dir_info": {}})
    assert requirement_from_direct_url(local).with_extras("postgres") == "/srv/feedkit[postgres]"
    assert requirement_from_direct_url(local).with_extras() == "/srv/feedkit"
    # What the workflow runs prints the running install's line.
    out = subprocess.run([sys.executable, "-m", "feedkit.install", "--extra", "postgres"],
                         capture_output=True, text=True, check=True).stdout
    from feedkit.install import running_install

    assert out == running_install().with_extras("postgres") + "\n"


def test_requirements_txt_names_the_running_installation(tmp_path: Path) -> None:
    """This checkout is installed with `pip install -e .`: pip's own record (read here with a
    separate interpreter, not through feedkit) says which folder."""
    from importlib import metadata

    try:
        metadata.distribution(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        pytest.skip(f"{DISTRIBUTION} is not installed here (an environment made before the "
                    "rename): run pip install -e . again")
    probe = subprocess.run(
        [sys.executable, "-c", "import importlib.metadata as m, json; "
         f"print(json.loads(m.distribution('{DISTRIBUTION}').read_text('direct_url.json'))"
         "['url'])"], capture_output=True, text=True, check=True)
    url = probe.stdout.strip()
    assert url.startswith("file://")
    report = init_site(tmp_path / "site")
    lines = [line for line in (tmp_path / "site" / "requirements.txt").read_text(
        encoding="utf-8").splitlines() if line and not line.startswith("#")]
    assert lines == [url.removeprefix("file://")]
    assert report.install is not None and not report.install.portable


def test_project_is_published_under_its_own_name() -> None:
    meta = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    assert meta["project"]["name"] == "feedkit-city"
    assert meta["project"]["scripts"] == {"feedkit": "feedkit.cli:main"}
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert "pip install feedkit\n" not in readme and "pip install feedkit " not in readme


def test_git_add_all_in_a_fresh_site_leaves_out_addresses_and_build_output(tmp_path) -> None:
    """README step 7 is `git add -A`: what a team has lying around by then (a rendered .eml
    with a To: address, a recipients file, the store, public/, the venv) must stay out of it,
    as git itself decides."""
    site = tmp_path / "site"
    assert run("init", str(site)).exit_code == 0
    for rel in ("digest.eml", "recipients.txt", "articles.db", "public/index.html",
                ".venv/pyvenv.cfg", "digest.html"):
        (site / rel).parent.mkdir(parents=True, exist_ok=True)
        (site / rel).write_text("x\n", encoding="utf-8")
    subprocess.run(["git", "init", "-q", str(site)], check=True)
    subprocess.run(["git", "-C", str(site), "add", "-A"], check=True)
    added = subprocess.run(["git", "-C", str(site), "diff", "--cached", "--name-only"],
                           check=True, capture_output=True, text=True).stdout.split()
    assert sorted(added) == [".github/dependabot.yml", ".github/workflows/feedkit.yml",
                             ".gitignore", "config.toml", "data/articles.jsonl", "digest.html",
                             "requirements.txt"]


def test_init_where_the_folder_cannot_be_written_is_one_line_and_exit_1(tmp_path) -> None:
    """A file standing where the site folder should be (or a read-only disk) is a run-time
    failure: one `feedkit: error:` line naming the path, no traceback."""
    blocker = tmp_path / "site"
    blocker.write_text("not a folder\n", encoding="utf-8")
    result = run("init", str(blocker / "inner"))
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output and not isinstance(result.exception, OSError)
    assert f"{blocker / 'inner'}" in result.output and "cannot write the site" in result.output
    assert blocker.read_text(encoding="utf-8") == "not a folder\n"


def test_a_missing_postgres_driver_names_the_line_that_installs_it(monkeypatch) -> None:
    """The hint names this feedkit with its extra, not a bare feedkit-city[postgres] that
    would fetch another feedkit from the index over a git install."""
    import re

    from feedkit.errors import ConfigError
    from feedkit.install import running_install
    from feedkit.store.postgres import _psycopg

    monkeypatch.setitem(sys.modules, "psycopg", None)   # as if it were not installed
    line = running_install().with_extras("postgres")
    with pytest.raises(ConfigError, match=re.escape(f"pip install '{line}'")):
        _psycopg()


def test_force_keeps_a_sites_own_dependabot_config(tmp_path: Path) -> None:
    """`init --force` refreshes the workflow, but a Dependabot config may have grown entries
    of the site's own (pip, npm): it is kept, as config.toml is."""
    site = tmp_path / "site"
    assert run("init", str(site)).exit_code == 0
    mine = (site / ".github" / "dependabot.yml").read_text(encoding="utf-8") + (
        "  - package-ecosystem: pip\n    directory: /\n    schedule:\n      interval: weekly\n")
    (site / ".github" / "dependabot.yml").write_text(mine, encoding="utf-8")
    workflow = site / ".github" / "workflows" / "feedkit.yml"
    workflow.write_text("# edited\n", encoding="utf-8")
    assert run("init", "--force", str(site)).exit_code == 0
    assert (site / ".github" / "dependabot.yml").read_text(encoding="utf-8") == mine
    assert workflow.read_bytes() == (REPO / "templates" / "scaffold" / "feedkit.yml").read_bytes()
