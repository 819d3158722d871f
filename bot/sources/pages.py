"""The main text of a web page, through trafilatura.

    page = extract_page(result.content, url=result.url)
    page.title, page.date, page.text, page.canonical_url

Hostile HTML is bounded before parsing: scripts and styles (often most of a news page's bytes)
are cut out with a linear scan, keeping JSON-LD metadata, and what remains is capped; so is the main
text kept (MAX_TEXT_CHARS), and invisible controls are removed from it (bot.domain.neutral). Parsing
is CPU work: an async caller should run it in a thread (`await asyncio.to_thread(extract_page, ...)`).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from trafilatura import bare_extraction

from bot.domain.neutral import neutral_text
from bot.sources.markup import http_url, link_tags

log = logging.getLogger(__name__)

MAX_HTML_BYTES = 3_000_000
MIN_TEXT_CHARS = 100
MAX_TEXT_CHARS = 200_000  # of the main text kept (and stored); a long article is 50,000

# A script or style element, or an unclosed one running to the end (consumed in one pass, so a
# run of unclosed tags costs linear time).
_HIDDEN = re.compile(rb"<(script|style)\b([^>]*)(?:>|\Z).*?(?:</\1\s*>|\Z)", re.DOTALL | re.IGNORECASE)
_DATE_FORMAT = "%Y-%m-%dT%H:%M:%S%z"


class PageError(Exception):
    """A page with no main text to read; `reason` is a short machine code, `str()` a message.

    Reasons: no_text.
    """

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class PageContent:
    title: str | None
    date: datetime | None  # publication time, UTC, aware (midnight UTC when only the day is known)
    text: str  # the main text, paragraphs separated by newlines
    canonical_url: str | None  # <link rel="canonical"> or og:url, absolute http(s)
    author: str | None = None
    site_name: str | None = None


def extract_page(html: bytes | str, *, url: str, max_bytes: int = MAX_HTML_BYTES,
                 min_chars: int = MIN_TEXT_CHARS) -> PageContent:
    """Extract a page's main text, title, date and canonical URL.

    Bytes are best (trafilatura finds the character set); input over `max_bytes` once scripts
    and styles are removed is cut there. Raises PageError when there is no main text of at
    least `min_chars` characters (an empty page, a script-only shell, a cookie wall...).
    """
    raw = html.encode("utf-8") if isinstance(html, str) else html
    lean = _HIDDEN.sub(_keep_json_ld, raw)[:max_bytes]
    # No extensive date search: it guesses from prose ("in 2015" became 1 January 2015) and its first use
    # costs seconds of dateparser start-up. Metadata, <time>, JSON-LD and the URL still give the date.
    document = bare_extraction(lean, url=url, with_metadata=True, include_comments=False,
                               date_extraction_params={"outputformat": _DATE_FORMAT, "extensive_search": False})
    text = neutral_text((document.text or "").strip())[:MAX_TEXT_CHARS] if document is not None else ""
    if len(text) < min_chars:
        raise PageError("no_text", "no article text found on the page" if not text
                        else f"the page's text is too short to be an article ({len(text)} characters)")
    return PageContent(title=_clean(document.title), date=_parse_date(document.date), text=text,
                       canonical_url=_canonical_url(lean, url, document.url), author=_clean(document.author),
                       site_name=_clean(document.sitename))


def _keep_json_ld(match: re.Match[bytes]) -> bytes:
    # JSON-LD carries the publication date and author that trafilatura reads.
    return match.group(0) if b"ld+json" in match.group(2).lower() else b" "


def _canonical_url(page: bytes, url: str, metadata_url: str | None) -> str | None:
    """<link rel="canonical">, else og:url as trafilatura read it (it falls back on `url` itself)."""
    head = page[:1_000_000].decode("utf-8", "replace")
    for attrs in link_tags(head):
        if "canonical" in attrs.get("rel", "").lower().split() and (found := http_url(attrs.get("href"), url)):
            return found
    found = http_url(metadata_url, url)
    return found if found != url else None


def _parse_date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.strptime(value, _DATE_FORMAT)
    except ValueError:
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            log.debug("unreadable page date %r", value)
            return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _clean(value: str | None) -> str | None:
    return neutral_text(" ".join(value.split()))[:500] or None if value else None
