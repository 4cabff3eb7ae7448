"""The digest budget's search at its edges (issue 12, mutants left alive in ``_fit``): the
smallest budget showing one article, a template too big for any article, and the search itself
over many made-up size curves (the largest count that fits, in few renders).

Real renders are measured as in ``test_digest_fit.py``: through the standard library's SMTP
policy and back, without ``sent_size`` or the search under test. The made-up curves give the
search a size per article count directly; the expected count is found by trying every count.
"""

from __future__ import annotations

import math
import random
from pathlib import Path
from types import SimpleNamespace

import pytest
from _digest_support import SEOUL, config_for, korean_articles
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_digest_fit import W24, _wire_size

from feedkit.digest.compose import allocate, make_digest
from feedkit.digest.render import UNSUBSCRIBE_PLACEHOLDER, DigestRenderer, inline_css
from feedkit.digest.week import Week
from feedkit.errors import FeedkitError

SMALLEST_BUDGET = 10_000   # [digest] max_html_bytes may not be set lower


def _setup(tmp_path: Path, n: int = 10, **digest):
    config = config_for(tmp_path, digest=digest)
    return config, make_digest(config, Week.parse("2024-W24", SEOUL), korean_articles(n, W24))


def _size_of(config, dg, n: int) -> int:
    r = DigestRenderer(config)
    counts = allocate(dg.sections, n, config.digest.max_items)
    return _wire_size(inline_css(r.raw_html(dg, counts, unsubscribe=UNSUBSCRIBE_PLACEHOLDER)))


def test_the_smallest_budget_shows_one_article_when_two_do_not_fit(tmp_path):
    """With 160-character summaries one article's email is under 10,000 B and two articles'
    is over it: the smallest allowed budget shows exactly one, not an error."""
    config, dg = _setup(tmp_path)
    assert config.digest.summary_chars == 160
    one, two = _size_of(config, dg, 1), _size_of(config, dg, 2)
    budget = max(SMALLEST_BUDGET, one)
    assert one <= budget < two, (one, two)   # the premise: only one article fits
    config, dg = _setup(tmp_path, max_html_bytes=budget)
    body = DigestRenderer(config).email(dg)
    assert (body.shown, sum(body.counts)) == (1, 1)
    assert _wire_size(body.html) <= budget


def _big_template(tmp_path: Path) -> Path:
    """A city's own digest template: the bundled one with a 12,000-byte notice at the end."""
    bundled = Path(__file__).resolve().parents[1] / "templates" / "digest.html.j2"
    text = bundled.read_text(encoding="utf-8")
    notice = "<p>" + "개인정보 처리방침 안내. " * 500 + "</p>"    # 3 + 7,000 chars
    assert len(notice.encode("utf-8")) > 12_000
    folder = tmp_path / "mytemplates"
    folder.mkdir()
    (folder / "digest.html.j2").write_text(text.replace("</body>", notice + "\n</body>"),
                                           encoding="utf-8")
    return folder


@pytest.mark.parametrize("articles", [1, 10])
def test_a_template_too_big_for_the_budget_is_one_clear_error(tmp_path, articles):
    """The template's fixed part alone is over the budget: the render stops with one line that
    names the week, the setting and its value, for a week of one article and of ten."""
    folder = _big_template(tmp_path)
    config, dg = _setup(tmp_path, articles, templates=str(folder),
                        max_html_bytes=SMALLEST_BUDGET)
    assert dg.total == articles
    assert _size_of(config, dg, 1) > SMALLEST_BUDGET   # the premise
    with pytest.raises(FeedkitError) as caught:
        DigestRenderer(config).email(dg)
    assert str(caught.value) == ("2024-W24: not even one article fits in [digest] "
                                 "max_html_bytes = 10000 (the template alone is too big)")


# -- the search over made-up size curves ---------------------------------------------------

_WEEK = SimpleNamespace(week=SimpleNamespace(label="2024-W24"))


def _search(sizes: list[int], budget: int) -> tuple[int, list[int]]:
    """Run the search over ``sizes[n]`` = the size of the email with n articles (n >= 1);
    returns the count it picked and the counts it rendered on the way."""
    probed: list[int] = []

    def attempt(n):
        probed.append(n)
        return f"html {n}", [n], sizes[n]

    total = len(sizes) - 1
    html, counts = DigestRenderer._fit(_WEEK, attempt, total, sizes[total], budget)
    assert html == f"html {counts[0]}"
    return counts[0], probed


@st.composite
def _curves(draw):
    """A non-decreasing size curve (flat stretches allowed: two counts may weigh the same) over
    2..400 articles, and a budget under the whole week's size that fits at least one."""
    total = draw(st.integers(2, 400))
    fixed = draw(st.integers(0, 50_000))
    steps = draw(st.lists(st.integers(0, 3_000), min_size=total, max_size=total))
    sizes = [0]
    for step in steps:
        sizes.append((sizes[-1] or fixed) + step)
    if sizes[total] <= sizes[1]:
        sizes[total] = sizes[1] + 1
    budget = draw(st.integers(sizes[1], sizes[total] - 1))
    return sizes, budget


@given(_curves())
# A curve of up to 400 sizes is slow to draw on a busy machine; how fast it is drawn is no part
# of what is tested (every example still runs).
@settings(suppress_health_check=[HealthCheck.too_slow])
def test_the_search_finds_the_largest_count_that_fits_on_any_rising_curve(curve):
    """Whatever the curve, the pick fits, the next count does not, and each count is rendered at
    most once, never beyond the week, within 5 guesses plus a halving search's log2 steps."""
    sizes, budget = curve
    total = len(sizes) - 1
    expected = max(n for n in range(1, total + 1) if sizes[n] <= budget)
    picked, probed = _search(sizes, budget)
    assert picked == expected
    assert all(isinstance(n, int) and 1 <= n < total for n in probed), probed
    assert len(set(probed)) == len(probed), probed
    assert len(probed) <= 5 + math.ceil(math.log2(total)), probed


@pytest.mark.parametrize("fixed, per_article, total", [
    (8_000, 1_900, 60), (8_000, 1_900, 400), (30_000, 250, 120), (2_000, 6_000, 25),
    (9_000, 1_000, 1_000)])
@pytest.mark.parametrize("where", [0.13, 0.5, 0.77, 0.999])
def test_a_straight_line_takes_at_most_three_renders(fixed, per_article, total, where):
    """Email size grows by about the same bytes per article: the docstring's promise is a few
    renders, not a bisection's eight or more. On an exact line, the search needs at most three:
    a guess through zero (too high: the template's fixed part), the line through two failing
    sizes (exact), and the count after it (to prove it is the largest)."""
    sizes = [0] + [fixed + per_article * n for n in range(1, total + 1)]
    budget = int(sizes[1] + (sizes[total] - sizes[1]) * where)
    expected = (budget - fixed) // per_article
    picked, probed = _search(sizes, budget)
    assert picked == expected
    assert len(probed) <= 3, probed


def test_noisy_lines_take_at_most_five_renders():
    """Real weeks are lines with noise (a long title here, a short summary there): on 300 such
    curves (every article within ±50 % of the average size), no search takes more than five
    renders, and most take three."""
    renders = []
    for seed in range(300):
        rng = random.Random(seed)
        total = rng.choice([20, 60, 150, 400])
        fixed, per_article = rng.randint(5_000, 30_000), rng.randint(300, 3_000)
        sizes = [0]
        for _ in range(total):
            sizes.append((sizes[-1] or fixed) + int(per_article * rng.uniform(0.5, 1.5)))
        budget = rng.randint(sizes[1], sizes[total] - 1)
        expected = max(n for n in range(1, total + 1) if sizes[n] <= budget)
        picked, probed = _search(sizes, budget)
        assert picked == expected, seed
        renders.append(len(probed))
    assert max(renders) <= 5
    assert sum(renders) / len(renders) < 3.5


@pytest.mark.parametrize("budget", [9_500, 12_500, 17_999])
def test_a_flat_stretch_above_the_budget_is_no_crash(budget):
    """Counts 10..100 all weigh 18,000 B (say, every further article is only listed on the
    web): two failing guesses of the same size give no slope to extrapolate; the search goes on
    and still finds the largest count that fits."""
    sizes = [0] + [8_000 + 1_000 * min(n, 10) for n in range(1, 101)]
    expected = max(n for n in range(1, 101) if sizes[n] <= budget)
    picked, probed = _search(sizes, budget)
    assert picked == expected
    assert len(probed) <= 5 + math.ceil(math.log2(100))
