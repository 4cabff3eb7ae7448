"""The output writer, as the web server and the readers of the output folder see it.

A build stages each changed file in a folder inside the output folder as it renders it, and
renames the staged files into place once everything rendered (a file written outside a build, by
``write_atomic``, goes to a temporary file beside it, renamed into place). What that buys,
checked here from the outside: a reader holding the old file keeps reading complete old bytes, a
write that fails half-way (the disk fills up) leaves the old file as it was, and the new files
are readable by a web server (mode 0644 under the usual umask 022, i.e. what the umask says, as
for any other file the user creates).
"""

from __future__ import annotations

import json
import os
import re
import resource
import signal
import stat
import subprocess
import sys
from pathlib import Path

import feedparser
import pytest
from conftest import Site

from feedkit.errors import FeedkitError
from feedkit.site.output import write_atomic, write_atomic_stream

NEWS = "https://www.brcn.go.kr/news/"


def add_articles(site: Site, count: int, *, body: str = "", start: int = 0) -> None:
    """Import ``count`` new articles of 세무과 through the CLI."""
    src = site.root / f"more-{start}.jsonl"
    src.write_text("".join(json.dumps({
        "title": f"새 소식 {start + i}", "url": f"{NEWS}{start + i}",
        "published": f"2025-01-{1 + i % 28:02d} 09:00", "category": "세무과",
        "content_html": f"<p>{body}</p>" if body else ""}, ensure_ascii=False) + "\n"
        for i in range(count)), encoding="utf-8")
    site.run("import", str(src))


def output_files(out: Path) -> list[Path]:
    return sorted(p for p in out.rglob("*") if p.is_file())


def test_a_reader_holding_the_old_feed_keeps_reading_the_old_feed(built_site: Site) -> None:
    """A web server in the middle of sending feed.xml must not send half of the new one."""
    feed = built_site.out / "feed.xml"
    before = feed.read_bytes()
    with feed.open("rb") as reader:
        old_inode = os.fstat(reader.fileno()).st_ino
        add_articles(built_site, 1)
        built_site.run("build")
        assert reader.read() == before               # the old file, whole
    after = feed.read_bytes()
    assert after != before and "새 소식 0" in after.decode("utf-8")
    assert feed.stat().st_ino != old_inode            # replaced, not overwritten in place
    assert not [p for p in built_site.out.rglob("*.tmp")]


def test_write_atomic_replaces_the_file_and_leaves_no_temporary_file(tmp_path: Path) -> None:
    target = tmp_path / "feed.xml"
    target.write_bytes(b"<old/>")
    inode = target.stat().st_ino
    with target.open("rb") as reader:
        assert write_atomic(target, b"<new/>") is True
        assert reader.read() == b"<old/>"
    assert target.read_bytes() == b"<new/>" and target.stat().st_ino != inode
    assert [p.name for p in tmp_path.iterdir()] == ["feed.xml"]


@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o644), (0o027, 0o640), (0o002, 0o664)],
                         ids=["umask022-0644", "umask027-0640", "umask002-0664"])
def test_output_files_get_the_mode_the_umask_gives(tmp_path: Path, umask: int,
                                                   mode: int) -> None:
    """A web server running as another user must be able to read the feeds (0644 under the
    usual umask 022); a site that chose a stricter umask gets that, as with any other file."""
    site = Site(tmp_path / "site")
    site.run("import")
    old = os.umask(umask)
    try:
        site.run("build")
        add_articles(site, 1)          # a second build replaces files that already exist
        site.run("build")
    finally:
        os.umask(old)
    files = output_files(site.out)
    assert len(files) > 10
    assert {p.relative_to(site.out).as_posix(): oct(stat.S_IMODE(p.stat().st_mode))
            for p in files} == {p.relative_to(site.out).as_posix(): oct(mode) for p in files}


def _limit_file_size(limit: int):
    """For the child: files may not grow past ``limit`` bytes (as on a full disk, the write
    fails with EFBIG instead of the process being killed)."""
    def apply() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, resource.RLIM_INFINITY))
    return apply


def test_a_build_that_fails_writing_leaves_every_old_file_whole(built_site: Site) -> None:
    """The disk fills up while the new feeds are written: the build fails with a one-line
    error, and every output file is either its old version or a complete new one."""
    before = {p: p.read_bytes() for p in output_files(built_site.out)}
    add_articles(built_site, 30, body="보령 머드축제 소식입니다. " * 300)  # ~1 MB of new feeds
    limit = 200_000
    assert all(len(data) < limit for data in before.values())
    result = subprocess.run(
        [sys.executable, "-m", "feedkit", "--config", str(built_site.config), "build"],
        capture_output=True, text=True, preexec_fn=_limit_file_size(limit), timeout=120)
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert "cannot write: File too large" in line and "atom.xml" in line
    assert output_files(built_site.out) == sorted(before), "no temporary file left behind"
    untouched = 0
    for path, old in before.items():
        data = path.read_bytes()
        if data == old:
            untouched += 1
        else:   # written before the failure: then complete, and a valid feed/page
            assert path.suffix in (".xml", ".json", ".html"), path
            if path.suffix == ".xml":
                assert not feedparser.parse(data).bozo, path
    assert (built_site.out / "atom.xml").read_bytes() == before[built_site.out / "atom.xml"]
    assert untouched >= 1
    # With room again, the next build finishes the job.
    built_site.run("build")
    titles = {e.title for e in feedparser.parse(
        (built_site.out / "atom.xml").read_bytes()).entries}
    assert "새 소식 29" in titles


def test_write_atomic_that_fails_half_way_keeps_the_old_bytes(tmp_path: Path) -> None:
    target = tmp_path / "feed.xml"
    target.write_bytes(b"<old/>" * 10)
    code = ("import sys; from pathlib import Path; from feedkit.site.output import write_atomic; "
            "write_atomic(Path(sys.argv[1]), b'x' * 100_000)")
    result = subprocess.run([sys.executable, "-c", code, str(target)], capture_output=True,
                            text=True, preexec_fn=_limit_file_size(50_000), timeout=60)
    assert result.returncode != 0 and "File too large" in result.stderr
    assert target.read_bytes() == b"<old/>" * 10
    assert [p.name for p in tmp_path.iterdir()] == ["feed.xml"]


def test_streamed_writes_are_atomic_too(tmp_path: Path) -> None:
    """The export of a big store is written in chunks: same promises as write_atomic."""
    target = tmp_path / "articles.jsonl"
    target.write_bytes(b'{"old": 1}\n')
    old = os.umask(0o022)
    try:
        with target.open("rb") as reader:
            assert write_atomic_stream(target, iter([b'{"new": ', b"1}\n"])) is True
            assert reader.read() == b'{"old": 1}\n'
    finally:
        os.umask(old)
    assert target.read_bytes() == b'{"new": 1}\n'
    assert stat.S_IMODE(target.stat().st_mode) == 0o644
    before = target.stat()
    assert write_atomic_stream(target, iter([b'{"new"', b": 1}\n"])) is False
    after = target.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    assert write_atomic_stream(target, iter([b'{"new": 1}\n', b"more\n"])) is True
    assert target.read_bytes() == b'{"new": 1}\nmore\n'
    assert write_atomic_stream(target, iter([b'{"new": 1}\n'])) is True   # shorter: changed
    assert target.read_bytes() == b'{"new": 1}\n'
    assert [p.name for p in tmp_path.iterdir()] == ["articles.jsonl"]


def test_a_streamed_write_keeps_a_prefix_matched_over_several_chunks(tmp_path: Path) -> None:
    """The first difference comes after two chunks that matched the old file: the new file
    starts with both, then the rest (an export whose last records changed)."""
    target = tmp_path / "nested" / "state" / "articles.jsonl"   # folders made as needed
    assert write_atomic_stream(target, iter([b"AAA\n", b"BBB\n", b"CCC\n"])) is True
    assert write_atomic_stream(target, iter([b"AAA\n", b"BBB\n", b"XXX\n", b"YYY\n"])) is True
    assert target.read_bytes() == b"AAA\nBBB\nXXX\nYYY\n"


def test_a_stream_that_fails_before_any_difference_raises_its_own_error(tmp_path: Path) -> None:
    """The records fail while they still match the old file (a store read breaking half-way
    through an export): the caller gets that error, not one from the clean-up, and the old
    file and folder are as they were."""
    target = tmp_path / "articles.jsonl"
    target.write_bytes(b"AAA\nBBB\n")

    def chunks():
        yield b"AAA\n"
        raise FeedkitError("the store went away")

    with pytest.raises(FeedkitError, match="the store went away"):
        write_atomic_stream(target, chunks())
    assert target.read_bytes() == b"AAA\nBBB\n"
    assert [p.name for p in tmp_path.iterdir()] == ["articles.jsonl"]


def test_rendered_files_wait_on_disk_not_in_memory_until_the_publish(built_site: Site) -> None:
    """A cold build stages each changed file in a folder inside the output folder as soon as
    it is rendered (a million-article archive would not fit in memory), and publishes them by
    renaming only once all rendered: while it renders, the old files are still in place and
    the staged ones are already on disk. A killed build's staging folder goes with the next
    build."""
    from feedkit.config import load_config
    from feedkit.site.build import build
    from feedkit.store.backends import open_store

    before = {p: p.read_bytes() for p in output_files(built_site.out)}
    stale = built_site.out / ".feedkit-staging-0123456789ab"
    (stale / "category").mkdir(parents=True)
    (stale / "category" / "feed.xml").write_text("left by a killed build", encoding="utf-8")
    add_articles(built_site, 3)
    config = load_config(built_site.config)
    seen: list[tuple[list[str], bool]] = []

    def progress(_files: int) -> None:
        staged = sorted(p.read_bytes() for folder in built_site.out.glob(".feedkit-staging-*")
                        for p in folder.iterdir())
        old_in_place = all(p.read_bytes() == data for p, data in before.items())
        seen.append((staged, old_in_place))

    with open_store(config) as store:
        report = build(config, store, progress=progress)
    assert not stale.exists()
    assert seen and all(old for _, old in seen)          # nothing published while rendering
    assert len(seen[0][0]) == 3          # the main feed's three files, staged as rendered
    assert len(seen[-1][0]) == len(report.written)
    published = sorted((built_site.out / rel).read_bytes() for rel in report.written)
    assert seen[-1][0] == published
    assert not list(built_site.out.glob(".feedkit-staging-*"))      # gone after the publish
    assert set(before) <= set(output_files(built_site.out))


# -- the publish step itself (OutputPlan.commit), with a store read back -----------------------

def _plan(store, out: Path, files: dict[str, bytes], print_: str = "inputs"):
    from feedkit.site.output import OutputPlan

    plan = OutputPlan(store, out)
    plan.unit(sorted(files), print_, lambda: dict(files))
    return plan


def _everything(rel: str) -> bool:
    return True


def test_a_file_rendered_the_same_under_new_inputs_is_known_next_time(tmp_path: Path) -> None:
    """New inputs, the same bytes: the file is kept as it is (not rewritten) and recorded with
    its new inputs, so the build after skips it."""
    from feedkit.store.articles import Store

    out = tmp_path / "public"
    out.mkdir()
    with Store(tmp_path / "store.db") as store:
        _plan(store, out, {"a.txt": b"same"}, "old inputs").commit(_everything)
        stamp = (out / "a.txt").stat().st_mtime_ns
        report = _plan(store, out, {"a.txt": b"same"}, "new inputs").commit(_everything)
        assert (report.written, report.unchanged) == ([], 1)
        assert (out / "a.txt").stat().st_mtime_ns == stamp
        from feedkit.site.output import OutputPlan

        assert OutputPlan(store, out).up_to_date(["a.txt"], "new inputs")


def test_a_lost_manifest_still_prunes_what_the_store_recorded(tmp_path: Path) -> None:
    """The folder's list of what feedkit wrote is gone (deleted by hand, a partial upload): the
    store's record of the last build still says which files were feedkit's, so a file no longer
    made is removed, and with it the folders it leaves empty, the deepest first (a folder that
    only held files of its own stays: ``category/`` is the site's)."""
    from feedkit.site.output import MANIFEST
    from feedkit.store.articles import Store

    out = tmp_path / "public"
    out.mkdir()
    with Store(tmp_path / "store.db") as store:
        _plan(store, out, {"feed.xml": b"1", "category/a/feed.xml": b"2",
                           "category/a/deep/feed.xml": b"3"}).commit(_everything)
        (out / MANIFEST).unlink()
        report = _plan(store, out, {"feed.xml": b"1"}).commit(_everything)
    assert sorted(report.removed) == ["category/a/deep/feed.xml", "category/a/feed.xml"]
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*")) == [
        MANIFEST, "category", "feed.xml"]


def test_a_commit_without_pruning_keeps_what_an_earlier_build_wrote(tmp_path: Path) -> None:
    from feedkit.store.articles import Store

    out = tmp_path / "public"
    out.mkdir()
    with Store(tmp_path / "store.db") as store:
        _plan(store, out, {"a.txt": b"1", "b.txt": b"2"}).commit(_everything)
        report = _plan(store, out, {"a.txt": b"1"}).commit()
    assert report.removed == [] and (out / "b.txt").read_bytes() == b"2"


def test_a_file_that_cannot_be_put_in_place_is_named_with_why(tmp_path: Path) -> None:
    """The publish renames each staged file into place; a folder where the file must go (made
    by hand) stops it with the path and the reason, not a traceback."""
    from feedkit.store.articles import Store

    out = tmp_path / "public"
    (out / "feed.xml").mkdir(parents=True)
    (out / "feed.xml" / "keep").write_text("x")
    with Store(tmp_path / "store.db") as store:
        plan = _plan(store, out, {"feed.xml": b"<rss/>"})
        with pytest.raises(FeedkitError) as caught:
            plan.commit(_everything)
    assert re.fullmatch(rf"{re.escape(str(out / 'feed.xml'))}: cannot write: Is a directory "
                        rf"\({re.escape(str(out))}/\.feedkit-staging-\w+/\d+\)",
                        str(caught.value)), str(caught.value)


def test_write_atomic_makes_the_folders_on_the_way(tmp_path: Path) -> None:
    target = tmp_path / "digest" / "2024" / "W51.html"
    assert write_atomic(target, b"<p>") is True
    assert target.read_bytes() == b"<p>" and write_atomic(target, b"<p>") is False


def test_write_atomic_where_a_file_stands_for_the_folder_names_it(tmp_path: Path) -> None:
    """A file where the output's folder should be: one line naming the file to write, the
    reason the system gave and what to do, and the file in the way left alone."""
    (tmp_path / "category").write_text("not a folder")
    target = tmp_path / "category" / "feed.xml"
    with pytest.raises(FeedkitError) as caught:
        write_atomic(target, b"<rss/>")
    assert str(caught.value) == (
        f"{target}: cannot write: Not a directory ({target}): a file stands where a folder "
        "should be; point the output ([build] out or --out) at a folder")
    assert (tmp_path / "category").read_text() == "not a folder"
