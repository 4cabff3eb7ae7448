"""How the running feedkit was installed, as one line a site's ``requirements.txt`` can hold
(and, with an extra written into it, the line that installs the PostgreSQL driver to match).

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

    def with_extras(self, *extras: str) -> str:
        """The same requirement with ``extras`` written into it: ``feedkit-city[postgres] @
        git+…@COMMIT``, ``feedkit-city[postgres]==1.2.0``, ``/path/to/checkout[postgres]``.

        Why one requirement: pip 23 (Python 3.11's own) cannot join a direct-URL line of
        requirements.txt with a separate ``feedkit-city[postgres]``; it ends in
        ``ResolutionImpossible``. One requirement with its extra resolves with any pip."""
        if not extras:
            return self.requirement
        wanted = "[" + ",".join(extras) + "]"
        if self.how == "local":
            return self.requirement + wanted
        name, rest = self.requirement[:len(DISTRIBUTION)], self.requirement[len(DISTRIBUTION):]
        assert name == DISTRIBUTION, self.requirement
        return name + wanted + rest


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


def main(argv: list[str] | None = None) -> None:
    """``python -m feedkit.install [--extra NAME]…``: print the running feedkit as one
    requirement, with the extras asked for. A site's workflow installs the PostgreSQL driver
    with ``pip install "$(python -m feedkit.install --extra postgres)"``: exactly the feedkit
    that ``requirements.txt`` installed, now with its ``[postgres]`` extra."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m feedkit.install", description=main.__doc__)
    parser.add_argument("--extra", action="append", default=[], metavar="NAME",
                        help="an extra to add, e.g. postgres (repeatable)")
    args = parser.parse_args(argv)
    print(running_install().with_extras(*args.extra))


if __name__ == "__main__":
    main()
