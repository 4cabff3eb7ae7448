"""The parts of an RSS 2.0 channel and item with structure of their own: image, textInput,
cloud, skipHours, skipDays, guid, enclosure, source."""

from __future__ import annotations

import re

from lxml import etree

from feedkit.validate.atomparts import AtomParts
from feedkit.validate.extensions import EVERYWHERE
from feedkit.validate.uris import _is_http_url, _mime_ok, _uri_problem
from feedkit.validate.values import Rule, check_nonhtml, rule

_IMAGE_EXTRA = {
    "dc:creator": rule("text", many=True), "dc:subject": rule("text", many=True),
    "dc:date": rule("w3cdtf"),
}
IMAGE: dict[str, Rule] = EVERYWHERE | _IMAGE_EXTRA | {
    "title": rule("@image_title"), "link": rule("uri_full"), "url": rule("uri_full"),
    "width": rule("@image_width"), "height": rule("@image_height"),
    "description": rule("nonhtml"), "cc:license": rule("eat", many=True, attrs=None),
}
TEXTINPUT: dict[str, Rule] = EVERYWHERE | _IMAGE_EXTRA | {
    "title": rule("nonhtml"), "description": rule("text"), "name": rule("formname"),
    "link": rule("uri_full"),
}
_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_CLOUD_ATTRS = ("domain", "port", "path", "registerProcedure", "protocol")


class RssParts(AtomParts):
    """Structured RSS 2.0 elements, each checked by its ``_el_<name>`` method."""

    channel_title: str | None = None
    channel_link: str | None = None
    guids: dict[str, etree._Element]

    # -- channel parts ----------------------------------------------------------------------

    def _el_image(self, el: etree._Element) -> None:
        found = self.walk(el, IMAGE)
        if el.get("{http://www.w3.org/1999/02/22-rdf-syntax-ns#}resource") is not None:
            return  # an RSS 1.0 style reference
        self.require(el, found, (("title", "MissingTitle"), ("url", "MissingElement"),
                                 ("link", "MissingLink")))
        for url in found.get("url", [])[:1]:
            ext = self._value(url).split(".")[-1].lower()
            if re.fullmatch(r"\w+", ext) and ext not in ("jpg", "jpeg", "gif", "png"):
                self.flag(url, "ImageUrlFormat", "image url should end in .jpg, .jpeg, .gif or "
                          ".png")
        for link in found.get("link", [])[:1]:
            if self.channel_link and self._value(link) != self.channel_link:
                self.flag(link, "ImageLinkDoesntMatch", "image link doesn't match channel link")

    def _el_image_title(self, el: etree._Element) -> None:
        self._no_children(el)
        value = self._value(el)
        if not value:
            self.flag(el, "NotBlank", "image title should not be blank")
        else:
            check_nonhtml(self, el, value)
        if self.channel_title and value != self.channel_title:
            self.flag(el, "ImageTitleDoesntMatch", "image title doesn't match channel title")

    def _el_image_width(self, el: etree._Element) -> None:
        self._dimension(el, 144, "InvalidWidth")

    def _el_image_height(self, el: etree._Element) -> None:
        self._dimension(el, 400, "InvalidHeight")

    def _dimension(self, el: etree._Element, limit: int, code: str) -> None:
        self._no_children(el)
        value = self._value(el)
        try:
            ok = 0 < int(value) <= limit
        except ValueError:
            ok = False
        if not ok:
            self.flag(el, code, f"image {self._label(el)} must be between 1 and {limit}: "
                      f"{value!r}")

    def _el_textInput(self, el: etree._Element) -> None:
        if self.result.kind == "rss":
            self.flag(el, "AvoidTextInput", "textInput is little supported; avoid it "
                      "(RSS Profile)")
        found = self.walk(el, TEXTINPUT)
        self.require(el, found, (("title", "MissingTitle"), ("link", "MissingLink"),
                                 ("description", "MissingDescription"),
                                 ("name", "MissingElement")))

    def _el_cloud(self, el: etree._Element) -> None:
        for attr in _CLOUD_ATTRS:
            if attr not in el.attrib:
                self.flag(el, "MissingAttribute", f"Missing cloud attribute: {attr}")
        port = el.get("port")
        if port is not None:
            try:
                ok = int(port) > 0
            except ValueError:
                ok = False
            if not ok:
                self.flag(el, "InvalidIntegerAttribute", f"cloud port must be a positive "
                          f"integer: {port!r}")
        self.walk(el, {})

    def _el_skipHours(self, el: etree._Element) -> None:
        found = self.walk(el, {"hour": rule("text", many=True)})
        hours = found.get("hour", [])
        if not hours:
            self.flag(el, "MissingElement", "Missing skipHours element: hour")
        if len(hours) > 24:
            self.flag(el, "NotEnoughHoursInTheDay", "more than 24 hours in skipHours")
        seen: set[int] = set()
        for hour in hours:
            value = self._value(hour)
            try:
                number = int(value)
            except ValueError:
                number = None
            if number is not None and (number in seen or (number in (0, 24)
                                                          and 24 - number in seen)):
                self.flag(hour, "DuplicateValue", f"hour {value} is listed twice")
            if number == 24:
                self.flag(hour, "UseZeroForMidnight", "use 0, not 24, for midnight")
            elif number is None or not 0 <= number <= 23:
                self.flag(hour, "InvalidHour", f"hour must be an integer from 0 to 23: "
                          f"{value!r}")
            else:
                seen.add(number)

    def _el_skipDays(self, el: etree._Element) -> None:
        found = self.walk(el, {"day": rule("text", many=True)})
        days = found.get("day", [])
        if not days:
            self.flag(el, "MissingElement", "Missing skipDays element: day")
        if len(days) > 7:
            self.flag(el, "EightDaysAWeek", "more than seven days in skipDays")
        seen: set[str] = set()
        for day in days:
            value = self._value(day)
            if value not in _DAYS:
                self.flag(day, "InvalidDay", f"day must be Monday ... Sunday: {value!r}")
            elif value in seen:
                self.flag(day, "DuplicateValue", f"{value} is listed twice")
            seen.add(value)

    # -- item parts -------------------------------------------------------------------------

    def _el_guid(self, el: etree._Element) -> None:
        self._no_children(el)
        value = self._value(el)
        permalink_attr = el.get("isPermaLink")
        permalink = True
        if permalink_attr is not None:
            if permalink_attr not in ("true", "false"):
                self.flag(el, "InvalidBooleanAttribute",
                          "isPermaLink attribute of guid must be 'true' or 'false'")
            permalink = permalink_attr == "true"
        if not value:
            self.flag(el, "NotBlank", "guid should not be blank")
        if permalink:
            code = _uri_problem(value, True, "InvalidHttpGUID")
            if code:
                self.flag(el, code, "guid must be a full URL, unless isPermaLink attribute is "
                          f"false: {value!r}")
            elif value.lower().startswith(("tag:", "urn:uuid:")):
                self.flag(el, "InvalidPermalink", f"a {value.split(':')[0]}: guid is not a "
                          "permalink; add isPermaLink=\"false\"")
        elif len(value) < 9 and value.isdigit():
            self.flag(el, "NotSufficientlyUnique", f"guid {value!r} is not sufficiently unique")
        if value in self.guids:
            self.flag(el, "DuplicateValue",
                      f"guid values must not be duplicated within a feed: {value!r}")
        elif value:
            self.guids[value] = el

    def _el_enclosure(self, el: etree._Element) -> None:
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

    def _el_rss_source(self, el: etree._Element) -> None:
        self._no_children(el)
        url = el.get("url")
        if url is None:
            self.flag(el, "MissingAttribute", "Missing source attribute: url")
        else:
            code = _uri_problem(url, True, "InvalidFullLink")
            if code:
                self.flag(el, code, f"source url must be a full URL: {url!r}")
        check_nonhtml(self, el, self._value(el))
