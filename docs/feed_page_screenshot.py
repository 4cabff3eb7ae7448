"""Regenerate docs/img/feed-page.png and docs/img/index.png, the README's pictures of the page a
feed link opens and of the front page.

    python docs/feed_page_screenshot.py

Builds the bundled Boryeong sample (data/boryeong.jsonl) with the real CLI into a temporary
folder, pinned to a fixed "now" so the picture does not depend on the day, and screenshots
public/feeds.html and public/index.html with headless Chromium (apt-get install chromium
fonts-noto-cjk) at 800x900, the size of the README's other pictures.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from click.testing import CliRunner  # noqa: E402

from feedkit.cli import cli  # noqa: E402

CONFIG = """\
[site]
title = "보령시 새소식"
url = "https://www.brcn.go.kr/"
feed_url = "https://example.github.io/boryeong-news/"
description = "보령시청 누리집의 새소식을 피드와 주간 소식지로 전합니다."

[[sources]]
kind = "jsonl"
path = "{sample}"
"""


def build(folder: Path) -> Path:
    config = folder / "config.toml"
    config.write_text(CONFIG.format(sample=(REPO / "data" / "boryeong.jsonl").as_posix()),
                      encoding="utf-8")
    for args in (["import"], ["build", "--now", "2025-01-01T00:00:00+09:00"]):
        result = CliRunner().invoke(cli, ["--config", str(config), *args])
        if result.exit_code:
            raise SystemExit(f"feedkit {' '.join(args)} failed:\n{result.output}")
    return folder / "public"


def main() -> None:
    shots = {"feeds.html": "feed-page.png", "index.html": "index.png"}
    with tempfile.TemporaryDirectory() as tmp:
        public = build(Path(tmp))
        for page, picture in shots.items():
            target = REPO / "docs" / "img" / picture
            subprocess.run(["chromium", "--headless", "--no-sandbox", "--disable-gpu",
                            "--hide-scrollbars", "--window-size=800,900",
                            "--virtual-time-budget=3000", f"--screenshot={target}",
                            (public / page).as_uri()],
                           check=True, capture_output=True, timeout=120)
            print(target)


if __name__ == "__main__":
    main()
