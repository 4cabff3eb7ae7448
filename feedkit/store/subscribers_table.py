"""The subscriber table: store migration 6 (:data:`feedkit.store.articles.MIGRATIONS`).

One row per reader, unique by the normalised address (:func:`feedkit.privacy.normalise_address`,
the send log's spelling); ``address`` is kept as given, for sending. The consent record says
when (``consent_at``, ISO UTC), through what (``consent_via``: form, import, command) and under
which notice (``consent_version``) they agreed. ``bounces`` counts permanent failures in a row;
``bounce_week`` is the last digest week counted, so a re-run of one week never counts twice;
``last_bounce`` the server's reason (without the address). ``confirmed_at`` is the double
opt-in; ``left_at`` / ``left_via`` when and how they unsubscribed. Never edit a released step:
a later change is a new migration.
"""

MIGRATION = """
    CREATE TABLE subscribers (
        id               INTEGER PRIMARY KEY,
        address          TEXT NOT NULL,
        normalised       TEXT NOT NULL UNIQUE,
        status           TEXT NOT NULL
                         CHECK (status IN ('pending', 'active', 'unsubscribed', 'bounced')),
        categories       TEXT NOT NULL DEFAULT '[]',
        language         TEXT NOT NULL DEFAULT '',
        consent_at       TEXT NOT NULL,
        consent_via      TEXT NOT NULL CHECK (consent_via IN ('form', 'import', 'command')),
        consent_version  TEXT NOT NULL DEFAULT '',
        bounces          INTEGER NOT NULL DEFAULT 0,
        bounce_week      TEXT NOT NULL DEFAULT '',
        last_bounce      TEXT NOT NULL DEFAULT '',
        created_at       TEXT NOT NULL,
        updated_at       TEXT NOT NULL,
        confirmed_at     TEXT NOT NULL DEFAULT '',
        left_at          TEXT NOT NULL DEFAULT '',
        left_via         TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX subscribers_status ON subscribers (status, id)
    """
