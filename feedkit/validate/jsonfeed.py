"""JSON Feed 1.1 checks (the W3C service does not know JSON Feed: these follow the JSON Feed
spec and reuse the W3C message names where one fits)."""

from __future__ import annotations

import json
import re
from datetime import datetime

from feedkit.validate.checker import CheckerBase
from feedkit.validate.dates import parse_rfc3339
from feedkit.validate.markup import _html_problems
from feedkit.validate.uris import _is_http_url, _language_ok, _mime_ok, _uri_problem

JSONFEED_11 = "https://jsonfeed.org/version/1.1"
JSONFEED_10 = "https://jsonfeed.org/version/1"


class JsonChecks(CheckerBase):
    """JSON Feed 1.1: feed members, authors, items, attachments."""

    def jflag(self, where: str, code: str, message: str, severity: str | None = None) -> None:
        self.add(f"{self.name}:{where}", code, message, severity)

    def _check_json(self) -> None:
        try:
            doc = json.loads(self.data.decode("utf-8-sig"))
        except UnicodeDecodeError as exc:
            self.add(self.name, "UnicodeError", f"JSON Feed must be UTF-8: {exc.reason}")
            return
        except json.JSONDecodeError as exc:
            self.add(f"{self.name}:{exc.lineno}", "InvalidJSON", f"not valid JSON: {exc.msg}")
            return
        text = self.data.decode("utf-8-sig")
        self._check_characters(text)
        for m in re.finditer(r"\\u00(7[fF]|[89][0-9a-fA-F])", text):
            line = text.count("\n", 0, m.start()) + 1
            self.add(f"{self.name}:{line}", "BadCharacters", f"escape {m.group(0)} is a control "
                     "character")
        if not isinstance(doc, dict):
            self.jflag("$", "NotAFeed", "a JSON Feed is a JSON object")
            return
        version = doc.get("version")
        if version is None:
            self.jflag("$", "MissingElement", "not a JSON Feed: missing version "
                       f"(expected {JSONFEED_11!r})")
            return
        if version == JSONFEED_10:
            self.jflag("$.version", "ObsoleteVersion", f"JSON Feed 1.0; use {JSONFEED_11}")
        elif version != JSONFEED_11:
            self.jflag("$.version", "InvalidJSONFeedVersion", f"unknown version {version!r}")
        known = {"version", "title", "home_page_url", "feed_url", "description", "user_comment",
                 "next_url", "icon", "favicon", "author", "authors", "language", "expired",
                 "hubs", "items"}
        for key in doc:
            if key not in known and not key.startswith("_"):
                self.jflag(f"$.{key}", "UndefinedJSONMember",
                           f"unknown member {key!r} (extensions must start with '_')")
        title = doc.get("title")
        if not isinstance(title, str) or not title.strip():
            self.jflag("$.title", "MissingElement", "Missing feed member: title")
        for key in ("home_page_url", "feed_url", "next_url", "icon", "favicon"):
            if key in doc:
                self._json_url(f"$.{key}", doc[key])
        if "home_page_url" not in doc:
            self.jflag("$", "MissingRecommendedElement", "home_page_url is strongly recommended")
        feed_url = doc.get("feed_url")
        if feed_url is None:
            self.jflag("$", "MissingSelf", "Missing feed_url (the feed's own address)")
        elif isinstance(feed_url, str):
            self.result.self_url = feed_url
        self._json_language("$.language", doc.get("language"))
        self._json_authors("$", doc)
        if "expired" in doc and not isinstance(doc["expired"], bool):
            self.jflag("$.expired", "InvalidValue", "expired must be true or false")
        items = doc.get("items")
        if not isinstance(items, list):
            self.jflag("$.items", "MissingElement", "Missing feed member: items (an array)")
            return
        seen: set[str] = set()
        for i, item in enumerate(items):
            self._json_item(f"$.items[{i}]", item, seen)

    def _json_url(self, where: str, value: object) -> None:
        if not isinstance(value, str) or not _is_http_url(value):
            self.jflag(where, "InvalidFullLink", f"must be an absolute http(s) URL: {value!r}")
            return
        code = _uri_problem(value, True, "InvalidFullLink")
        if code:
            self.jflag(where, code, f"must be a full and valid URL: {value!r}")

    def _json_language(self, where: str, value: object) -> None:
        if value is not None and (not isinstance(value, str) or not _language_ok(value)):
            self.jflag(where, "InvalidLanguage", f"language must be an RFC 5646 tag like 'ko' "
                       f"or 'ko-KR': {value!r}")

    def _json_date(self, where: str, value: object) -> datetime | None:
        if not isinstance(value, str):
            self.jflag(where, "InvalidRFC3339Date", f"must be an RFC 3339 string: {value!r}")
            return None
        code, when = parse_rfc3339(value)
        if code == "ImplausibleDate":
            self.jflag(where, code, f"implausible date (before 1990 or in the future): {value!r}")
        elif code:
            self.jflag(where, code, f"must be an RFC 3339 date-time: {value!r}")
        return when

    def _json_array(self, where: str, obj: dict, key: str) -> list | None:
        """An optional array member: None when absent or not an array (``InvalidValue``)."""
        value = obj.get(key)
        if value is not None and not isinstance(value, list):
            self.jflag(f"{where}.{key}", "InvalidValue", f"{key} must be an array")
            return None
        return value

    def _json_authors(self, where: str, obj: dict) -> None:
        if "author" in obj:
            self.jflag(f"{where}.author", "Deprecated", "author is deprecated in JSON Feed "
                       "1.1; use authors (an array)")
        authors = self._json_array(where, obj, "authors")
        if authors is None:
            return
        for j, author in enumerate(authors):
            at = f"{where}.authors[{j}]"
            if not isinstance(author, dict) or not any(
                    isinstance(author.get(k), str) and author.get(k) for k in
                    ("name", "url", "avatar")):
                self.jflag(at, "MissingElement", "an author needs a name, url or avatar")
                continue
            for k in ("url", "avatar"):
                if k in author:
                    self._json_url(f"{at}.{k}", author[k])

    def _json_item(self, where: str, item: object, seen: set[str]) -> None:
        if not isinstance(item, dict):
            self.jflag(where, "InvalidValue", "an item must be an object")
            return
        item_id = item.get("id")
        if item_id is None:
            self.jflag(f"{where}.id", "MissingElement", "Missing item member: id")
        elif not isinstance(item_id, str):
            self.jflag(f"{where}.id", "InvalidValue", f"id must be a string: {item_id!r}")
        elif not item_id.strip():
            self.jflag(f"{where}.id", "NotBlank", "id should not be blank")
        elif item_id in seen:
            self.jflag(f"{where}.id", "DuplicateValue", f"id values must not be duplicated "
                       f"within a feed: {item_id!r}")
        else:
            seen.add(item_id)
        html = item.get("content_html")
        text = item.get("content_text")
        if not (isinstance(html, str) and html) and not (isinstance(text, str) and text):
            self.jflag(where, "MissingTextualContent",
                       "an item needs content_html or content_text", severity="error")
        if isinstance(html, str):
            for code, message in _html_problems(html, check_relative=True):
                self.jflag(f"{where}.content_html", code, message)
        for key in ("url", "external_url", "image", "banner_image"):
            if key in item:
                self._json_url(f"{where}.{key}", item[key])
        for key in ("title", "summary", "content_text"):
            if key in item and not isinstance(item[key], str):
                self.jflag(f"{where}.{key}", "InvalidValue", f"{key} must be a string")
        for key in ("date_published", "date_modified"):
            if key in item:
                self._json_date(f"{where}.{key}", item[key])
        tags = item.get("tags")
        if tags is not None and (not isinstance(tags, list)
                                 or not all(isinstance(t, str) for t in tags)):
            self.jflag(f"{where}.tags", "InvalidValue", "tags must be an array of strings")
        self._json_language(f"{where}.language", item.get("language"))
        self._json_authors(where, item)
        attachments = self._json_array(where, item, "attachments")
        if attachments is None:
            return
        for j, att in enumerate(attachments):
            at = f"{where}.attachments[{j}]"
            if not isinstance(att, dict):
                self.jflag(at, "InvalidValue", "an attachment must be an object")
                continue
            if "url" not in att:
                self.jflag(at, "MissingAttribute", "Missing attachment member: url")
            else:
                self._json_url(f"{at}.url", att["url"])
            mime = att.get("mime_type")
            if not isinstance(mime, str) or not _mime_ok(mime):
                self.jflag(f"{at}.mime_type", "InvalidMIMEAttribute",
                           f"attachment mime_type must be a MIME type: {mime!r}")
            for k in ("size_in_bytes", "duration_in_seconds"):
                v = att.get(k)
                if v is not None and (isinstance(v, bool) or not isinstance(v, int | float)
                                      or v < 0):
                    self.jflag(f"{at}.{k}", "InvalidNonNegativeInteger",
                               f"{k} must be a non-negative number")
