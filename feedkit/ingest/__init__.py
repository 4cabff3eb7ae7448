"""Getting articles into the store: readers per source kind (files, feeds, the city's board
pages), the polite fetcher and its network guard, one normalisation stage
(:mod:`~feedkit.ingest.normalize`) every record goes through, the one question asked of an
image whose URL does not say its type (:mod:`~feedkit.ingest.images`), and the compact record of
the ids an import has taken (:mod:`~feedkit.ingest.seen`).

May import: ``editorial`` (withdrawn articles stay out, future dates are held), ``store``,
``text``, ``config`` and the shared modules. It fills the store and returns reports: it never
renders, builds, mails or serves, and no stage after it imports it.
"""
