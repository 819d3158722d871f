"""Hostile sources: servers on 127.0.0.1 that answer what an attacker would, and the poll cycle that
must record each one as that feed's failure and still brief everything else.

Run alone with `pytest -m hostile`."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from bot.services.briefs import BriefMaker
from bot.services.feeds import FeedService, Refused
from bot.services.ingest import Ingestor
from bot.sources import feeds as feeds_module
from bot.sources.feeds import MAX_ENTRY_CHARS, FeedError, parse_feed
from bot.sources.fetcher import FetchError, SafeFetcher
from bot.sources.pages import MAX_TEXT_CHARS, extract_page
from bot.store.tables import Article, Source
from summarizer import SummarizerConfig, get_summarizer
from tests.support.feedserver import FeedServer, redirect_to
from tests.support.news import rss, story, story_items

pytestmark = pytest.mark.hostile

INTERVAL = timedelta(minutes=15)
# Locations httpx cannot even build a request for, and hosts no resolver should be handed.
BAD_LOCATIONS = {
    "no_slashes": "http:127.0.0.2:18080/x",  # httpx.InvalidURL inside client.send()
    "port_99999": "http://127.0.0.1:99999/x",  # an ExceptionGroup from the connect
    "bad_punycode": "http://xn--zz/x",  # idna.IDNAError
    "disallowed_punycode": "http://xn--ls8h.la/x",  # idna.InvalidCodepoint (an emoji host)
}


@pytest.fixture
async def fetcher():
    async with SafeFetcher(timeout_s=5, allow_private=True) as opened:
        yield opened


@pytest.fixture
async def parts(store, fetcher):
    briefs = BriefMaker(get_summarizer(SummarizerConfig(backend="lead")))
    ingestor = Ingestor(store=store, fetcher=fetcher, briefs=briefs, interval=INTERVAL, new_feed_items=3)
    feeds = FeedService(store=store, fetcher=fetcher, ingestor=ingestor)
    with store.transaction() as tx:
        chat_id = tx.chats.ensure("telegram", "-100", kind="group").id
    yield store, ingestor, feeds, chat_id
    briefs.close()


def follow(store, chat_id, *urls):
    with store.transaction() as tx:
        for url in urls:
            tx.sources.follow(chat_id, tx.sources.ensure(url).id)


def sources_by_url(store) -> dict[str, Source]:
    with store.transaction() as tx:
        sources = {s.url: s for s in tx.session.query(Source).all()}
        tx.session.expunge_all()  # read after the transaction, as they were at its end
        return sources


# ----- every failure of a fetch is a FetchError --------------------------------------------------

@pytest.mark.parametrize("case", sorted(BAD_LOCATIONS))
async def test_a_redirect_to_a_hostile_location_is_a_bad_url(fetcher, case):
    with FeedServer() as server:
        url = server.route("/feed", redirect_to(BAD_LOCATIONS[case]))
        with pytest.raises(FetchError) as caught:
            await fetcher.fetch(url, kind="feed")
    assert caught.value.reason == "bad_url"
    assert "invalid" in str(caught.value) or "does not exist" in str(caught.value)


@pytest.mark.parametrize("url", ["http://127.0.0.1:99999/feed", "http://127.0.0.1:0/feed", "http://xn--zz/feed",
                                 "http://xn--/feed", "http://xn--ls8h.la/feed"])
async def test_a_hostile_address_given_directly_is_a_bad_url(fetcher, url):
    with pytest.raises(FetchError) as caught:
        await fetcher.fetch(url, kind="feed")
    assert caught.value.reason == "bad_url"


# ----- one feed's failure is that feed's, and the cycle still briefs the rest ----------------------

async def test_hostile_feeds_are_recorded_as_failed_and_the_good_one_is_still_briefed(parts):
    store, ingestor, feeds, chat_id = parts
    with FeedServer() as server:
        good = server.serve("/good", rss(story_items(range(2))))
        hostile = {case: server.route(f"/{case}", redirect_to(location)) for case, location in BAD_LOCATIONS.items()}
        follow(store, chat_id, good, *hostile.values())
        report = await ingestor.poll()
    assert (report.feeds, report.failed, report.new_articles) == (5, 4, 2)
    assert report.briefs == 2  # summarize_pending ran although four feeds failed
    assert report.errors == {"bad_url": 4}
    by_url = sources_by_url(store)
    for url in hostile.values():
        assert by_url[url].consecutive_failures == 1 and by_url[url].last_error_reason == "bad_url"
        assert by_url[url].next_poll_at > by_url[url].last_polled_at  # backs off, not claimed every cycle
    assert by_url[good].consecutive_failures == 0
    lines = feeds.describe(chat_id)
    assert sum("failing (1x, last success: never worked)" in line for line in lines) == 4
    with store.transaction() as tx:
        assert {b.headline for b in tx.articles.briefs_for_chat(chat_id)} == {story(0)[0], story(1)[0]}


async def test_an_exception_nobody_foresaw_is_that_feeds_error(parts, monkeypatch):
    """Whatever a parser raises on a hostile document (here a RuntimeError) stays with its feed."""
    store, ingestor, feeds, chat_id = parts
    real_parse = feeds_module.parse_feed

    def parse(content, **kwargs):
        if b"poison" in content:
            raise RuntimeError("a parser bug")
        return real_parse(content, **kwargs)

    monkeypatch.setattr("bot.services.ingest.parse_feed", parse)
    with FeedServer() as server:
        good = server.serve("/good", rss(story_items(range(1))))
        poisoned = server.serve("/poisoned", rss(story_items(range(5, 6)), title="poison"))
        follow(store, chat_id, good, poisoned)
        report = await ingestor.poll()
    assert (report.failed, report.briefs, report.errors) == (1, 1, {"internal_error": 1})
    source = sources_by_url(store)[poisoned]
    assert source.consecutive_failures == 1 and "RuntimeError" in source.last_error
    assert "a parser bug" not in source.last_error  # the trace is for the log, not for /sources


# ----- the entity guard reads the real prolog ------------------------------------------------------

ITEM = b"<item><title>T</title><link>https://news.example/1</link><description>x</description></item>"
BIG = b'"' + b"A" * 1000 + b'"'
ENTITY_SMUGGLERS = {
    "comment_with_a_tag": b'<!DOCTYPE rss [<!-- <x --> <!ENTITY big ' + BIG + b'>]>',
    "processing_instruction": b'<!DOCTYPE rss [<?x <y?> <!ENTITY big ' + BIG + b'>]>',
    "tag_in_a_string": b'<!DOCTYPE rss [<!ATTLIST rss a CDATA "<rss>"> <!ENTITY big ' + BIG + b'>]>',
    "parameter_entity": b'<!DOCTYPE rss [<!-- <x --> <!ENTITY % big ' + BIG + b'>]>',
    "external_entity": b'<!DOCTYPE rss [<!-- <x --> <!ENTITY big SYSTEM "file:///etc/passwd">]>',
}


def _feed_with(doctype: bytes, title: bytes = b"&big;" * 20) -> bytes:
    return (b'<?xml version="1.0"?>' + doctype + b'<rss version="2.0"><channel><title>' + title + b"</title>"
            + ITEM + b"</channel></rss>")


@pytest.mark.parametrize("case", sorted(ENTITY_SMUGGLERS))
def test_an_entity_declaration_hidden_behind_a_tag_is_refused(case):
    with pytest.raises(FeedError) as caught:
        parse_feed(_feed_with(ENTITY_SMUGGLERS[case]), url="https://news.example/feed")
    assert caught.value.reason == "unsafe_xml"


def test_a_malformed_prolog_that_declares_an_entity_is_refused():
    with pytest.raises(FeedError) as caught:
        parse_feed(_feed_with(b'<!DOCTYPE rss [<!ENTITY big ' + BIG + b' <!-- ]>'), url="https://news.example/feed")
    assert caught.value.reason == "unsafe_xml"


def test_a_doctype_without_entities_is_still_read():
    netscape = (b'<!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN" '
                b'"http://my.netscape.com/publish/formats/rss-0.91.dtd">')
    parsed = parse_feed(_feed_with(netscape, title=b"RSS 0.91"), url="https://news.example/feed")
    assert parsed.title == "RSS 0.91" and len(parsed.entries) == 1


async def test_a_served_entity_bomb_is_refused_and_stores_nothing(parts):
    store, ingestor, feeds, chat_id = parts
    bomb = _feed_with(b'<!DOCTYPE rss [<!-- <x --> <!ENTITY big "' + b"A" * 100_000 + b'">]>',
                      title=b"t").replace(b"<description>x", b"<description>" + b"&big;" * 80)
    with FeedServer() as server:
        url = server.serve("/bomb", bomb)
        follow(store, chat_id, url)
        report = await ingestor.poll()
    assert report.errors == {"unsafe_xml": 1}
    assert sources_by_url(store)[url].last_error_reason == "unsafe_xml"
    with store.transaction() as tx:
        assert tx.session.query(Article).count() == 0


# ----- what one entry can become is capped -----------------------------------------------------------

async def test_a_huge_entry_is_stored_cut_to_the_cap(parts):
    store, ingestor, feeds, chat_id = parts
    title, body = story(3)
    huge = [{"title": title, "link": "https://news.example/huge", "body": (body + " ") * 2000}]  # 2.9 MB
    assert len(huge[0]["body"]) > 10 * MAX_ENTRY_CHARS
    with FeedServer() as server:
        follow(store, chat_id, server.serve("/huge", rss(huge)))
        report = await ingestor.poll()
    assert report.new_articles == 1
    with store.transaction() as tx:
        [article] = tx.session.query(Article).all()
        assert MAX_ENTRY_CHARS - 1000 <= len(article.text) <= MAX_ENTRY_CHARS


def test_a_huge_page_keeps_at_most_the_capped_text():
    _, body = story(4)
    page = "<html><body><article>" + "".join(f"<p>{body} ({n})</p>" for n in range(1500)) + "</article></body></html>"
    assert len(page) > 5 * MAX_TEXT_CHARS
    assert len(extract_page(page.encode(), url="https://news.example/a").text) <= MAX_TEXT_CHARS


# ----- feed discovery runs off the event loop ---------------------------------------------------------

@pytest.mark.timeout(30)
async def test_a_hostile_page_given_to_sources_add_is_scanned_in_a_thread(parts, monkeypatch):
    """A page of 1 MB of attribute-like text, no feed: read in a worker thread, and in linear time."""
    store, ingestor, feeds, chat_id = parts
    real_discover = feeds_module.discover_feed_links
    threads = []

    def discover(*args, **kwargs):
        threads.append(threading.current_thread())
        return real_discover(*args, **kwargs)

    monkeypatch.setattr("bot.services.feeds.discover_feed_links", discover)
    page = b"<html><head><link " + b"a" * 1_000_000 + b"></head><body>no feed</body></html>"
    with FeedServer() as server:
        url = server.serve("/page", page, content_type="text/html")
        refused = await feeds.add(chat_id, url)
    assert isinstance(refused, Refused) and "not a feed" in refused.reason
    assert threads and threads[0] is not threading.main_thread()
