"""Fetch then parse, end to end over HTTP, as the poll cycle does: each bad feed ends in a clear
FetchError or FeedError with a reason, and a good one arrives whole."""

from __future__ import annotations

import asyncio

import pytest

from bot.sources.feeds import FeedError, parse_feed
from bot.sources.fetcher import FetchError, SafeFetcher
from tests.support.feedserver import FeedServer, drip, endless, gzip_bomb, gzipped, redirect_to
from tests.sources.test_feeds import ATOM, BILLION_LAUGHS, EXTERNAL_ENTITY, JSON_FEED, QUADRATIC_BLOWUP, RSS20


@pytest.fixture(scope="module")
def server():
    with FeedServer("127.0.0.2") as running:
        running.serve("/rss.xml", RSS20)
        running.serve("/atom.xml", ATOM, content_type="application/atom+xml")
        running.serve("/feed.json", JSON_FEED, content_type="application/feed+json")
        running.serve("/as-html.xml", RSS20, content_type="text/html")
        running.serve("/laughs.xml", BILLION_LAUGHS)
        running.serve("/blowup.xml", QUADRATIC_BLOWUP)
        running.serve("/xxe.xml", EXTERNAL_ENTITY)
        running.serve("/empty.xml", b"")
        running.serve("/page-as-xml.xml", b"<!DOCTYPE html><html><body><p>Hi</p></body></html>",
                      content_type="application/xml")
        running.serve("/page.html", b"<!DOCTYPE html><html><body><p>Hi</p></body></html>", content_type="text/html")
        running.serve("/error.xml", b"boom", status=500, content_type="text/plain")
        running.route("/bomb.xml", gzipped(gzip_bomb(1024)))
        running.route("/endless.xml", endless())
        running.route("/drip.xml", drip(RSS20, interval_s=0.2))
        running.route("/to-loopback.xml", redirect_to("http://127.0.0.1/feed.xml"))
        running.route("/to-metadata.xml", redirect_to("http://169.254.169.254/latest/meta-data/"))
        yield running


async def fetch_and_parse(server: FeedServer, path: str):
    async with SafeFetcher(timeout_s=1.0, max_bytes=2_000_000, allowed_addresses=[server.host]) as fetcher:
        result = await fetcher.fetch(server.url(path), kind="feed")
    return await asyncio.to_thread(parse_feed, result.content, url=result.url, content_type=result.content_type)


@pytest.mark.parametrize("path, title", [("/rss.xml", "City & News"), ("/atom.xml", "Atom site"),
                                         ("/feed.json", "JSON site"), ("/as-html.xml", "City & News")])
async def test_good_feeds_arrive_whole(server, path, title):
    feed = await fetch_and_parse(server, path)
    assert feed.title == title and feed.entries


@pytest.mark.parametrize("path, error, reason", [
    ("/empty.xml", FeedError, "empty"),
    ("/laughs.xml", FeedError, "unsafe_xml"),
    ("/blowup.xml", FeedError, "unsafe_xml"),
    ("/xxe.xml", FeedError, "unsafe_xml"),
    ("/page-as-xml.xml", FeedError, "not_a_feed"),
    ("/page.html", FetchError, "bad_content_type"),
    ("/missing.xml", FetchError, "http_404"),
    ("/error.xml", FetchError, "http_500"),
    ("/bomb.xml", FetchError, "too_large"),
    ("/endless.xml", FetchError, "too_large"),
    ("/drip.xml", FetchError, "timeout"),
    ("/to-loopback.xml", FetchError, "blocked_address"),
    ("/to-metadata.xml", FetchError, "blocked_address"),
])
async def test_bad_feeds_end_in_a_clear_error(server, path, error, reason):
    with pytest.raises((FetchError, FeedError)) as caught:
        await fetch_and_parse(server, path)
    assert type(caught.value) is error
    assert caught.value.reason == reason
    assert len(str(caught.value)) > 10
