"""The weekly digest, rendered: ``week`` (ISO weeks) → ``compose`` (sections, size budget) →
``render`` (templates, CSS inlining, the HTML and text parts). The web archive of past digests
is part of the built site (:mod:`feedkit.site.archive`).

May import: ``subscribers`` (the signed links a digest carries), ``editorial``, ``store``,
``text``, ``config`` and the shared modules. Never ``mail`` (sending imports this package, never
the other way round) and never ``ingest``: the digest takes stored articles, and the text tools
it shares with the readers are in :mod:`feedkit.text`.
"""
