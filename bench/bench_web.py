"""Benchmark ``feedkit web``: the Flask app under waitress on 127.0.0.1, with an aiosmtpd server
for its confirmation emails, driven by a plain HTTP client (the tests' own, see
tests/_web_support.py).

Prints:

* requests per second and latency (median, 95th percentile) of GET /subscribe (the form, with
  its department counts read from the store) and of a whole sign-up (GET the form, POST it);
* the latency of POST /subscribe for addresses the list does not know against addresses it
  does (active readers): the answer must not tell them apart, by its bytes (the tests check
  that) or by its time (measured here; the emails leave from a background thread);
* how long the confirmation emails took to reach the SMTP server after the last answer.

Usage: python bench/bench_web.py [--requests 300]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from _web_support import NOW, endpoint  # noqa: E402

from feedkit.subscribers import repo  # noqa: E402


def _stats(name: str, times: list[float]) -> None:
    ms = sorted(t * 1000 for t in times)
    p95 = ms[int(len(ms) * 0.95) - 1]
    print(f"{name:<34} {len(ms):>5} requests  {len(ms) / sum(times):>7.0f}/s  "
          f"median {statistics.median(ms):6.2f} ms  p95 {p95:6.2f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=300)
    n = parser.parse_args().requests
    with tempfile.TemporaryDirectory() as tmp, endpoint(
            Path(tmp), address_limit=0, client_limit=0) as ep:
        with ep.store() as store:
            for i in range(n):
                repo.add(store, f"known{i}@example.org", (), "ko", "command", "1", NOW, NOW)
        client = ep.client()
        client.get("/subscribe")   # warm: templates compiled, catalogs read
        times = []
        for _ in range(n):
            t = time.perf_counter()
            assert client.get("/subscribe").status == 200
            times.append(time.perf_counter() - t)
        _stats("GET /subscribe", times)

        signup, unknown, known = [], [], []
        for i in range(n):
            t = time.perf_counter()
            page = client.get("/subscribe")
            fields = page.form()
            mid = time.perf_counter()
            addr = f"new{i}@example.org" if i % 2 == 0 else f"known{i}@example.org"
            reply = client.post("/subscribe", {
                "csrf": fields["csrf"][0], "language": "ko", "address": addr,
                "consent": "yes", "categories": ["세무과"]})
            end = time.perf_counter()
            assert reply.status == 303
            signup.append(end - t)
            (unknown if addr.startswith("new") else known).append(end - mid)
        last = time.perf_counter()
        _stats("GET + POST /subscribe (sign-up)", signup)
        _stats("POST, address not on the list", unknown)
        _stats("POST, address already active", known)
        ep.mails(n)
        print(f"{len(ep.smtp.received)} emails (confirmations and 'already subscribed' notes) "
              f"reached the SMTP server {time.perf_counter() - last:.2f} s after the last answer")


if __name__ == "__main__":
    main()
