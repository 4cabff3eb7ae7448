"""``feedkit web`` refuses to start, in one line and with the contract's exit code, when it could
only fail later: an address it cannot bind, or no sender for the confirmation emails (it used to
start and answer every subscribe with 503). A real process, so a server that starts anyway is a
timeout here, not a hang."""

from __future__ import annotations

import os
import subprocess
import sys

from _web_support import SECRET
from conftest import REPO, Site

WEB = '\n[web]\nurl = "https://news.example.org/list/"\n'
SMTP = '\n[smtp]\nhost = "127.0.0.1"\nport = 2525\ntls = "none"\n'


def run_web(site: Site, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO), "FEEDKIT_SECRET": SECRET}
    return subprocess.run([sys.executable, "-m", "feedkit", "--config", str(site.config), "web",
                           "--port", "0", *args], capture_output=True, text=True, env=env,
                          timeout=10)


def test_a_host_that_is_no_address_is_a_usage_error_not_a_traceback(tmp_path):
    site = Site(tmp_path, extra='\n[digest]\nfrom = "보령시 소식 <news@example.org>"\n' + SMTP
                + WEB)
    for host in ("999.1.1.1", "no-such-host.invalid"):
        done = run_web(site, "--host", host)
        assert done.returncode == 2, done.stderr
        assert "Traceback" not in done.stderr
        assert done.stderr.startswith(f"feedkit: error: --host: {host!r}"), done.stderr
        assert len(done.stderr.strip().splitlines()) == 1, done.stderr


def test_no_digest_sender_is_a_configuration_error_at_start(tmp_path):
    site = Site(tmp_path, extra=SMTP + WEB)     # the sample config has no [digest] from
    done = run_web(site)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "[digest] from is not set" in done.stderr and "Traceback" not in done.stderr
    assert "Subscribe endpoint at" not in done.stdout
