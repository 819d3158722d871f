"""A chat's feed list and /summary of a link, over HTTP to a local server, on a real store."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from bot.services.briefs import BriefMaker
from bot.services.feeds import (AlreadyFollowed, FeedService, Followed, Imported, NotFollowed, Refused,
                                Unfollowed)
from bot.services.ingest import Ingestor
from bot.services.pages import PageProblem, PageService
from bot.sources.fetcher import SafeFetcher
from summarizer import SummarizerConfig, get_summarizer
from tests.support.feedserver import FeedServer
from tests.support.news import rss, story, story_items


@pytest.fixture
async def services(store):
    fetcher = SafeFetcher(timeout_s=5, allow_private=True)
    briefs = BriefMaker(get_summarizer(SummarizerConfig(backend="lead")))
    ingestor = Ingestor(store=store, fetcher=fetcher, briefs=briefs, interval=timedelta(minutes=15),
                        new_feed_items=2)
    polls = []
    feeds = FeedService(store=store, fetcher=fetcher, ingestor=ingestor, poll_soon=lambda: polls.append(1))
    pages = PageService(store=store, fetcher=fetcher, briefs=briefs, max_chars=600)
    with store.transaction() as tx:
        chat_id = tx.chats.ensure("telegram", "-100", kind="group").id
    yield store, feeds, pages, ingestor, chat_id, polls
    await fetcher.aclose()
    briefs.close()


async def test_add_checks_the_feed_stores_its_newest_items_and_lists_it(services):
    store, feeds, _, ingestor, chat_id, polls = services
    with FeedServer() as server:
        server.serve("/rss", rss(story_items(range(5)), title="Harbour Gazette"),
                     content_type="application/rss+xml")
        answer = await feeds.add(chat_id, server.url("/rss"), thread_id="12")
        assert answer == Followed("Harbour Gazette", server.url("/rss")) and polls == [1]
        assert await feeds.add(chat_id, server.url("/rss")) == AlreadyFollowed("Harbour Gazette")
        assert await ingestor.summarize_pending() == 2  # only the newest two of five
    [line] = feeds.describe(chat_id)
    assert line.startswith("1. Harbour Gazette - http://127.0.0.1:") and "ok, checked" in line
    with store.transaction() as tx:
        [followed] = tx.sources.followed_by(chat_id)
        assert followed.thread_id == "12"


async def test_a_web_page_that_links_its_feed_is_followed_through_the_link(services):
    _, feeds, _, _, chat_id, _ = services
    with FeedServer() as server:
        server.serve("/feed.xml", rss(story_items(range(1)), title="Linked Feed"),
                     content_type="application/rss+xml")
        server.serve("/", '<html><head><link rel="alternate" type="application/rss+xml" href="/feed.xml">'
                          "</head><body>Home</body></html>", content_type="text/html")
        answer = await feeds.add(chat_id, server.url("/"))
    assert isinstance(answer, Followed) and answer.name == "Linked Feed" and answer.url.endswith("/feed.xml")


@pytest.mark.parametrize("url, expected", [
    ("not a url", "is not a web address"),
    ("ftp://example.com/feed", r"not an http\(s\) address"),
])
async def test_bad_addresses_get_a_clear_answer(services, url, expected):
    _, feeds, _, _, chat_id, _ = services
    refused = await feeds.add(chat_id, url)
    assert isinstance(refused, Refused) and re.search(expected, refused.reason)


async def test_a_page_without_feed_and_an_unreachable_host_are_refused_clearly(services):
    store, feeds, _, _, chat_id, _ = services
    with FeedServer() as server:
        server.serve("/", "<html><body><p>Just a page</p></body></html>", content_type="text/html")
        not_a_feed = await feeds.add(chat_id, server.url("/"))
        assert re.search("is not a feed I can read|could not fetch", not_a_feed.reason)
        missing = await feeds.add(chat_id, server.url("/missing"))
        assert re.search("could not fetch .*404", missing.reason)
    with store.transaction() as tx:
        assert tx.sources.followed_by(chat_id) == []


async def test_private_addresses_are_refused_without_the_test_switch(store):
    fetcher = SafeFetcher(timeout_s=5)
    feeds = FeedService(store=store, fetcher=fetcher, ingestor=None)
    with store.transaction() as tx:
        chat_id = tx.chats.ensure("telegram", "1").id
    for url in ("http://127.0.0.1:9/feed", "http://169.254.169.254/latest/meta-data", "http://[::1]/"):
        refused = await feeds.add(chat_id, url)
        assert "could not fetch" in refused.reason
        assert refused.reason.count(url) == 1 and "private or special-use address" in refused.reason
    await fetcher.aclose()


async def test_remove_by_number_or_url(services):
    store, feeds, _, _, chat_id, _ = services
    with FeedServer() as server:
        for name in ("a", "b"):
            server.serve(f"/{name}", rss(story_items(range(1)), title=name.upper()),
                         content_type="application/rss+xml")
            await feeds.add(chat_id, server.url(f"/{name}"))
        assert feeds.remove(chat_id, "2") == Unfollowed("B")
        assert feeds.remove(chat_id, server.url("/a")) == Unfollowed("A")
    assert feeds.remove(chat_id, "1") == NotFollowed("1")


async def test_opml_round_trip(services):
    store, feeds, _, _, chat_id, polls = services
    opml = b"""<?xml version="1.0"?><opml version="2.0"><head><title>x</title></head><body>
      <outline text="World"><outline type="rss" text="One" xmlUrl="https://one.example/feed"/>
      <outline type="rss" text="Two" xmlUrl="https://two.example/rss?utm_source=x"/></outline>
      <outline type="rss" text="Bad" xmlUrl="javascript:alert(1)"/></body></opml>"""
    done = []
    answer = await feeds.import_opml(chat_id, opml, progress=lambda d, t: done.append((d, t)))
    assert answer == Imported(2, 0, ()) and done[-1] == (2, 2) and polls  # javascript: is no feed
    assert await feeds.import_opml(chat_id, opml) == Imported(0, 2, ())
    exported = feeds.export_opml(chat_id)
    assert b"https://one.example/feed" in exported and b"https://two.example/rss" in exported
    assert b"utm_source" not in exported
    refused = await feeds.import_opml(chat_id, b"<!DOCTYPE x [<!ENTITY a 'b'>]><opml>&a;</opml>")
    assert isinstance(refused, Refused) and "could not read that OPML" in refused.reason


async def test_summary_of_a_link_is_made_once_and_reused(services):
    store, _, pages, _, _, _ = services
    title, body = story(3)
    page = (f"<html><head><title>{title}</title></head><body><article><h1>{title}</h1>"
            + "".join(f"<p>{s}.</p>" for s in body.split(". ")) + "</article></body></html>")
    with FeedServer() as server:
        server.serve("/news/3", page, content_type="text/html")
        first = await pages.brief_for_url(server.url("/news/3") + "?utm_campaign=x")
        second = await pages.brief_for_url(server.url("/news/3"))
        fetches = [r for r in server.requests if r.path == "/news/3"]
    assert first.brief_id == second.brief_id and len(fetches) == 1
    assert first.points and "council" in " ".join(first.points)
    with FeedServer() as server:
        server.serve("/empty", "<html><body></body></html>", content_type="text/html")
        with pytest.raises(PageProblem, match="could not find an article"):
            await pages.brief_for_url(server.url("/empty"))
        with pytest.raises(PageProblem, match="could not fetch"):
            await pages.brief_for_url(server.url("/nothing-here"))
