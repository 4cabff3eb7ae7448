"""The article store and every table's SQL: articles, the send log and its claims, withdrawn
articles, subscribers, the editor's decisions and the sources' streaks.

:mod:`~feedkit.store.articles` is the store (:class:`~feedkit.store.articles.Store`: opening,
migrations, upserts and the queries every stage reads with); :mod:`~feedkit.store.backends`
chooses the backend from the config, :mod:`~feedkit.store.sqlite` (the default: one file,
nothing to start) and :mod:`~feedkit.store.postgres` (shared by several machines) speak its SQL,
:mod:`~feedkit.store.urls` names a PostgreSQL store without opening it, and
:mod:`~feedkit.store.copy` moves every table between the two. The tables other stages own
have their DDL here (``withdrawn_table``, ``claims_table``, ``subscribers_table``,
``unsubscribed_table``: the list readers who asked to leave; articles matched by URL key:
``url_keys``; the web endpoint's waiting emails: ``web_outbox``), as does the
``WHERE`` clause that selects a feed's articles (``selection``), the sources' failure streaks
(``health``), each article's licence and image type (``article_extras``, a migration) and which
feeds' bytes changed for WebSub (``feed_hashes``).

May import: ``feedkit.text``, ``config`` and the shared modules (``model``, ``errors``,
``privacy``). Every stage above reads and writes through it; it imports none of them.
"""
