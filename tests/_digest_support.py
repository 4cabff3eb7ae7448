"""Shared helpers for the digest and mail tests: a config in a temporary folder, Korean
articles, and a real SMTP server (aiosmtpd) on 127.0.0.1.

Plain functions and context managers rather than conftest fixtures, so this file does not
collide with other test modules' conftest.
"""

from __future__ import annotations

import random
import socket
import threading
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path
from zoneinfo import ZoneInfo

from feedkit.config import Config, parse_config
from feedkit.model import Article
from feedkit.store.articles import Store

SEOUL = ZoneInfo("Asia/Seoul")

_WORD_TEXT = (
    "보령시 시민 행정 복지 관광 축제 머드 해수욕장 도서관 청년 일자리 지원 "
    "사업 안내 개최 선정 추진 강화 운영 모집 공모 발표 점검 농업 어업 문화 "
    "예술 체육 건강 보건소 안전 도로 교통 환경 주민 참여 설명회 협약 체결 "
    "행사 우수 기관 평가 예산 대천항 원산도"
)
_WORDS = _WORD_TEXT.split()


def _store_section(backend) -> dict:
    """``[store]`` for a ``pg.Backend`` (None: the SQLite file ``articles.db``)."""
    if backend is not None and backend.is_pg:
        return {"url": backend.url, "schema": backend.schema}
    return {"path": "articles.db"}


def config_for(folder: Path, backend=None, **sections) -> Config:
    """A config as if read from ``folder/config.toml``; keyword args override/extend sections.
    ``backend`` (tests/pg.py) puts the store on PostgreSQL; default the file ``articles.db``."""
    data: dict = {
        "site": {"title": "보령시 새소식", "url": "https://www.brcn.go.kr/",
                 "feed_url": "https://news.example.org/boryeong/"},
        "store": _store_section(backend),
        "build": {"out": "public"},
        "digest": {"from": "보령시 소식 <news@example.org>",
                   "to": ["subscribers@lists.example.org"],
                   "unsubscribe": ["mailto:leave@lists.example.org",
                                   "https://news.example.org/unsubscribe"]},
        "smtp": {"host": "127.0.0.1", "port": 2525, "tls": "none", "retry_delay": 0.01,
                 "timeout": 5.0},
    }
    for name, values in sections.items():
        if isinstance(values, dict) and isinstance(data.get(name), dict):
            data[name] = {**data[name], **values}
        else:
            data[name] = values
    return parse_config(data, folder / "config.toml")


# The [site] and [digest] head every CLI test's config.toml starts with.
SITE_AND_SENDER_TOML = """
[site]
title = "보령시 새소식"
url = "https://www.brcn.go.kr/"
feed_url = "https://news.example.org/boryeong/"

[digest]
from = "보령시 소식 <news@example.org>"
"""


def write_config_toml(folder: Path, text: str) -> Path:
    path = folder / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


DEFAULT_CATEGORIES = ("세무과", "관광과", "복지정책과", "도서관")


def korean_articles(n: int, start: datetime, *, days: int = 7,
                    categories: Iterable[str] = DEFAULT_CATEGORIES, seed: int = 7,
                    prefix: str = "a") -> list[Article]:
    """``n`` articles spread over ``days`` days from ``start``, Korean titles and summaries."""
    rng = random.Random(seed)
    cats = list(categories)
    out = []
    for i in range(n):
        when = start + timedelta(seconds=int((days * 86400 - 60) * (i + 0.5) / n))
        title = "보령시, " + " ".join(rng.choice(_WORDS) for _ in range(rng.randint(4, 8)))
        summary = " ".join(rng.choice(_WORDS) for _ in range(rng.randint(30, 60))) + "."
        url = f"https://www.brcn.go.kr/news/{prefix}{i:04d}"
        out.append(Article(id=url, url=url, title=f"{title} {i}", published=when, updated=when,
                           summary=summary, category=cats[i % len(cats)] if cats else ""))
    return out


def store_with(folder: Path, articles: Iterable[Article], backend=None) -> Store:
    """The store ``config_for(folder, backend)`` names, holding ``articles``."""
    if backend is not None and backend.is_pg:
        store = backend.open_store()
    else:
        store = Store(folder / "articles.db")
    with store.transaction():
        store.upsert(list(articles))
    return store


# ---------------------------------------------------------------------------------------------
# A real SMTP server on loopback


@dataclass
class Received:
    mail_from: str
    rcpt: list[str]
    data: bytes

    @property
    def message(self) -> EmailMessage:
        return message_from_bytes(self.data, policy=default_policy)  # type: ignore[return-value]


@dataclass
class Behaviour:
    """What the server does; tests flip these between runs."""

    # (recipient, attempt number starting at 1) -> SMTP reply for DATA, or None to accept
    on_data: Callable[[str, int], str | None] | None = None
    # recipient -> reply for RCPT TO, or None to accept
    on_rcpt: Callable[[str], str | None] | None = None
    # called at RCPT TO with the recipient (e.g. to kill the client at a chosen point)
    hook_rcpt: Callable[[str], None] | None = None
    attempts: dict[str, int] = field(default_factory=dict)


class RecordingHandler:
    def __init__(self, behaviour: Behaviour):
        self.behaviour = behaviour
        self.received: list[Received] = []
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        b = self.behaviour
        if b.hook_rcpt:
            b.hook_rcpt(address)
        if b.on_rcpt:
            reply = b.on_rcpt(address)
            if reply:
                return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        b = self.behaviour
        rcpt = envelope.rcpt_tos[0]
        with self.lock:
            b.attempts[rcpt] = b.attempts.get(rcpt, 0) + 1
            attempt = b.attempts[rcpt]
        if b.on_data:
            reply = b.on_data(rcpt, attempt)
            if reply == "disconnect":
                server.transport.close()
                return "421 closing"
            if reply:
                return reply
        with self.lock:
            self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos),
                                          bytes(envelope.original_content or envelope.content)))
        return "250 OK"

    def count_by_recipient(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for r in self.received:
            for rcpt in r.rcpt:
                counts[rcpt] = counts.get(rcpt, 0) + 1
        return counts


@contextmanager
def smtp_server(behaviour: Behaviour | None = None, **controller_options):
    """Yield ``(handler, port)`` for an aiosmtpd server on 127.0.0.1 (any free port);
    ``controller_options`` go to aiosmtpd's Controller (e.g. ``enable_SMTPUTF8=True``)."""
    from aiosmtpd.controller import Controller

    handler = RecordingHandler(behaviour or Behaviour())
    with socket.socket() as probe:  # a free port (aiosmtpd's controller cannot use port 0)
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(handler, hostname="127.0.0.1", port=port, **controller_options)
    controller.start()
    try:
        yield handler, port
    finally:
        controller.stop()
