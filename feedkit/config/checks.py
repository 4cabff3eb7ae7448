"""Validation of configured values, after the loader has checked keys and types.

Why at load time: a site runs unattended in CI, so a bad value (an unknown timezone, a CSS
selector that does not compile, a header with a line break) must fail on the first run with one
line naming the key, not on the first Monday the digest is sent.
"""

from __future__ import annotations

import dataclasses
import re
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from feedkit.config.model import (
    FEED_FORMATS,
    FILE_SOURCE_KINDS,
    SOURCE_KINDS,
    Config,
    FetchConfig,
    SiteConfig,
    SourceConfig,
    WebConfig,
    toml_key,
)
from feedkit.errors import ConfigError

_LANGUAGE_RE = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$")


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



def check_config(config: Config, name: str) -> None:
    """Every value check; raises ConfigError naming the first bad key."""
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
    _check_store(config, name)
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
    for hub in feeds.websub_hubs:
        problem = check_http_url(hub)
        if problem:
            raise ConfigError(f"{name}: [feeds] websub_hubs: {hub!r}: {problem}")
    _check_license(site.license, f"{name}: [site] license")
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
        if src.license:
            _check_license(src.license, f"{where} license")
        elif src.license_excludes_photos:
            raise ConfigError(f"{where} license_excludes_photos: needs this source's own "
                              "license (or set [site] license_excludes_photos)")
    _check_fetch(config.fetch, name)
    _check_digest(config, name)
    _check_editorial_look(config, name)
    _check_bounces(config, name)
    _check_web(config.web, name)


def _check_license(code: str, where: str) -> None:
    from feedkit.editorial.licenses import TEXT_ONLY, problem

    why = problem(code) if not code.endswith(TEXT_ONLY) else "use license_excludes_photos = " \
        "true for a licence that covers the text only"
    if why:
        raise ConfigError(f"{where}: {why}")


def _check_web(web: WebConfig, name: str) -> None:
    if web.url:
        problem = check_http_url(web.url)
        if problem:
            raise ConfigError(f"{name}: [web] url: {problem}")
        if urlsplit(web.url).query or urlsplit(web.url).fragment:
            raise ConfigError(f"{name}: [web] url: must not have a query or fragment, "
                              f"got {web.url!r}")
    for key in ("address_limit", "client_limit", "emails_per_hour"):
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


def _check_editorial_look(config: Config, name: str) -> None:
    """[site] branding (contrast, https logo) and [categories] (see feedkit.editorial.branding and
    feedkit.editorial.categories, which say what is wrong; here the file name is put in front).
    Their modules are imported only for a config that uses them: every command loads the config."""
    if not (config.site.branded() or config.categories.is_set()):
        return
    from feedkit.editorial.branding import brand_of
    from feedkit.editorial.categories import category_map

    try:
        brand_of(config)
        cmap = category_map(config)
    except ConfigError as exc:
        raise ConfigError(f"{name}: {exc}") from None
    if cmap.order and config.digest.categories:
        raise ConfigError(f"{name}: [digest] categories: [categories] order replaces it; "
                          "keep one of the two")
AUDIENCES = ("list", "subscribers")
IMAP_TLS_MODES = ("implicit", "starttls", "none")
_LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1")


def _check_bounces(config: Config, name: str) -> None:
    """[digest] audience and the [bounces] keys."""
    if config.digest.audience not in AUDIENCES:
        raise ConfigError(f"{name}: [digest] audience: expected one of {', '.join(AUDIENCES)}, "
                          f"got {config.digest.audience!r}")
    b = config.bounces
    if b.max_consecutive < 1:
        raise ConfigError(f"{name}: [bounces] max_consecutive: must be at least 1, got "
                          f"{b.max_consecutive}")
    _check_mailbox(b, f"{name}: [bounces]")
    _check_mailbox(config.unsubscribes, f"{name}: [unsubscribes]")


def _check_mailbox(b, where: str) -> None:
    """An IMAP mailbox section ([bounces], [unsubscribes]): TLS, port, timeout, password."""
    if b.tls not in IMAP_TLS_MODES:
        raise ConfigError(f"{where} tls: expected one of {', '.join(IMAP_TLS_MODES)}, "
                          f"got {b.tls!r}")
    if b.tls == "none" and b.host and not (b.host in _LOCAL_HOSTS or b.host.startswith("127.")):
        raise ConfigError(f"{where} tls = \"none\" would send the mailbox password in "
                          f"clear to {b.host}; use \"implicit\" or \"starttls\" (\"none\" is "
                          "only for a server on this machine)")
    if not 0 < b.port < 65536:
        raise ConfigError(f"{where} port: not a TCP port: {b.port}")
    if b.timeout <= 0:
        raise ConfigError(f"{where} timeout: must be positive")
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", b.password_env):
        raise ConfigError(f"{where} password_env: {b.password_env!r} is not an "
                          "environment variable name")


def _check_store(config, name: str) -> None:
    """A store URL must be PostgreSQL's, and a password belongs in the environment (config.toml
    is committed to the site's repository), never in the file."""
    import os

    from feedkit.store.urls import (
        STORE_URL_ENV,
        URL_SCHEMES,
        is_url,
        param_secrets,
        schema_problem,
    )

    for where, url in ((f"{name}: [store] url", config.store.url),
                       (f"${STORE_URL_ENV}", os.environ.get(STORE_URL_ENV, "").strip())):
        if not url:
            continue
        if where.endswith("url") and param_secrets(url):
            # ?password=, ?sslpassword=, or the keyword form's password=: libpq reads them all
            raise ConfigError(f"{where}: contains a password (a password parameter), and "
                              f"config.toml is committed: put the whole URL in "
                              f"${STORE_URL_ENV} (a CI secret) or the password in ~/.pgpass, "
                              "and remove it here")
        if not is_url(url):
            raise ConfigError(f"{where}: not a PostgreSQL URL (it must start with "
                              f"{' or '.join(s + '://' for s in URL_SCHEMES)})")
        try:
            parts = urlsplit(url)
            parts.port  # noqa: B018 - raises on a bad port
        except ValueError:
            # Not urllib's message: it quotes the "port", which for a password holding an
            # unescaped / or # is a piece of the password.
            raise ConfigError(f"{where}: not a valid URL (the port after the host is not a "
                              "number; a password with / # ? @ or : in it must be "
                              "percent-encoded)") from None
        if where.endswith("url") and parts.password is not None:
            raise ConfigError(f"{where}: contains a password, and config.toml is committed: "
                              f"put the whole URL in ${STORE_URL_ENV} (a CI secret) or the "
                              "password in ~/.pgpass, and remove it here")
    schema = config.store.schema
    problem = schema_problem(schema) if schema else ""
    if problem:
        raise ConfigError(f"{name}: [store] schema: {schema!r} is {problem}")
