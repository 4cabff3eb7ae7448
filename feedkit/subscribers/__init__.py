"""Subscribers feedkit keeps itself: ``model`` (the record), ``repo`` (the store's subscriber
table; its DDL is :mod:`feedkit.store.subscribers_table`), ``tokens`` and ``links`` (the signed
links in their emails), ``listfile`` (importing and exporting a city's list) and ``bounces``
(delivery reports read from a mailbox).

May import: ``store``, ``text``, ``config`` and the shared modules. It sits under everything that
mails or serves readers (``digest``, ``mail``, ``site``, ``web``) and imports none of them.
"""
