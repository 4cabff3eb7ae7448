"""Synthetic Korean news for the benchmarks: deterministic, realistic sizes.

20,000 articles over ten years in 30 departments, about 1.7 KB each as JSON (title, teaser,
a few paragraphs of HTML), so timings reflect what a real city's archive costs. A province's
aggregator (bench/bench_scale.py) has 60 departments (:data:`DEPARTMENTS_60`).
"""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta
from pathlib import Path

# The [site] table every benchmark site starts its config.toml with.
SITE_TOML = """\
[site]
title = "벤치마크 시청 새소식"
url = "https://www.brcn.go.kr/"
feed_url = "https://example.github.io/bench/"
"""

DEPARTMENTS = """
세무과 관광과 문화예술과 복지정책과 건설과 교통과 환경보호과 산림녹지과 농업정책과 해양정책과
보건행정과 체육진흥과 교육지원과 일자리경제과 기획예산과 감사법무담당관 민원봉사과 토지관리과
도시재생과 상하수도과 안전총괄과 여성가족과 노인장애인과 자치행정과 홍보협력담당관 신산업전략과
수산과 축산과 평생학습과 보령시립도서관
""".split()
# Thirty more, for an aggregator of several cities (bench/bench_scale.py).
DEPARTMENTS_60 = DEPARTMENTS + """
기후환경과 미래전략과 투자유치과 문화관광과 스포츠산업과 사회복지과 주민복지과 아동보육과
청소년과 보건소 건강증진과 감염병관리과 식품위생과 허가민원과 건축과 도로과 하천과 공원녹지과
주택과 지적과 세정과 징수과 회계과 재산관리과 정보통신과 인구정책과 농업기술센터 수산자원과
해양관광과 의회사무국
""".split()
WORDS = """
보령시 시민 지역 사업 추진 개최 선정 지원 확대 운영 계획 발표 행사 축제 주민 참여 강화 성과 협약
체결 예산 확보 정책 서비스 개선 안전 점검 교육 프로그램 모집 안내 결과 대천해수욕장 머드축제
만세보령 농어촌 청년 일자리 관광객 방문 환경 정비
""".split()


def sentence(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n)) + "."


def article(i: int, rng: random.Random, start: datetime, span_s: int,
            departments: list[str] = DEPARTMENTS) -> dict:
    published = start + timedelta(seconds=rng.randrange(span_s))
    paragraphs = "".join(f"<p>{sentence(rng, 16)} {sentence(rng, 12)}</p>" for _ in range(5))
    return {
        "id": f"https://www.brcn.go.kr/news/view.do?nttId={100000 + i}",
        "url": f"https://www.brcn.go.kr/news/view.do?nttId={100000 + i}",
        "title": f"보령시, {sentence(rng, 5)[:-1]} {i}",
        "summary": sentence(rng, 18),
        "content_html": paragraphs + '<p><a href="/files/a.hwp">첨부파일</a></p>',
        "published": published.strftime("%Y-%m-%d %H:%M:%S"),
        "category": rng.choice(departments),
        "author": "보령시",
    }


def write_jsonl(path: Path, count: int, seed: int = 2024, *, first: int = 0,
                start: datetime = datetime(2015, 1, 1), end: datetime = datetime(2025, 1, 1),
                departments: list[str] = DEPARTMENTS) -> Path:
    """``count`` articles published in ``[start, end)`` (ten years by default), numbered from
    ``first`` (their ids and URLs)."""
    rng = random.Random(seed)
    span = int((end - start).total_seconds())
    with path.open("w", encoding="utf-8") as fh:
        for i in range(first, first + count):
            fh.write(json.dumps(article(i, rng, start, span, departments),
                                ensure_ascii=False) + "\n")
    return path
