"""Issue 22 item 9: subscriber addresses keep to SMTP's limits (RFC 5321 section 4.5.3.1).

A 300-character local part and 250-character domain labels were accepted, stored, and handed
to the relay, which refuses them (or worse, truncates). Now: the local part at most 64 octets,
each domain label 63 and the domain 255 (in its IDNA form, what goes on the wire), the whole
address 254 (a 256-octet path less its angle brackets); UTF-8 octets, not characters.
"""

from __future__ import annotations

import pytest
from _web_support import endpoint

from feedkit.privacy import check_address

LONG_LOCAL = "a" * 300 + "@example.org"
LONG_LABEL = "kim@" + "b" * 250 + ".example.org"


@pytest.mark.parametrize("address, ok", [
    ("a" * 64 + "@example.org", True),
    ("a" * 65 + "@example.org", False),
    ("가" * 21 + "@example.org", True),          # 63 octets in UTF-8
    ("가" * 22 + "@example.org", False),         # 22 characters, 66 octets
    ("kim@" + "b" * 63 + ".org", True),
    ("kim@" + "b" * 64 + ".org", False),
    ("kim@" + "예시" * 40 + ".한국", False),      # the IDNA label is over 63
    ("kim@예시.한국", True),
    ("kim@" + ".".join(["c" * 63] * 3) + ".kr", True),          # 199 octets
    ("k" * 60 + "@" + ".".join(["c" * 63] * 3) + ".kr", False),  # 260 in all
    ("kim@" + ".".join(["c" * 63] * 4) + ".kr", False),         # domain 258
    (LONG_LOCAL, False),
    (LONG_LABEL, False),
])
def test_rfc_5321_lengths(address: str, ok: bool) -> None:
    found, why = check_address(address)
    assert (found is not None) is ok, why
    if not ok:
        assert "RFC 5321" in why or "IDNA" in why
        assert address not in why


@pytest.mark.parametrize("address", [LONG_LOCAL, LONG_LABEL])
def test_the_operator_cannot_add_an_overlong_address(backend_site, address: str) -> None:
    r = backend_site.run("subscribers", "add", address, ok=False)
    assert r.exit_code == 2 and "RFC 5321" in r.stderr
    assert address not in r.output + r.stderr
    assert backend_site.rows("SELECT count(*) FROM subscribers") == [(0,)]


def test_the_form_refuses_an_overlong_address_and_sends_nothing(tmp_path) -> None:
    with endpoint(tmp_path) as ep:
        for address in (LONG_LOCAL, LONG_LABEL):
            reply = ep.client().subscribe(address)
            assert reply.status == 400
        ep.state.outbox.join()
        assert ep.mails() == []
        with ep.store() as store:
            assert store.db.execute("SELECT count(*) FROM subscribers").fetchone()[0] == 0
