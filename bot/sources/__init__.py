"""Fetching and parsing what the bot reads: feeds, pages and OPML lists.

- `fetcher.SafeFetcher` is the only door to the network: `await fetch(url, etag=, last_modified=,
  kind="feed"|"page"|"any") -> FetchResult`, or `FetchError` with a `reason` code.
- `feeds.parse_feed(bytes, url=, content_type=) -> ParsedFeed` (RSS, Atom, JSON Feed), or `FeedError`;
  `feeds.is_teaser(entry)`, `feeds.discover_feed_links(html, base_url=)`.
- `pages.extract_page(html, url=) -> PageContent`, or `PageError`.
- `opml.parse_opml(bytes) -> list[OpmlFeed]`, or `OpmlError`; `opml.to_opml(feeds, title) -> bytes`.

Parsers take bytes and never fetch. They are CPU work: async callers run them with
`asyncio.to_thread`. Every error class has a short `reason` code and a message fit for people.
"""
