"""Where the article store lives: a SQLite file (the default: nothing to start) or a PostgreSQL
database that several machines share (the CI job, the web endpoint, several senders).

The choice is made in one place: ``$FEEDKIT_STORE_URL``, else ``[store] url``, else the SQLite
file ``[store] path``. The URL may carry a password only in the environment variable (a CI
secret): config.toml is committed, so :mod:`feedkit.config` refuses one there. psycopg, the
PostgreSQL driver, is imported only when a URL is used, so a SQLite site pays nothing for it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from feedkit.config import Config
    from feedkit.store.articles import Store

from feedkit.store.urls import STORE_URL_ENV, is_url, pg_label, redact

__all__ = ["STORE_URL_ENV", "is_url", "open_store", "redact", "store_label", "store_target",
           "store_url"]


def store_url(config: Config) -> str:
    """The PostgreSQL URL of the configured store, or "" for the SQLite file."""
    return os.environ.get(STORE_URL_ENV, "").strip() or config.store.url


def store_target(config: Config) -> str | Path:
    """What :class:`feedkit.store.articles.Store` opens for ``config``: the URL or the SQLite
    path."""
    return store_url(config) or config.store_path


def store_label(config: Config) -> str:
    """The store as messages name it: the file, or the URL (no password) and schema."""
    url = store_url(config)
    if not url:
        return str(config.store_path)
    return pg_label(url, config.store.schema)


def open_store(config: Config) -> Store:
    """The configured store, opened and migrated to this feedkit's schema version."""
    from feedkit.store.articles import Store

    return Store(store_target(config), busy_timeout=config.store.busy_timeout,
                 schema=config.store.schema)
