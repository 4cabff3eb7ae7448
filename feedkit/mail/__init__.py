"""Delivering the digest: ``message`` (MIME, headers, Message-IDs, unsubscribe tokens),
``recipients`` (the list mode's addresses), ``smtp`` (one connection), ``send`` (the send loop
with its send log and ``claims``), ``personal`` (one digest per subscriber, with their own
departments and links), ``proof`` (test sends) and ``schedule`` (when the digest is due).

May import: ``digest`` (what it sends), ``editorial``, ``subscribers``, ``store``, ``text``,
``config`` and the shared modules. Never ``ingest`` or ``site``.
"""
