"""RSS 2.0 checks (with the RSS Profile's advice the W3C validator applies)."""

from __future__ import annotations

import re
from datetime import datetime
from urllib.parse import unquote

from lxml import etree

from feedkit.validate.checker import CheckerBase, _split
from feedkit.validate.uris import (
    _EMAIL,
    _SIMPLE_EMAIL,
    _is_http_url,
    _language_ok,
    _mime_ok,
    _uri_problem,
)
from feedkit.validate.vocab import _words

_RSS_CHANNEL_CHILDREN = _words(
    "title link description language copyright managingEditor webMaster pubDate lastBuildDate "
    "category generator docs cloud ttl image rating textInput skipHours skipDays item"
)
_RSS_CHANNEL_SINGLES = _words(
    "title link description language copyright managingEditor webMaster pubDate lastBuildDate "
    "generator docs cloud ttl image rating textInput skipHours skipDays"
)
_RSS_ITEM_CHILDREN = _words(
    "title link description author category comments enclosure guid pubDate source"
)
_RSS_ITEM_SINGLES = _words("title link description author comments guid pubDate source")


def _email_with_name_problem(value: str) -> str | None:
    """RSS ``author``/``managingEditor``/``webMaster`` must read ``addr@example.org (Name)``."""
    if value.startswith("mailto:"):
        value = unquote(value.split(":", 1)[1])
    if value.find("@") > 0:
        if not value.endswith(")"):
            return "EmailFormat" if " " in value else "MissingRealName"
        addr = value.split("(", 1)[0].strip()
        return None if _EMAIL.match(addr) or _SIMPLE_EMAIL.match(addr) else "InvalidContact"
    return "InvalidContact"


class RssChecks(CheckerBase):
    """RSS 2.0: channel, image, items, guid, enclosure."""

    def _check_rss(self, root: etree._Element) -> None:
        version = root.get("version")
        if version is None:
            self.flag(root, "MissingAttribute", "rss element needs version=\"2.0\"")
        elif version not in ("0.91", "0.92", "2.0"):
            self.flag(root, "InvalidRSSVersion", f"unknown RSS version {version!r}")
        channels = [c for c in root if c.tag == "channel"]
        if not channels:
            self.flag(root, "MissingElement", "Missing rss element: channel")
            return
        for extra in channels[1:]:
            self.flag(extra, "DuplicateElement", "rss contains more than one channel")
        channel = channels[0]
        self._duplicates(channel, _RSS_CHANNEL_SINGLES | {"atom:id", "atom:updated", "dc:date"})
        present: set[str] = set()
        items: list[etree._Element] = []
        self_links: list[etree._Element] = []
        channel_title = channel_link = None
        last_build: datetime | None = None
        misplaced_reported = False
        for child in channel:
            if not isinstance(child.tag, str):
                continue
            label = self._label(child)
            if label == "item":
                items.append(child)
                continue
            present.add(label)
            ns, _local = _split(child.tag)
            if items and not misplaced_reported and (ns == "" or label == "atom:link"):
                self.flag(child, "MisplacedItem", f"{label} appears after the first item; put "
                          "channel elements before all items (RSS Profile)")
                misplaced_reported = True
            if ns == "" and label not in _RSS_CHANNEL_CHILDREN:
                self.flag(child, "UndefinedElement", f"Undefined channel element: {label}")
                continue
            if label == "title":
                channel_title = self._check_plain(child, label)
            elif label == "link":
                channel_link = self._text(child)
                self._check_uri_value(child, channel_link, "link")
            elif label in ("description", "copyright", "category"):
                self._check_nonhtml(child, self._text(child))
            elif label == "language":
                lang = self._text(child)
                if not _language_ok(lang):
                    self.flag(child, "InvalidLanguage",
                              f"language must be an ISO-639 language code: {lang!r}")
            elif label in ("pubDate", "lastBuildDate"):
                when = self._check_date(child, self._text(child), rfc822=True)
                if label == "lastBuildDate":
                    last_build = when
            elif label in ("managingEditor", "webMaster"):
                self._check_person(child)
            elif label == "docs":
                self._check_uri_value(child, self._text(child), "docs", http_only=False)
            elif label == "ttl":
                if not re.fullmatch(r"\d+", self._text(child)) or int(self._text(child)) <= 0:
                    self.flag(child, "InvalidPositiveInteger", "ttl must be a positive integer")
            elif label == "textInput":
                self.flag(child, "AvoidTextInput", "textInput is little supported; avoid it")
            elif label == "atom:link":
                rel = self._check_atom_link(child, in_entry=False)
                if rel == "self":
                    self_links.append(child)
            elif label == "atom:id":
                self._check_uri_value(child, self._text(child), "atom:id", http_only=False)
            elif label == "atom:updated":
                self._check_date(child, self._text(child), rfc822=False)
            elif label == "dc:date":
                pass  # W3CDTF; reported only via DuplicateSemantics below
            elif label == "dc:language":
                lang = self._text(child)
                if not _language_ok(lang):
                    self.flag(child, "InvalidLanguage", f"dc:language {lang!r} is not ISO-639")
        for label in ("title", "link", "description"):
            if label not in present:
                code = {"title": "MissingTitle", "link": "MissingLink",
                        "description": "MissingDescription"}[label]
                self.flag(channel, code, f"Missing channel element: {label}")
        for core, ext in (("managingEditor", "dc:creator"), ("language", "dc:language"),
                          ("pubDate", "dc:date"), ("copyright", "dc:rights"),
                          ("webMaster", "dc:publisher"), ("lastBuildDate", "dcterms:modified"),
                          ("category", "dc:subject")):
            if core in present and ext in present:
                self.flag(channel, "DuplicateSemantics",
                          f"A channel should not include both {core} and {ext}")
        if version == "2.0" and not self_links:
            self.flag(channel, "MissingAtomSelfLink", 'Missing atom:link with rel="self"')
        if self_links:
            self.result.self_url = (self_links[0].get("href") or "").strip() or None
        image = channel.find("image")
        if image is not None:
            self._check_image(image, channel_title, channel_link)
        newest = self._check_rss_items(items)
        if newest and last_build and last_build < newest:
            self.flag(channel.find("lastBuildDate"), "StaleFeedDate",
                      "lastBuildDate is older than the newest item's pubDate (feedkit rule)")
        self._check_media(root)

    def _check_plain(self, el: etree._Element, what: str) -> str:
        """A title or category: plain text that must not be blank; returns the value."""
        value = self._text(el)
        if not value:
            self.flag(el, "NotBlank", f"{what} should not be blank")
        self._check_nonhtml(el, value)
        return value

    def _check_person(self, el: etree._Element) -> None:
        value = self._text(el)
        code = _email_with_name_problem(value)
        label = self._label(el)
        if code == "InvalidContact":
            self.flag(el, code, f"{label} must be an email address like "
                      f"'news@example.org (Name)'; use dc:creator for a plain name: {value!r}")
        elif code:
            self.flag(el, code, f"{label} should read 'news@example.org (Real Name)': {value!r}")

    def _check_image(self, image: etree._Element, title: str | None, link: str | None) -> None:
        found = {self._label(c): c for c in image if isinstance(c.tag, str)}
        for need, code in (("title", "MissingTitle"), ("url", "MissingElement"),
                           ("link", "MissingLink")):
            if need not in found:
                self.flag(image, code, f"Missing image element: {need}")
        if "url" in found:
            url = self._text(found["url"])
            self._check_uri_value(found["url"], url, "image url")
            ext = url.rsplit(".", 1)[-1].lower()
            if re.fullmatch(r"\w+", ext) and ext not in ("jpg", "jpeg", "gif", "png"):
                self.flag(found["url"], "ImageUrlFormat",
                          "image url should end in .jpg, .jpeg, .gif or .png")
        if "link" in found:
            value = self._text(found["link"])
            self._check_uri_value(found["link"], value, "image link")
            if link and value != link:
                self.flag(found["link"], "ImageLinkDoesntMatch",
                          "image link doesn't match channel link")
        if "title" in found:
            value = self._text(found["title"])
            if not value:
                self.flag(found["title"], "NotBlank", "image title should not be blank")
            if title and value != title:
                self.flag(found["title"], "ImageTitleDoesntMatch",
                          "image title doesn't match channel title")
        for dim, limit, code in (("width", 144, "InvalidWidth"), ("height", 400, "InvalidHeight")):
            if dim in found:
                value = self._text(found[dim])
                if not value.isdigit() or not 0 < int(value) <= limit:
                    self.flag(found[dim], code, f"image {dim} must be between 1 and {limit}")

    def _check_rss_items(self, items: list[etree._Element]) -> datetime | None:
        guids: dict[str, etree._Element] = {}
        newest: datetime | None = None
        for item in items:
            self._duplicates(item, _RSS_ITEM_SINGLES | {"content:encoded", "atom:id"})
            present: list[str] = []
            enclosures = 0
            for child in item:
                if not isinstance(child.tag, str):
                    continue
                label = self._label(child)
                ns, _local = _split(child.tag)
                if ns == "" and label not in _RSS_ITEM_CHILDREN:
                    self.flag(child, "UndefinedElement", f"Undefined item element: {label}")
                    present.append(label)
                    continue
                if label == "title":
                    self._check_plain(child, label)
                elif label in ("link", "comments"):
                    self._check_uri_value(child, self._text(child), label)
                elif label in ("description", "content:encoded"):
                    if label == "content:encoded" and "description" not in present:
                        self.flag(child, "NeedDescriptionBeforeContent",
                                  "put description before content:encoded (RSS Profile)")
                    self._check_html(child, self._text(child, strip=False), relative=True)
                elif label == "guid":
                    self._check_guid(child, guids)
                elif label == "pubDate":
                    when = self._check_date(child, self._text(child), rfc822=True)
                    if when and (newest is None or when > newest):
                        newest = when
                elif label == "author":
                    self._check_person(child)
                elif label == "category":
                    self._check_plain(child, label)
                elif label == "enclosure":
                    enclosures += 1
                    if enclosures == 2:
                        self.flag(child, "DuplicateEnclosure",
                                  "item contains more than one enclosure")
                    self._check_enclosure(child)
                elif label == "source":
                    url = (child.get("url") or "").strip()
                    if not url:
                        self.flag(child, "MissingAttribute", "Missing source attribute: url")
                    else:
                        self._check_uri_value(child, url, "source url", http_only=False)
                elif label == "atom:link":
                    self._check_atom_link(child, in_entry=True)
                present.append(label)
            if "title" not in present and "description" not in present:
                self.flag(item, "ItemMustContainTitleOrDescription",
                          "item must contain either title or description")
            if "guid" not in present:
                self.flag(item, "MissingGuid", "item should contain a guid element")
            for core, ext in (("author", "dc:creator"), ("category", "dc:subject"),
                              ("pubDate", "dc:date"), ("guid", "atom:id"),
                              ("pubDate", "atom:published"), ("source", "dc:source")):
                if core in present and ext in present:
                    self.flag(item, "DuplicateItemSemantics",
                              f"An item should not include both {core} and {ext}")
        return newest

    def _check_guid(self, el: etree._Element, seen: dict[str, etree._Element]) -> None:
        value = self._text(el)
        permalink_attr = el.get("isPermaLink")
        permalink = True
        if permalink_attr is not None:
            if permalink_attr not in ("true", "false"):
                self.flag(el, "InvalidBooleanAttribute",
                          "isPermaLink attribute of guid must be 'true' or 'false'")
            permalink = permalink_attr == "true"
        if not value:
            self.flag(el, "NotBlank", "guid should not be blank")
        elif permalink:
            code = _uri_problem(value, True, "InvalidHttpGUID")
            if code and code not in ("SchemeNotIANARegistered",):
                self.flag(el, "InvalidHttpGUID", "guid must be a full URL, unless isPermaLink "
                          f"attribute is false: {value!r}")
            elif value.lower().startswith(("tag:", "urn:uuid:")):
                self.flag(el, "InvalidPermalink", f"a {value.split(':')[0]}: guid is not a "
                          "permalink; add isPermaLink=\"false\"")
            elif not _is_http_url(value):
                self.flag(el, "InvalidHttpGUID",
                          f"permalink guid must be an absolute http(s) URL (feedkit rule): "
                          f"{value!r}")
        elif len(value) < 9 and value.isdigit():
            self.flag(el, "NotSufficientlyUnique",
                      f"guid {value!r} is not sufficiently unique")
        if value in seen:
            self.flag(el, "DuplicateValue",
                      f"guid values must not be duplicated within a feed: {value!r}")
        elif value:
            seen[value] = el

    def _check_enclosure(self, el: etree._Element) -> None:
        length = el.get("length")
        if length is None:
            self.flag(el, "MissingAttribute", "Missing enclosure attribute: length "
                      "(use length=\"0\" when unknown)")
        else:
            try:
                n = int(length)
            except ValueError:
                self.flag(el, "InvalidIntegerAttribute",
                          f"length attribute of enclosure must be an integer: {length!r}")
            else:
                if n == -1:
                    self.flag(el, "UseZeroForUnknown", "use length=\"0\", not -1, when unknown")
                elif n < 0:
                    self.flag(el, "InvalidNonNegativeInteger",
                              "enclosure length must be a non-negative integer")
        mime = el.get("type")
        if mime is None:
            self.flag(el, "MissingAttribute", "Missing enclosure attribute: type")
        elif not _mime_ok(mime):
            self.flag(el, "InvalidMIMEAttribute",
                      f"type attribute of enclosure must be a valid MIME type: {mime!r}")
        url = el.get("url")
        if url is None:
            self.flag(el, "MissingAttribute", "Missing enclosure attribute: url")
        elif not _is_http_url(url):
            self.flag(el, "InvalidURLAttribute", f"enclosure url must be a full http(s) URL: "
                      f"{url!r}")
