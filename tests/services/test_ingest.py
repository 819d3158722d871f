"""The poll cycle over HTTP, against a local feed server, into a real SQLite file and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.services.briefs import BriefMaker
from bot.services.ingest import Ingestor
from bot.sources.fetcher import SafeFetcher
from summarizer import SummarizerConfig, get_summarizer
from tests.support.feedserver import FeedServer, conditional, fixed
from tests.support.news import rss, story, story_items

INTERVAL = timedelta(minutes=15)


@pytest.fixture
async def ingest_parts(store):
    fetcher = SafeFetcher(timeout_s=5, allow_private=True)
    briefs = BriefMaker(get_summarizer(SummarizerConfig(backend="lead")))
    seen: list[list[int]] = []

    def on_new_briefs(tx, new_briefs, now):
        # Called inside the transaction that saved the briefs: they are visible through tx.
        assert all(tx.articles.brief_for_article(b.article_id) for b in new_briefs)
        seen.append([b.brief_id for b in new_briefs])

    ingestor = Ingestor(store=store, fetcher=fetcher, briefs=briefs, interval=INTERVAL, new_feed_items=3,
                        on_new_briefs=on_new_briefs, batch_size=4)
    yield store, ingestor, seen
    await fetcher.aclose()
    briefs.close()


def follow(store, *urls, chat_key="C1"):
    with store.transaction() as tx:
        chat = tx.chats.ensure("slack", chat_key)
        for url in urls:
            tx.sources.follow(chat.id, tx.sources.ensure(url).id)
    return chat.id


def due_now(store):
    """Make every feed due (as if the interval had passed)."""
    from datetime import UTC, datetime

    from sqlalchemy import update

    from bot.store.tables import Source

    with store.transaction() as tx:
        tx.session.execute(update(Source).values(next_poll_at=datetime(2000, 1, 1, tzinfo=UTC)))


async def test_a_new_feed_posts_only_its_newest_items_then_only_what_is_new(ingest_parts):
    store, ingestor, seen = ingest_parts
    with FeedServer() as server:
        server.serve("/feed", rss(story_items(range(10))), content_type="application/rss+xml")
        chat_id = follow(store, server.url("/feed"))
        report = await ingestor.poll()
        assert (report.feeds, report.new_articles, report.briefs, report.failed) == (1, 3, 3, 0)
        with store.transaction() as tx:
            titles = {b.headline for b in tx.articles.briefs_for_chat(chat_id)}
        assert titles == {story(n)[0] for n in (7, 8, 9)}  # the newest three, not the archive

        server.serve("/feed", rss(story_items(range(12))), content_type="application/rss+xml")
        due_now(store)
        report = await ingestor.poll()
        assert (report.new_articles, report.briefs) == (2, 2)  # 10 and 11; 0-6 stay archive
        assert sum(len(batch) for batch in seen) == 5


async def test_the_same_story_from_two_feeds_is_one_article_and_one_brief(ingest_parts):
    store, ingestor, seen = ingest_parts
    items = story_items(range(1))
    tracked = [dict(items[0], link=items[0]["link"] + "?utm_source=rss&utm_medium=feed", guid="other-guid")]
    with FeedServer() as server:
        server.serve("/a", rss(items, title="A"), content_type="application/rss+xml")
        server.serve("/b", rss(tracked, title="B"), content_type="application/rss+xml")
        chat_id = follow(store, server.url("/a"), server.url("/b"))
        report = await ingestor.poll()
    assert (report.new_articles, report.briefs) == (1, 1)
    with store.transaction() as tx:
        [brief] = tx.articles.briefs_for_chat(chat_id)
        assert sorted(brief.source_titles) == ["A", "B"]


async def test_an_unchanged_feed_costs_a_304(ingest_parts):
    store, ingestor, _ = ingest_parts
    with FeedServer() as server:
        server.route("/feed", conditional(rss(story_items(range(2))), etag='"v1"',
                                          last_modified="Mon, 05 Jan 2026 10:00:00 GMT"))
        follow(store, server.url("/feed"))
        await ingestor.poll()
        due_now(store)
        report = await ingestor.poll()
        assert (report.unchanged, report.new_articles) == (1, 0)
        assert server.requests[-1].headers.get("If-None-Match") == '"v1"'


async def test_a_teaser_feed_gets_the_story_from_the_article_page(ingest_parts):
    store, ingestor, _ = ingest_parts
    title, body = story(5)
    page = (f"<html><head><title>{title}</title></head><body><nav>Home | World | Sport</nav>"
            f"<article><h1>{title}</h1>" + "".join(f"<p>{s}.</p>" for s in body.split(". ")) +
            "</article><footer>Copyright</footer></body></html>")
    with FeedServer() as server:
        server.serve("/story", page, content_type="text/html; charset=utf-8")
        teaser = [{"title": title, "link": server.url("/story"), "body": body.split(". ")[0] + "."}]
        server.serve("/feed", rss(teaser), content_type="application/rss+xml")
        follow(store, server.url("/feed"))
        await ingestor.poll()
    with store.transaction() as tx:
        [article] = tx.articles.pending(10) or [tx.articles.get(1)]
        assert "public meetings in the town hall" in article.text  # from the page, not the teaser


async def test_a_teaser_without_a_date_takes_the_date_of_its_article_page(ingest_parts):
    store, ingestor, _ = ingest_parts
    title, body = story(6)
    page = (f'<html><head><title>{title}</title>'
            '<meta property="article:published_time" content="2026-02-03T08:15:00+00:00"></head>'
            f"<body><article><h1>{title}</h1>" + "".join(f"<p>{s}.</p>" for s in body.split(". ")) +
            "</article></body></html>")
    with FeedServer() as server:
        server.serve("/story", page, content_type="text/html; charset=utf-8")
        feed = ('<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Undated</title>'
                f"<link>https://news.example/</link><item><title>{title}</title><link>{server.url('/story')}</link>"
                f"<description>{body.split('. ')[0]}.</description></item></channel></rss>")
        server.serve("/feed", feed.encode(), content_type="application/rss+xml")
        follow(store, server.url("/feed"))
        await ingestor.poll()
    with store.transaction() as tx:
        [article] = tx.articles.pending(10) or [tx.articles.get(1)]
        assert article.published_at is not None
        assert article.published_at.replace(tzinfo=UTC) == datetime(2026, 2, 3, 8, 15, tzinfo=UTC)


@pytest.mark.parametrize("body, status, reason", [
    (b"<html><body>Not a feed</body></html>", 200, "bad_content_type"),
    (b"", 200, "bad_content_type"),
    (b"oops", 500, "http_500"),
    (b"gone", 404, "http_404"),
])
async def test_a_failing_feed_is_recorded_backs_off_and_loses_nothing(ingest_parts, body, status, reason):
    store, ingestor, _ = ingest_parts
    with FeedServer() as server:
        server.serve("/good", rss(story_items(range(2))), content_type="application/rss+xml")
        server.route("/bad", fixed(body, status=status, content_type="text/html"))
        chat_id = follow(store, server.url("/good"), server.url("/bad"))
        await ingestor.poll()
        due_now(store)
        report = await ingestor.poll()
    assert report.failed == 1 and report.errors == {reason: 1}
    with store.transaction() as tx:
        followed = {f.source.url.rsplit("/", 1)[1]: f.source for f in tx.sources.followed_by(chat_id)}
        bad, good = followed["bad"], followed["good"]
        assert bad.consecutive_failures == 2 and bad.last_error_reason == reason and bad.last_error
        assert bad.next_poll_at - bad.last_polled_at == INTERVAL * 4
        assert good.consecutive_failures == 0
        assert len(tx.articles.briefs_for_chat(chat_id)) == 2  # what was stored stays stored


async def test_hostile_feeds_get_a_recorded_error_the_cycle_survives_and_nothing_stored_is_lost(store):
    """Feeds that worked turn hostile; one poll cycle meets them all at once. The server is on 127.0.0.2,
    the one address the fetcher may reach: redirects to 127.0.0.1 and 169.254.169.254 stay refused."""
    from datetime import UTC, datetime

    from bot.services.feeds import FeedService
    from tests.support.feedserver import drip, endless, gzip_bomb, gzipped, redirect_to
    from tests.sources.test_feeds import BILLION_LAUGHS, EXTERNAL_ENTITY

    page = b"<!DOCTYPE html><html><head><title>Home</title></head><body><p>Welcome</p></body></html>"
    hostile = {  # path: (handler, the reason recorded on the feed)
        "empty": (fixed(b"", content_type="application/rss+xml"), "empty"),
        "malformed": (fixed(b"\x00\x01<<<rss version=2.0>>><channel <item", content_type="application/rss+xml"),
                      "malformed"),
        "html": (fixed(page, content_type="text/html"), "bad_content_type"),
        "html-as-xml": (fixed(page, content_type="application/xml"), "not_a_feed"),
        "error": (fixed(b"boom", status=500, content_type="text/plain"), "http_500"),
        "gone": (fixed(b"gone", status=404, content_type="text/plain"), "http_404"),
        "bomb": (gzipped(gzip_bomb(1024)), "too_large"),
        "endless": (endless(), "too_large"),
        "drip": (drip(rss(story_items(range(3))), interval_s=0.2), "timeout"),
        "to-loopback": (redirect_to("http://127.0.0.1/feed.xml"), "blocked_address"),
        "to-metadata": (redirect_to("http://169.254.169.254/latest/meta-data/"), "blocked_address"),
        "laughs": (fixed(BILLION_LAUGHS, content_type="application/rss+xml"), "unsafe_xml"),
        "xxe": (fixed(EXTERNAL_ENTITY, content_type="application/rss+xml"), "unsafe_xml"),
    }
    names = [*hostile, "control"]
    fetcher = SafeFetcher(timeout_s=1.0, max_bytes=2_000_000, allowed_addresses=["127.0.0.2"])
    briefs = BriefMaker(get_summarizer(SummarizerConfig(backend="lead")))
    ingestor = Ingestor(store=store, fetcher=fetcher, briefs=briefs, interval=INTERVAL, new_feed_items=2)
    try:
        with FeedServer("127.0.0.2") as server:
            for number, name in enumerate(names):  # each feed its own two stories
                items = story_items(range(2 * number, 2 * number + 2), base=f"https://{name}.example/story/")
                server.serve(f"/{name}", rss(items, title=name), content_type="application/rss+xml")
            chat_id = follow(store, *(server.url(f"/{name}") for name in names))
            first = await ingestor.poll()
            assert (first.feeds, first.failed, first.new_articles) == (len(names), 0, 2 * len(names))

            for name, (handler, _) in hostile.items():
                server.route(f"/{name}", handler)
            later = story_items(range(100, 101), base="https://control.example/story/",
                                start=datetime(2026, 2, 1, tzinfo=UTC))
            server.serve("/control", rss(later), content_type="application/rss+xml")
            due_now(store)
            second = await ingestor.poll()
    finally:
        await fetcher.aclose()
        briefs.close()

    expected_errors: dict[str, int] = {}
    for _, reason in hostile.values():
        expected_errors[reason] = expected_errors.get(reason, 0) + 1
    assert (second.feeds, second.failed, second.errors) == (len(names), len(hostile), expected_errors)
    with store.transaction() as tx:
        feeds = {f.source.url.rsplit("/", 1)[1]: f.source for f in tx.sources.followed_by(chat_id)}
        for name, (_, reason) in hostile.items():
            source = feeds[name]
            assert (source.last_error_reason, source.consecutive_failures) == (reason, 1), name
            assert source.last_error and len(source.last_error) > 10
            assert source.next_poll_at - source.last_polled_at == INTERVAL * 2  # backing off
        assert feeds["control"].consecutive_failures == 0 and feeds["control"].last_error is None
        stored = tx.articles.briefs_for_chat(chat_id, limit=1000)
    by_site: dict[str, int] = {}
    for brief in stored:
        site = brief.url.split("//")[1].split(".example")[0] if ".example" in brief.url else brief.url
        by_site[site] = by_site.get(site, 0) + 1
    assert all(by_site[name] == 2 for name in hostile), by_site  # what the hostile feeds had, kept
    assert by_site["control"] == 3  # the rest of the cycle went on
    assert all(len(brief.headline) < 1000 and "root:" not in brief.headline for brief in stored)
    # The feed list shows people what is wrong with a feed.
    lines = FeedService(store=store, fetcher=fetcher, ingestor=ingestor).describe(chat_id)
    [bomb] = [line for line in lines if line.split(" - ")[0].endswith(". bomb")]
    assert "failing (1x, last success: " in bomb and "larger than 2,000,000 bytes" in bomb
