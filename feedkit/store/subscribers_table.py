"""The self-run list's tables: ``subscribers`` (store migration 6, :data:`feedkit.store.articles
.MIGRATIONS`), and migration 8: link keys, ids never reused, the counted bounce reports and the
web endpoint's outbox.

One row per reader, unique by the normalised address (:func:`feedkit.privacy.normalise_address`,
the send log's spelling); ``address`` is kept as given, for sending. The consent record says
when (``consent_at``, ISO UTC), through what (``consent_via``: form, import, command) and under
which notice (``consent_version``) they agreed. ``bounces`` counts permanent failures in a row;
``bounce_week`` is the latest digest week counted (kept when the count starts again), so a re-run
of one week never counts twice and the send log tells whether a digest was accepted after it;
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


# Migration 8, subscribers part: ids are never handed out twice, and each subscription has its
# own random link key (feedkit.subscribers.tokens), so the links of an erased reader, or of one
# who left and came back, are dead. SQLite's plain INTEGER PRIMARY KEY takes max(id) + 1, which
# gives an erased newest reader's id to the next sign-up; AUTOINCREMENT never does (its high
# water mark lives in sqlite_sequence), and SQLite cannot add it to a table in place, so the
# table is built again with it. PostgreSQL's identity column never goes back already: it only
# gets the new column. Existing rows get link_key '', the key their links were made with.
LINK_KEY_COLUMN = "ALTER TABLE subscribers ADD COLUMN link_key TEXT NOT NULL DEFAULT ''"
_COLUMNS = ("id, address, normalised, status, categories, language, consent_at, consent_via, "
            "consent_version, bounces, bounce_week, last_bounce, created_at, updated_at, "
            "confirmed_at, left_at, left_via")


# The delivery reports `subscribers bounces` counted (and, with message_id '', the refusals at
# send time): one per (digest week, reader key), so a report sent again (or a copy of it, or a
# re-run of the week) never counts twice, even after the reader's count has started again.
# `recipient` is the send log's keyed hash, never an address.
BOUNCE_REPORTS = """
    CREATE TABLE bounce_reports (
        week        TEXT NOT NULL,
        recipient   TEXT NOT NULL,
        message_id  TEXT NOT NULL,
        counted_at  TEXT NOT NULL,
        PRIMARY KEY (week, recipient)
    )
    """

# The web endpoint's confirmation emails not yet handed to the relay (feedkit.web.outbox): kept
# here, not in memory, so a relay that is down or a server that stops loses none. A row is
# deleted once the relay took it, refused it for good, or its link has expired (`expires`,
# Unix seconds); `next_try` (Unix seconds) is also the lease of the process sending it.
# It holds the reader's address only while the email waits, as the subscribers row does.
WEB_OUTBOX = """
    CREATE TABLE web_outbox (
        id          INTEGER PRIMARY KEY,
        recipient   TEXT NOT NULL,
        who         TEXT NOT NULL,
        data        TEXT NOT NULL,
        attempts    INTEGER NOT NULL DEFAULT 0,
        next_try    INTEGER NOT NULL,
        expires     INTEGER NOT NULL,
        created_at  TEXT NOT NULL
    );
    CREATE INDEX web_outbox_next ON web_outbox (next_try)
    """


def migrate_8(db) -> None:
    """Store migration 8 (issue 22), on either backend (``db`` is the store's connection); its
    article step (one key per URL) is :func:`feedkit.store.url_keys.add_url_keys`."""
    from feedkit.store.url_keys import add_url_keys

    add_url_keys(db)
    never_reuse_ids(db)
    for statement in (BOUNCE_REPORTS + ";" + WEB_OUTBOX).split(";"):
        if statement.strip():
            db.execute(statement)


def never_reuse_ids(db) -> None:
    """Migration 8's subscriber step (see above)."""
    if getattr(db, "dialect", "sqlite") == "postgresql":
        db.execute(LINK_KEY_COLUMN)
        return
    rebuilt = MIGRATION.replace("CREATE TABLE subscribers (",
                                "CREATE TABLE subscribers_new (", 1)
    rebuilt = rebuilt.replace("id               INTEGER PRIMARY KEY,",
                              "id               INTEGER PRIMARY KEY AUTOINCREMENT,", 1)
    table, _index = rebuilt.split(";", 1)
    db.execute(table)
    db.execute(f"INSERT INTO subscribers_new ({_COLUMNS}) SELECT {_COLUMNS} FROM subscribers")
    db.execute("DROP TABLE subscribers")
    db.execute("ALTER TABLE subscribers_new RENAME TO subscribers")
    db.execute("CREATE INDEX subscribers_status ON subscribers (status, id)")
    db.execute(LINK_KEY_COLUMN)
