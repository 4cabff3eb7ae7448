"""Check built feeds the way the W3C Feed Validator (github.com/w3c/feedvalidator) does.

The project's definition of *valid* is "the W3C validator reports no error and no warning". That
service cannot run here (it needs the network and Python 2-era dependencies), so this module
re-implements the checks it makes that matter for the feeds feedkit writes: RSS 2.0 and Atom 1.0
from feedgen, plus JSON Feed 1.1 (which the W3C service does not know, so those checks follow the
JSON Feed spec and reuse the W3C message names where one fits).

Every :class:`Problem` carries the W3C message name (``code``) so a failure can be looked up in the
validator's docs (``docs/error/<code>.html`` or ``docs/warning/<code>.html``), and the W3C
severity. A few checks are deliberately *stricter* than the W3C service; their docstrings and
messages say so. Nothing here touches the network or resolves external entities.

The package follows the formats: :mod:`.rss`, :mod:`.atom` and :mod:`.jsonfeed` hold the checks of
each, on top of :mod:`.checker` (reporting, XML-level checks, ``atom:link`` and Media RSS, which
both XML formats use); :mod:`.uris`, :mod:`.dates` and :mod:`.markup` check single values;
:mod:`.api` runs one document or a whole built folder.

May import: ``feedkit.errors`` only. It reads bytes, so it checks any feed, feedkit's or not;
the CLI runs it over the built folder.
"""

from feedkit.validate.api import MAX_FEED_BYTES, candidate_files, validate_dir, validate_feed
from feedkit.validate.dates import parse_rfc822, parse_rfc3339
from feedkit.validate.problems import ACCEPTED_CODES, W3C_PARENT, Problem, kind_of
from feedkit.validate.uris import canonical_uri

__all__ = [
           "ACCEPTED_CODES",
           "MAX_FEED_BYTES",
           "W3C_PARENT",
           "Problem",
           "candidate_files",
           "canonical_uri",
           "kind_of",
           "parse_rfc822",
           "parse_rfc3339",
           "validate_dir",
           "validate_feed",
]
