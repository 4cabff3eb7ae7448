"""The same item in every format (issue 28, item 4), read by sfeed and feedparser.

sfeed (the Debian package, a feed parser nobody on the project wrote) reads the RSS and the Atom
feed into tab-separated fields; the JSON Feed is read as JSON. For every item the three must
name the same author and carry the same image: on the real-world records (where sfeed saw the
department as the author of every RSS and Atom item but no ``authors`` in the JSON Feed, and
images without a file extension only in the JSON Feed), and on a city board on loopback whose
photos are ``fileDownload.do?…`` addresses, whose type ``update`` asks the server for once,
remembers, and never asks again (nor does a build).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import feedparser
import pytest
from click.testing import CliRunner
from conftest import Site as SiteDir
from loopback_server import Board, Site, board_source, serve
from realworld import real_world_dir

from feedkit.cli import cli

SFEED_FIELDS = ("timestamp", "title", "link", "content", "content_type", "id", "author",
                "enclosure", "category")
IMAGE = "/ext/fileDownload.do?fileStoreDir=bbs&amp;fileId={id}&amp;fileSeq=2"


def sfeed(path: Path) -> list[dict[str, str]]:
    exe = shutil.which("sfeed")
    if not exe:
        pytest.skip("needs sfeed (apt-get install sfeed)")
    out = subprocess.run([exe], input=path.read_bytes(), capture_output=True, check=True,
                         timeout=30).stdout.decode("utf-8")
    return [dict(zip(SFEED_FIELDS, line.split("\t"), strict=False))
            for line in out.splitlines() if line]


def by_link(out: Path, folder: str = "") -> dict[str, dict[str, tuple[str, str]]]:
    """link -> format -> (author, image), as sfeed reads RSS and Atom and JSON says it."""
    items: dict[str, dict[str, tuple[str, str]]] = {}
    for name in ("feed.xml", "atom.xml"):
        for row in sfeed(out / folder / name):
            items.setdefault(row["link"], {})[name] = (row["author"], row["enclosure"])
    feed = json.loads((out / folder / "feed.json").read_text(encoding="utf-8"))
    for item in feed["items"]:
        authors = item.get("authors") or [{}]
        items.setdefault(item["url"], {})["feed.json"] = (authors[0].get("name", ""),
                                                          item.get("image", ""))
    return items


def differing(items: dict[str, dict[str, tuple[str, str]]]) -> dict[str, object]:
    return {link: formats for link, formats in items.items()
            if len(formats) != 3 or len(set(formats.values())) != 1}


@pytest.mark.real_world
def test_the_real_world_items_are_the_same_in_rss_atom_and_json(tmp_path: Path) -> None:
    real = real_world_dir()
    site = SiteDir(tmp_path)
    site.run("import", str(real / "real_korean_news.jsonl"), ok=False)
    site.run("build", "--now", "2025-12-31T12:00")
    items = by_link(site.out)
    assert len(items) == 50                                   # [feeds] limit
    assert differing(items) == {}
    # Every item is by someone: the department where no author is given.
    assert all(formats["feed.json"][0] for formats in items.values())
    for path in site.out.glob("category/*/"):
        assert differing(by_link(site.out, path.relative_to(site.out).as_posix())) == {}, path


def write_config(folder: Path, board: Board, *, feed_url: str = "https://example.org/n/") -> Path:
    src = board_source(board)
    selectors = "\n".join(f'{k} = "{v}"' for k, v in src["selectors"].items())
    detail = "\n".join(f'{k} = "{v}"' for k, v in src["detail"].items())
    path = folder / "config.toml"
    path.write_text(f"""
[site]
title = "보령시 새소식"
url = "https://www.brcn.go.kr/"
feed_url = "{feed_url}"

[fetch]
delay = 0
retries = 0

[[sources]]
kind = "html"
name = "보도자료"
url = "{src['url']}"
page_param = "pageIndex"

[sources.selectors]
{selectors}

[sources.detail]
{detail}
""", encoding="utf-8")
    return path


def image_requests(loop: Site) -> list[tuple[str, str]]:
    return [(h.method, h.path) for h in loop.log if h.path.startswith("/ext/fileDownload.do")]


@pytest.mark.parametrize("head", [True, False], ids=["HEAD", "no-HEAD"])
def test_an_image_without_an_extension_is_typed_once_and_carried_in_every_format(
        tmp_path: Path, head: bool) -> None:
    loop = Site()
    loop.head = head          # some city servers answer HEAD with 501: then one GET
    board = Board(loop, count=3, image=IMAGE)
    for item in board.items:
        loop.page(f"/ext/fileDownload.do?fileStoreDir=bbs&fileId={item.id}&fileSeq=2",
                  b"\xff\xd8\xff\xe0 jpeg", content_type="image/jpeg")
    with serve(loop):
        config = write_config(tmp_path, board)
        run = CliRunner().invoke(cli, ["--config", str(config), "update"])
        assert run.exit_code == 0, run.output
        asked = image_requests(loop)
        expected = ([("HEAD", p) for p in sorted({p for _, p in asked})] if head else
                    [(m, p) for p in sorted({p for _, p in asked}) for m in ("HEAD", "GET")])
        assert sorted(asked) == sorted(expected) and len({p for _, p in asked}) == 3
        # Once: the next update (the rows unchanged, and --full, which reads every detail page
        # again) asks nothing more.
        for args in ([], ["--full"]):
            again = CliRunner().invoke(cli, ["--config", str(config), "update", *args])
            assert again.exit_code == 0, again.output
        assert image_requests(loop) == asked

    out = tmp_path / "public"
    items = by_link(out)
    assert len(items) == 3 and differing(items) == {}
    for formats in items.values():
        author, image = formats["feed.xml"]
        assert image.startswith(loop.url("/ext/fileDownload.do?")) and author
    rss = feedparser.parse((out / "feed.xml").read_bytes())
    assert {e.enclosures[0].type for e in rss.entries} == {"image/jpeg"}
    valid = CliRunner().invoke(cli, ["--config", str(config), "validate"])
    assert valid.exit_code == 0, valid.output
    atom = feedparser.parse((out / "atom.xml").read_bytes())
    assert {e.enclosures[0].type for e in atom.entries} == {"image/jpeg"}

    # Remembered in the export: a store rebuilt from it (as the CI workflow does) builds the
    # same feeds with the server gone.
    exported = tmp_path / "store.jsonl"
    CliRunner().invoke(cli, ["--config", str(config), "export", "--out", str(exported)])
    assert exported.read_text(encoding="utf-8").count('"image_type": "image/jpeg"') == 3
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    shutil.copy(config, fresh / "config.toml")
    CliRunner().invoke(cli, ["--config", str(fresh), "import", str(exported)])
    built = CliRunner().invoke(cli, ["--config", str(fresh), "build"])
    assert built.exit_code == 0, built.output
    for name in ("feed.xml", "atom.xml", "feed.json"):
        assert (fresh / "public" / name).read_bytes() == (out / name).read_bytes(), name


def test_an_image_the_server_does_not_have_is_in_no_format(tmp_path: Path) -> None:
    loop = Site()
    board = Board(loop, count=2, image=IMAGE)
    first, _second = board.items
    loop.page(f"/ext/fileDownload.do?fileStoreDir=bbs&fileId={first.id}&fileSeq=2",
              b"<html>login</html>", content_type="text/html; charset=utf-8")
    # the second one's address is not served at all: 404
    with serve(loop):
        config = write_config(tmp_path, board)
        assert CliRunner().invoke(cli, ["--config", str(config), "update"]).exit_code == 0
    items = by_link(tmp_path / "public")
    assert differing(items) == {}
    assert {formats["feed.xml"][1] for formats in items.values()} == {""}
    exported = tmp_path / "store.jsonl"
    CliRunner().invoke(cli, ["--config", str(config), "export", "--out", str(exported)])
    text = exported.read_text(encoding="utf-8")
    assert '"image_type": "text/html"' in text and '"image_type": "-"' in text
