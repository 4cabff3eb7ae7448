"""Delivering the digest: ``message`` (MIME, headers, Message-IDs, unsubscribe tokens),
``recipients``, ``smtp`` (one connection) and ``send`` (the send loop with its send log).
"""
