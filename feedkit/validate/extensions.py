"""Where the W3C validator accepts each extension element, and what value it must hold.

RSS and Atom allow elements from other namespaces (Dublin Core, Syndication, Slash, ...). The W3C
validator knows a vocabulary per place: some extensions are valid everywhere, some only in an
item or entry, some only at the channel or feed level. These tables say which, as
:class:`~feedkit.validate.values.Rule` s keyed by ``prefix:name`` (the namespace's usual prefix,
whatever prefix the document binds). The format checkers merge them into their own tables.

An element of a namespace in :data:`CHECKED_NAMESPACES` that the table of its place does not list
is ``UndefinedElement`` (a misspelt ``sy:updatePeriods``, or ``slash:comments`` on a channel).
Other known namespaces (Media RSS, iTunes, Google Base, OpenSearch, ...) have large vocabularies
of their own; their elements are accepted unchecked (Media RSS has its own checks,
:mod:`.media`), like elements of unknown namespaces.
"""

from __future__ import annotations

from feedkit.validate.values import Rule, rule

_TEXT = rule("text")
_TEXTS = rule("text", many=True)
_EAT = rule("eat", many=True, attrs=None)
_RESOURCE = rule("rdf_resource", attrs="rdf:resource dc:title")
_RESOURCES = rule("rdf_resource", many=True, attrs="rdf:resource dc:title")


def _table(**rules: Rule) -> dict[str, Rule]:
    """``dc_title=...`` -> ``{"dc:title": ...}`` (the first ``_`` separates the prefix)."""
    return {name.replace("_", ":", 1).replace("__", "-"): r for name, r in rules.items()}


# Valid in every place: Dublin Core, DC terms, RDF, geo positions.
EVERYWHERE: dict[str, Rule] = _table(
    dc_title=_TEXT, dc_description=_TEXT, dc_publisher=_TEXTS, dc_contributor=_TEXTS,
    dc_type=_TEXT, dc_format=_TEXT, dc_identifier=_TEXTS, dc_source=_TEXT,
    dc_language=rule("language"), dc_relation=_TEXTS, dc_coverage=_TEXTS,
    dc_rights=rule("nonhtml"),
    dcterms_alternative=_TEXTS, dcterms_abstract=_TEXT, dcterms_tableOfContents=_RESOURCE,
    dcterms_created=rule("w3cdtf"), dcterms_valid=_EAT, dcterms_available=_EAT,
    dcterms_issued=rule("w3cdtf"), dcterms_modified=rule("w3cdtf"),
    dcterms_dateAccepted=_TEXT, dcterms_dateCopyrighted=_TEXT, dcterms_dateSubmitted=_TEXT,
    dcterms_extent=rule("positive", nonblank=True), dcterms_isVersionOf=_RESOURCES,
    dcterms_hasVersion=_RESOURCES, dcterms_isReplacedBy=_RESOURCES,
    dcterms_replaces=_RESOURCES, dcterms_isRequiredBy=_RESOURCES, dcterms_requires=_RESOURCES,
    dcterms_isPartOf=_RESOURCES, dcterms_hasPart=_RESOURCES,
    dcterms_isReferencedBy=_RESOURCES, dcterms_references=_RESOURCES,
    dcterms_isFormatOf=_RESOURCES, dcterms_hasFormat=_RESOURCES,
    dcterms_conformsTo=_RESOURCES, dcterms_spatial=_EAT, dcterms_temporal=_EAT,
    dcterms_audience=_TEXTS, dcterms_mediator=_TEXT, dcterms_accessRights=_EAT,
    dcterms_accrualMethod=_EAT, dcterms_accrualPeriodicity=_EAT, dcterms_accrualPolicy=_EAT,
    dcterms_bibliographicCitation=_EAT, dcterms_educationLevel=_EAT,
    dcterms_instructionalMethod=_EAT, dcterms_license=_EAT, dcterms_provenance=_EAT,
    dcterms_rightsHolder=_EAT,
    rdf_RDF=_EAT, rdf_type=_EAT, rdf_Description=_EAT, rdfs_seeAlso=_RESOURCES,
    geo_Point=rule("@geo_point", many=True, attrs=None), geo_lat=rule("latitude", many=True),
    geo_long=rule("longitude", many=True), geo_alt=rule("decimal", many=True),
    geourl_latitude=rule("latitude", many=True), geourl_longitude=rule("longitude", many=True),
    icbm_latitude=rule("latitude", many=True), icbm_longitude=rule("longitude", many=True),
)

# Valid in a channel/feed and in an item/entry.
CHANNEL_OR_ITEM: dict[str, Rule] = EVERYWHERE | _table(taxo_topics=_EAT, l_link=_EAT)

# Only in an item or entry.
ITEM: dict[str, Rule] = CHANNEL_OR_ITEM | _table(
    annotate_reference=_RESOURCE, ag_source=_TEXT, ag_sourceURL=rule("uri_full"),
    ag_timestamp=rule("iso8601"), ev_startdate=rule("iso8601"), ev_enddate=rule("iso8601"),
    ev_location=_EAT, ev_organizer=_EAT, ev_type=_TEXT,
    slash_comments=rule("nonneg"), slash_section=_TEXTS, slash_department=_TEXTS,
    slash_hit_parade=rule("comma_ints"),
    thr_children=rule("@thr_children", attrs=None), thr_total=rule("nonneg"),
    thr_in__reply__to=_EAT,
    wfw_comment=rule("uri_full"), wfw_commentRss=rule("uri_full"),
    wfw_commentRSS=rule("uri_full"),
    wiki_diff=_TEXTS, wiki_history=_TEXTS, wiki_importance=_TEXTS, wiki_status=_TEXTS,
    wiki_version=_TEXTS,
)
RSS20_ITEM: dict[str, Rule] = ITEM | _table(
    trackback_ping=rule("uri_full"), trackback_about=rule("uri_full", many=True))
RSS10_ITEM: dict[str, Rule] = ITEM | _table(
    trackback_ping=_RESOURCE, trackback_about=_RESOURCES, l_permalink=_EAT)
ENTRY: dict[str, Rule] = ITEM | _table(
    dc_creator=_TEXTS, dc_subject=_TEXTS, dc_date=rule("w3cdtf"),
    creativeCommons_license=rule("uri_full", many=True),
    trackback_ping=rule("uri_full"), trackback_about=rule("uri_full", many=True))

# Only in a channel or feed.
CHANNEL: dict[str, Rule] = CHANNEL_OR_ITEM | _table(
    admin_generatorAgent=_RESOURCE, admin_errorReportsTo=_RESOURCE,
    blogChannel_blogRoll=rule("uri_full"), blogChannel_mySubscriptions=rule("uri_full"),
    blogChannel_blink=rule("uri_full"), blogChannel_changes=rule("uri_full"),
    sy_updatePeriod=rule("update_period"),
    sy_updateFrequency=rule("positive", nonblank=True), sy_updateBase=rule("w3cdtf"),
    cp_server=_RESOURCES, wiki_interwiki=_TEXTS, thr_in__reply__to=_EAT,
    xhtml_div=_EAT, xhtml_meta=_EAT, fh_archive=_EAT, fh_complete=_EAT,
)
FEED: dict[str, Rule] = CHANNEL | _table(
    dc_creator=_TEXTS, dc_subject=_TEXTS, dc_date=rule("w3cdtf"),
    creativeCommons_license=rule("uri_full", many=True))

# In RSS channels and items (RSS 2.0 and 1.0), besides the extensions above.
RSS_SHARED: dict[str, Rule] = _table(
    dc_creator=_TEXTS, dc_subject=_TEXTS, dc_date=rule("w3cdtf"), cc_license=_EAT,
    creativeCommons_license=rule("uri_full", many=True))

#: Namespaces whose whole vocabulary the tables above list: an element of one of them that its
#: place does not list is ``UndefinedElement``, as the W3C validator reports it.
CHECKED_NAMESPACES = frozenset({
    "http://purl.org/dc/elements/1.1/", "http://purl.org/dc/terms/",
    "http://purl.org/rss/1.0/modules/syndication/", "http://webns.net/mvcb/",
    "http://backend.userland.com/blogChannelModule", "http://purl.org/rss/1.0/modules/slash/",
    "http://wellformedweb.org/CommentAPI/",
    "http://madskills.com/public/xml/rss/module/trackback/",
    "http://purl.org/rss/1.0/modules/content/", "http://web.resource.org/cc/",
    "http://backend.userland.com/creativeCommonsRssModule",
    "http://www.w3.org/2003/01/geo/wgs84_pos#", "http://geourl.org/rss/module/",
    "http://postneo.com/icbm", "http://purl.org/rss/1.0/modules/aggregation/",
    "http://purl.org/rss/1.0/modules/annotate/", "http://purl.org/rss/1.0/modules/event/",
    "http://purl.org/syndication/thread/1.0", "http://purl.org/rss/1.0/modules/threading/",
    "http://purl.org/rss/1.0/modules/taxonomy/", "http://purl.org/rss/1.0/modules/wiki/",
    "http://www.usemod.com/cgi-bin/mb.pl?ModWiki", "http://my.theinfo.org/changed/1.0/rss/",
    "http://purl.org/rss/1.0/modules/link/", "http://www.w3.org/2000/01/rdf-schema#",
    "http://purl.org/syndication/history/1.0", "http://www.w3.org/2005/Atom",
})

# The same thing said twice, once in the core format and once by an extension:
# (core, extension) pairs, reported as DuplicateSemantics (channel) / DuplicateItemSemantics.
CHANNEL_SEMANTICS = (
    ("managingEditor", "dc:creator"), ("category", "dc:subject"), ("pubDate", "dc:date"),
    ("generator", "admin:generatorAgent"), ("webMaster", "dc:publisher"),
    ("language", "dc:language"), ("copyright", "dc:rights"),
    ("lastBuildDate", "dcterms:modified"), ("creativeCommons:license", "cc:license"),
)
ITEM_SEMANTICS = (
    ("author", "dc:creator"), ("category", "dc:subject"), ("pubDate", "dc:date"),
    ("pubDate", "atom:published"), ("guid", "atom:id"), ("source", "dc:source"),
    ("creativeCommons:license", "cc:license"),
)
