"""Issue 22 item 9: after restoring an older store, ``build`` makes ``public/`` agree with it.

The record of what a build wrote lived only in the store, so a store restored from an older
backup did not know the pages built after it (``digest/2025-W02.html``, a newer department's
feeds) and the next build left them online. Now the output folder lists what feedkit wrote into
it (``.feedkit-outputs``), and a build removes, of those, the pages the store no longer has. A
file feedkit did not write is never touched, whatever its name, and a damaged or hostile list
cannot make a build delete anything outside the folder. SQLite and PostgreSQL (a PostgreSQL
store is "restored" with ``store copy --replace`` from a SQLite snapshot).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from conftest import Site

from feedkit.site.output import MANIFEST
from feedkit.store.articles import Store
from feedkit.store.copy import copy_store

NOW = "2025-01-31T12:00"
LATER = [{"url": f"https://www.brcn.go.kr/news/2025-{i}", "title": f"새 부서 소식 {i}",
          "published": f"2025-01-0{6 + i}", "category": "새부서"} for i in range(2)]
USER_FILES = ("CNAME", "digest/notes.html", "digest/2030-W01.html", "category/mine/feed.xml",
              "googlef00.html")


@pytest.fixture
def site(tmp_path: Path, backend) -> Site:
    s = Site(tmp_path, extra="\n[digest]\narchive = true\n").use(backend)
    s.run("import")
    return s


def _snapshot(site: Site, to: Path) -> None:
    with site.store() as store, Store(to) as copy:
        copy_store(store, copy)


def _restore(site: Site, snapshot: Path) -> None:
    if site.is_pg:
        with Store(snapshot) as old, site.store() as store:
            copy_store(old, store, replace=True)
    else:
        for extra in ("-wal", "-shm"):
            Path(f"{site.db}{extra}").unlink(missing_ok=True)
        shutil.copyfile(snapshot, site.db)


def _files(out: Path) -> set[str]:
    return {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}


def test_a_build_after_restoring_an_older_store_removes_what_it_no_longer_has(
        site: Site, tmp_path: Path) -> None:
    site.run("build", "--now", NOW)
    backup = tmp_path / "backup.db"
    _snapshot(site, backup)
    before = _files(site.out)

    later = tmp_path / "later.jsonl"
    later.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in LATER),
                     encoding="utf-8")
    site.run("import", str(later))
    site.run("build", "--now", NOW)
    added = _files(site.out) - before
    assert "digest/2025-W02.html" in added
    new_folder = {f.split("/")[1] for f in added if f.startswith("category/")}
    assert len(new_folder) == 1
    for rel in USER_FILES:   # the city's own files, in and beside feedkit's folders
        (site.out / rel).parent.mkdir(parents=True, exist_ok=True)
        (site.out / rel).write_text("mine\n", encoding="utf-8")

    _restore(site, backup)
    result = site.run("build", "--now", NOW)
    assert "removed" in result.output
    assert _files(site.out) == before | set(USER_FILES)
    assert not (site.out / "category" / new_folder.pop()).exists()
    assert all((site.out / rel).read_text(encoding="utf-8") == "mine\n" for rel in USER_FILES)
    # The pages still there no longer name what is gone.
    assert "2025-W02" not in (site.out / "digest" / "index.html").read_text(encoding="utf-8")
    assert "새 부서 소식" not in (site.out / "feed.xml").read_text(encoding="utf-8")
    listed = (site.out / MANIFEST).read_text(encoding="utf-8")
    assert "digest/2025-W02.html" not in listed and "CNAME" not in listed
    # and a build again changes nothing
    assert ": 0 written" in site.run("build", "--now", NOW).output


def test_a_hostile_or_damaged_list_deletes_nothing_feedkit_did_not_write(
        site: Site, tmp_path: Path) -> None:
    site.run("build", "--now", NOW)
    outside = tmp_path / "outside.html"
    outside.write_text("keep\n", encoding="utf-8")
    decoys = ["digest/2031-W05.html", "category/mine/feed.xml"]
    for rel in decoys:
        (site.out / rel).parent.mkdir(parents=True, exist_ok=True)
        (site.out / rel).write_text("mine\n", encoding="utf-8")
    manifest = site.out / MANIFEST
    manifest.write_text(manifest.read_text(encoding="utf-8") + "".join(
        f"{line}\n" for line in ("../outside.html", str(outside), "digest/../../outside.html",
                                 "CNAME", "index.html\x00", "digest/2031-W05.html",
                                 "category/mine/feed.xml")), encoding="utf-8")
    (site.out / "CNAME").write_text("news.example.org\n", encoding="utf-8")
    site.run("build", "--now", NOW)
    assert outside.read_text(encoding="utf-8") == "keep\n"
    assert (site.out / "CNAME").exists() and (site.out / "index.html").exists()
    # Listed, inside the folder and of a kind the build prunes: a list someone edited can
    # make feedkit remove such a page (it is feedkit's kind of file), never anything else.
    assert not (site.out / "digest/2031-W05.html").exists()
    assert not (site.out / "category/mine/feed.xml").exists()
    manifest.write_bytes(b"\xff\xfe not utf-8")
    assert "removed" not in site.run("build", "--now", NOW).output
    assert MANIFEST in {p.name for p in site.out.iterdir()}
