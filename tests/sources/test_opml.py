"""OPML import and export: nested outlines, odd attribute spellings, hostile XML refused."""

from __future__ import annotations

import pytest

from bot.sources.opml import OpmlError, OpmlFeed, parse_opml, to_opml

EXPORTED_BY_A_READER = b"""<?xml version="1.0" encoding="UTF-8"?>
<opml version="1.0">
  <head><title>Subscriptions</title></head>
  <body>
    <outline text="Tech" title="Tech">
      <outline type="rss" text="Ars &amp; Co" title="Ars &amp; Co" xmlUrl="https://ars.example.com/feed"
               htmlUrl="https://ars.example.com/"/>
      <outline text="Deeper">
        <outline type="rss" text="Nested" xmlurl="http://nested.example.com/rss.xml"/>
      </outline>
    </outline>
    <outline type="rss" text="  Spaced   out  " xmlUrl="https://spaced.example.com/atom"/>
    <outline type="rss" text="Again" xmlUrl="https://ars.example.com/feed"/>
    <outline type="link" text="Just a link" url="https://blog.example.com/"/>
    <outline type="rss" text="Bad scheme" xmlUrl="javascript:alert(1)"/>
    <outline type="rss" text="Relative" xmlUrl="/feed.xml"/>
  </body>
</opml>"""


def test_parse_nested_outlines():
    assert parse_opml(EXPORTED_BY_A_READER) == [
        OpmlFeed("https://ars.example.com/feed", "Ars & Co", "https://ars.example.com/"),
        OpmlFeed("http://nested.example.com/rss.xml", "Nested"),
        OpmlFeed("https://spaced.example.com/atom", "Spaced out"),
    ]


def test_export_then_import_round_trips():
    feeds = [OpmlFeed("https://a.example/feed", "A <&> \"quoted\"", "https://a.example/"),
             OpmlFeed("https://b.example/rss?x=1&y=2", None),
             OpmlFeed("https://c.example/feed", "control \x01 char")]
    exported = to_opml(feeds, title="My feeds")

    assert exported.startswith(b"<?xml version='1.0' encoding='utf-8'?>")
    assert b"<title>My feeds</title>" in exported
    assert parse_opml(exported) == [feeds[0], OpmlFeed("https://b.example/rss?x=1&y=2", "https://b.example/rss?x=1&y=2"),
                                    OpmlFeed("https://c.example/feed", "control char")]


def test_utf16_opml():
    document = EXPORTED_BY_A_READER.decode().replace('encoding="UTF-8"', 'encoding="UTF-16"').encode("utf-16")
    assert len(parse_opml(document)) == 3


def test_feed_count_is_capped():
    outlines = "".join(f'<outline xmlUrl="https://f{i}.example/feed"/>' for i in range(50))
    assert len(parse_opml(f"<opml><body>{outlines}</body></opml>".encode(), max_feeds=10)) == 10


@pytest.mark.parametrize("document, reason", [
    (b'<?xml version="1.0"?><!DOCTYPE opml [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;">]>'
     b'<opml><body><outline text="&b;" xmlUrl="https://x.example/"/></body></opml>', "unsafe_xml"),
    (b'<?xml version="1.0"?><!DOCTYPE opml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
     b'<opml><body><outline text="&xxe;" xmlUrl="https://x.example/"/></body></opml>', "unsafe_xml"),
    (b'<?xml version="1.0"?><!DOCTYPE opml SYSTEM "http://127.0.0.1:9/opml.dtd"><opml/>', "unsafe_xml"),
    ('<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE o [<!ENTITY a "x">]><opml/>'.encode("utf-16"), "unsafe_xml"),
    (b'<rss version="2.0"><channel/></rss>', "not_opml"),
    (b"<opml><body><outline", "malformed"),
    (b"", "malformed"),
    (b"just text", "malformed"),
])
def test_unsafe_or_unreadable_files_raise_opml_error(document, reason):
    with pytest.raises(OpmlError) as caught:
        parse_opml(document)
    assert caught.value.reason == reason and str(caught.value)


def test_a_file_over_the_size_cap_is_refused():
    with pytest.raises(OpmlError) as caught:
        parse_opml(EXPORTED_BY_A_READER, max_bytes=100)
    assert caught.value.reason == "too_large"
