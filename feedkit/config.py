"""``config.toml`` → typed, validated objects.

Why strict: a site runs unattended in CI, so a typo (``per_categroy = true``) must fail loudly on
the first run instead of silently building the wrong thing. Every error is one line naming the
key, e.g. ``config.toml: [feeds] limit: expected an integer, got "50"``.

Each section is a frozen dataclass; its fields (name, type, default) *are* the schema, so the
loader, the documentation test and ``feedkit init`` all read the same source of truth.
"""

from __future__ import annotations

import dataclasses
import os
import re
import tomllib
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from feedkit.errors import ConfigError

CONFIG_ENV = "FEEDKIT_CONFIG"
DEFAULT_CONFIG_NAME = "config.toml"

_LANGUAGE_RE = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$")
FEED_FORMATS = ("rss", "atom", "json")
FEED_FILENAMES = {"rss": "feed.xml", "atom": "atom.xml", "json": "feed.json"}
SOURCE_KINDS = ("jsonl", "csv", "json", "feed", "html")
FILE_SOURCE_KINDS = ("jsonl", "csv", "json")


def _doc(text: str, **kw: Any) -> Any:
    """A dataclass field that carries its own one-line documentation (used by the docs test)."""
    return field(metadata={"doc": text}, **kw)


@dataclass(frozen=True)
class SiteConfig:
    title: str = _doc("Feed and page title, e.g. 보령시 새소식.")
    url: str = _doc("The city's own website (the feeds' alternate link).")
    feed_url: str = _doc("Public URL where the output folder is served; feeds' self links use it.")
    description: str = _doc("One sentence about the site, used as feed subtitle.", default="")
    language: str = _doc("BCP 47 language tag of the news (ko, ko-KR, en).", default="ko")
    timezone: str = _doc("IANA timezone: naive dates are read in it, digests use it.",
                         default="Asia/Seoul")
    author: str = _doc("Feed author name (defaults to the title).", default="")
    email: str = _doc("Contact address shown as the feed author's email.", default="")


@dataclass(frozen=True)
class StoreConfig:
    path: str = _doc("SQLite article store file, relative to config.toml.", default="articles.db")
    busy_timeout: float = _doc("Seconds to wait for another process writing to the store "
                               "before giving up.", default=30.0)


@dataclass(frozen=True)
class SourceConfig:
    kind: str = _doc("jsonl | csv | json | feed | html.")
    path: str = _doc("File to read (file kinds, or a local feed file).", default="")
    url: str = _doc("URL to fetch (feed and html kinds).", default="")
    name: str = _doc("A label for messages (defaults to the path or URL).", default="")
    category: str = _doc("Category given to articles that have none.", default="")
    # -- html sources -------------------------------------------------------------------------
    selectors: dict[str, str] = _doc(
        "html: CSS selectors on the list page: item (one per article), title, link, date, "
        "department, summary, image, author; append @attr to read an attribute (img@src).",
        default_factory=dict)
    detail: dict[str, str] = _doc(
        "html: CSS selectors on each article's own page (fetched for new or changed items "
        "only): body, image, attachments, title, date, department, summary, author.",
        default_factory=dict)
    page_param: str = _doc("html: query parameter that numbers list pages (page=2, 3, ...).",
                           default="")
    next_page: str = _doc("html: CSS selector of the list page's 'next page' link.", default="")
    max_pages: int = _doc("html: list pages read at most per update (at most "
                          "1000).", default=5)
    allow_hosts: tuple[str, ...] = _doc(
        "html: other host names detail and next pages may be on; by default only the list "
        "page's own host is fetched (links elsewhere are kept, not fetched).", default=())
    link_pattern: str = _doc(
        "html: regular expression applied to the link value, for javascript: links such as "
        "fn_view('123'); its groups fill link_template.", default="")
    link_template: str = _doc(
        "html: article URL built from link_pattern's groups, e.g. 'view.do?nttId={1}' "
        "(relative to the list page).", default="")
    encoding: str = _doc("html/feed: force this character set (e.g. cp949) instead of "
                         "HTTP header, <meta charset> and detection.", default="")
    department_from: str = _doc(
        "feed: where an entry's department (category) comes from: author (dc:creator, what "
        "Korean government feeds use), category (the first <category>) or none.",
        default="author")

    @property
    def label(self) -> str:
        return self.name or self.path or self.url


@dataclass(frozen=True)
class FeedsConfig:
    limit: int = _doc("Items per feed, newest first.", default=50)
    formats: tuple[str, ...] = _doc("Which feeds to write: rss, atom, json.", default=FEED_FORMATS)
    per_category: bool = _doc("Also write one set of feeds per category.", default=True)
    full_content: bool = _doc("Include full article HTML, not only the summary.", default=True)
    stylesheet: bool = _doc(
        "Link RSS and Atom feeds to feed.xsl so a browser shows them as a page. Off by default: "
        "Chromium covers XSLT-styled pages with a removal banner; feeds.html is the page to "
        "send people to.", default=False)
    category_slugs: dict[str, str] = _doc(
        "Override the URL slug of a category, e.g. { \"세무과\" = \"tax\" }.", default_factory=dict
    )


@dataclass(frozen=True)
class BuildConfig:
    out: str = _doc("Output folder, relative to config.toml.", default="public")
    templates: str = _doc(
        "A folder of your own templates; a file there overrides the bundled one of the same name.",
        default="",
    )
    index_limit: int = _doc("Articles listed on the index page.", default=30)
    publish_future: bool = _doc(
        "Publish articles dated in the future at once; by default each is held back from the "
        "feeds, the index and the digest until its date (import keeps it and warns).",
        default=False)


@dataclass(frozen=True)
class DigestConfig:
    subject: str = _doc("Subject template; {title} (the digest's title), {week_label} ('12월 "
                        "첫째 주 (12월 1일 – 7일)'), {week} (ISO, '2025-W49'), {site_title}, "
                        "{count} are filled in.", default="{title} · {week_label}")
    title: str = _doc("The digest's name (email heading, archive, digest feed); default: the "
                      "site title with '주간 소식' ('보령시 새소식' gives '보령시 주간 소식', "
                      "not '새소식 주간 소식'), or '<site title> weekly'.", default="")
    from_: str = _doc("From address, e.g. '보령시 소식 <news@example.org>'.", default="")
    to: tuple[str, ...] = _doc("Recipient addresses (usually one list address).", default=())
    unsubscribe: tuple[str, ...] = _doc(
        "mailto: and/or https: unsubscribe URLs (a string or a list); may contain {token} "
        "(needs $FEEDKIT_UNSUBSCRIBE_SECRET) or {email}. Prefer {token} in https links, e.g. "
        "https://example.org/unsubscribe/{token}: an address in a link costs spam points.",
        default=())
    reply_to: str = _doc("Reply-To address (optional).", default="")
    subscribe: str = _doc("How readers subscribe: a mailto: address or an https page, shown on "
                          "the web archive (which never shows an unsubscribe link).", default="")
    recipients_file: str = _doc(
        "File of recipients for a small self-run list: one address per line (several on a line "
        "separated by commas), or CSV with an 'email' column; relative to config.toml. Keep it "
        "outside the site's repository (a warning says so when git would commit it).",
        default="")
    recipients_env: str = _doc(
        "Name of an environment variable holding recipients (one per line or comma-separated), "
        "e.g. FEEDKIT_RECIPIENTS set from a CI secret; read at send time.", default="")
    list_id: str = _doc("List-Id header (RFC 2919); default: '<site title> <digest.HOST>' with "
                        "HOST from [site] feed_url.", default="")
    reason: str = _doc("Footer line saying why the reader gets the email (default: a sentence "
                       "naming the site).", default="")
    categories: tuple[str, ...] = _doc(
        "Section order: these categories first, in this order; the rest by size.", default=())
    fold_below: int = _doc("Sections with fewer articles than this fold together: 읍·면·동 "
                           "departments into one '읍·면·동 소식' section, the rest into '기타 "
                           "소식' (only when two or more would fold; [digest] categories never "
                           "fold). 0 or 1: every department keeps its own section.", default=2)
    summary_chars: int = _doc("Summaries are cut at a word boundary before this many characters "
                              "(0 hides them).", default=160)
    max_items: int = _doc("At most this many articles per section in the email (0: no fixed cap; "
                          "the size budget still applies). The web view always has every one.",
                          default=0)
    max_html_bytes: int = _doc("Size budget of the email's HTML part as sent (CRLF line ends, "
                               "each recipient's own unsubscribe link); Gmail clips over 102 KB, "
                               "so sections are capped to fit.", default=100_000)
    templates: str = _doc("A folder of your own digest templates (digest.html.j2, digest.txt.j2, "
                          "digest.css, ...); default: [build] templates, then the bundled ones.",
                          default="")
    archive: bool = _doc("Write the web archive public/digest/ during 'feedkit build'.",
                         default=True)
    feed_limit: int = _doc("Weeks listed in the digest feed public/digest/feed.xml.", default=26)
    send_day: str = _doc("'digest send' without --week sends last week's digest from this "
                         "weekday on (monday ... sunday), in [site] timezone.", default="monday")
    send_hour: int = _doc("... and from this hour (0-23) of that day; earlier runs say 'not due "
                          "until ...' and send nothing.", default=8)


@dataclass(frozen=True)
class SmtpConfig:
    host: str = _doc("SMTP server host name.", default="localhost")
    port: int = _doc("SMTP port (587 STARTTLS, 465 TLS, 25 plain relay).", default=587)
    starttls: bool = _doc("Upgrade the connection with STARTTLS.", default=True)
    username: str = _doc("Login name; the password comes only from $FEEDKIT_SMTP_PASSWORD.",
                         default="")
    tls: str = _doc("'starttls', 'implicit' (SMTPS, port 465) or 'none' (a local relay); "
                    "empty: 'starttls' if starttls = true, else 'none'.", default="")
    timeout: float = _doc("Seconds to wait for the server before a try counts as failed.",
                          default=30.0)
    retries: int = _doc("Extra tries per recipient after a temporary failure (4xx, disconnect).",
                        default=3)
    retry_delay: float = _doc("Seconds before the first retry; doubles on each further one.",
                              default=2.0)
    connections: int = _doc("SMTP connections used at once when sending a digest.", default=3)
    max_per_second: float = _doc("At most this many messages per second over all connections "
                                 "(0: no limit), for relays that throttle.", default=0.0)
    max_per_day: int = _doc("At most this many messages per rolling 24 hours (0: no limit); the "
                            "rest wait for the next run (the send log keeps track).", default=0)
    ca_file: str = _doc("PEM file of extra CA certificates to trust (a private CA on a city's "
                        "own relay); relative to config.toml.", default="")
    allow_plain_login: bool = _doc("Allow a username (and so the password) over tls = 'none': "
                                   "only for a trusted relay on the same host or network.",
                                   default=False)
    dkim_selector: str = _doc("DKIM selector: sign every message (with dkim_domain) when the "
                              "relay does not; the key comes from $FEEDKIT_DKIM_KEY or "
                              "dkim_key_file.", default="")
    dkim_domain: str = _doc("DKIM signing domain (d=), usually the From address's domain.",
                            default="")
    dkim_key_file: str = _doc("PEM private key file for DKIM, when $FEEDKIT_DKIM_KEY is unset; "
                              "keep it outside the repository.", default="")

    @property
    def tls_mode(self) -> str:
        return self.tls or ("starttls" if self.starttls else "none")


@dataclass(frozen=True)
class FetchConfig:
    user_agent: str = _doc("Full User-Agent override (default: feedkit/VERSION (+contact)).",
                           default="")
    contact: str = _doc("Contact URL or address put in the User-Agent so site owners can reach "
                        "you (default: [site] email, then [site] feed_url).", default="")
    delay: float = _doc("Seconds between two requests to the same host (robots.txt "
                        "Crawl-delay wins when larger).", default=1.0)
    timeout: float = _doc("Seconds one request may take in total (connect, wait, download).",
                          default=20.0)
    retries: int = _doc("Extra attempts after a network error, timeout, 429 or 5xx.", default=3)
    backoff: float = _doc("Seconds before the first retry; doubles on each further retry.",
                          default=1.0)
    max_bytes: int = _doc("Largest response body accepted, in bytes.", default=5_000_000)
    max_redirects: int = _doc("Redirects followed at most for one request.", default=5)


@dataclass(frozen=True)
class WebConfig:
    url: str = _doc("Public https address of 'feedkit web' (e.g. https://news.example.org/list/): "
                    "the links in confirmation emails and digests point here, and the index, "
                    "archive and feed pages link to its /subscribe. Empty: no endpoint.",
                    default="")
    consent_version: str = _doc("Which wording of the consent notice the form shows; stored with "
                                "each reader's consent. Raise it when you change "
                                "web/notice.html.j2.", default="1")
    address_limit: int = _doc("Confirmation emails one address can be sent per 24 hours (0: no "
                              "limit); more requests get the same page and no email.", default=3)
    client_limit: int = _doc("Subscribe form posts one client (IP address) may make per hour "
                             "(0: no limit); more get '429 Too Many Requests'.", default=20)
    proxy_hops: int = _doc("Reverse proxies in front of 'feedkit web' whose X-Forwarded-For, "
                           "-Proto, -Host and -Prefix headers are trusted: 1 behind one nginx, "
                           "0 when clients connect directly (then those headers are ignored).",
                           default=0)


@dataclass(frozen=True)
class Config:
    """The whole configuration, with paths already resolved against the config file's folder."""

    path: Path
    site: SiteConfig
    store: StoreConfig = field(default_factory=StoreConfig)
    sources: tuple[SourceConfig, ...] = ()
    feeds: FeedsConfig = field(default_factory=FeedsConfig)
    build: BuildConfig = field(default_factory=BuildConfig)
    digest: DigestConfig = field(default_factory=DigestConfig)
    smtp: SmtpConfig = field(default_factory=SmtpConfig)
    fetch: FetchConfig = field(default_factory=FetchConfig)
    web: WebConfig = field(default_factory=WebConfig)

    @property
    def base_dir(self) -> Path:
        return self.path.parent

    def resolve(self, value: str | os.PathLike[str]) -> Path:
        """A path from the config, relative to the config file's folder (not the cwd)."""
        p = Path(value).expanduser()
        return p if p.is_absolute() else (self.base_dir / p)

    @property
    def store_path(self) -> Path:
        return self.resolve(self.store.path)

    @property
    def out_dir(self) -> Path:
        return self.resolve(self.build.out)

    @property
    def templates_dir(self) -> Path | None:
        return self.resolve(self.build.templates) if self.build.templates else None

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.site.timezone)

    @property
    def author(self) -> str:
        return self.site.author or self.site.title


# Sections: TOML table name -> (dataclass, is array of tables)
SECTIONS: dict[str, tuple[type, bool]] = {
    "site": (SiteConfig, False),
    "store": (StoreConfig, False),
    "sources": (SourceConfig, True),
    "feeds": (FeedsConfig, False),
    "build": (BuildConfig, False),
    "digest": (DigestConfig, False),
    "smtp": (SmtpConfig, False),
    "fetch": (FetchConfig, False),
    "web": (WebConfig, False),
}


def toml_key(f: dataclasses.Field) -> str:
    """Field name → TOML key (``from_`` is ``from`` in the file: ``from`` is a Python keyword)."""
    return f.name.rstrip("_")


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
    _check(config, name)
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
    if origin is dict:
        if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
            raise ConfigError(f"{where}: expected a table of strings, got {value!r}")
        return dict(value)
    if origin in (typing.Union, types.UnionType):  # pragma: no cover - no such fields yet
        return value
    raise TypeError(f"unsupported config type {hint!r}")  # pragma: no cover - schema bug


PLACEHOLDER = "TODO"
"""The marker the scaffold's config.toml puts in every value a site must fill in."""


def placeholder_keys(config: Config) -> list[str]:
    """One line per ``[site]`` value that still holds the scaffold's TODO marker, e.g.
    ``config.toml: [site] title: still the placeholder 'TODO: 우리 시 새소식'``."""
    lines = []
    for f in dataclasses.fields(SiteConfig):
        value = getattr(config.site, f.name)
        if isinstance(value, str) and (PLACEHOLDER in value or _placeholder_host(value)):
            lines.append(f"{config.path.name}: [site] {toml_key(f)}: still the placeholder "
                         f"{value!r}; set the real value")
    return lines


def _placeholder_host(value: str) -> bool:
    """``https://todo.example.go.kr/``: the scaffold's TODO host after canonical_url lower-cased
    it (a whole host label, so a real host such as photodocs.example is not mistaken)."""
    try:
        host = urlsplit(value).hostname or ""
    except ValueError:
        return False
    return PLACEHOLDER.lower() in host.split(".")


def check_placeholders(config: Config) -> None:
    """Refuse to publish a scaffold's TODO values (a feed titled 'TODO' at TODO.github.io)."""
    lines = placeholder_keys(config)
    if lines:
        raise ConfigError("\n".join(lines))


def check_http_url(value: str) -> str | None:
    """Why a URL is not an absolute http(s) URL, or None when it is fine."""
    try:
        parts = urlsplit(value)
    except ValueError as exc:
        return str(exc)
    if parts.scheme not in ("http", "https"):
        return f"expected an http(s) URL, got {value!r}"
    if not parts.hostname:
        return f"URL has no host: {value!r}"
    return None


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


def _check(config: Config, name: str) -> None:
    site = config.site
    for key in ("url", "feed_url"):
        problem = check_http_url(getattr(site, key))
        if problem:
            raise ConfigError(f"{name}: [site] {key}: {problem}")
    if not site.feed_url.endswith("/"):
        raise ConfigError(f"{name}: [site] feed_url: must end with '/' (it is a folder), "
                          f"got {site.feed_url!r}")
    if not site.title.strip():
        raise ConfigError(f"{name}: [site] title: must not be empty")
    # These end up in mail headers (Subject, From, Reply-To, List-Id): a line break would be a
    # header injection, caught today only when the digest is sent. Say so when the file loads.
    one_line = [("site", "title", site.title)] + [
        ("digest", key, getattr(config.digest, attr))
        for key, attr in (("subject", "subject"), ("from", "from_"), ("reply_to", "reply_to"),
                          ("list_id", "list_id"))]
    for section, key, value in one_line:
        bad = next((c for c in value if c in "\r\n\x00"), None)
        if bad is not None:
            raise ConfigError(f"{name}: [{section}] {key}: must be one line (it contains "
                              f"{bad!r}); remove the line break")
    if config.store.busy_timeout < 0:
        raise ConfigError(f"{name}: [store] busy_timeout: must not be negative")
    if not _LANGUAGE_RE.match(site.language):
        raise ConfigError(f"{name}: [site] language: {site.language!r} is not a BCP 47 tag "
                          "(use e.g. ko or ko-KR, with a hyphen)")
    try:
        ZoneInfo(site.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"{name}: [site] timezone: unknown timezone {site.timezone!r} "
                          "(use an IANA name such as Asia/Seoul)") from None
    feeds = config.feeds
    if feeds.limit < 1:
        raise ConfigError(f"{name}: [feeds] limit: must be at least 1, got {feeds.limit}")
    for fmt in feeds.formats:
        if fmt not in FEED_FORMATS:
            raise ConfigError(f"{name}: [feeds] formats: unknown format {fmt!r} "
                              f"(known: {', '.join(FEED_FORMATS)})")
    for cat, slug in feeds.category_slugs.items():
        if not re.fullmatch(r"[a-z0-9]+(?:-[a-z0-9]+)*", slug):
            raise ConfigError(f"{name}: [feeds] category_slugs: {cat!r} = {slug!r}: a slug is "
                              "lowercase ASCII letters, digits and single hyphens")
    if config.build.index_limit < 1:
        raise ConfigError(f"{name}: [build] index_limit: must be at least 1")
    for i, src in enumerate(config.sources, 1):
        where = f"{name}: [[sources]] #{i}"
        if src.kind not in SOURCE_KINDS:
            raise ConfigError(f"{where} kind: unknown kind {src.kind!r} "
                              f"(known: {', '.join(SOURCE_KINDS)})")
        if src.kind in FILE_SOURCE_KINDS and not src.path:
            raise ConfigError(f"{where} path: required for kind {src.kind!r}")
        if src.kind == "html" and not src.url:
            raise ConfigError(f"{where} url: required for kind 'html'")
        if src.kind == "feed" and not (src.url or src.path):
            raise ConfigError(f"{where} url: kind 'feed' needs a url or a path")
        if src.url:
            problem = check_http_url(src.url)
            if problem:
                raise ConfigError(f"{where} url: {problem}")
        _check_source_fetching(src, where)
    _check_fetch(config.fetch, name)
    _check_digest(config, name)
    _check_web(config.web, name)


def _check_web(web: WebConfig, name: str) -> None:
    if web.url:
        problem = check_http_url(web.url)
        if problem:
            raise ConfigError(f"{name}: [web] url: {problem}")
        if urlsplit(web.url).query or urlsplit(web.url).fragment:
            raise ConfigError(f"{name}: [web] url: must not have a query or fragment, "
                              f"got {web.url!r}")
    for key in ("address_limit", "client_limit"):
        if getattr(web, key) < 0:
            raise ConfigError(f"{name}: [web] {key}: must not be negative (0: no limit)")
    if not 0 <= web.proxy_hops <= 5:
        raise ConfigError(f"{name}: [web] proxy_hops: expected 0 to 5 reverse proxies, "
                          f"got {web.proxy_hops}")
    if not web.consent_version.strip():
        raise ConfigError(f"{name}: [web] consent_version: must not be empty")


LIST_SELECTOR_KEYS = ("item", "title", "link", "date", "department", "summary", "image", "author")
DETAIL_SELECTOR_KEYS = ("body", "image", "attachments", "title", "date", "department", "summary",
                        "author")
DEPARTMENT_FROM = ("author", "category", "none")


def split_selector(spec: str) -> tuple[str, str]:
    """``"td.title a@href"`` → (``"td.title a"``, ``"href"``); no ``@attr`` → (spec, "")."""
    m = re.fullmatch(r"(.*?)\s*@([A-Za-z_:][-\w:.]*)", spec.strip())
    if m and m.group(1):
        return m.group(1), m.group(2)
    return spec.strip(), ""


def _check_selector(spec: str, where: str) -> None:
    from cssselect import GenericTranslator, SelectorError

    css, _attr = split_selector(spec)
    if not css:
        raise ConfigError(f"{where}: empty CSS selector")
    try:
        GenericTranslator().css_to_xpath(css)
    except SelectorError as exc:
        raise ConfigError(f"{where}: invalid CSS selector {css!r}: {exc}") from None


def _is_host_name(host: str) -> bool:
    """A bare host name or address, no scheme, port or path ('www.brcn.go.kr', '10.0.0.5')."""
    try:
        parts = urlsplit("//" + host)
        return (bool(host) and not any(c.isspace() for c in host)
                and parts.hostname == host.lower().strip("[]") and parts.port is None)
    except ValueError:
        return False


MAX_PAGES = 1000   # list pages per source and run: bounded time and memory on endless paging


def _check_source_fetching(src: SourceConfig, where: str) -> None:
    """The html/feed-only keys: known selector names, selectors that compile, sane paging."""
    html_keys = ("selectors", "detail", "page_param", "next_page", "link_pattern",
                 "link_template", "allow_hosts")
    if src.kind != "html":
        for key in html_keys:
            if getattr(src, key):
                raise ConfigError(f"{where} {key}: only used by kind 'html'")
    if src.department_from not in DEPARTMENT_FROM:
        raise ConfigError(f"{where} department_from: expected one of "
                          f"{', '.join(DEPARTMENT_FROM)}, got {src.department_from!r}")
    if src.encoding:
        import codecs

        try:
            codecs.lookup(src.encoding)
        except LookupError:
            raise ConfigError(f"{where} encoding: unknown character set {src.encoding!r}") from None
    if src.kind != "html":
        return
    for table, known in (("selectors", LIST_SELECTOR_KEYS), ("detail", DETAIL_SELECTOR_KEYS)):
        for key, spec in getattr(src, table).items():
            if key not in known:
                raise ConfigError(f"{where} {table}.{key}: unknown selector "
                                  f"(known: {', '.join(known)})")
            _check_selector(spec, f"{where} {table}.{key}")
    for key in ("item", "title"):
        if key not in src.selectors:
            raise ConfigError(f"{where} selectors.{key}: required for kind 'html'")
    if "date" not in src.selectors and "date" not in src.detail:
        raise ConfigError(f"{where} selectors.date: required (or detail.date) for kind 'html'")
    if src.page_param and src.next_page:
        raise ConfigError(f"{where} page_param: use page_param or next_page, not both")
    if src.next_page:
        _check_selector(src.next_page, f"{where} next_page")
    if src.max_pages < 1:
        raise ConfigError(f"{where} max_pages: must be at least 1, got {src.max_pages}")
    if src.max_pages > MAX_PAGES:
        raise ConfigError(f"{where} max_pages: at most {MAX_PAGES}, got {src.max_pages} (paging "
                          "stops at the first page with nothing new anyway; a longer backlog "
                          "is read over several runs with 'feedkit update --full')")
    for host in src.allow_hosts:
        if not _is_host_name(host):
            raise ConfigError(f"{where} allow_hosts: expected a host name such as "
                              f"'www.example.go.kr', got {host!r}")
    if bool(src.link_pattern) != bool(src.link_template):
        raise ConfigError(f"{where} link_pattern: link_pattern and link_template go together")
    if src.link_pattern:
        try:
            groups = re.compile(src.link_pattern).groups
        except re.error as exc:
            raise ConfigError(f"{where} link_pattern: invalid regular expression: {exc}") from None
        for ref in re.findall(r"{(\d+)}", src.link_template):
            if int(ref) > groups:
                raise ConfigError(f"{where} link_template: {{{ref}}} but link_pattern has only "
                                  f"{groups} group(s)")


def _check_fetch(fetch: FetchConfig, name: str) -> None:
    where = f"{name}: [fetch]"
    if fetch.delay < 0:
        raise ConfigError(f"{where} delay: must not be negative, got {fetch.delay}")
    if fetch.timeout <= 0:
        raise ConfigError(f"{where} timeout: must be positive, got {fetch.timeout}")
    if fetch.backoff < 0:
        raise ConfigError(f"{where} backoff: must not be negative, got {fetch.backoff}")
    for key in ("retries", "max_redirects"):
        if getattr(fetch, key) < 0:
            raise ConfigError(f"{where} {key}: must not be negative")
    if fetch.max_bytes < 1024:
        raise ConfigError(f"{where} max_bytes: must be at least 1024, got {fetch.max_bytes}")
    if any(c in fetch.user_agent + fetch.contact for c in "\r\n"):
        raise ConfigError(f"{where} user_agent: must be one line")


SMTP_TLS_MODES = ("starttls", "implicit", "none")
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_SUBJECT_FIELDS = {"title": "", "week_label": "", "week": "", "site_title": "", "count": 0}


def _check_digest(config: Config, name: str) -> None:
    """The [digest] and [smtp] keys: checked at load time so a weekly cron fails on day one."""
    digest, smtp = config.digest, config.smtp
    for u in digest.unsubscribe:
        if not (u.startswith("mailto:") or check_http_url(u) is None):
            raise ConfigError(f"{name}: [digest] unsubscribe: expected a mailto: or http(s) URL, "
                              f"got {u!r}")
        try:
            u.format(email="", token="")
        except (KeyError, IndexError, ValueError) as exc:
            raise ConfigError(f"{name}: [digest] unsubscribe: {u!r}: only {{email}} and {{token}} "
                              f"may be filled in ({exc})") from None
    if digest.subscribe and not (digest.subscribe.startswith("mailto:")
                                 or check_http_url(digest.subscribe) is None):
        raise ConfigError(f"{name}: [digest] subscribe: expected a mailto: or http(s) URL, "
                          f"got {digest.subscribe!r}")
    try:
        digest.subject.format(**_SUBJECT_FIELDS)
    except (KeyError, IndexError, ValueError) as exc:
        raise ConfigError(f"{name}: [digest] subject: unknown placeholder {exc} (known: "
                          f"{', '.join('{' + k + '}' for k in _SUBJECT_FIELDS)})") from None
    for key in ("summary_chars", "max_items", "fold_below"):
        if getattr(digest, key) < 0:
            raise ConfigError(f"{name}: [digest] {key}: must not be negative")
    if digest.max_html_bytes < 10_000:
        raise ConfigError(f"{name}: [digest] max_html_bytes: must be at least 10000, "
                          f"got {digest.max_html_bytes}")
    if digest.feed_limit < 1:
        raise ConfigError(f"{name}: [digest] feed_limit: must be at least 1")
    if digest.send_day.lower() not in WEEKDAYS:
        raise ConfigError(f"{name}: [digest] send_day: expected a weekday name "
                          f"({', '.join(WEEKDAYS)}), got {digest.send_day!r}")
    if not 0 <= digest.send_hour <= 23:
        raise ConfigError(f"{name}: [digest] send_hour: expected 0 to 23, got {digest.send_hour}")
    if smtp.tls and smtp.tls not in SMTP_TLS_MODES:
        raise ConfigError(f"{name}: [smtp] tls: expected one of {', '.join(SMTP_TLS_MODES)}, "
                          f"got {smtp.tls!r}")
    if not 0 < smtp.port < 65536:
        raise ConfigError(f"{name}: [smtp] port: not a TCP port: {smtp.port}")
    if smtp.retries < 0 or smtp.timeout <= 0 or smtp.retry_delay < 0:
        raise ConfigError(f"{name}: [smtp] retries, timeout and retry_delay must be positive")
    if not 1 <= smtp.connections <= 50:
        raise ConfigError(f"{name}: [smtp] connections: expected 1 to 50, got {smtp.connections}")
    if smtp.max_per_second < 0 or smtp.max_per_day < 0:
        raise ConfigError(f"{name}: [smtp] max_per_second and max_per_day must not be negative")
    if smtp.username and smtp.tls_mode == "none" and not smtp.allow_plain_login:
        raise ConfigError(f"{name}: [smtp] username: with tls = \"none\" the password would "
                          "cross the network in clear; use tls = \"starttls\" or \"implicit\", "
                          "or set allow_plain_login = true for a trusted local relay")
    if bool(smtp.dkim_selector) != bool(smtp.dkim_domain):
        raise ConfigError(f"{name}: [smtp] dkim_selector and dkim_domain go together")
    if digest.recipients_env and not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*",
                                                  digest.recipients_env):
        raise ConfigError(f"{name}: [digest] recipients_env: {digest.recipients_env!r} is not "
                          "an environment variable name")
