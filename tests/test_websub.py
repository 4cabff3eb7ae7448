"""WebSub (issue 28, item 1): news in readers within a minute.

A city board on loopback, the built folder served on loopback as its web server would, two
WebSub hubs (tests/websub_hub.py: one reads the topic from ``hub.url``, as Google's hub and
Superfeedr do, the other from ``hub.topic``, as Switchboard and Flask-WebSub do) and a
subscriber that found the hubs in the feeds themselves, the way a reader does. One ``feedkit
update --announce`` after the board posts a story: the subscriber gets the feed with the story
from both hubs, and the hubs heard of exactly the feeds whose bytes changed. One more, with
nothing new: no hub hears anything, the subscriber gets nothing.
"""

from __future__ import annotations

import functools
import json
import threading
import time
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import feedparser
import pytest
from click.testing import CliRunner
from loopback_server import Board, Site, board_source, serve
from websub_hub import Hub, Subscriber

from feedkit.cli import cli
from feedkit.config import load_config
from feedkit.site.output import OutputPlan
from feedkit.site.websub import announce, is_feed, paths_of
from feedkit.store.articles import Store
from feedkit.store.feed_hashes import mark_announced, pending, record_built


class Static:
    """The output folder served over HTTP on loopback: what the hubs fetch."""

    def __init__(self, folder: Path):
        handler = functools.partial(_Quiet, directory=str(folder))
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"

    def __enter__(self) -> Static:
        threading.Thread(target=self.server.serve_forever, args=(0.02,), daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


def write_config(folder: Path, board: Board, feed_url: str, hubs: list[str]) -> Path:
    src = board_source(board)
    selectors = "\n".join(f'{k} = "{v}"' for k, v in src["selectors"].items())
    detail = "\n".join(f'{k} = "{v}"' for k, v in src["detail"].items())
    hub_list = ", ".join(f'"{h}"' for h in hubs)
    (folder / "config.toml").write_text(f"""
[site]
title = "보령시 새소식"
url = "https://www.brcn.go.kr/"
feed_url = "{feed_url}"

[feeds]
websub_hubs = [{hub_list}]

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
    return folder / "config.toml"


def feed_bytes(public: Path) -> dict[str, bytes]:
    return {p.relative_to(public).as_posix(): p.read_bytes()
            for p in public.rglob("*") if p.is_file() and is_feed(p.name)}


def update(config: Path):
    return CliRunner().invoke(cli, ["--config", str(config), "update", "--announce"])


@pytest.mark.slow
def test_a_subscriber_gets_the_new_story_after_one_update_and_nothing_after_an_unchanged_one(
        tmp_path: Path) -> None:
    public = tmp_path / "public"
    public.mkdir()
    loop = Site()
    board = Board(loop, count=3)
    with serve(loop), Static(public) as web, Hub("hub.url") as by_url, \
            Hub("hub.topic") as by_topic, Subscriber() as reader:
        config = write_config(tmp_path, board, web.url, [by_url.url, by_topic.url])

        # The first build: every feed is new, every one is announced (nobody subscribed yet).
        first = update(config)
        assert first.exit_code == 0, first.output
        assert "announced" in first.output
        assert sorted(by_url.published) == sorted(web.url + rel for rel in feed_bytes(public))
        valid = CliRunner().invoke(cli, ["--config", str(config), "validate"])
        assert valid.exit_code == 0, valid.output      # rel="hub" and "hubs" are standard

        # A reader finds the hubs in the feeds it reads: RSS (atom:link rel="hub" beside
        # rel="self") at one hub, JSON Feed ("hubs") at the other.
        rss = feedparser.parse((public / "feed.xml").read_bytes())
        hubs = [link.href for link in rss.feed.links if link.rel == "hub"]
        (rss_self,) = [link.href for link in rss.feed.links if link.rel == "self"]
        assert hubs == [by_url.url, by_topic.url] and rss_self == web.url + "feed.xml"
        as_json = json.loads((public / "feed.json").read_text(encoding="utf-8"))
        assert as_json["hubs"] == [{"type": "WebSub", "url": by_url.url},
                                   {"type": "WebSub", "url": by_topic.url}]
        assert reader.subscribe(by_url.url, rss_self) == 202
        assert reader.subscribe(by_topic.url, as_json["feed_url"]) == 202
        by_url.wait_subscribed(1)
        by_topic.wait_subscribed(1)
        by_url.published.clear()
        by_topic.published.clear()

        # The board posts a story; one update later the reader has it, from both hubs.
        before = feed_bytes(public)
        story = board.add("보령시, 대천해수욕장 개장 준비 완료")
        second = update(config)
        assert second.exit_code == 0, second.output
        after = feed_bytes(public)
        changed = sorted(web.url + rel for rel in after if before.get(rel) != after[rel])
        assert web.url + "feed.xml" in changed and web.url + "feed.json" in changed
        assert len(changed) < len(after)     # the other department's feeds stayed as they were
        assert sorted(by_url.published) == changed == sorted(by_topic.published)
        got = reader.wait_for(2)
        assert {(d.hub, d.topic) for d in got} == {(by_url.url, web.url + "feed.xml"),
                                                  (by_topic.url, web.url + "feed.json")}
        for d in got:
            if d.topic.endswith(".json"):
                newest = json.loads(d.body)["items"][0]["title"]
            else:
                newest = feedparser.parse(d.body).entries[0].title
            assert newest == story.title
        assert not reader.rejected and not by_url.refused and not by_topic.refused

        # Nothing new: nothing announced, nothing pushed.
        third = update(config)
        assert third.exit_code == 0, third.output
        assert "nothing to announce" in third.output
        time.sleep(0.5)
        assert sorted(by_url.published) == changed == sorted(by_topic.published)
        assert len(reader.deliveries) == 2


def test_the_build_records_changed_bytes_not_times(backend, tmp_path: Path) -> None:
    """What counts as changed is the bytes: the same bytes again are nothing to announce, and
    the record is the same on SQLite and PostgreSQL."""
    with backend.open_store() as store:
        _record_and_announce(store, tmp_path / "public")


def _feed_digests(store, out: Path, files: dict[str, bytes]) -> dict[str, str]:
    """The digests a build's output plan takes of the feeds it renders (as the build sets it)."""
    out.mkdir(exist_ok=True)
    plan = OutputPlan(store, out)
    plan.hashed = is_feed
    plan.unit(sorted(files), "inputs", lambda: dict(files))
    return plan.digests


def _record_and_announce(store, out: Path) -> None:
    files = {"feed.xml": b"<rss>1</rss>", "atom.xml": b"<feed/>", "index.html": b"<html>"}
    digests = _feed_digests(store, out, files)
    assert set(digests) == {"feed.xml", "atom.xml"}     # pages are not feeds
    assert record_built(store, digests) == ["atom.xml", "feed.xml"]
    assert pending(store) == ["atom.xml", "feed.xml"]
    mark_announced(store, ["feed.xml"])
    assert pending(store) == ["atom.xml"]
    assert record_built(store, _feed_digests(store, out, files)) == []   # same bytes: nothing
    assert record_built(store, _feed_digests(
        store, out, {**files, "feed.xml": b"<rss>2</rss>"})) == ["feed.xml"]
    assert pending(store) == ["atom.xml", "feed.xml"]


def test_announce_names_each_failing_hub_and_keeps_the_feed_pending(tmp_path: Path) -> None:
    loop = Site()
    board = Board(loop, count=1)
    with serve(loop), Hub("hub.url") as good:
        config_path = write_config(tmp_path, board, "http://127.0.0.1:9/news/",
                                   [good.url, "http://127.0.0.1:9/"])   # port 9: nothing there
        config = load_config(config_path)
        report = announce(config, ["feed.xml"])
        assert report.announced == [] and len(report.failed) == 1
        assert report.failed[0].startswith("http://127.0.0.1:9/: "
                                           "http://127.0.0.1:9/news/feed.xml: cannot reach")
        assert good.published == ["http://127.0.0.1:9/news/feed.xml"]
        with Store(tmp_path / "articles.db") as store:
            record_built(store, {"feed.xml": "a"})
            mark_announced(store, report.announced)
            assert pending(store) == ["feed.xml"]      # tried again by the next announce
        result = CliRunner().invoke(cli, ["--config", str(config_path), "announce",
                                          "http://127.0.0.1:9/news/feed.xml"])
        assert result.exit_code == 1
        assert "error: http://127.0.0.1:9/: " in result.output
        bad = CliRunner().invoke(cli, ["--config", str(config_path), "announce",
                                       "https://elsewhere.example.org/feed.xml"])
        assert bad.exit_code == 2 and "not one of this site's feeds" in bad.output
    assert paths_of(config, ["http://127.0.0.1:9/news/category/semugwa/atom.xml"]) == [
        "category/semugwa/atom.xml"]


@pytest.mark.slow
def test_the_scaffolded_workflow_announces_after_the_deploy_and_only_what_changed(
        tmp_path: Path) -> None:
    """The workflow `feedkit init` writes, run job by job as GitHub would (tests/
    test_site_workflow.py runs the steps): the update job hands the changed feeds over, the
    deploy puts public/ where the web server serves it, and only then the announce job tells
    the hubs. A run with nothing new skips the announce job."""
    import shutil
    import subprocess

    from test_site_workflow import FEEDKIT_BIN, git, load_workflow, run_workflow, step_outputs

    served = tmp_path / "served"
    served.mkdir()
    remote = tmp_path / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(remote)], check=True)
    loop = Site()
    board = Board(loop, count=3)
    with serve(loop), Static(served) as web, Hub("hub.url") as hub, Subscriber() as reader:
        site = tmp_path / "site"
        init = subprocess.run([FEEDKIT_BIN / "feedkit", "init", str(site)], capture_output=True,
                              text=True)
        assert init.returncode == 0, init.stderr
        write_config(site, board, web.url, [hub.url])
        git("init", "-q", "-b", "main", cwd=site)
        git("add", "-A", cwd=site)
        git("-c", "user.name=t", "-c", "user.email=t@example.org", "commit", "-q", "-m", "site",
            cwd=site)
        git("remote", "add", "origin", str(remote), cwd=site)
        git("push", "-q", "-u", "origin", "main", cwd=site)
        jobs = load_workflow(site)["jobs"]
        assert jobs["announce"]["needs"] == ["update", "deploy"]
        assert jobs["announce"]["if"] == "${{ needs.update.outputs.feeds != '' }}"

        def hourly_run(now: str) -> tuple[list[str], bool]:
            """One run: the update job, the deploy, the announce job when its `if:` holds.
            What the hubs had heard when the deploy began, and whether announce ran."""
            checkout = tmp_path / f"run-{now[-5:].replace(':', '')}"
            git("clone", "-q", str(remote), str(checkout), cwd=tmp_path)
            steps = run_workflow(checkout, {"FEEDKIT_SECRET": "k" * 40}, now, tmp_path)
            for s in steps:
                assert s.code == 0, f"{now} {s.name} exited {s.code}:\n{s.stdout}\n{s.stderr}"
            outputs = step_outputs(tmp_path, now)
            heard_before_deploy = list(hub.published)
            shutil.rmtree(served)                        # the deploy: public/ goes live
            shutil.copytree(checkout / "public", served)
            if outputs["feeds"] == "":                   # the announce job's `if:`
                return heard_before_deploy, False
            announced = run_workflow(checkout, {}, now, tmp_path, job_name="announce",
                                     needs={"update": {"feeds": outputs["feeds"]}})
            for s in announced:
                assert s.code == 0, f"{now} {s.name} exited {s.code}:\n{s.stdout}\n{s.stderr}"
            return heard_before_deploy, True

        heard, ran = hourly_run("2025-01-10 09:17")
        assert heard == [] and ran                      # every feed is new: all announced
        assert sorted(hub.published) == sorted(web.url + rel for rel in feed_bytes(served))
        assert reader.subscribe(hub.url, web.url + "feed.xml") == 202
        hub.wait_subscribed(1)
        hub.published.clear()

        before = feed_bytes(served)
        story = board.add("보령시, 머드축제 자원봉사자 모집")
        heard, ran = hourly_run("2025-01-10 10:17")
        after = feed_bytes(served)
        changed = sorted(web.url + rel for rel in after if before.get(rel) != after[rel])
        assert heard == [] and ran                      # nothing before the deploy
        assert sorted(hub.published) == changed and web.url + "feed.xml" in changed
        assert len(changed) < len(after)
        (delivery,) = reader.wait_for(1)
        assert feedparser.parse(delivery.body).entries[0].title == story.title

        heard, ran = hourly_run("2025-01-10 11:17")     # nothing new
        assert not ran
        time.sleep(0.3)
        assert sorted(hub.published) == changed and len(reader.deliveries) == 1
