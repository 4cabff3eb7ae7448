"""config.toml: typed, strict, and every error is one line naming the key."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import REPO

from feedkit.cli import cli
from feedkit.config import load_config
from feedkit.errors import ConfigError

MINIMAL = """\
[site]
title = "보령시 새소식"
url = "https://www.brcn.go.kr/"
feed_url = "https://example.github.io/boryeong-news/"
"""


def write(tmp_path: Path, text: str, name: str = "config.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_the_bundled_sample_config_loads() -> None:
    config = load_config(REPO / "config.toml")
    assert config.site.title == "보령시 새소식"
    assert config.site.language == "ko"
    assert str(config.tz) == "Asia/Seoul"
    assert config.sources[0].kind == "jsonl"
    assert config.resolve(config.sources[0].path) == REPO / "data" / "boryeong.jsonl"
    assert config.store_path == REPO / "articles.db"


def test_defaults_and_relative_paths(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, MINIMAL))
    assert config.feeds.limit == 50
    assert config.feeds.formats == ("rss", "atom", "json")
    assert config.out_dir == tmp_path / "public"
    assert config.store_path == tmp_path / "articles.db"
    assert config.author == "보령시 새소식"


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ("[feeds]\nper_categroy = true\n", "[feeds] per_categroy: unknown key"),
        ("[feeds]\nlimit = \"50\"\n", "[feeds] limit: expected an integer, got '50'"),
        ("[feeds]\nlimit = 0\n", "[feeds] limit: must be at least 1"),
        ("[feeds]\nper_category = 1\n", "[feeds] per_category: expected true or false"),
        ("[feeds]\nformats = [\"rss\", \"rdf\"]\n", "[feeds] formats: unknown format 'rdf'"),
        ("[feeds]\ncategory_slugs = { \"세무과\" = \"세무\" }\n", "[feeds] category_slugs"),
        ("[smtp]\npassword = \"hunter2\"\n", "[smtp] password: unknown key"),
        ("[[sources]]\nkind = \"rss\"\npath = \"x\"\n", "[[sources]] #1 kind: unknown kind 'rss'"),
        ("[[sources]]\nkind = \"jsonl\"\n", "[[sources]] #1 path: required for kind 'jsonl'"),
        ("[[sources]]\nkind = \"html\"\nurl = \"ftp://x.example/\"\n",
         "[[sources]] #1 url: expected an http(s) URL"),
        ("[digest]\nunsubscribe = \"leave@example.org\"\n", "[digest] unsubscribe"),
        ("[unknown]\nx = 1\n", "unknown section [unknown]"),
    ],
)
def test_bad_values_name_the_key(tmp_path: Path, extra: str, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, MINIMAL + extra))
    assert message in str(info.value)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ('timezone = "Asia/Seoul"', 'timezone = "Asia/Busan"', "[site] timezone: unknown"),
        ('url = "https://www.brcn.go.kr/"', 'url = "www.brcn.go.kr"', "[site] url: expected"),
        ('feed_url = "https://example.github.io/boryeong-news/"',
         'feed_url = "https://example.github.io/boryeong-news"', "must end with '/'"),
        ('language = "ko"', 'language = "ko_KR"', "[site] language: 'ko_KR' is not a BCP 47"),
        ('title = "보령시 새소식"', 'title = "  "', "[site] title: must not be empty"),
    ],
)
def test_bad_site_values(tmp_path: Path, old: str, new: str, message: str) -> None:
    text = MINIMAL + 'language = "ko"\ntimezone = "Asia/Seoul"\n'
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("(", r"\(")):
        load_config(write(tmp_path, text.replace(old, new)))


def test_missing_site_and_broken_toml(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"\[site\] is required"):
        load_config(write(tmp_path, "[feeds]\nlimit = 3\n"))
    with pytest.raises(ConfigError, match="invalid TOML"):
        load_config(write(tmp_path, "[site\ntitle = 1\n"))
    with pytest.raises(ConfigError, match="required key is missing"):
        load_config(write(tmp_path, '[site]\ntitle = "t"\nurl = "https://a.example/"\n'))


def test_lookup_order_flag_then_env_then_cwd(tmp_path: Path, monkeypatch) -> None:
    for name in ("flag", "env", "cwd"):
        (tmp_path / name).mkdir()
        write(tmp_path / name, MINIMAL.replace("보령시 새소식", name))
    monkeypatch.chdir(tmp_path / "cwd")
    monkeypatch.delenv("FEEDKIT_CONFIG", raising=False)
    assert load_config().site.title == "cwd"
    monkeypatch.setenv("FEEDKIT_CONFIG", str(tmp_path / "env" / "config.toml"))
    assert load_config().site.title == "env"
    assert load_config(tmp_path / "flag" / "config.toml").site.title == "flag"


def test_cli_reports_config_errors_in_one_line(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("FEEDKIT_CONFIG", raising=False)
    result = CliRunner().invoke(cli, ["build"])
    assert result.exit_code == 2
    assert result.stderr.startswith(f"feedkit: error: no config.toml in {tmp_path.resolve()} or "
                                    "any folder above it")
    assert "feedkit init" in result.stderr
    write(tmp_path, MINIMAL + "[feeds]\nlimit = -1\n")
    result = CliRunner().invoke(cli, ["build"])
    assert result.exit_code == 2
    assert result.stderr == "feedkit: error: config.toml: [feeds] limit: must be at least 1, " \
                            "got -1\n"
