"""The published folder: what ``feedkit build`` writes and ``feedkit serve`` shows.

:mod:`~feedkit.site.build` turns the store into the output folder, through
:mod:`~feedkit.site.output` (the output plan: atomic writes, unchanged files left alone);
:mod:`~feedkit.site.feeds` writes RSS, Atom and JSON Feed bytes from records (never from the
store), with what feedgen does not write added through its extension mechanism
(:mod:`~feedkit.site.feed_ext`: WebSub hub and licence links); :mod:`~feedkit.site.opml`
``feeds.opml``; :mod:`~feedkit.site.websub` which feeds changed and the hubs told so
(``feedkit announce``); :mod:`~feedkit.site.archive` the digest's web archive;
:mod:`~feedkit.site.export` the store as text; :mod:`~feedkit.site.stats` what the store holds;
:mod:`~feedkit.site.scaffold` a new site folder (``feedkit init``); :mod:`~feedkit.site.serve` and
:mod:`~feedkit.site.serve_send` the local preview and its test send, and
:mod:`~feedkit.site.serve_auth` who may open it (the printed address's key and cookie);
:mod:`~feedkit.site.pages` the chrome of the pages rendered live (the preview's staff pages, and
the subscribe endpoint's in :mod:`feedkit.web`).

May import: ``digest`` and ``mail`` (the preview renders and test-sends the digest),
``editorial``, ``subscribers``, ``store``, ``text``, ``config`` and the shared modules. Never
``ingest``: the site is built from what is stored, whoever stored it.
"""
