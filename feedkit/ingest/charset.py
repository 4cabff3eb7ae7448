"""The character set of a fetched page: the HTTP header, a ``<meta charset>`` or XML
declaration, and a check that the bytes really decode (Korean sites still serve EUC-KR / CP949
labelled as something else).
"""

from __future__ import annotations

import codecs
import re

# Labels a Korean site may send, mapped to the codec that decodes what such sites really serve:
# "EUC-KR" pages routinely contain CP949-only syllables (똠, 햏), so every EUC-KR label is read as
# CP949, which is a superset.
_ALIASES = {
    "euc-kr": "cp949", "euckr": "cp949", "euc_kr": "cp949", "ks_c_5601-1987": "cp949",
    "ks_c_5601": "cp949", "ksc5601": "cp949", "ksc_5601": "cp949", "korean": "cp949",
    "x-windows-949": "cp949", "windows-949": "cp949", "ms949": "cp949", "uhc": "cp949",
    "iso-2022-kr": "iso2022_kr", "utf8": "utf-8",
}


# Defaults some servers add when nobody configured a charset: too weak to trust over the page.
_WEAK = {"iso-8859-1", "latin-1", "latin1", "us-ascii", "ascii", "windows-1252", "cp1252"}


_META = re.compile(
    rb"""<meta[^>]+?charset\s*=\s*["']?\s*([A-Za-z0-9_:.-]+)""", re.I)


_XML_DECL = re.compile(rb"""^\s*<\?xml[^>]+encoding\s*=\s*["']([A-Za-z0-9_.-]+)["']""")


def _codec(label: str) -> str | None:
    label = label.strip().strip("\"'").lower()
    if not label:
        return None
    label = _ALIASES.get(label, label)
    try:
        return codecs.lookup(label).name
    except LookupError:
        return None


def sniff_meta_charset(data: bytes) -> str:
    """The charset a page declares in ``<meta charset>`` / ``http-equiv`` or its XML prolog."""
    head = data[:16384]
    m = _XML_DECL.match(head) or _META.search(head)
    return m.group(1).decode("ascii", "replace").lower() if m else ""


def detect_encoding(data: bytes, http_charset: str = "", override: str = "") -> str:
    """The codec to read ``data`` with: override, then HTTP charset, then ``<meta charset>``,
    then detection (UTF-8 if it decodes, else CP949 if it decodes, else charset-normalizer).

    A declared charset that cannot decode the bytes is ignored rather than trusted into
    mojibake, and a "weak" HTTP default (ISO-8859-1) loses to the page's own declaration.
    """
    if override:
        codec = _codec(override)
        if codec:
            return codec
    if data.startswith(codecs.BOM_UTF8):
        return "utf-8"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    candidates: list[str] = []
    declared_http = _codec(http_charset) if http_charset else None
    declared_meta = _codec(sniff_meta_charset(data))
    if declared_http and http_charset.lower() not in _WEAK:
        candidates.append(declared_http)
    if declared_meta:
        candidates.append(declared_meta)
    if declared_http and http_charset.lower() in _WEAK:
        candidates.append(declared_http)
    for codec in candidates:
        if codec in ("latin_1", "iso8859-1", "ascii", "cp1252") and _looks_korean(data):
            continue  # a Western single-byte label on a page full of Korean bytes is wrong
        if _decodes(data, codec):
            return codec
    for codec in ("utf-8", "cp949"):
        if _decodes(data, codec):
            return codec
    from charset_normalizer import from_bytes

    best = from_bytes(data[:200_000]).best()
    if best is not None and best.encoding:
        return _codec(best.encoding) or "utf-8"
    return "utf-8"


def _decodes(data: bytes, codec: str) -> bool:
    try:
        data.decode(codec)
    except (UnicodeDecodeError, LookupError):
        return False
    return True


def _looks_korean(data: bytes) -> bool:
    """Many byte pairs in the EUC-KR Hangul range, or valid UTF-8 Hangul."""
    if _decodes(data, "utf-8"):
        return bool(re.search("[\uac00-\ud7a3]", data.decode("utf-8")))
    return len(re.findall(rb"[\xb0-\xc8][\xa1-\xfe]", data[:65536])) >= 4


def decode_html(data: bytes, http_charset: str = "", override: str = "") -> str:
    """Bytes of a page → text, with the codec :func:`detect_encoding` picks."""
    codec = detect_encoding(data, http_charset, override)
    text = data.decode(codec, errors="replace")
    return text[1:] if text.startswith("\ufeff") else text
