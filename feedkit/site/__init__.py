"""The published folder: what ``feedkit build`` writes and ``feedkit serve`` shows.

:mod:`~feedkit.site.build` turns the store into the output folder, through
:mod:`~feedkit.site.output` (the output plan: atomic writes, unchanged files left alone);
:mod:`~feedkit.site.feeds` writes RSS, Atom and JSON Feed bytes from records (never from the
store); :mod:`~feedkit.site.archive` the digest's web archive; :mod:`~feedkit.site.export` the
store as text; :mod:`~feedkit.site.stats` what the store holds; :mod:`~feedkit.site.scaffold`
a new site folder (``feedkit init``); :mod:`~feedkit.site.serve` and
:mod:`~feedkit.site.serve_send` the local preview and its test send; :mod:`~feedkit.site.pages`
the chrome of the pages rendered live (the preview's staff pages, and the subscribe endpoint's
in :mod:`feedkit.web`).

May import: ``digest`` and ``mail`` (the preview renders and test-sends the digest),
``editorial``, ``subscribers``, ``store``, ``text``, ``config`` and the shared modules. Never
``ingest``: the site is built from what is stored, whoever stored it.
"""
