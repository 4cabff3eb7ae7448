"""Regenerate docs/img/digest.png, the README's picture of the weekly digest email.

    python docs/digest_screenshot.py            # writes docs/img/digest.png
    python docs/digest_screenshot.py --dark     # also tests/artifacts/digest-dark.png (to look at)

A hand-written Boryeong week (2025-W49, "12월 첫째 주"): two departments with several notices,
three 읍·면·동 offices and two other departments with one each (so the small sections fold),
rendered by the real renderer with CSS inlined, as a reader's mail client gets it, and
screenshotted by headless Chromium (apt-get install chromium fonts-noto-cjk) at 640x1560.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from feedkit.config import parse_config  # noqa: E402
from feedkit.digest.compose import make_digest  # noqa: E402
from feedkit.digest.render import DigestRenderer  # noqa: E402
from feedkit.digest.week import Week  # noqa: E402
from feedkit.model import Article  # noqa: E402

SEOUL = ZoneInfo("Asia/Seoul")

# (day of December 2025, hour, department, title, summary)
WEEK = [
    (5, 17, "관광과", "보령 겨울바다 축제, 대천해수욕장에서 20일 개막",
     "불꽃놀이와 해넘이 걷기, 먹거리 장터가 열리는 겨울바다 축제가 20일부터 이틀간 "
     "대천해수욕장 머드광장 일원에서 열린다."),
    (3, 10, "관광과", "원산도 해양레저 체험 프로그램 참가자 모집",
     "카약과 패들보드를 배울 수 있는 체험 프로그램 참가자를 12일까지 모집한다. 초등학생 "
     "이상이면 누구나 신청할 수 있다."),
    (1, 9, "관광과", "보령시, 충남 관광 우수 시군 평가에서 최우수상",
     "관광객 만족도와 재방문율에서 높은 점수를 받아 충청남도 관광 우수 시군 평가 최우수 기관으로 "
     "선정됐다."),
    (4, 14, "세무과", "12월은 자동차세 납부의 달, 31일까지 납부하세요",
     "2기분 자동차세 고지서가 발송됐다. 위택스와 가상계좌, 편의점에서도 낼 수 있다."),
    (2, 11, "세무과", "지방세 체납액 일제 정리 기간 운영",
     "연말까지 체납액 일제 정리 기간을 운영하며 분할 납부 상담 창구를 연다."),
    (6, 9, "대천1동", "대천1동, 어르신 김장 나눔 행사", "주민자치회가 담근 김치 300포기를 "
     "홀로 사는 어르신 가구에 전했다."),
    (4, 16, "웅천읍", "웅천읍 돌문화공원 겨울철 운영 시간 변경", ""),
    (2, 15, "주포면", "주포면 주민자치 프로그램 발표회 개최", "한 해 동안 배운 난타와 "
     "민요, 서예 작품을 선보이는 발표회가 면 복지회관에서 열렸다."),
    (5, 10, "감사실", "2026년 자체 감사 계획 공개", ""),
    (3, 16, "보령시립도서관", "시립도서관 겨울방학 독서교실 운영", "초등학생을 위한 "
     "겨울방학 독서교실이 1월 6일부터 2주간 열린다."),
]


def articles() -> list[Article]:
    out = []
    for i, (day, hour, dept, title, summary) in enumerate(WEEK):
        when = datetime(2025, 12, day, hour, tzinfo=SEOUL)
        url = f"https://www.brcn.go.kr/prog/bbs/news/view.do?id={1000 + i}"
        out.append(Article(id=url, url=url, title=title, published=when, updated=when,
                           summary=summary, category=dept))
    return sorted(out, key=lambda a: a.published, reverse=True)


def render(folder: Path) -> Path:
    config = parse_config({
        "site": {"title": "보령시 새소식", "url": "https://www.brcn.go.kr/",
                 "feed_url": "https://example.github.io/boryeong-news/"},
        "digest": {"from": "보령시 소식 <news@example.org>",
                   "unsubscribe": ["mailto:subscribers-leave@lists.example.org"]},
    }, folder / "config.toml")
    digest = make_digest(config, Week.parse("2025-W49", SEOUL), articles())
    body = DigestRenderer(config).email(digest)
    page = folder / "digest.html"
    page.write_text(body.personal("mailto:subscribers-leave@lists.example.org")[0],
                    encoding="utf-8")
    return page


def shoot(page: Path, target: Path, *, dark: bool = False) -> None:
    cmd = ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
           "--window-size=640,1560", "--virtual-time-budget=3000", f"--screenshot={target}",
           *(["--force-dark-mode"] if dark else []), page.as_uri()]
    subprocess.run(cmd, check=True, capture_output=True, timeout=120)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        page = render(Path(tmp))
        shoot(page, REPO / "docs" / "img" / "digest.png")
        if "--dark" in sys.argv:
            (REPO / "tests" / "artifacts").mkdir(exist_ok=True)
            shoot(page, REPO / "tests" / "artifacts" / "digest-dark.png", dark=True)


if __name__ == "__main__":
    main()
