"""Where the real outside clients live, and a clean skip when one is missing.

The tests check feedkit's output with programs nobody on the project wrote: newsboat (a feed
reader), the Nu HTML Checker (vnu), SpamAssassin and headless Chromium. `.ci/run` installs them
where it can (Debian packages; vnu from the npm registry into `.tools/`); on a machine without
them the tests that need one skip and say which package to install.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
TOOLS = REPO / ".tools"


def executable(name: str, package: str | None = None) -> str:
    """The path of a program on PATH (or /usr/sbin), or skip the calling test naming its package."""
    found = shutil.which(name) or shutil.which(name, path="/usr/sbin:/usr/local/sbin")
    if not found:
        pytest.skip(f"needs {name} (apt-get install {package or name})")
    return found


def java() -> str:
    return executable("java", "default-jre-headless")


def vnu_jar() -> Path:
    """The Nu HTML Checker's jar: $FEEDKIT_VNU_JAR, else the npm `vnu-jar` under .tools/."""
    env = os.environ.get("FEEDKIT_VNU_JAR")
    candidates = [Path(env)] if env else []
    candidates.append(TOOLS / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar")
    for c in candidates:
        if c.is_file():
            java()
            return c
    pytest.skip("needs the Nu HTML Checker: npm install --prefix .tools vnu-jar (and a JRE)")


def chromium() -> str:
    """Chromium: the Debian/Ubuntu package's ``chromium`` (GitHub's Ubuntu runners have one on
    PATH too), else ``chromium-browser``."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        pytest.skip("needs chromium (apt-get install chromium fonts-noto-cjk)")
    return found


def korean_font() -> None:
    """Skip unless fontconfig knows a font with Hangul (else pages render as boxes)."""
    fc_list = executable("fc-list", "fontconfig")
    out = subprocess.run([fc_list, ":lang=ko"], capture_output=True, text=True).stdout
    if not out.strip():
        pytest.skip("needs a Korean font (apt-get install fonts-noto-cjk)")


def newsboat() -> str:
    return executable("newsboat")


def spamassassin() -> str:
    return executable("spamassassin")


def axe_core() -> Path:
    """axe-core's browser script: $FEEDKIT_AXE_JS, else the npm `axe-core` under .tools/
    (`.ci/run` installs it there, like vnu)."""
    env = os.environ.get("FEEDKIT_AXE_JS")
    candidates = [Path(env)] if env else []
    candidates.append(TOOLS / "node_modules" / "axe-core" / "axe.min.js")
    for c in candidates:
        if c.is_file():
            return c
    pytest.skip("needs axe-core: npm install --prefix .tools axe-core@4")
