"""Find ``config.toml``, parse it, and turn each table into its typed section.

Strict on purpose: an unknown section or key, or a value of the wrong type, is one line naming
it, e.g. ``config.toml: [feeds] limit: expected an integer, got "50"``; then the values are
checked (:mod:`feedkit.config.checks`) and every URL put in canonical form.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
import types
import typing
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from feedkit.config.checks import check_config
from feedkit.config.model import SECTIONS, Config, toml_key
from feedkit.errors import ConfigError

CONFIG_ENV = "FEEDKIT_CONFIG"
DEFAULT_CONFIG_NAME = "config.toml"


def find_config(explicit: str | os.PathLike[str] | None = None,
                cwd: Path | None = None) -> Path:
    """``--config`` (a file, or a folder holding config.toml), then ``$FEEDKIT_CONFIG`` (the
    same), then the nearest ``config.toml`` in the current folder or one of its parents, the way
    git finds its repository, so a command run from ``site/templates/`` still finds the site."""
    if explicit:
        candidate, how = Path(explicit), "--config"
    elif os.environ.get(CONFIG_ENV):
        candidate, how = Path(os.environ[CONFIG_ENV]), f"${CONFIG_ENV}"
    else:
        here = (cwd or Path.cwd()).resolve()
        for folder in (here, *here.parents):
            if (folder / DEFAULT_CONFIG_NAME).is_file():
                return folder / DEFAULT_CONFIG_NAME
        raise ConfigError(f"no {DEFAULT_CONFIG_NAME} in {here} or any folder above it (pass "
                          "--config, set $FEEDKIT_CONFIG, or create one with 'feedkit init')")
    candidate = candidate.expanduser()
    if candidate.is_dir():
        candidate = candidate / DEFAULT_CONFIG_NAME
    if not candidate.is_file():
        raise ConfigError(f"{candidate}: no config file found via {how}")
    return candidate.resolve()


def load_config(explicit: str | os.PathLike[str] | None = None) -> Config:
    path = find_config(explicit)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path.name}: not UTF-8 ({exc.reason})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path.name}: invalid TOML: {exc}") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None
    return parse_config(data, path)


def parse_config(data: dict[str, Any], path: Path) -> Config:
    """Validate a parsed TOML document; ``path`` names the file in messages and anchors paths."""
    name = path.name
    unknown = sorted(set(data) - set(SECTIONS))
    if unknown:
        raise ConfigError(f"{name}: unknown section [{unknown[0]}] "
                          f"(known: {', '.join(SECTIONS)})")
    if "site" not in data:
        raise ConfigError(f"{name}: [site] is required (title, url, feed_url)")
    values: dict[str, Any] = {}
    for section, (cls, is_array) in SECTIONS.items():
        if section not in data:
            continue
        raw = data[section]
        if is_array:
            if not isinstance(raw, list):
                raise ConfigError(f"{name}: [[{section}]] must be an array of tables")
            values[section] = tuple(
                _build(cls, item, f"{name}: [[{section}]] #{i + 1}") for i, item in enumerate(raw)
            )
        else:
            values[section] = _build(cls, raw, f"{name}: [{section}]")
    config = Config(path=path, **values)
    check_config(config, name)
    return _canonical_urls(config)


def _build(cls: type, raw: Any, where: str) -> Any:
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: must be a table")
    hints = typing.get_type_hints(cls)
    fields = {toml_key(f): f for f in dataclasses.fields(cls)}
    for key in raw:
        if key not in fields:
            known = ", ".join(fields)
            raise ConfigError(f"{where} {key}: unknown key (known: {known})")
    kwargs = {}
    for key, f in fields.items():
        required = f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        if key not in raw:
            if required:
                raise ConfigError(f"{where} {key}: required key is missing")
            continue
        kwargs[f.name] = _coerce(raw[key], hints[f.name], f"{where} {key}")
    return cls(**kwargs)


_INT_LIMIT = 2 ** 63


def _coerce(value: Any, hint: Any, where: str) -> Any:
    origin = typing.get_origin(hint)
    if hint is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{where}: expected true or false, got {value!r}")
        return value
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{where}: expected an integer, got {value!r}")
        if not -_INT_LIMIT <= value < _INT_LIMIT:   # TOML allows it; SQLite and C do not
            raise ConfigError(f"{where}: {value} is out of range (at most {_INT_LIMIT - 1})")
        return value
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"{where}: expected a number, got {value!r}")
        return float(value)
    if hint is str:
        if not isinstance(value, str):
            raise ConfigError(f"{where}: expected a string, got {value!r}")
        return value
    if origin is tuple:
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"{where}: expected a list of strings, got {value!r}")
        return tuple(value)
    if origin is dict and typing.get_origin(typing.get_args(hint)[1]) is tuple:
        if not isinstance(value, dict):   # [categories.names]: a table of lists
            raise ConfigError(f"{where}: expected a table, got {value!r}")
        return {k: _coerce(v, typing.get_args(hint)[1], f"{where}.{k}")
                for k, v in value.items()}
    if origin is dict:
        if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
            raise ConfigError(f"{where}: expected a table of strings, got {value!r}")
        return dict(value)
    if origin in (typing.Union, types.UnionType):  # pragma: no cover - no such fields yet
        return value
    raise TypeError(f"unsupported config type {hint!r}")  # pragma: no cover - schema bug


_DEFAULT_PORTS = {"http": 80, "https": 443}


def canonical_url(value: str) -> str:
    """An http(s) URL in the form feeds should carry: lower-case scheme and host, no default
    port, ``/`` for an empty path (RFC 3986 normalisation; the W3C validator's NonCanonicalURI
    otherwise). Anything else comes back unchanged."""
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError:
        return value
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname:
        return value
    host = parts.hostname  # urlsplit lower-cases it
    if ":" in host:
        host = f"[{host}]"
    if port is not None and port != _DEFAULT_PORTS[scheme]:
        host = f"{host}:{port}"
    userinfo, at, _ = parts.netloc.rpartition("@")
    netloc = f"{userinfo}{at}{host}"
    return urlunsplit((scheme, netloc, parts.path or "/", parts.query, parts.fragment))


def _canonical_urls(config: Config) -> Config:
    """Every configured http(s) URL in canonical form, once, at load: feeds, pages and mail all
    see ``https://example.org/`` however the config spelled it (``https://Example.org``)."""
    replace = dataclasses.replace
    site = replace(config.site, url=canonical_url(config.site.url),
                   feed_url=canonical_url(config.site.feed_url))
    sources = tuple(replace(s, url=canonical_url(s.url)) if s.url else s
                    for s in config.sources)
    digest = replace(config.digest,
                     unsubscribe=tuple(canonical_url(u) for u in config.digest.unsubscribe),
                     subscribe=canonical_url(config.digest.subscribe))
    web = replace(config.web, url=canonical_url(config.web.url))
    return replace(config, site=site, sources=sources, digest=digest, web=web)


