"""``config.toml`` → typed, validated objects.

Why strict: a site runs unattended in CI, so a typo (``per_categroy = true``) must fail loudly on
the first run instead of silently building the wrong thing. Every error is one line naming the
key, e.g. ``config.toml: [feeds] limit: expected an integer, got "50"``.

The package has three rooms, each importing only the one before it:

* :mod:`~feedkit.config.model`: one frozen dataclass per TOML section and ``Config``; their
  fields (name, type, default) *are* the schema, so the loader, the documentation test and
  ``feedkit init`` all read the same source of truth;
* :mod:`~feedkit.config.checks`: validation of the values (URLs, selectors, limits, headers);
* :mod:`~feedkit.config.load`: finding the file, parsing TOML, coercing each table.

Everything public is re-exported here: ``from feedkit.config import Config, load_config``.

May import: the shared modules; the checks call :mod:`feedkit.editorial.branding`,
:mod:`feedkit.editorial.categories` and :mod:`feedkit.store.urls` lazily, only for a config
that uses them. Every stage imports it.
"""

from feedkit.config.checks import (
    DEPARTMENT_FROM,
    DETAIL_SELECTOR_KEYS,
    LIST_SELECTOR_KEYS,
    MAX_PAGES,
    PLACEHOLDER,
    SMTP_TLS_MODES,
    WEEKDAYS,
    check_config,
    check_http_url,
    check_placeholders,
    placeholder_keys,
    split_selector,
)
from feedkit.config.load import (
    CONFIG_ENV,
    DEFAULT_CONFIG_NAME,
    canonical_url,
    find_config,
    load_config,
    parse_config,
)
from feedkit.config.model import (
    FEED_FILENAMES,
    FEED_FORMATS,
    FILE_SOURCE_KINDS,
    SECTIONS,
    SOURCE_KINDS,
    BuildConfig,
    Config,
    DigestConfig,
    FeedsConfig,
    FetchConfig,
    SiteConfig,
    SmtpConfig,
    SourceConfig,
    StoreConfig,
    WebConfig,
    toml_key,
)
from feedkit.errors import ConfigError

__all__ = [
    "CONFIG_ENV", "DEFAULT_CONFIG_NAME", "DEPARTMENT_FROM", "DETAIL_SELECTOR_KEYS",
    "FEED_FILENAMES", "FEED_FORMATS", "FILE_SOURCE_KINDS", "LIST_SELECTOR_KEYS", "MAX_PAGES",
    "PLACEHOLDER", "SECTIONS", "SMTP_TLS_MODES", "SOURCE_KINDS", "WEEKDAYS",
    "BuildConfig", "Config", "ConfigError", "DigestConfig", "FeedsConfig", "FetchConfig",
    "SiteConfig", "SmtpConfig", "SourceConfig", "StoreConfig", "WebConfig",
    "canonical_url", "check_config", "check_http_url", "check_placeholders", "find_config",
    "load_config", "parse_config", "placeholder_keys", "split_selector", "toml_key",
]
