"""The editor's decisions, which every later stage honours: withdrawn articles
(:mod:`~feedkit.editorial.withdrawals`), how departments are shown and grouped
(:mod:`~feedkit.editorial.categories`), the city's logo, colour and contact line
(:mod:`~feedkit.editorial.branding`), when an article may be published
(:mod:`~feedkit.editorial.publication`), and each week's approval and note
(:mod:`~feedkit.editorial.decisions`, with the note's Markdown in
:mod:`~feedkit.editorial.note`), and the licence the news carries
(:mod:`~feedkit.editorial.licenses`: 공공누리 and Creative Commons).

May import: ``store``, ``text``, ``config`` and the shared modules. Ingest, the digest, mail and
the site import it; it imports none of them.
"""
