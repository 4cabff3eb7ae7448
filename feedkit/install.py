"""How the running feedkit was installed, as one line a site's ``requirements.txt`` can hold.

Why: a new site's CI must install *this* feedkit, not whatever a bare name resolves to on the
package index (the name ``feedkit`` there belongs to another project). pip records how it
installed a distribution in PEP 610's ``direct_url.json``; that tells a git checkout (VCS URL
and commit), a local folder (editable or not), an archive URL, or, when the file is absent, a
release from the index (``name==version``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import metadata

from feedkit import __version__

DISTRIBUTION = "feedkit-city"
"""The name on the package index. ``feedkit`` there is an unrelated project: never install it."""


@dataclass(frozen=True)
class InstallSpec:
    requirement: str      # one requirements.txt line
    how: str              # "vcs" | "local" | "archive" | "index"
    portable: bool        # False when another machine (CI) cannot install it as written


def requirement_from_direct_url(direct_url: str | None, name: str = DISTRIBUTION,
                                version: str = __version__) -> InstallSpec:
    """Turn a PEP 610 ``direct_url.json`` text (or None: installed from an index) into a
    requirement line."""
    if not direct_url:
        return InstallSpec(f"{name}=={version}", "index", True)
    try:
        data = json.loads(direct_url)
        url = data["url"]
    except (ValueError, KeyError, TypeError):
        return InstallSpec(f"{name}=={version}", "index", True)
    if "vcs_info" in data:
        info = data["vcs_info"]
        vcs = info.get("vcs", "git")
        ref = info.get("commit_id") or info.get("requested_revision") or ""
        sub = data.get("subdirectory")
        line = f"{name} @ {vcs}+{url}" + (f"@{ref}" if ref else "")
        if sub:
            line += f"#subdirectory={sub}"
        return InstallSpec(line, "vcs", not url.startswith("file:"))
    if url.startswith("file:"):
        from urllib.parse import unquote, urlsplit

        # A folder (editable or not) or a wheel/sdist file on this machine.
        return InstallSpec(unquote(urlsplit(url).path), "local", False)
    return InstallSpec(f"{name} @ {url}", "archive", True)


def running_install() -> InstallSpec:
    """The requirement for the feedkit that is running now."""
    try:
        dist = metadata.distribution(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return InstallSpec(f"{DISTRIBUTION}=={__version__}", "index", True)
    return requirement_from_direct_url(dist.read_text("direct_url.json"), DISTRIBUTION,
                                       dist.version)
