"""Check built feeds the way the W3C Feed Validator (github.com/w3c/feedvalidator) does.

The project's definition of *valid* is "the W3C validator reports no error and no warning". That
service cannot run here (it needs the network and Python 2-era dependencies), so this package
re-implements its checks for RSS 2.0 (and 0.91/0.92), RSS 1.0/0.90 (RDF) and Atom 1.0, plus JSON
Feed 1.1 (which the W3C service does not know, so those checks follow the JSON Feed spec and reuse
the W3C message names where one fits). Run over the W3C validator's own test suite
(``tests/w3csuite.py``) it reports what that suite expects, and nothing it forbids.

Every :class:`Problem` carries the W3C message name (``code``) so a failure can be looked up in the
validator's docs (``docs/error/<code>.html`` or ``docs/warning/<code>.html``), and the W3C
severity; :data:`W3C_PARENT` is the W3C message hierarchy (:func:`kind_of`: ``MissingTitle`` is a
``MissingElement``). A few checks are deliberately *stricter* than the W3C service; their
docstrings and messages say so. W3C "Info" notes are not reported (the W3C service does not show
them either). Nothing here touches the network or resolves external entities.

The package follows the formats. Each format describes its elements as tables of
:class:`~.values.Rule` s, which :meth:`.checker.CheckerBase.walk` applies (children, repeats,
attributes, text) and :mod:`.values` checks the values of; :mod:`.extensions` says where each
extension element (Dublin Core, Syndication, ...) may appear. :mod:`.rss` and :mod:`.rssparts`
hold RSS 2.0, :mod:`.rdf` RSS 1.0, :mod:`.atom`, :mod:`.atomparts` and :mod:`.atomtext` Atom
(also its elements inside RSS), :mod:`.media` Media RSS, :mod:`.jsonfeed` JSON Feed;
:mod:`.document` checks a document as a whole (encoding, DOCTYPE, namespaces) and picks the
format; :mod:`.uris`, :mod:`.dates` and :mod:`.markup` check single values; :mod:`.api` runs
one document or a whole built folder.

May import: ``feedkit.errors`` only. It reads bytes, so it checks any feed, feedkit's or not;
the CLI runs it over the built folder.
"""

from feedkit.validate.api import candidate_files, validate_dir, validate_feed
from feedkit.validate.dates import parse_rfc822, parse_rfc3339
from feedkit.validate.document import MAX_FEED_BYTES
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
