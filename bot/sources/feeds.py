"""Feeds from bytes: RSS 0.9x/1.0/2.0 and Atom through feedparser, JSON Feed 1.0/1.1 by hand.

    parsed = parse_feed(result.content, url=result.url, content_type=result.content_type)
    for entry in parsed.entries:        # newest first when the feed dates them
        entry.guid, entry.url, entry.title, entry.text, entry.published

Nothing here touches the network: feedparser is handed bytes in a BytesIO, never a string
(it would fetch a URL, or open a file, named by one). Parsing is CPU work: an async caller
should run it in a thread (`await asyncio.to_thread(parse_feed, ...)`).

A feed that declares XML entities is refused (reason "unsafe_xml") before feedparser sees it:
feedparser expands "safe" internal entities in its fallback parser, so one declared entity
referenced many times (a quadratic blow-up) would inflate a 160 KB document into gigabytes, and
real feeds have no use for entity declarations. The prolog is read by a real XML parser
(defusedxml's, which refuses entity declarations), so a comment or a string in the DOCTYPE cannot
hide one; a prolog it cannot read is refused when "<!ENTITY" appears anywhere in the document.
Each entry's summary and content are capped at MAX_ENTRY_CHARS characters.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import xml.parsers.expat
import xml.sax
import xml.sax.handler
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import defusedxml.sax
import feedparser
from defusedxml import DefusedXmlException

from bot.domain.neutral import neutral_text
from bot.sources.markup import http_url, link_tags, plain_text

MAX_ENTRIES = 200
MAX_FEED_BYTES = 20_000_000
MAX_GUID_CHARS = 1000
MAX_SALVAGE_BYTES = 512_000  # larger malformed documents are refused rather than salvaged
MAX_ENTRY_CHARS = 200_000  # of an entry's summary or content: a long article is 50,000; more is cut

# Notes feedparser raises about perfectly readable feeds (a wrong Content-Type, an encoding override).
_HARMLESS = (feedparser.ThingsNobodyCaresAboutButMe,)

_ENTITY_DECLARATION = re.compile(rb"<!entity", re.IGNORECASE)
# "<!ENTITY" in the encodings feedparser detects besides ASCII-compatible ones.
_WIDE_ENTITY_MARKERS = tuple("<!ENTITY".encode(codec)
                             for codec in ("utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be", "cp037"))
_FEED_LINK_TYPES = frozenset({"application/rss+xml", "application/atom+xml", "application/feed+json",
                              "application/rdf+xml", "application/json"})
_TRUNCATED = re.compile(r"(\.\.\.|…|\[\s*(\.\.\.|…)\s*\]|read more|continue reading|read the full|more\s*»|»)\s*$",
                        re.IGNORECASE)
_JSON_FEED_VERSION = "https://jsonfeed.org/version/"


class FeedError(Exception):
    """A document that is not a usable feed; `reason` is a short machine code, `str()` a message.

    Reasons: empty, not_a_feed, malformed, too_large, unsafe_xml.
    """

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class FeedEntry:
    """One item of a feed. `summary` and `content` are HTML or text as the feed gave them
    (feedparser sanitizes RSS/Atom HTML; JSON Feed HTML is as sent): treat both as untrusted."""

    guid: str  # the feed's id, else the link, else a hash of title and text; at most 1000 chars
    url: str | None  # absolute http(s) link to the article
    title: str | None  # plain text
    summary: str | None
    content: str | None  # the full text, when the feed carries more than a summary
    published: datetime | None  # UTC, aware; the update time when no publication time is given
    author: str | None = None
    tags: tuple[str, ...] = ()

    @property
    def text(self) -> str:
        """The fullest body the feed carries (HTML or text), or ""."""
        return self.content or self.summary or ""


@dataclass(frozen=True)
class ParsedFeed:
    title: str | None
    link: str | None  # the site the feed belongs to
    entries: list[FeedEntry] = field(default_factory=list)
    format: str = ""  # feedparser's version ("rss20", "atom10"...) or "json1", "json1.1"
    salvaged: bool = False  # the document was malformed; entries are what could be read
    problem: str | None = None  # what was wrong with it, when salvaged


def parse_feed(content: bytes, *, url: str, content_type: str | None = None,
               max_entries: int = MAX_ENTRIES, max_bytes: int = MAX_FEED_BYTES) -> ParsedFeed:
    """Parse a fetched feed. `url` resolves relative links; `content_type` (the HTTP header) helps
    find the character encoding. Keeps at most `max_entries` entries, the newest when dated.
    A malformed feed is accepted (`salvaged=True`) when its entries, or at least its title or
    link, could be read.
    Raises FeedError when nothing usable is there (HTML page, empty document, garbage)."""
    if len(content) > max_bytes:
        raise FeedError("too_large", f"the feed is larger than {max_bytes:,} bytes")
    stripped = content.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not stripped:
        raise FeedError("empty", "the feed is empty")
    if stripped.startswith((b"{", b"[")):
        return _parse_json_feed(stripped, url=url, max_entries=max_entries)
    _refuse_entity_declarations(content)
    return _parse_xml_feed(content, url=url, content_type=content_type, max_entries=max_entries)


def is_teaser(entry: FeedEntry, *, min_words: int = 120) -> bool:
    """True when the feed carries only a teaser of the story, so the article page is worth fetching:
    no body at all, a short one, or one cut off with "…" / "Read more" and no full content."""
    body = plain_text(entry.text)
    words = len(body.split())
    if words < min_words:
        return True
    return not entry.content and bool(_TRUNCATED.search(body[-60:]))


def discover_feed_links(page: bytes | str, *, base_url: str, limit: int = 10) -> list[str]:
    """Feed URLs a web page advertises (<link rel="alternate" type="application/rss+xml"...>),
    absolute, in page order, for when a person gives a site's address instead of its feed's."""
    text = page.decode("utf-8", "replace") if isinstance(page, bytes) else page
    head = text[:1_000_000]  # the links live in <head>; never scan a huge page whole
    links: list[str] = []
    for attrs in link_tags(head):
        is_feed = attrs.get("type", "").lower().strip() in _FEED_LINK_TYPES
        if is_feed and "alternate" in attrs.get("rel", "").lower().split():
            link = http_url(attrs.get("href"), base_url)
            if link is not None:
                links.append(link)
    return list(dict.fromkeys(links))[:limit]


class _PrologRead(Exception):
    """The first element has started: the prolog, where entities would be declared, is behind."""


class _StopAtFirstElement(xml.sax.handler.ContentHandler):
    def startElement(self, name: str, attrs: object) -> None:
        raise _PrologRead


def _refuse_entity_declarations(content: bytes) -> None:
    try:
        # A DOCTYPE naming an external DTD (RSS 0.91's) is allowed: it is never loaded (the SAX
        # reader's external_ges feature is off), and an external entity would need a declaration.
        defusedxml.sax.parseString(content, _StopAtFirstElement(), forbid_dtd=False, forbid_entities=True,
                                   forbid_external=False)
    except _PrologRead:
        return
    except DefusedXmlException:
        pass  # refused below
    except (xml.sax.SAXException, ValueError, LookupError):
        # A prolog the parser cannot read (malformed, an encoding it lacks): feedparser's lenient parser
        # would still read it, so any declaration anywhere is refused.
        if not (_ENTITY_DECLARATION.search(content) or any(marker in content for marker in _WIDE_ENTITY_MARKERS)):
            return
    else:
        return  # a document without elements: feedparser will say it is not a feed
    raise FeedError("unsafe_xml", "the feed declares XML entities, which are refused: they serve "
                                  "billion-laughs and external-entity attacks, and real feeds do not need them")


def _parse_xml_feed(content: bytes, *, url: str, content_type: str | None, max_entries: int) -> ParsedFeed:
    if len(content) > MAX_SALVAGE_BYTES:
        _check_well_formed(content)
    headers = {"content-location": url}
    if content_type:
        headers["content-type"] = content_type
    # The HTML of entries is only ever read for its text, never shown: feedparser's sanitizer and
    # link rewriter, which re-parse every snippet (and are slow on hostile markup), are not needed.
    result = feedparser.parse(io.BytesIO(content), response_headers=headers, sanitize_html=False,
                              resolve_relative_uris=False)
    version = result.get("version") or ""
    exc = result.get("bozo_exception")
    problem = _describe(exc) if result.get("bozo") and not isinstance(exc, _HARMLESS) else None
    feed = result.feed
    entries = [entry for raw in result.entries if (entry := _xml_entry(raw, url)) is not None]
    salvaged_nothing = problem and not (feed.get("title") or feed.get("link"))
    if not entries and (salvaged_nothing or not version):
        if _looks_like_html(content):
            raise FeedError("not_a_feed", "this is a web page, not a feed")
        if not version:
            raise FeedError("malformed" if problem else "not_a_feed",
                            f"not a feed{f' ({problem})' if problem else ''}")
        raise FeedError("malformed", f"the feed is malformed and has no readable entries ({problem})")
    return ParsedFeed(title=_text_or_none(feed.get("title")), link=http_url(feed.get("link"), url),
                      entries=_newest(entries, max_entries), format=version, salvaged=bool(problem),
                      problem=problem)


def _check_well_formed(content: bytes) -> None:
    """Refuse a large malformed document: feedparser's fallback parser would take minutes on it."""
    parser = xml.parsers.expat.ParserCreate()
    parser.SetParamEntityParsing(xml.parsers.expat.XML_PARAM_ENTITY_PARSING_NEVER)
    try:
        parser.Parse(content, True)
    except xml.parsers.expat.ExpatError as exc:
        if exc.code == xml.parsers.expat.errors.codes[xml.parsers.expat.errors.XML_ERROR_UNKNOWN_ENCODING]:
            return  # an encoding expat lacks (Shift JIS...): feedparser converts it first
        raise FeedError("malformed", f"the feed is malformed ({exc}) and too large "
                                     f"(over {MAX_SALVAGE_BYTES:,} bytes) to salvage") from None


def _xml_entry(raw: Any, feed_url: str) -> FeedEntry | None:
    link = http_url(raw.get("link"), feed_url)
    title = _text_or_none(raw.get("title"))
    summary = _capped(raw.get("summary"))
    bodies = [part.get("value") or "" for part in raw.get("content") or []]
    content = _capped(max(bodies, key=len, default=""))
    if not (title or summary or content or link):
        return None
    published = _struct_time_utc(raw.get("published_parsed") or raw.get("updated_parsed"))
    tags = tuple(t for tag in raw.get("tags") or [] if (t := _text_or_none(tag.get("term"))))
    return FeedEntry(guid=_guid(raw.get("id"), link, title, summary or content), url=link, title=title,
                     summary=summary, content=content, published=published,
                     author=_text_or_none(raw.get("author")), tags=tags[:20])


def _parse_json_feed(content: bytes, *, url: str, max_entries: int) -> ParsedFeed:
    try:
        document = json.loads(content)
    except (ValueError, RecursionError) as exc:
        raise FeedError("malformed", f"the JSON feed is not valid JSON ({exc})") from None
    if not (isinstance(document, dict) and str(document.get("version", "")).startswith(_JSON_FEED_VERSION)):
        raise FeedError("not_a_feed", "this is JSON, but not a JSON Feed")
    items = document.get("items")
    if not isinstance(items, list):
        raise FeedError("malformed", "the JSON feed has no list of items")
    entries = [entry for item in items if isinstance(item, dict) and (entry := _json_entry(item, url))]
    version = str(document["version"])[len(_JSON_FEED_VERSION):]
    return ParsedFeed(title=_text_or_none(_str(document.get("title"))),
                      link=http_url(_str(document.get("home_page_url")), url),
                      entries=_newest(entries, max_entries), format=f"json{version}")


def _json_entry(item: dict[str, Any], feed_url: str) -> FeedEntry | None:
    link = http_url(_str(item.get("url")) or _str(item.get("external_url")), feed_url)
    title = _text_or_none(_str(item.get("title")))
    summary = _capped(_str(item.get("summary")))
    content = _capped(_str(item.get("content_html")) or _str(item.get("content_text")))
    if not (title or summary or content or link):
        return None
    authors = item.get("authors") if isinstance(item.get("authors"), list) else [item.get("author")]
    names = [_str(a.get("name")) for a in authors if isinstance(a, dict)]
    tags = tuple(t for tag in item.get("tags") or [] if (t := _text_or_none(_str(tag))))
    raw_id = item.get("id")
    guid_source = str(raw_id) if isinstance(raw_id, (str, int)) and not isinstance(raw_id, bool) else None
    return FeedEntry(guid=_guid(guid_source, link, title, summary), url=link, title=title, summary=summary,
                     content=content, published=_iso_utc(item.get("date_published") or item.get("date_modified")),
                     author=", ".join(n for n in names if n) or None, tags=tags[:20])


def _newest(entries: list[FeedEntry], limit: int) -> list[FeedEntry]:
    """Entries newest first when the feed dates them (feed order otherwise), capped at `limit`."""
    if any(entry.published for entry in entries):
        oldest = datetime.min.replace(tzinfo=UTC)
        entries = sorted(entries, key=lambda e: e.published or oldest, reverse=True)
    return entries[:limit]


def _guid(raw_id: str | None, link: str | None, title: str | None, body: str | None) -> str:
    guid = (raw_id or "").strip() or link
    if guid and len(guid) <= MAX_GUID_CHARS:
        return guid
    basis = guid or f"{title or ''}\n{plain_text(body)[:2000]}"
    return "sha256:" + hashlib.sha256(basis.encode("utf-8", "replace")).hexdigest()


def _struct_time_utc(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        return datetime(*value[:6], tzinfo=UTC)
    except (TypeError, ValueError, OverflowError):
        return None


def _iso_utc(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def _str(value: object) -> str:
    return value if isinstance(value, str) else ""


def _capped(body: object) -> str | None:
    """An entry's body, at most MAX_ENTRY_CHARS (cut at a space when there is one near the end)."""
    if not isinstance(body, str) or not body:
        return None
    if len(body) > MAX_ENTRY_CHARS:
        body = body[:MAX_ENTRY_CHARS]
        space = body.rfind(" ", MAX_ENTRY_CHARS - 1000)
        body = body[:space] if space > 0 else body
    return neutral_text(body) or None


def _text_or_none(value: object) -> str | None:
    text = neutral_text(plain_text(value)) if isinstance(value, str) else ""
    return text[:1000] or None


def _describe(exc: object) -> str:
    return f"{type(exc).__name__}: {exc}"[:300] if exc else "malformed"


def _looks_like_html(content: bytes) -> bool:
    head = content[:4096].lower()
    return any(marker in head for marker in (b"<html", b"<!doctype html", b"<body", b"<head"))
