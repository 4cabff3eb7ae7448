"""The subscriber list feedkit runs itself: ``model`` (the record), ``repo`` (the store's
subscriber table), and the parts built on them (the web endpoint's tokens and links, the
personal digests of ``digest send``, bounce handling).
"""
