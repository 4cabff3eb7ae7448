"""The schema of ``config.toml``: one frozen dataclass per TOML section, and ``Config``.

Each section's fields (name, type, default, ``_doc`` line) *are* the schema: the loader
(:mod:`feedkit.config.load`), the README reference (``feedkit.cli.docgen``) and ``feedkit init`` all
read them. A new TOML section is a new dataclass here, a field on :class:`Config`, an entry in
:data:`SECTIONS`, and its checks in :mod:`feedkit.config.checks`.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

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
    language: str = _doc("BCP 47 language tag of the news (ko, ko-KR, en): picks the catalog "
                         "of words and dates (ko and en bundled, others from locale/; without "
                         "one, English).", default="ko")
    timezone: str = _doc("IANA timezone: naive dates are read in it, digests use it.",
                         default="Asia/Seoul")
    author: str = _doc("Feed author name (defaults to the title).", default="")
    email: str = _doc("Contact address shown as the feed author's email.", default="")
    # -- branding (README "Branding"): all off by default --------------------------------------
    logo: str = _doc("https:// URL of the city's logo image, shown at the top of the email, "
                     "the index page and the archive (40 px high).", default="")
    accent_color: str = _doc("Hex colour (#0b57d0) of links, the header rule and the button; "
                             "needs 4.5:1 contrast on white (WCAG AA).", default="")
    accent_color_dark: str = _doc("Its dark-mode version (4.5:1 on #161b22); default: the "
                                  "accent lightened until it passes.", default="")
    contact_department: str = _doc("Responsible department, in the contact line at the "
                                   "bottom of the email, the index page and the archive.",
                                   default="")
    contact_address: str = _doc("Postal address for the contact line.", default="")
    contact_phone: str = _doc("Phone number for the contact line (a tel: link).", default="")
    # -- licence (README "Licence") --------------------------------------------------------------
    license: str = _doc("The licence the news is published under: kogl-1 ... kogl-4 (공공누리 "
                        "제1-4유형), cc-by-4.0, cc-by-nc-4.0, cc-by-nd-4.0, cc-by-sa-4.0, or none "
                        "(nothing stated). Written into every feed and shown on the pages and "
                        "in the digest.", default="none")
    license_excludes_photos: bool = _doc("The licence covers the text only; photos are "
                                         "excluded (said with the licence).", default=False)

    def branded(self) -> bool:
        """Whether any branding key is set: without one, nothing needs
        feedkit.editorial.branding."""
        return any((self.logo, self.accent_color, self.accent_color_dark,
                    self.contact_department, self.contact_address, self.contact_phone))


@dataclass(frozen=True)
class StoreConfig:
    path: str = _doc("SQLite article store file, relative to config.toml.", default="articles.db")
    busy_timeout: float = _doc("Seconds to wait for another process writing to the store "
                               "before giving up.", default=30.0)
    url: str = _doc("PostgreSQL store instead of the file: postgresql://user@host:5432/db "
                    "(no password here: put the whole URL in $FEEDKIT_STORE_URL, a CI secret, "
                    "which wins over this key, or the password in ~/.pgpass).", default="")
    schema: str = _doc("PostgreSQL schema of this site (a-z, 0-9, _), created when missing: "
                       "several sites share one database, each in its own schema. Empty: "
                       "the server's default (public).", default="")


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
    license: str = _doc("The licence of this source's articles when it differs from [site] "
                        "license (a source that republishes another body's news carries that "
                        "body's type); same codes. Empty: the site's.", default="")
    license_excludes_photos: bool = _doc("This source's licence covers the text only (korea.kr: "
                                         "photos excluded).", default=False)
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
    websub_hubs: tuple[str, ...] = _doc(
        "WebSub hubs (https URLs) readers may subscribe through, e.g. "
        "[\"https://pubsubhubbub.appspot.com/\"]: every feed names them, and 'feedkit announce' "
        "tells each one which feeds changed (README \"News in readers within a minute\").",
        default=())


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
    require_approval: bool = _doc(
        "A week's digest is sent only once an editor has approved it ('feedkit digest approve'); "
        "until then 'digest send' says 'waiting for approval' and exits 0. Test sends "
        "('digest send --to') never wait.", default=False)
    audience: str = _doc(
        "Who 'digest send' mails: 'list' (to, recipients_env, recipients_file: one digest for "
        "everyone, e.g. to a list server's address) or 'subscribers' (the store's active "
        "subscribers, each the departments they chose; see 'feedkit subscribers').",
        default="list")


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
class CategoriesConfig:
    """[categories]: the categories as the city shows them (README "Categories")."""

    names: dict[str, tuple[str, ...]] = _doc(
        "[categories.names]: shown name = the departments it gathers (\"*\" matches any "
        "characters); the feed keeps the URL of the list's first department.",
        default_factory=dict)
    order: tuple[str, ...] = _doc("Shown names first in the index, feed pages and digest, in "
                                  "this order; the rest by size.", default=())
    exclude_from_feeds: tuple[str, ...] = _doc("Shown names left out of every feed and the "
                                               "pages (no category feed).", default=())
    exclude_from_digest: tuple[str, ...] = _doc("Shown names left out of the digest and its "
                                                "archive.", default=())
    exclude: tuple[str, ...] = _doc("Shown names left out of both.", default=())

    def is_set(self) -> bool:
        """Whether the section says anything: without it, categories are as stored."""
        return bool(self.names or self.order or self.exclude_from_feeds
                    or self.exclude_from_digest or self.exclude)


@dataclass(frozen=True)
class BouncesConfig:
    max_consecutive: int = _doc(
        "Permanent delivery failures (a 5xx at send time, or a hard-bounce report) in a row, "
        "one per digest week, after which a subscriber is marked bounced and not mailed again; "
        "the count starts again at a later send once a digest was accepted and no report came "
        "back about it (an accepted message alone is no proof: many relays report a dead "
        "mailbox later).", default=3)
    host: str = _doc("IMAP server of the mailbox that receives bounce reports (the digest's "
                     "envelope sender); empty: 'subscribers bounces' is not set up.", default="")
    port: int = _doc("IMAP port (993 for tls = 'implicit', 143 otherwise).", default=993)
    tls: str = _doc("'implicit' (IMAPS), 'starttls', or 'none' (only for a server on this "
                    "machine: 127.0.0.1, ::1 or localhost).", default="implicit")
    user: str = _doc("IMAP login name.", default="")
    password_env: str = _doc("Environment variable holding the IMAP password.",
                             default="FEEDKIT_BOUNCES_PASSWORD")
    folder: str = _doc("Mailbox folder to read.", default="INBOX")
    processed_folder: str = _doc("Move processed bounce reports into this folder (created if "
                                 "missing); empty: leave them, flagged FeedkitProcessed.",
                                 default="")
    ca_file: str = _doc("PEM file of extra CA certificates to trust for the IMAP server; "
                        "relative to config.toml.", default="")
    timeout: float = _doc("Seconds to wait for the IMAP server.", default=30.0)


@dataclass(frozen=True)
class UnsubscribesConfig:
    """[unsubscribes]: the mailbox of the mailto: unsubscribe address (list mode)."""

    host: str = _doc("IMAP server of the mailbox the [digest] unsubscribe mailto: address "
                     "delivers to; 'digest unsubscribes' reads the requests there. Empty: not "
                     "set up.", default="")
    port: int = _doc("IMAP port (993 for tls = 'implicit', 143 otherwise).", default=993)
    tls: str = _doc("'implicit' (IMAPS), 'starttls', or 'none' (only for a server on this "
                    "machine: 127.0.0.1, ::1 or localhost).", default="implicit")
    user: str = _doc("IMAP login name.", default="")
    password_env: str = _doc("Environment variable holding the IMAP password.",
                             default="FEEDKIT_UNSUBSCRIBES_PASSWORD")
    folder: str = _doc("Mailbox folder to read.", default="INBOX")
    processed_folder: str = _doc("Move each request read into this folder (created if "
                                 "missing); empty: leave it, flagged FeedkitProcessed.",
                                 default="")
    ca_file: str = _doc("PEM file of extra CA certificates to trust for the IMAP server; "
                        "relative to config.toml.", default="")
    timeout: float = _doc("Seconds to wait for the IMAP server.", default=30.0)


@dataclass(frozen=True)
class WebConfig:
    url: str = _doc("Public https address of 'feedkit web' (e.g. https://news.example.org/list/): "
                    "the links in confirmation emails and digests point here, and the index, "
                    "archive and feed pages link to its /subscribe. Empty: no endpoint.",
                    default="")
    consent_version: str = _doc("Which wording of the consent notice the form shows; stored with "
                                "each reader's consent. Raise it when you change "
                                "web/notice.html.j2.", default="1")
    address_limit: int = _doc("Confirmation emails one mailbox can be sent per 24 hours, its "
                              "spellings counted together (+tags, Gmail dots, full-width "
                              "letters; 0: no limit); more requests get the same page and no "
                              "email.", default=3)
    client_limit: int = _doc("Subscribe form posts one client network (its /24 for IPv4, /64 "
                             "for IPv6) may make per hour (0: no limit); more get '429 Too Many "
                             "Requests'.", default=20)
    emails_per_hour: int = _doc("Confirmation emails the endpoint sends per hour in all, "
                                "whoever asks (0: no limit); more requests get '429 Too Many "
                                "Requests'. A bound on what a flood can make it send.",
                                default=100)
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
    categories: CategoriesConfig = field(default_factory=CategoriesConfig)
    bounces: BouncesConfig = field(default_factory=BouncesConfig)
    web: WebConfig = field(default_factory=WebConfig)
    unsubscribes: UnsubscribesConfig = field(default_factory=UnsubscribesConfig)

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
    "categories": (CategoriesConfig, False),
    "bounces": (BouncesConfig, False),
    "web": (WebConfig, False),
    "unsubscribes": (UnsubscribesConfig, False),
}


def toml_key(f: dataclasses.Field) -> str:
    """Field name → TOML key (``from_`` is ``from`` in the file: ``from`` is a Python keyword)."""
    return f.name.rstrip("_")
