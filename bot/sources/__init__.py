"""Fetching and parsing what the bot reads: feeds, pages and OPML lists.

`fetcher.SafeFetcher` is the only door to the network; `feeds`, `pages` and `opml` parse bytes
and never fetch anything themselves.
"""
