"""The digest budget's search (issue 12's surviving mutants in ``_fit``, ``link_reserve``,
``allocate``): the email shows the LARGEST number of articles that fits, not just some number
that fits.

Expected counts come from an independent measurement: each candidate article count is rendered
on its own and its HTML part is measured the way a mail client gets it (built with the standard
library's SMTP policy, serialised to bytes, parsed back and decoded), without ``sent_size`` or
the search under test.
"""

from __future__ import annotations

from datetime import datetime
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import SMTP, default

import pytest
from _digest_support import SEOUL, config_for, korean_articles

from feedkit.digest.compose import allocate, make_digest
from feedkit.digest.render import (
    UNSUBSCRIBE_PLACEHOLDER,
    DigestRenderer,
    inline_css,
    link_reserve,
)
from feedkit.digest.week import Week

W24 = datetime(2024, 6, 10, tzinfo=SEOUL)
N = 10


def _wire_size(html: str) -> int:
    """The HTML part's decoded size after a trip through bytes, as a client reads it."""
    msg = EmailMessage(policy=SMTP)
    msg.set_content(html, subtype="html", charset="utf-8", cte="base64")
    back = message_from_bytes(msg.as_bytes(), policy=default)
    return len(back.get_payload(decode=True))


def _setup(tmp_path, **digest):
    config = config_for(tmp_path, digest={"summary_chars": 0, **digest})
    week = Week.parse("2024-W24", SEOUL)
    return config, make_digest(config, week, korean_articles(N, W24))


@pytest.fixture(scope="module")
def sizes(tmp_path_factory):
    """count -> the wire size of the email showing that many articles (1..N)."""
    config, dg = _setup(tmp_path_factory.mktemp("sizes"))
    r = DigestRenderer(config)
    out = {}
    for n in range(1, N + 1):
        counts = allocate(dg.sections, n, config.digest.max_items)
        assert sum(counts) == n
        html = inline_css(r.raw_html(dg, counts, unsubscribe=UNSUBSCRIBE_PLACEHOLDER))
        out[n] = _wire_size(html)
    # every article adds bytes while some stay hidden (showing all drops the per-section
    # "more on the web" links, so size(N) may be below size(N - 1))
    assert all(out[n] < out[n + 1] for n in range(1, N - 1)), list(out.values())
    return out


# 3..6: budgets from 11,387 B (over the 10,000 B minimum) to below the whole week's size
@pytest.mark.parametrize("shown", [3, 4, 5, 6])
@pytest.mark.parametrize("where", ["exact", "just_below_next"])
def test_the_email_shows_the_largest_count_that_fits(tmp_path, sizes, shown, where):
    """A budget equal to the size of ``shown`` articles (exactly equal fits: ``<=``), or one
    byte short of ``shown + 1`` articles, shows ``shown`` articles: within budget, and one more
    would exceed it. A search that stops early or probes in the wrong order shows fewer."""
    budget = sizes[shown] if where == "exact" else sizes[shown + 1] - 1
    config, dg = _setup(tmp_path, max_html_bytes=budget)
    body = DigestRenderer(config).email(dg)
    assert body.shown == shown
    assert sum(body.counts) == shown
    assert _wire_size(body.html) <= budget
    assert sizes[shown + 1] > budget
    # the text part lists the same articles and keeps the unsubscribe link
    assert UNSUBSCRIBE_PLACEHOLDER in body.text


def test_whole_week_when_it_fits_exactly(tmp_path, sizes):
    config, dg = _setup(tmp_path, max_html_bytes=sizes[N])
    body = DigestRenderer(config).email(dg)
    assert (body.shown, body.total) == (N, N)
    budget = sizes[N] - 1
    expected = max(n for n in range(1, N) if sizes[n] <= budget)
    config, dg = _setup(tmp_path, max_html_bytes=budget)
    body = DigestRenderer(config).email(dg)
    assert body.shown == expected
    assert _wire_size(body.html) <= budget


def test_reserve_is_kept_per_link_occurrence(tmp_path, sizes):
    """With a reserve of R bytes per footer link, a budget of exactly size(k) + R * links no
    longer leaves room for k+1 and still holds k; one byte less drops to k-1."""
    config, dg = _setup(tmp_path)
    r = DigestRenderer(config)
    html = inline_css(r.raw_html(dg, allocate(dg.sections, 5),
                                 unsubscribe=UNSUBSCRIBE_PLACEHOLDER))
    links = html.count(UNSUBSCRIBE_PLACEHOLDER)
    assert links >= 1
    # enough that, without the reserve, the same budget would hold a sixth article
    reserve = (sizes[6] - sizes[5]) // links + 1
    budget = sizes[5] + reserve * links
    config, dg = _setup(tmp_path, max_html_bytes=budget)
    assert DigestRenderer(config).email(dg, reserve=reserve).shown == 5
    config, dg = _setup(tmp_path, max_html_bytes=budget - 1)
    assert DigestRenderer(config).email(dg, reserve=reserve).shown == 4
    # the default reserve is none: the same budget without a reserve holds more
    config, dg = _setup(tmp_path, max_html_bytes=budget)
    assert DigestRenderer(config).email(dg).shown > 5


def test_link_reserve_by_hand():
    placeholder = len(UNSUBSCRIBE_PLACEHOLDER)  # 43
    assert link_reserve([]) == 0
    assert link_reserve(["mailto:a@b"]) == 0  # shorter than the placeholder: nothing extra
    url = "https://news.example.org/unsubscribe?list=weekly&who=x&sig=abcdefghijklmnop"
    # two `&` become `&amp;` (4 bytes more each)
    assert link_reserve([url]) == len(url) + 8 - placeholder
    korean = "https://예.example.org/" + "가" * 20  # 3 bytes a character in UTF-8
    assert link_reserve([url, korean]) == max(len(url) + 8, 22 + 2 + 60) - placeholder


def test_text_part_carries_the_personal_unsubscribe_link(tmp_path):
    config, dg = _setup(tmp_path)
    body = DigestRenderer(config).email(dg)
    link = "https://news.example.org/unsubscribe?t=abc&x=1"
    html, text = body.personal(link)
    assert link in text
    assert "https://news.example.org/unsubscribe?t=abc&amp;x=1" in html
    assert UNSUBSCRIBE_PLACEHOLDER not in text


def test_allocate_round_robin_by_hand():
    class S:
        def __init__(self, n):
            self.articles = tuple(range(n))

    secs = [S(5), S(1), S(3)]
    assert allocate(secs, None) == [5, 1, 3]
    assert allocate(secs, 9) == [5, 1, 3]
    assert allocate(secs, 100) == [5, 1, 3]
    assert allocate(secs, 0) == [0, 0, 0]
    assert allocate(secs, 4) == [2, 1, 1]
    assert allocate(secs, 7) == [3, 1, 3]
    assert allocate(secs, 8) == [4, 1, 3]
    assert allocate(secs, None, 2) == [2, 1, 2]
    assert allocate(secs, 4, 2) == [2, 1, 1]
    assert allocate(secs, 5, 2) == [2, 1, 2]
    assert allocate(secs, 100, 1) == [1, 1, 1]
