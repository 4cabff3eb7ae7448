"""`feedkit init`: a new site that loads, builds, and is never clobbered by accident."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from feedkit.cli import cli
from feedkit.config import load_config


def run(*args: str):
    return CliRunner().invoke(cli, list(args))


def test_init_scaffolds_a_site_that_builds(tmp_path: Path) -> None:
    site = tmp_path / "site"
    result = run("init", str(site))
    assert result.exit_code == 0, result.output
    for rel in ("config.toml", ".gitignore", "templates/index.html.j2", "templates/feed.xsl",
                "templates/digest.html.j2", "data/articles.jsonl",
                ".github/workflows/feedkit.yml"):
        assert (site / rel).is_file(), rel
    config = load_config(site / "config.toml")
    assert config.templates_dir == site / "templates"
    assert config.sources[0].path == "data/articles.jsonl"
    # Empty data gives a clear message, not a traceback.
    empty = run("--config", str(site / "config.toml"), "build")
    assert empty.exit_code == 1 and "store is empty" in empty.stderr
    # With one article it builds, using the copied (customisable) templates.
    (site / "data" / "articles.jsonl").write_text(json.dumps(
        {"title": "첫 소식", "url": "https://www.example.go.kr/1", "published": "2026-11-02"},
        ensure_ascii=False) + "\n", encoding="utf-8")
    (site / "templates" / "index.html.j2").write_text("custom {{ articles|length }}\n",
                                                       encoding="utf-8")
    assert run("--config", str(site / "config.toml"), "import").exit_code == 0
    assert run("--config", str(site / "config.toml"), "build").exit_code == 0
    assert (site / "public" / "index.html").read_text(encoding="utf-8") == "custom 1\n"


def test_init_refuses_to_overwrite_without_force(tmp_path: Path) -> None:
    assert run("init", str(tmp_path)).exit_code == 0
    config = tmp_path / "config.toml"
    config.write_text("# mine\n", encoding="utf-8")
    data = tmp_path / "data" / "articles.jsonl"
    data.write_text('{"title": "keep me"}\n', encoding="utf-8")
    again = run("init", str(tmp_path))
    assert again.exit_code == 1
    assert "would overwrite config.toml" in again.stderr and "--force" in again.stderr
    assert config.read_text(encoding="utf-8") == "# mine\n"
    forced = run("init", str(tmp_path), "--force")
    assert forced.exit_code == 0
    assert config.read_text(encoding="utf-8") != "# mine\n"
    assert data.read_text(encoding="utf-8") == '{"title": "keep me"}\n', "data is never emptied"
