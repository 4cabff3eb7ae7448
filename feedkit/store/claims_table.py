"""The ``send_claims`` table (store migration 7): which run is sending to which reader.

Kept beside the store, not in :mod:`feedkit.mail.claims` (which claims and releases the rows),
so that opening a store never imports the sending code. One row per (week, reader) that a run
has claimed and not yet finished; ``claimant`` names the run, whose liveness is a lock that
dies with its process (see :mod:`feedkit.mail.claims`).
"""

TABLE = """
    CREATE TABLE send_claims (
        week        TEXT NOT NULL,
        recipient   TEXT NOT NULL,
        claimant    TEXT NOT NULL,
        claimed_at  TEXT NOT NULL,
        PRIMARY KEY (week, recipient)
    );
    CREATE INDEX send_claims_claimant ON send_claims (claimant)
    """
