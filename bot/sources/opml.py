"""OPML feed lists in and out.

    feeds = parse_opml(uploaded_bytes)          # [OpmlFeed(url, title, site_url)], in file order
    data = to_opml(feeds, title="My feeds")    # bytes, UTF-8, OPML 2.0

Parsing goes through expat with any DOCTYPE or entity declaration refused outright: an OPML
list needs neither, and refusing them rules out entity expansion (billion laughs) and external
entities (XXE) whatever the document's encoding.
"""

from __future__ import annotations

import re
import xml.parsers.expat
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from xml.etree import ElementTree

from bot.sources.markup import http_url

MAX_OPML_BYTES = 5_000_000
MAX_FEEDS = 10_000
# Characters XML 1.0 cannot carry at all.
_INVALID_XML_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


class OpmlError(Exception):
    """An OPML file that cannot be read; `reason` is a short machine code, `str()` a message.

    Reasons: too_large, unsafe_xml, malformed, not_opml.
    """

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class OpmlFeed:
    url: str
    title: str | None = None
    site_url: str | None = None


def parse_opml(data: bytes, *, max_bytes: int = MAX_OPML_BYTES, max_feeds: int = MAX_FEEDS) -> list[OpmlFeed]:
    """The feeds of an OPML file: every outline with an http(s) xmlUrl, at any depth, once each
    (first title wins), in file order, at most `max_feeds`. Outlines without a usable URL are
    skipped. Raises OpmlError for a file that is not OPML or not safe to parse."""
    if len(data) > max_bytes:
        raise OpmlError("too_large", f"the OPML file is larger than {max_bytes:,} bytes")
    reader = _OutlineReader(max_feeds)
    parser = xml.parsers.expat.ParserCreate()
    parser.SetParamEntityParsing(xml.parsers.expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.StartDoctypeDeclHandler = _refuse_declarations
    parser.EntityDeclHandler = _refuse_declarations
    parser.UnparsedEntityDeclHandler = _refuse_declarations
    parser.ExternalEntityRefHandler = _refuse_declarations
    parser.StartElementHandler = reader.start
    try:
        parser.Parse(data, True)
    except xml.parsers.expat.ExpatError as exc:
        raise OpmlError("malformed", f"the OPML file is not well-formed XML ({exc})") from None
    if reader.root != "opml":
        raise OpmlError("not_opml", f"this is not an OPML file (its root element is <{reader.root or '?'}>)")
    return list(reader.feeds.values())


def to_opml(feeds: Iterable[OpmlFeed], title: str = "briefbot feeds") -> bytes:
    """An OPML 2.0 document listing `feeds`, one outline each."""
    root = ElementTree.Element("opml", version="2.0")
    head = ElementTree.SubElement(root, "head")
    ElementTree.SubElement(head, "title").text = _xml_safe(title)
    ElementTree.SubElement(head, "dateCreated").text = format_datetime(datetime.now(UTC), usegmt=True)
    body = ElementTree.SubElement(root, "body")
    for feed in feeds:
        label = _xml_safe(feed.title or feed.url)
        outline = ElementTree.SubElement(body, "outline", type="rss", text=label, title=label,
                                         xmlUrl=_xml_safe(feed.url))
        if feed.site_url:
            outline.set("htmlUrl", _xml_safe(feed.site_url))
    ElementTree.indent(root)
    return ElementTree.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"


class _OutlineReader:
    def __init__(self, max_feeds: int) -> None:
        self.max_feeds = max_feeds
        self.root: str | None = None
        self.feeds: dict[str, OpmlFeed] = {}

    def start(self, name: str, attributes: dict[str, str]) -> None:
        if self.root is None:
            self.root = name.lower()
        if name.lower() != "outline" or len(self.feeds) >= self.max_feeds:
            return
        attrs = {key.lower(): value for key, value in attributes.items()}  # some tools write xmlurl
        url = http_url(attrs.get("xmlurl"), "")
        if url is None or url in self.feeds:
            return
        title = " ".join((attrs.get("title") or attrs.get("text") or "").split())[:500] or None
        self.feeds[url] = OpmlFeed(url=url, title=title, site_url=http_url(attrs.get("htmlurl"), ""))


def _refuse_declarations(*_: object) -> None:
    raise OpmlError("unsafe_xml", "OPML files with a DOCTYPE or entity declarations are refused")


def _xml_safe(text: str) -> str:
    return _INVALID_XML_CHARS.sub("", text)
