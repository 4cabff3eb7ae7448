"""Benchmark the weekly digest on a synthetic store: 20,000 Korean articles, 10 years, 30
categories (about 520 weeks), with week 2024-W24 holding exactly 50 articles.

Prints the figures the digest issue sets targets for:

* rendering one 50-article week as an inlined email (target ≤ 50 ms; median of warm runs, plus
  the first, cold run that pays for importing and configuring premailer);
* building the whole web archive cold (≤ 20 s) and again with nothing changed (≤ 1 s), and the
  whole ``feedkit build`` (feeds + index + archive) for comparison;
* sending to 1,000 recipients through a real SMTP server (aiosmtpd) on 127.0.0.1 (≤ 15 s).

Usage: python bench/bench_digest.py [--articles 20000] [--recipients 1000]
Everything goes to bench/out/ (gitignored); the store is reused between runs unless its size
changed.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import socket
import statistics
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from feedkit.config import parse_config  # noqa: E402
from feedkit.model import Article  # noqa: E402
from feedkit.store.articles import Store  # noqa: E402

OUT = ROOT / "bench" / "out"
TZ = ZoneInfo("Asia/Seoul")
BUSY_WEEK = "2024-W24"

_WORD_TEXT = ("보령시 시민 행정 복지 관광 축제 머드 해수욕장 도서관 교육 청년 일자리 지원 "
              "사업 안내 "
          "개최 선정 추진 강화 운영 모집 공모 발표 점검 확대 농업 어업 수산 문화 예술 체육 "
          "건강 보건소 안전 재난 대비 도로 교통 환경 청소 에너지 주민 참여 의견 수렴 설명회 "
          "협약 체결 기념 행사 성료 우수 기관 평가 최우수 예산 확보 국비 공모사업 대천 웅천 "
          "주산 미산 성주 청라 오천 천북 청소 남포 주교 신흑동 대천항 원산도 삽시도")
_WORDS = _WORD_TEXT.split()
_DEPARTMENT_TEXT = (
    "세무 기획예산 자치행정 민원 회계 복지정책 노인장애인 여성가족 보건행정 건강증진 관광 "
    "문화새마을 체육 교육지원 일자리경제 투자유치 농업정책 축산 해양정책 수산 산림녹지 "
    "환경보호 자원순환 건축 도시재생 교통 도로 하천 안전총괄 정보통신")
_DEPARTMENTS = [f"{name}과" for name in _DEPARTMENT_TEXT.split()]


def _sentence(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(_WORDS) for _ in range(words))


def synthetic_articles(n: int, seed: int = 20240610) -> list[Article]:
    rng = random.Random(seed)
    busy_start = datetime(2024, 6, 10, tzinfo=TZ)
    first = datetime(2015, 1, 5, tzinfo=TZ)
    span = (datetime(2025, 1, 6, tzinfo=TZ) - first).total_seconds()
    out = []
    for i in range(n):
        if i < 50:
            when = busy_start + timedelta(seconds=rng.uniform(0, 7 * 86400 - 1))
        else:
            when = first + timedelta(seconds=rng.uniform(0, span))
            if busy_start <= when < busy_start + timedelta(days=7):
                when += timedelta(days=7)
        when = when.replace(microsecond=0, second=0)
        url = f"https://www.brcn.go.kr/news/view.do?nttId={100000 + i}"
        body = "".join(f"<p>{_sentence(rng, rng.randint(12, 30))}.</p>" for _ in range(4))
        out.append(Article(
            id=url, url=url, title=f"보령시, {_sentence(rng, rng.randint(4, 9))}",
            published=when, updated=when, summary=_sentence(rng, rng.randint(30, 60)) + ".",
            content_html=body, author="보령시", category=rng.choice(_DEPARTMENTS),
            image=(f"https://www.brcn.go.kr/images/{i}.jpg" if i % 7 == 0 else ""),
        ))
    return out


def make_config(folder: Path):
    data = {
        "site": {"title": "보령시 새소식", "url": "https://www.brcn.go.kr/",
                 "feed_url": "https://example.github.io/boryeong-news/"},
        "store": {"path": "articles.db"},
        "build": {"out": "public"},
        "digest": {"from": "보령시 소식 <news@example.org>",
                   "unsubscribe": ["mailto:leave@example.org?subject={email}",
                                   "https://example.org/unsubscribe?e={email}"]},
        "smtp": {"host": "127.0.0.1", "port": 25, "tls": "none", "retry_delay": 0.05},
    }
    return parse_config(data, folder / "config.toml")


def ensure_store(folder: Path, n: int) -> Path:
    path = folder / "articles.db"
    if path.exists():
        with Store(path) as store:
            if store.count() == n:
                return path
        for p in folder.glob("articles.db*"):
            p.unlink()
    t = time.perf_counter()
    articles = synthetic_articles(n)
    with Store(path) as store, store.transaction():
        store.upsert(articles)
    print(f"synthetic store: {n} articles in {time.perf_counter() - t:.1f} s")
    return path


def bench_render(config, store) -> None:
    from feedkit.digest.compose import load_digest
    from feedkit.digest.render import DigestRenderer
    from feedkit.digest.week import Week

    week = Week.parse(BUSY_WEEK, config.tz)
    digest = load_digest(config, store, week)
    renderer = DigestRenderer(config)
    t = time.perf_counter()
    body = renderer.email(digest)
    cold = (time.perf_counter() - t) * 1000
    times = []
    for _ in range(15):
        t = time.perf_counter()
        body = renderer.email(digest)
        times.append((time.perf_counter() - t) * 1000)
    print(f"email, {digest.total}-article week inlined: median {statistics.median(times):.1f} ms"
          f" (min {min(times):.1f}, first/cold {cold:.0f} ms), "
          f"HTML {len(body.html.encode()) / 1024:.1f} KiB, {body.shown} shown")
    from feedkit.digest.compose import make_digest

    big = make_digest(config, week, digest.articles() * 6)  # 300: the busy week six times
    t = time.perf_counter()
    body = renderer.email(big)
    print(f"email, {big.total}-article week capped to {body.shown}: "
          f"{(time.perf_counter() - t) * 1000:.0f} ms, {len(body.html.encode()) / 1024:.1f} KiB")


def bench_archive(config, store, out: Path) -> None:
    from feedkit.site.archive import plan_archive
    from feedkit.site.build import build
    from feedkit.site.output import OutputPlan

    shutil.rmtree(out, ignore_errors=True)
    store.db.execute("DELETE FROM outputs")
    t = time.perf_counter()
    plan = OutputPlan(store, out)
    plan_archive(config, store, plan)
    report = plan.commit()
    print(f"archive cold: {time.perf_counter() - t:.2f} s ({len(report.written)} files)")
    t = time.perf_counter()
    plan = OutputPlan(store, out)
    plan_archive(config, store, plan)
    report = plan.commit()
    print(f"archive unchanged: {time.perf_counter() - t:.2f} s "
          f"({len(report.written)} written, {report.skipped} skipped)")
    shutil.rmtree(out, ignore_errors=True)
    store.db.execute("DELETE FROM outputs")
    t = time.perf_counter()
    report = build(config, store, out)
    print(f"feedkit build cold (feeds + index + archive): {time.perf_counter() - t:.2f} s "
          f"({len(report.written)} files)")
    t = time.perf_counter()
    report = build(config, store, out)
    print(f"feedkit build unchanged: {time.perf_counter() - t:.2f} s "
          f"({len(report.written)} written)")


def bench_send(config, store, recipients: int) -> None:
    import dataclasses

    from aiosmtpd.controller import Controller

    from feedkit.digest.week import Week
    from feedkit.mail.send import send_week

    class Sink:
        count = 0

        async def handle_DATA(self, server, session, envelope):
            Sink.count += 1
            return "250 OK"

    with socket.socket() as probe:  # a free port (aiosmtpd's controller cannot use port 0)
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(Sink(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        cfg = dataclasses.replace(
            config, smtp=dataclasses.replace(config.smtp, port=port),
            digest=dataclasses.replace(config.digest, to=tuple(
                f"reader{i:04d}@example.org" for i in range(recipients))))
        week = Week.parse(BUSY_WEEK, config.tz)
        store.db.execute("DELETE FROM send_log")
        t = time.perf_counter()
        report = send_week(cfg, store, week, now=datetime(2024, 6, 17, 9, tzinfo=TZ))
        took = time.perf_counter() - t
        print(f"send to {recipients} recipients on loopback: {took:.2f} s "
              f"({len(report.sent)} sent, server got {Sink.count})")
    finally:
        controller.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=20_000)
    parser.add_argument("--recipients", type=int, default=1_000)
    args = parser.parse_args()
    # The send log refuses to run without a key (it stores keyed hashes of addresses); the
    # benchmark's synthetic readers need none of a real site's secrecy, so it brings its own.
    os.environ["FEEDKIT_SECRET"] = "bench-secret-0123456789abcdef"
    OUT.mkdir(parents=True, exist_ok=True)
    config = make_config(OUT)
    ensure_store(OUT, args.articles)
    with Store(OUT / "articles.db") as store:
        bench_render(config, store)
        bench_archive(config, store, OUT / "public")
        bench_send(config, store, args.recipients)


if __name__ == "__main__":
    main()
