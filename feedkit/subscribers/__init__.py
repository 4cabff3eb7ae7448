"""Subscribers feedkit keeps itself: ``model`` (the record), ``repo`` (the store's subscriber
table), ``tokens`` and ``links`` (the signed links in their emails), and what is built on them
(the web form, the personal digests of ``digest send``, bounce handling).
"""
