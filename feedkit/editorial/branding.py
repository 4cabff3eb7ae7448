"""The city's logo, colour and contact line on the email, the index page and the archive,
from three ``[site]`` keys instead of copied templates.

A web team asked for "our logo and our blue" should not have to copy six templates and keep
them in step with every feedkit release. ``[site] logo``, ``accent_color`` and the contact keys
become a :class:`Brand`; the bundled templates show it, and the accent reaches even templates a
site copied before branding existed, because the renderer appends its CSS to ``digest.css``
(:func:`digest_css`). Nothing is set by default, and then every output is byte-identical to what
it was.

The accent is text (links, the week line) and the button's background under white text, so it
must reach WCAG 2.x AA (4.5:1) against white. Dark mode (``prefers-color-scheme: dark``, which
Apple Mail and the iOS and Android Gmail apps honour) shows links on the templates' dark card,
``#161b22``; no colour reaches 4.5:1 against both white and that card, so dark mode uses
``accent_color_dark``, or when it is not given the accent mixed with white until it does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from feedkit.errors import ConfigError

AA_TEXT = 4.5                 # WCAG 2.x AA, normal-size text
LIGHT_BACKGROUND = "#ffffff"  # the card behind every text of the email and pages
DARK_BACKGROUND = "#161b22"   # the dark-mode card (the lighter of the two dark backgrounds)
DARK_TEXT = "#0d1117"         # the dark-mode button's text colour
DEFAULT_ACCENT = "#0b57d0"    # the bundled templates' blue (6.39:1 on white)
_HEX = re.compile(r"#?([0-9a-fA-F]{6}|[0-9a-fA-F]{3})")
_PHONE = re.compile(r"\+?[0-9][0-9 ()./-]{4,30}")


@dataclass(frozen=True)
class Contact:
    department: str = ""
    address: str = ""
    phone: str = ""

    @property
    def tel(self) -> str:
        """The ``tel:`` URI of the phone number (digits and a leading +)."""
        digits = re.sub(r"[^0-9]", "", self.phone)
        return ("tel:+" if self.phone.startswith("+") else "tel:") + digits if digits else ""

    def items(self) -> list[tuple[str, str]]:
        """``(text, link)`` for each part the site set; only the phone is a link."""
        return [(p, self.tel if p == self.phone else "") for p in self.parts()]

    def parts(self) -> list[str]:
        return [p for p in (self.department, self.address, self.phone) if p]

    def line(self) -> str:
        """The plain-text contact line (the email's text part): "홍보담당관 · 주소 · 전화"."""
        return " · ".join(self.parts())

    def __bool__(self) -> bool:
        return bool(self.parts())


@dataclass(frozen=True)
class Brand:
    """What the templates receive as ``brand`` (``None`` when nothing is configured)."""

    logo: str = ""
    accent: str = ""        # "#rrggbb", lowercase; "" for the templates' own colours
    accent_dark: str = ""   # the dark-mode accent (given, or derived from ``accent``)
    contact: Contact = Contact()

    @property
    def button(self) -> str:
        """The email button's ``bgcolor`` attribute (Outlook reads no CSS background)."""
        return self.accent or DEFAULT_ACCENT

    def __bool__(self) -> bool:
        return bool(self.logo or self.accent or self.contact)


def parse_hex(value: str) -> tuple[int, int, int]:
    m = _HEX.fullmatch(value.strip())
    if not m:
        raise ValueError(f"{value!r} is not a hex colour like \"#0b57d0\"")
    digits = m.group(1)
    if len(digits) == 3:
        digits = "".join(c * 2 for c in digits)
    return int(digits[0:2], 16), int(digits[2:4], 16), int(digits[4:6], 16)


def to_hex(rgb: tuple[int, int, int]) -> str:
    return "#" + "".join(f"{c:02x}" for c in rgb)


def luminance(rgb: tuple[int, int, int]) -> float:
    """WCAG 2.x relative luminance of an sRGB colour."""
    def channel(c: int) -> float:
        s = c / 255
        return s / 12.92 if s <= 0.04045 else ((s + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    """The WCAG contrast ratio of two hex colours, 1.0 to 21.0."""
    la, lb = sorted((luminance(parse_hex(a)), luminance(parse_hex(b))), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def lighten_for_dark(accent: str) -> str:
    """The accent mixed with white in 5 % steps until it reaches AA on the dark card: the
    same hue, readable in dark mode. White itself always does (16.9:1)."""
    rgb = parse_hex(accent)
    for step in range(21):
        t = step / 20
        mixed = to_hex(tuple(round(c + (255 - c) * t) for c in rgb))
        if contrast(mixed, DARK_BACKGROUND) >= AA_TEXT:
            return mixed
    return LIGHT_BACKGROUND


def _colour(key: str, value: object) -> str:
    if not isinstance(value, str):
        raise ConfigError(f"[site] {key}: must be a hex colour string like \"#0b57d0\"")
    try:
        return to_hex(parse_hex(value))
    except ValueError as exc:
        raise ConfigError(f"[site] {key}: {exc}") from None


def make_brand(logo: str = "", accent_color: str = "", accent_color_dark: str = "",
               department: str = "", address: str = "", phone: str = "") -> Brand | None:
    """Check the ``[site]`` branding keys and build the :class:`Brand` (``None`` if none is
    set). Raises :class:`ConfigError` naming the key, and for a colour the ratio it reaches."""
    if logo:
        parts = urlsplit(logo)
        if parts.scheme != "https" or not parts.netloc or any(c.isspace() for c in logo):
            raise ConfigError(f"[site] logo: {logo!r} must be an https:// image URL (mail "
                              "clients block http images and cannot see local files)")
    accent = _colour("accent_color", accent_color) if accent_color else ""
    if accent_color_dark and not accent:
        raise ConfigError("[site] accent_color_dark: set accent_color too (the dark-mode "
                          "colour goes with it)")
    if accent:
        ratio = contrast(accent, LIGHT_BACKGROUND)
        if ratio < AA_TEXT:
            raise ConfigError(
                f"[site] accent_color: {accent} on white has a contrast ratio of {ratio:.2f}:1; "
                f"links and the button text need at least {AA_TEXT}:1 (WCAG AA); choose a "
                "darker colour")
    dark = _colour("accent_color_dark", accent_color_dark) if accent_color_dark else ""
    if dark:
        ratio = contrast(dark, DARK_BACKGROUND)
        if ratio < AA_TEXT:
            raise ConfigError(
                f"[site] accent_color_dark: {dark} on the dark-mode background "
                f"{DARK_BACKGROUND} has a contrast ratio of {ratio:.2f}:1; it needs at least "
                f"{AA_TEXT}:1 (WCAG AA); choose a lighter colour, or leave it out and feedkit "
                "derives one")
    elif accent:
        dark = lighten_for_dark(accent)
    for key, value in (("contact_department", department), ("contact_address", address),
                       ("contact_phone", phone)):
        if any(not ch.isprintable() for ch in value):
            raise ConfigError(f"[site] {key}: one line of text, no line breaks")
        if len(value) > 200:
            raise ConfigError(f"[site] {key}: {len(value)} characters; at most 200")
    if phone and not _PHONE.fullmatch(phone):
        raise ConfigError(f"[site] contact_phone: {phone!r} is not a phone number "
                          "(digits, spaces, +, -, ., parentheses)")
    brand = Brand(logo, accent, dark, Contact(department.strip(), address.strip(),
                                              phone.strip()))
    return brand if brand else None


_DIGEST_BRAND_CSS = """
/* [site] logo, contact_* */
.logo { display: block; height: 40px; width: auto; max-width: 100%; padding-bottom: 12px; }
.contact { padding-top: 8px; }
.contact-phone { white-space: nowrap; }
"""


def brand_of(config) -> Brand | None:
    """The configured :class:`Brand` of a loaded config (checked when it was loaded)."""
    site = config.site
    if not site.branded():
        return None
    return make_brand(site.logo, site.accent_color, site.accent_color_dark,
                      site.contact_department, site.contact_address, site.contact_phone)


def digest_css(brand: Brand | None) -> str:
    """CSS appended to ``digest.css`` for the brand (empty without one). Later rules of the
    same selector win, so the accent also recolours a ``digest.css`` a site copied before
    branding; premailer inlines the plain rules and keeps the @media block."""
    if brand is None:
        return ""
    if not brand.accent:
        return _DIGEST_BRAND_CSS
    a, d = brand.accent, brand.accent_dark
    return _DIGEST_BRAND_CSS + (
        "/* [site] accent_color */\n"
        f".header {{ border-top-color: {a}; }}\n"
        f".eyebrow, .item-link, .more-link, .nav-link {{ color: {a}; }}\n"
        f".button {{ background-color: {a}; }}\n"
        "@media (prefers-color-scheme: dark) {\n"
        f"  .eyebrow, .item-link, .more-link, .nav-link {{ color: {d} !important; }}\n"
        f"  .header {{ border-color: {d} !important; }}\n"
        f"  .button {{ background-color: {d} !important; }}\n"
        "}\n")


def page_css(brand: Brand | None) -> str:
    """The same for the index and archive index pages (their own ``<style>`` block)."""
    if brand is None:
        return ""
    css = (".logo { display: block; height: 40px; width: auto; max-width: 100%; "
           "margin: 0 0 .5rem; } footer.contact { margin-top: 2rem; font-size: .875rem; } "
           "footer.contact a { white-space: nowrap; }")
    if brand.accent:
        a, d = brand.accent, brand.accent_dark
        css += (f" a {{ color: {a}; }} header {{ border-bottom-color: {a}; }}"
                f" @media (prefers-color-scheme: dark) {{ a {{ color: {d}; }} }}")
    return css
