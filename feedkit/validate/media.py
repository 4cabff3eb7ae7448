"""Media RSS (``media:`` elements, in RSS and Atom alike): the rules the W3C validator applies
when a feed uses them."""

from __future__ import annotations

import re

from lxml import etree

from feedkit.validate.checker import CheckerBase, _split
from feedkit.validate.uris import _language_ok, _mime_ok, _uri_problem
from feedkit.validate.vocab import MEDIA_NS


class MediaChecks(CheckerBase):
    """``media:group``, ``media:content``, ``media:thumbnail`` and media text elements."""

    def _check_media(self, root: etree._Element) -> None:
        """Media RSS rules the W3C validator applies (only when ``media:`` elements are used)."""
        for el in root.iter(f"{{{MEDIA_NS}}}*"):
            local = _split(el.tag)[1]
            if local == "group":
                contents = [c for c in el if c.tag == f"{{{MEDIA_NS}}}content"]
                if len(contents) < 2:
                    self.flag(el, "MediaGroupWithoutAlternatives",
                              "media:group must have several media:content children")
            elif local in ("content", "thumbnail"):
                url = el.get("url")
                if url is not None:
                    code = _uri_problem(url.strip(), True, "InvalidFullLink")
                    if code:
                        self.flag(el, code, f"media:{local} url must be a full URL: {url!r}")
                elif local == "thumbnail":
                    self.flag(el, "MissingAttribute", "Missing media:thumbnail attribute: url")
                for attr in ("width", "height", "fileSize"):
                    value = el.get(attr)
                    if value is not None and (not value.isdigit() or int(value) <= 0):
                        self.flag(el, "InvalidPositiveInteger",
                                  f"media:{local} {attr} must be a positive integer: {value!r}")
                if local == "content":
                    self._check_media_content(el)
            elif local in ("title", "description", "text"):
                mtype = el.get("type")
                if mtype is not None and mtype not in ("plain", "html"):
                    self.flag(el, "InvalidMediaTextType",
                              'media text type must be "plain" or "html"')
                value = el.text or ""
                if mtype == "html":
                    self._check_html(el, value, relative=False)
                else:
                    self._check_nonhtml(el, value.strip(), "ContainsUndeclaredHTML")

    def _check_media_content(self, el: etree._Element) -> None:
        medium = el.get("medium")
        if medium is not None and medium not in ("image", "audio", "video", "document",
                                                 "executable"):
            self.flag(el, "InvalidMediaMedium", f"invalid content medium: {medium!r}")
        mime = el.get("type")
        if mime is not None and not _mime_ok(mime):
            self.flag(el, "InvalidMIMEAttribute", f"media:content type is not a MIME type: "
                      f"{mime!r}")
        expression = el.get("expression")
        if expression is not None and expression not in ("sample", "full", "nonstop"):
            self.flag(el, "InvalidMediaExpression", f"invalid expression {expression!r}")
        default = el.get("isDefault")
        if default is not None and default.lower() not in ("true", "false"):
            self.flag(el, "InvalidTrueFalse", "isDefault must be \"true\" or \"false\"")
        for attr in ("bitrate", "duration", "framerate", "samplingrate"):
            value = el.get(attr)
            if value is not None and not re.match(r"\d+\.?\d*", value):
                self.flag(el, "InvalidFloat", f"invalid value for {attr}: {value!r}")
        channels = el.get("channels")
        if channels is not None and not channels.isdigit():
            self.flag(el, "InvalidNonNegativeInteger", "channels must be a non-negative integer")
        lang = el.get("lang")
        if lang is not None and not _language_ok(lang):
            self.flag(el, "InvalidLanguage", f"lang {lang!r} is not ISO-639")
