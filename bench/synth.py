"""Synthetic Korean news for the benchmarks: deterministic, realistic sizes.

20,000 articles over ten years in 30 departments, about 1.7 KB each as JSON (title, teaser,
a few paragraphs of HTML), so timings reflect what a real city's archive costs.
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
WORDS = """
보령시 시민 지역 사업 추진 개최 선정 지원 확대 운영 계획 발표 행사 축제 주민 참여 강화 성과 협약
체결 예산 확보 정책 서비스 개선 안전 점검 교육 프로그램 모집 안내 결과 대천해수욕장 머드축제
만세보령 농어촌 청년 일자리 관광객 방문 환경 정비
""".split()


def sentence(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n)) + "."


def article(i: int, rng: random.Random, start: datetime, span_s: int) -> dict:
    published = start + timedelta(seconds=rng.randrange(span_s))
    paragraphs = "".join(f"<p>{sentence(rng, 16)} {sentence(rng, 12)}</p>" for _ in range(5))
    return {
        "id": f"https://www.brcn.go.kr/news/view.do?nttId={100000 + i}",
        "url": f"https://www.brcn.go.kr/news/view.do?nttId={100000 + i}",
        "title": f"보령시, {sentence(rng, 5)[:-1]} {i}",
        "summary": sentence(rng, 18),
        "content_html": paragraphs + '<p><a href="/files/a.hwp">첨부파일</a></p>',
        "published": published.strftime("%Y-%m-%d %H:%M:%S"),
        "category": rng.choice(DEPARTMENTS),
        "author": "보령시",
    }


def write_jsonl(path: Path, count: int, seed: int = 2024) -> Path:
    rng = random.Random(seed)
    start = datetime(2015, 1, 1)
    span = int((datetime(2025, 1, 1) - start).total_seconds())
    with path.open("w", encoding="utf-8") as fh:
        for i in range(count):
            fh.write(json.dumps(article(i, rng, start, span), ensure_ascii=False) + "\n")
    return path
