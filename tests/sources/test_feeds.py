"""parse_feed on every feed format, on malformed and hostile documents; is_teaser; feed discovery."""

from __future__ import annotations

import json
import tracemalloc
from datetime import UTC, datetime

import pytest

from bot.sources.feeds import FeedEntry, FeedError, discover_feed_links, is_teaser, parse_feed

URL = "https://news.example.com/feed"
STORY = " ".join(["The council approved the budget for schools and parks after a long debate."] * 20)

RSS20 = f"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"
     xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel>
  <title>City &amp; News</title><link>https://news.example.com/</link>
  <item>
    <title>Budget passes</title><link>/2024/budget</link><guid isPermaLink="false">budget-2024</guid>
    <pubDate>Tue, 02 Jan 2024 12:00:00 +0200</pubDate><dc:creator>Ann Lee</dc:creator>
    <category>Politics</category><category>Schools</category>
    <description>The council approved the budget&#8230;</description>
    <content:encoded><![CDATA[<p>{STORY}</p>]]></content:encoded>
  </item>
  <item>
    <title>Older story</title><link>https://news.example.com/older</link>
    <pubDate>Mon, 01 Jan 2024 08:00:00 GMT</pubDate><description>Short.</description>
  </item>
</channel></rss>""".encode()

RSS091 = b"""<?xml version="1.0"?>
<!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN" "http://my.netscape.com/publish/formats/rss-0.91.dtd">
<rss version="0.91"><channel><title>Old school</title><link>http://old.example.com/</link>
<description>d</description><language>en</language>
<item><title>First</title><link>http://old.example.com/1</link><description>One.</description></item>
</channel></rss>"""

RSS10 = b"""<?xml version="1.0"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/"
         xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel rdf:about="http://rdf.example.com/"><title>RDF site</title><link>http://rdf.example.com/</link>
<description>d</description></channel>
<item rdf:about="http://rdf.example.com/a"><title>An item</title><link>http://rdf.example.com/a</link>
<description>Body.</description><dc:date>2024-02-03T04:05:06Z</dc:date></item>
</rdf:RDF>"""

ATOM = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Atom site</title>
<link href="https://atom.example.com/"/><link rel="self" href="https://atom.example.com/feed"/>
<updated>2024-03-01T00:00:00Z</updated><id>urn:atom-site</id>
<entry><title type="html">&lt;b&gt;Bold&lt;/b&gt; move</title><id>tag:atom.example.com,2024:1</id>
<link href="/posts/1"/><published>2024-03-01T10:00:00+01:00</published><updated>2024-03-02T00:00:00Z</updated>
<author><name>Bo</name></author><content type="html">&lt;p&gt;Full story here.&lt;/p&gt;</content></entry>
</feed>"""

JSON_FEED = json.dumps({
    "version": "https://jsonfeed.org/version/1.1", "title": "JSON site", "home_page_url": "https://json.example.com/",
    "items": [
        {"id": 42, "url": "https://json.example.com/42", "title": "Answer", "content_html": "<p>Deep thought.</p>",
         "summary": "Deep.", "date_published": "2024-04-05T06:07:08+02:00", "authors": [{"name": "Douglas"}],
         "tags": ["sf"]},
        {"id": "no-date", "content_text": "Text only, no title.", "external_url": "/ext"},
        "not an item",
        {"id": "empty"},
    ],
}).encode()


def test_rss20():
    feed = parse_feed(RSS20, url=URL, content_type="application/rss+xml")

    assert (feed.title, feed.link, feed.format, feed.salvaged) == ("City & News", "https://news.example.com/",
                                                                   "rss20", False)
    first, second = feed.entries
    assert first.guid == "budget-2024"
    assert first.url == "https://news.example.com/2024/budget"  # resolved against the feed's URL
    assert first.title == "Budget passes" and first.author == "Ann Lee"
    assert first.published == datetime(2024, 1, 2, 10, 0, tzinfo=UTC)
    assert first.summary == "The council approved the budget\u2026"
    assert STORY in first.content and first.text == first.content
    assert first.tags == ("Politics", "Schools")
    assert second.guid == "https://news.example.com/older" and second.content is None
    assert second.text == "Short."


def test_rss091_with_its_netscape_doctype():
    feed = parse_feed(RSS091, url="http://old.example.com/rss")
    assert feed.format == "rss091n"
    assert [(e.title, e.url, e.published) for e in feed.entries] == [("First", "http://old.example.com/1", None)]


def test_rss10_rdf():
    feed = parse_feed(RSS10, url="http://rdf.example.com/rss")
    assert (feed.format, feed.title) == ("rss10", "RDF site")
    assert feed.entries[0].published == datetime(2024, 2, 3, 4, 5, 6, tzinfo=UTC)


def test_atom():
    feed = parse_feed(ATOM, url="https://atom.example.com/feed")

    assert (feed.format, feed.title, feed.link) == ("atom10", "Atom site", "https://atom.example.com/")
    entry = feed.entries[0]
    assert entry.title == "Bold move"  # plain text, even from an HTML title
    assert entry.url == "https://atom.example.com/posts/1"
    assert entry.guid == "tag:atom.example.com,2024:1"
    assert entry.published == datetime(2024, 3, 1, 9, 0, tzinfo=UTC)
    assert entry.content == "<p>Full story here.</p>" and entry.author == "Bo"


def test_json_feed():
    feed = parse_feed(JSON_FEED, url="https://json.example.com/feed.json", content_type="application/feed+json")

    assert (feed.format, feed.title, feed.link) == ("json1.1", "JSON site", "https://json.example.com/")
    assert [e.guid for e in feed.entries] == ["42", "no-date"]  # dated first; bad items dropped
    answer, text_only = feed.entries
    assert answer == FeedEntry(guid="42", url="https://json.example.com/42", title="Answer", summary="Deep.",
                               content="<p>Deep thought.</p>", published=datetime(2024, 4, 5, 4, 7, 8, tzinfo=UTC),
                               author="Douglas", tags=("sf",))
    assert text_only.url == "https://json.example.com/ext" and text_only.text == "Text only, no title."


def test_json_feed_1_0_author():
    doc = {"version": "https://jsonfeed.org/version/1", "title": "t",
           "items": [{"id": "1", "url": "https://x.example/1", "content_text": "x", "author": {"name": "Al"}}]}
    assert parse_feed(json.dumps(doc).encode(), url=URL).entries[0].author == "Al"


@pytest.mark.parametrize("document, reason", [
    (b"", "empty"),
    (b"  \n\t ", "empty"),
    (b"\xef\xbb\xbf", "empty"),
    (b"<!DOCTYPE html><html><head><title>Home</title></head><body><p>Welcome</p></body></html>", "not_a_feed"),
    (b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"></svg>', "not_a_feed"),
    (b"\x00\xff\xfe garbage \x89PNG", "malformed"),
    (b'{"version": "1", "items": []}', "not_a_feed"),
    (b'{"data": [1, 2]}', "not_a_feed"),
    (b"[1, 2, 3]", "not_a_feed"),
    (b'{"version": "https://jsonfeed.org/version/1.1", "items": "nope"}', "malformed"),
    (b'{"version": "https://jsonfeed.org/version/1.1", "items": [', "malformed"),
    (b"<rss><channel><item><title>cut off", "malformed"),
])
def test_unusable_documents_raise_feed_error(document, reason):
    with pytest.raises(FeedError) as caught:
        parse_feed(document, url=URL)
    assert caught.value.reason == reason
    assert str(caught.value)


def test_a_malformed_feed_keeps_what_could_be_salvaged():
    broken = RSS20.replace(b"</channel></rss>", b"<item><title>Tom & Jerry</b></item>")
    feed = parse_feed(broken, url=URL)
    assert feed.salvaged and "SAXParseException" in feed.problem
    assert "Budget passes" in [e.title for e in feed.entries]


def test_a_truncated_feed_keeps_its_complete_items():
    feed = parse_feed(b'<rss version="2.0"><channel><item><title>whole</title><link>https://x.example/1</link>'
                      b'</item><item><title>cut o', url=URL)
    assert feed.salvaged and feed.problem
    assert feed.entries[0].title == "whole"


def test_a_valid_feed_without_items_is_not_an_error():
    feed = parse_feed(b'<?xml version="1.0"?><rss version="2.0"><channel><title>New blog</title></channel></rss>',
                      url=URL)
    assert (feed.title, feed.entries, feed.salvaged) == ("New blog", [], False)


def test_a_wrong_content_type_is_not_called_malformed():
    assert not parse_feed(RSS20, url=URL, content_type="text/html").salvaged


def test_entries_are_capped_newest_first():
    items = "".join(f"<item><title>n{i}</title><link>https://x.example/{i}</link>"
                    f"<pubDate>{datetime(2020, 1, 1 + i % 28, i % 24, tzinfo=UTC):%a, %d %b %Y %H:%M:%S} GMT</pubDate>"
                    f"</item>" for i in range(300))
    feed = parse_feed(f'<rss version="2.0"><channel><title>t</title>{items}</channel></rss>'.encode(), url=URL)
    assert len(feed.entries) == 200
    dates = [e.published for e in feed.entries]
    assert dates == sorted(dates, reverse=True)


def test_a_guid_too_long_for_storage_is_hashed():
    long_id = "x" * 5000
    feed = parse_feed(f'<rss version="2.0"><channel><item><guid isPermaLink="false">{long_id}</guid>'
                      f'<title>t</title></item></channel></rss>'.encode(), url=URL)
    assert feed.entries[0].guid.startswith("sha256:") and len(feed.entries[0].guid) == 71


def test_links_other_than_http_are_dropped():
    feed = parse_feed(b'<rss version="2.0"><channel><item><title>x</title><link>javascript:alert(1)</link>'
                      b'</item></channel></rss>', url=URL)
    assert feed.entries[0].url is None


# --- hostile XML --------------------------------------------------------------------------

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<rss version="2.0"><channel><title>t &lol9;</title>
<item><title>x &lol9;</title><link>https://x.example/1</link></item></channel></rss>"""

QUADRATIC_BLOWUP = (b'<?xml version="1.0"?>\n<!DOCTYPE rss [\n<!ENTITY a "' + b"A" * 100_000 + b'">\n]>\n'
                    b'<rss version="2.0"><channel><title>t</title><item><title>x</title><description>'
                    + b"&a;" * 20_000 + b"</description><link>https://x.example/1</link></item></channel></rss>")

EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE rss [ <!ENTITY xxe SYSTEM "file:///etc/passwd">
  <!ENTITY % remote SYSTEM "http://127.0.0.1:9/x.dtd"> %remote; ]>
<rss version="2.0"><channel><title>t</title>
<item><title>leak &xxe;</title><link>https://x.example/1</link></item></channel></rss>"""


@pytest.mark.parametrize("document", [BILLION_LAUGHS, QUADRATIC_BLOWUP, EXTERNAL_ENTITY,
                                      EXTERNAL_ENTITY.replace(b'version="1.0"?>', b'version="1.0" encoding="utf-16"?>')
                                      .decode().encode("utf-16")],
                         ids=["billion-laughs", "quadratic-blowup", "external-entity", "external-entity-utf-16"])
def test_entity_declarations_are_refused_before_anything_expands_or_fetches(document):
    tracemalloc.start()
    try:
        with pytest.raises(FeedError) as caught:
            parse_feed(document, url=URL)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert caught.value.reason == "unsafe_xml" and "entities" in str(caught.value)
    assert peak < 50_000_000  # unguarded, the quadratic blow-up takes gigabytes


def test_a_doctype_without_entity_declarations_is_fine():
    netscape = RSS20.replace(b"<rss", b'<!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN" '
                                      b'"http://my.netscape.com/publish/formats/rss-0.91.dtd">\n<rss', 1)
    assert parse_feed(netscape, url=URL).entries


@pytest.mark.timeout(60)  # a hang guard: salvaging this would take feedparser minutes
def test_a_large_malformed_document_is_refused_rather_than_salvaged():
    hostile = b'<rss version="2.0"><channel><item><title>x</title><description>' + b"<a " * 300_000
    with pytest.raises(FeedError) as caught:
        parse_feed(hostile, url=URL)
    assert caught.value.reason == "malformed" and "too large" in str(caught.value)


def test_a_feed_over_the_size_cap_is_refused():
    with pytest.raises(FeedError) as caught:
        parse_feed(RSS20, url=URL, max_bytes=100)
    assert caught.value.reason == "too_large"


def test_bytes_naming_a_file_are_parsed_not_opened():
    # feedparser opens a file or URL when handed a string naming one; parse_feed never lets it.
    with pytest.raises(FeedError):
        parse_feed(b"/etc/passwd", url=URL)


# --- teasers ------------------------------------------------------------------------------

def entry(summary=None, content=None) -> FeedEntry:
    return FeedEntry(guid="g", url="https://x.example/1", title="t", summary=summary, content=content, published=None)


@pytest.mark.parametrize("item, teaser", [
    (entry(), True),  # link only
    (entry(summary="A short blurb about the story."), True),
    (entry(summary=f"<p>{STORY}</p>"), False),  # a long summary is the story
    (entry(summary=f"<p>{STORY} Read more</p>"), True),  # cut off, however long
    (entry(summary=f"{STORY} [&#8230;]"), True),
    (entry(summary="Blurb.", content=f"<p>{STORY}</p>"), False),  # the full text is there
    (entry(summary="Blurb.", content="<p>Also short.</p>"), True),
])
def test_is_teaser(item, teaser):
    assert is_teaser(item) is teaser


# --- discovery ----------------------------------------------------------------------------

def test_discover_feed_links_in_a_page():
    page = b"""<html><head><link rel="stylesheet" href="/s.css">
    <link rel="alternate" type="application/rss+xml" title="RSS" href="/feed.xml">
    <LINK REL="alternate" TYPE="application/atom+xml" HREF='https://other.example/atom'>
    <link rel="alternate" type="text/html" hreflang="de" href="/de/">
    <link rel="alternate" type="application/rss+xml" href="javascript:alert(1)">
    <link rel="alternate" type="application/rss+xml" href="/feed.xml"></head><body></body></html>"""
    assert discover_feed_links(page, base_url="https://site.example/blog/") == [
        "https://site.example/feed.xml", "https://other.example/atom"]


@pytest.mark.timeout(60)  # a hang guard: html.parser takes many minutes on this
def test_discovery_copes_with_hostile_markup():
    assert discover_feed_links(b"<link " * 300_000, base_url="https://site.example/") == []
    assert discover_feed_links(b'<link rel="alternate" type="application/rss+xml" href="/f"'
                               + b" x" * 300_000, base_url="https://site.example/") == ["https://site.example/f"]
