"""The W3C Feed Validator's rules feedkit's validator follows since issue 24, each on a small
hand-written feed: where extension elements may appear, attributes, structured RSS parts, Atom
constructs, RSS 1.0, strict HTML, parse errors and encodings.

These run everywhere; tests/test_w3c_suite.py runs the W3C validator's own 1,341 cases where
``../shared`` has them. Each test shows the rule firing on a bad feed and staying quiet on the
good one next to it.
"""

from __future__ import annotations

from pathlib import Path

from feedkit.validate import W3C_PARENT, Problem, kind_of, validate_dir, validate_feed

BASE = "https://news.example.org/boryeong/"
RSS_NS = ('xmlns:atom="http://www.w3.org/2005/Atom" xmlns:dc="http://purl.org/dc/elements/1.1/" '
          'xmlns:sy="http://purl.org/rss/1.0/modules/syndication/"')


def rss(channel_extra: str = "", item_extra: str = "", ns: str = RSS_NS,
        docs: str = "") -> bytes:
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0" {ns}>\n<channel>\n'
            "<title>보령시 새소식</title>\n<link>https://www.brcn.go.kr/</link>\n"
            "<description>소식</description>\n"
            f'<atom:link href="{BASE}feed.xml" rel="self" type="application/rss+xml"/>\n'
            f"{docs}{channel_extra}\n<item>\n<title>제목</title>\n"
            "<link>https://www.brcn.go.kr/a/1</link>\n<description>요약</description>\n"
            "<guid>https://www.brcn.go.kr/a/1</guid>\n"
            f"<pubDate>Sat, 01 Jun 2024 09:30:00 +0900</pubDate>\n{item_extra}\n</item>\n"
            "</channel>\n</rss>\n").encode()


def atom(feed_extra: str = "", entry_extra: str = "", content: str | None = None,
         root: str = 'xmlns="http://www.w3.org/2005/Atom"') -> bytes:
    if content is None:
        content = '<content type="html">&lt;p&gt;본문&lt;/p&gt;</content>'
    return (f'<?xml version="1.0" encoding="utf-8"?>\n<feed {root}>\n'
            f"<id>{BASE}</id><title>T</title><updated>2024-06-12T09:00:00+09:00</updated>\n"
            f'<author><name>보령시</name></author>\n<link href="{BASE}atom.xml" rel="self"/>\n'
            f"{feed_extra}\n<entry><id>https://www.brcn.go.kr/a/1</id><title>제목</title>"
            '<updated>2024-06-01T09:30:00+09:00</updated><link href="https://www.brcn.go.kr/a/1"/>'
            f"{content}{entry_extra}</entry>\n</feed>\n").encode()


def codes(data: bytes, location: str | None = None) -> set[str]:
    return {p.code for p in validate_feed(data, "feed.xml", location)}


def test_baselines_are_clean():
    assert codes(rss()) == set()
    assert codes(atom()) == set()


def test_message_hierarchy_gives_special_cases_and_severities():
    assert kind_of("MissingTitle", "MissingElement")
    assert kind_of("InvalidFullLink", "InvalidLink") and kind_of("InvalidFullLink", "Error")
    assert kind_of("DangerousStyleAttr", "SecurityRisk")
    assert not kind_of("MissingElement", "MissingTitle")
    assert Problem("f", "m", "warning", "x").accepted is False
    for code in W3C_PARENT:
        assert kind_of(code, "Error") != kind_of(code, "Warning"), code
    found = validate_feed(rss(item_extra="<blink/>"), "feed.xml")
    assert any(p.code == "UndefinedElement" and p.severity == "error" for p in found)


# -- where extension elements may appear ----------------------------------------------------

def test_syndication_module_belongs_to_the_channel():
    assert codes(rss("<sy:updatePeriod>daily</sy:updatePeriod>"
                     "<sy:updateFrequency>2</sy:updateFrequency>")) == set()
    assert codes(rss(item_extra="<sy:updatePeriod>daily</sy:updatePeriod>")) \
        == {"UndefinedElement"}
    assert codes(rss("<sy:updatePeriod>sometimes</sy:updatePeriod>")) == {"InvalidUpdatePeriod"}
    assert codes(rss("<sy:updateFrequency>0</sy:updateFrequency>")) \
        == {"InvalidPositiveInteger"}
    assert codes(rss("<sy:updatePeriods>daily</sy:updatePeriods>")) == {"UndefinedElement"}


def test_dublin_core_repeats_and_duplicate_semantics():
    assert codes(rss("<dc:language>ko</dc:language><dc:language>en</dc:language>")) \
        == {"DuplicateElement"}
    # an item may carry several dc:date (the W3C validator allows it), a channel only one
    assert codes(rss(item_extra="<dc:date>2024-06-01</dc:date><dc:date>2024-06-02</dc:date>")) \
        == {"DuplicateItemSemantics"}
    assert codes(rss("<dc:date>2024-06-01</dc:date><dc:date>2024-06-02</dc:date>")) \
        == {"DuplicateElement"}
    assert codes(rss("<dc:date>2024-6-1</dc:date>")) == {"InvalidW3CDTFDate"}
    assert codes(rss("<managingEditor>news@example.org (보령시)</managingEditor>"
                     "<dc:creator>보령시</dc:creator>")) == {"DuplicateSemantics"}
    # "qualified" DC is read as its element (a date here), not as a second dc:date
    assert codes(rss(item_extra="<dc:date.Taken>2024-06-01</dc:date.Taken>")) == set()
    assert codes(rss(item_extra="<dc:date.Taken>June</dc:date.Taken>")) == {"InvalidW3CDTFDate"}


def test_unknown_namespaces_are_accepted_but_named():
    ns = RSS_NS + ' xmlns:x="https://example.org/ns/x"'
    assert codes(rss("<x:anything><x:nested/></x:anything>", ns=ns)) == {"UnknownNamespace"}
    # inside an extension element of RSS 2.0, an element in no namespace is an error
    assert "NotInANamespace" in codes(rss("<x:thing><plain/></x:thing>", ns=ns))


def test_issue_28_elements_are_accepted():
    """Elements other issues add to feedkit's feeds: WebSub hub and license links, dc:rights."""
    links = ('<atom:link rel="hub" href="https://pubsubhubbub.appspot.com/"/>'
             '<atom:link rel="license" href="https://creativecommons.org/licenses/by/4.0/"/>')
    assert codes(rss(links + "<dc:rights>보령시</dc:rights>")) == set()
    assert codes(atom(links.replace("atom:link", "link")
                      + "<rights>보령시</rights>")) == set()
    # saying the same thing twice is the W3C's DuplicateSemantics warning
    assert codes(rss("<copyright>보령시</copyright><dc:rights>보령시</dc:rights>")) \
        == {"DuplicateSemantics"}


def test_validate_dir_skips_opml(tmp_path: Path):
    (tmp_path / "feed.xml").write_bytes(rss())
    (tmp_path / "feeds.opml").write_text(
        '<?xml version="1.0"?><opml version="2.0"><head><title>피드</title></head><body>'
        f'<outline type="rss" text="보령" xmlUrl="{BASE}feed.xml"/></body></opml>',
        encoding="utf-8")
    assert validate_dir(tmp_path, BASE) == []


# -- links, attributes, text ----------------------------------------------------------------

def test_any_uri_scheme_is_a_link_but_a_relative_one_is_not():
    assert codes(rss(item_extra="<comments>ftp://ftp.example.org/c.txt</comments>")) == set()
    assert codes(rss(item_extra="<comments>mailto:news@example.org</comments>")) == set()
    assert codes(rss(item_extra="<comments>/a/1#comments</comments>")) == {"InvalidFullLink"}


def test_unexpected_and_extension_attributes():
    assert codes(rss().replace(b"<guid>", b'<guid isPermalink="true">')) \
        == {"UnexpectedAttribute"}
    xsi = RSS_NS + ' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="x"'
    assert codes(rss(ns=xsi)) == {"UnknownNamespace", "UseOfExtensionAttr"}
    rssboard = "<docs>http://www.rssboard.org/rss-specification</docs>"
    assert codes(rss(ns=xsi, docs=rssboard)) == {"UnknownNamespace"}


def test_text_between_channel_elements():
    assert codes(rss("stray words")) == {"UnexpectedText"}


def test_rss_structured_parts():
    assert codes(rss("<textInput><title>검색</title><description>d</description>"
                     "<name>q</name><link>https://www.brcn.go.kr/s</link></textInput>")) \
        == {"AvoidTextInput"}
    assert codes(rss("<textInput><title>검색</title></textInput>")) \
        >= {"AvoidTextInput", "MissingLink", "MissingDescription", "MissingElement"}
    assert codes(rss("<textInput><title>검색</title><description>d</description>"
                     "<name>1q</name><link>https://www.brcn.go.kr/s</link></textInput>")) \
        == {"AvoidTextInput", "InvalidFormComponentName"}
    assert codes(rss("<skipHours><hour>0</hour><hour>23</hour></skipHours>")) == set()
    assert codes(rss("<skipHours><hour>24</hour></skipHours>")) == {"UseZeroForMidnight"}
    assert codes(rss("<skipHours><hour>5</hour><hour>5</hour></skipHours>")) \
        == {"DuplicateValue"}
    assert codes(rss("<skipDays><day>Sunday</day><day>Someday</day></skipDays>")) \
        == {"InvalidDay"}
    assert codes(rss('<cloud domain="rpc.example.org" port="80" path="/RPC2" '
                     'registerProcedure="notify" protocol="xml-rpc"/>')) == set()
    assert codes(rss('<cloud domain="rpc.example.org" port="0" path="/RPC2" '
                     'registerProcedure="notify"/>')) \
        == {"MissingAttribute", "InvalidIntegerAttribute"}


# -- Atom -----------------------------------------------------------------------------------

def test_relative_references_resolve_against_xml_base():
    feed = atom(root=f'xmlns="http://www.w3.org/2005/Atom" xml:base="{BASE}"',
                entry_extra='<link rel="related" href="../a/2"/>').replace(
        f'href="{BASE}atom.xml" rel="self"'.encode(), b'href="atom.xml" rel="self"')
    assert codes(feed, BASE + "atom.xml") == set()
    assert codes(feed, BASE + "other.xml") == {"SelfDoesntMatchLocation"}
    no_base = atom().replace(f'href="{BASE}atom.xml"'.encode(), b'href="atom.xml"')
    assert codes(no_base) == {"RelativeSelf"}


def test_iana_relation_uris_count_as_their_short_names():
    feed = atom().replace(b'rel="self"', b'rel="http://www.iana.org/assignments/relation/self"')
    assert codes(feed) == set()


def test_atom_persons_sources_and_entry_documents():
    assert codes(atom(entry_extra="<author><name>a</name><name>b</name></author>")) \
        == {"DuplicateElement"}
    assert codes(atom(entry_extra="<author><name>a</name><nick>b</nick></author>")) \
        == {"UndefinedElement"}
    assert codes(atom(entry_extra="<source><title>원문</title></source>")) \
        == {"MissingSourceElement"}
    entry_doc = (b'<entry xmlns="http://www.w3.org/2005/Atom"><id>https://www.brcn.go.kr/a/1'
                 b"</id><title>T</title><updated>2024-06-01T09:30:00+09:00</updated>"
                 b"<author><name>A</name></author><summary>S</summary>"
                 b'<link href="https://www.brcn.go.kr/a/1"/></entry>')
    assert codes(entry_doc) == set()
    assert codes(entry_doc.replace(b"<author><name>A</name></author>", b"")) \
        == {"MissingElement"}


def test_atom_namespace_must_be_exact():
    assert "InvalidNamespace" in codes(atom(root='xmlns="http://www.w3.org/2005/atom"'))
    assert "MissingNamespace" in codes(atom(root=""))


def test_inline_xhtml():
    div = '<div xmlns="http://www.w3.org/1999/xhtml">{}</div>'
    assert codes(atom(content=f'<content type="xhtml">{div.format("<p>본문</p>")}</content>')) \
        == set()
    assert codes(atom(content='<content type="xhtml">&lt;p&gt;본문&lt;/p&gt;</content>')) \
        == {"MissingXhtmlDiv", "NotInline"}
    escaped = div.format("&lt;b&gt;굵게&lt;/b&gt;")
    assert codes(atom(content=f'<content type="xhtml">{escaped}</content>')) == {"NotInline"}
    svg = div.format('<svg xmlns="http://www.w3.org/2000/svg"><script/></svg>')
    assert codes(atom(content=f'<content type="xhtml">{svg}</content>')) == {"SecurityRisk"}


# -- RSS 1.0 --------------------------------------------------------------------------------

RDF = ('<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
       'xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">'
       '<channel rdf:about="https://www.brcn.go.kr/"><title>T</title>'
       "<link>https://www.brcn.go.kr/</link><description>D</description>"
       '<items><rdf:Seq><rdf:li rdf:resource="https://www.brcn.go.kr/a/1"/></rdf:Seq></items>'
       '</channel><item rdf:about="https://www.brcn.go.kr/a/1"><title>제목</title>'
       "<link>https://www.brcn.go.kr/a/1</link>{}</item></rdf:RDF>")


def test_rss_1_0():
    assert codes(RDF.format("<dc:date>2024-06-01</dc:date>").encode()) == set()
    assert codes(RDF.format("<pubDate>Sat, 01 Jun 2024 09:30:00 +0900</pubDate>").encode()) \
        == {"UndefinedElement"}
    assert codes(RDF.format("<description>x<b>y</b></description>").encode()) == {"InvalidRDF"}
    missing_about = RDF.replace('<item rdf:about="https://www.brcn.go.kr/a/1">', "<item>")
    assert codes(missing_about.format("").encode()) == {"MissingAttribute"}
    twice = RDF.replace("</rdf:RDF>", '<item rdf:about="https://www.brcn.go.kr/a/1"><title>'
                        "T</title><link>https://www.brcn.go.kr/a/1</link></item></rdf:RDF>")
    assert codes(twice.format("").encode()) == {"DuplicateValue"}


# -- HTML, parse errors, encodings ----------------------------------------------------------

def test_strict_html_in_descriptions():
    def described(html: str) -> set[str]:
        return codes(rss().replace(b"<description>\xec\x9a\x94\xec\x95\xbd</description>",
                                   f"<description>{html}</description>".encode()))

    assert described("&lt;p&gt;AT&amp;amp;T&lt;/p&gt;") == set()
    assert described("&lt;p&gt;AT&amp;T&lt;/p&gt;") == {"NotHtml"}
    assert described("isn&amp;#x92;t") == {"NotHtml"}
    assert described('&lt;p role="note" aria-label="x"&gt;a&lt;/p&gt;') == set()
    assert described('&lt;p onclick="x()"&gt;a&lt;/p&gt;') == {"SecurityRiskAttr"}
    assert described("&lt;html&gt;&lt;body&gt;a&lt;/body&gt;&lt;/html&gt;") == {"NotHtml"}


def test_problems_before_a_parse_error_are_reported():
    broken = rss(item_extra="<bogus>").replace(b"</item>", b"</itemz>", 1)
    found = validate_feed(broken, "feed.xml")
    assert {p.code for p in found} == {"SAXError", "UndefinedElement"}
    # the channel never ended, so its missing children are not known (and not reported)
    assert validate_feed(b'<rss version="2.0"><channel><title>T</title><x>', "f.xml")[0].code \
        == "SAXError"
    assert len(validate_feed(b'<rss version="2.0"><channel><title>T</title><x>', "f.xml")) == 1


def test_encodings():
    bom = b"\xef\xbb\xbf" + rss().replace(b'encoding="UTF-8"', b'encoding="ISO-8859-1"')
    assert codes(bom) == {"UnicodeError"}
    cyrillic = rss().decode("utf-8").replace("보령시 새소식", "Новости").replace(
        "제목", "Заголовок").replace("소식", "Новости").replace("요약", "Сводка")
    mac = cyrillic.replace('encoding="UTF-8"', 'encoding="mac-cyrillic"').encode("mac-cyrillic")
    assert codes(mac) == {"ObscureEncoding"}
