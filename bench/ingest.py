"""Ingest benchmark: 1,000 local feeds of 20 items each, polled twice into a real store.

    python -m bench.ingest [--feeds 1000] [--items 20] [--database-url URL] [--summarize 200] [--json OUT]

Prints the wall time of the first poll (fetch, parse, dedupe, store; summarizing excluded), of the
second poll (every feed answers 304), articles per second into the store, and peak memory; beside
them a naive baseline run on the same feeds (one feed after another: httpx GET + feedparser, storing
nothing). Summarizing is timed separately on a sample of the stored articles.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

import feedparser
import httpx

from bot.services.briefs import BriefMaker
from bot.services.ingest import Ingestor
from bot.sources.fetcher import SafeFetcher
from bot.store.store import Store
from summarizer import SummarizerConfig, get_summarizer
from tests.support.feedserver import FeedServer, conditional
from tests.support.news import rss, story_items


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def serve_feeds(server: FeedServer, feeds: int, items: int) -> list[str]:
    urls = []
    for i in range(feeds):
        body = rss(story_items(range(i * items, (i + 1) * items), base=f"https://site{i}.example/story/"),
                   title=f"Feed {i}")
        server.route(f"/feed/{i}", conditional(body, etag=f'"{i}-v1"',
                                               last_modified="Mon, 05 Jan 2026 10:00:00 GMT"))
        urls.append(server.url(f"/feed/{i}"))
    return urls


def naive_baseline(urls: list[str]) -> float:
    """What a simple poller does: each feed in turn, fetched and parsed, nothing stored."""
    started = time.perf_counter()
    with httpx.Client(timeout=20) as client:
        for url in urls:
            feedparser.parse(client.get(url).content)
    return time.perf_counter() - started


async def run(args: argparse.Namespace) -> dict:
    folder = Path(tempfile.mkdtemp(prefix="bench-ingest-"))
    store = Store.open(args.database_url or f"sqlite:///{folder / 'bench.sqlite3'}")
    fetcher = SafeFetcher(timeout_s=30, allow_private=True, per_host=args.per_host, concurrency=args.concurrency)
    briefs = BriefMaker(get_summarizer(SummarizerConfig()))
    ingestor = Ingestor(store=store, fetcher=fetcher, briefs=briefs, interval=timedelta(minutes=15),
                        new_feed_items=args.items, max_feeds_per_cycle=args.feeds)
    with FeedServer() as server:
        urls = serve_feeds(server, args.feeds, args.items)
        with store.transaction() as tx:
            chat = tx.chats.ensure("console", "bench")
            for url in urls:
                tx.sources.follow(chat.id, tx.sources.ensure(url).id)

        started = time.perf_counter()
        first = await ingestor.poll(summarize=False)
        first_s = time.perf_counter() - started
        memory = peak_mb()

        from sqlalchemy import update

        from bot.store.tables import Source

        with store.transaction() as tx:  # the interval has passed: every feed is due again
            tx.session.execute(update(Source).values(next_poll_at=Source.last_polled_at))
        started = time.perf_counter()
        second = await ingestor.poll(summarize=False)
        second_s = time.perf_counter() - started
        baseline_s = naive_baseline(urls)

    await briefs.warm_up()
    ingestor.batch_size = 64
    with store.transaction() as tx:
        rest = [a.id for a in tx.articles.pending(10**9)][args.summarize:]  # only a sample is summarized
        if rest:
            from sqlalchemy import update

            from bot.store.tables import Article

            tx.session.execute(update(Article).where(Article.id.in_(rest)).values(status="skipped"))
    started = time.perf_counter()
    made = await ingestor.summarize_pending()
    summarize_s = time.perf_counter() - started
    await fetcher.aclose()
    briefs.close()
    store.close()

    articles_per_s = first.new_articles / first_s if first_s else 0.0
    return {
        "feeds": args.feeds, "items_per_feed": args.items,
        "first_poll_s": round(first_s, 2), "second_poll_s": round(second_s, 2),
        "articles": first.new_articles, "articles_per_s": round(articles_per_s, 1),
        "failed_first": first.failed, "unchanged_second": second.unchanged,
        "peak_mb": round(memory, 1),
        "baseline_sequential_s": round(baseline_s, 2),
        "briefs_made": made, "summarize_s": round(summarize_s, 2),
        "briefs_per_s": round(made / summarize_s, 1) if summarize_s else 0.0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--feeds", type=int, default=1000)
    parser.add_argument("--items", type=int, default=20)
    parser.add_argument("--per-host", type=int, default=16, help="all feeds live on one local host here")
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--database-url", help="default: a fresh SQLite file")
    parser.add_argument("--summarize", type=int, default=200, help="articles summarized afterwards, timed apart")
    parser.add_argument("--json", help="write the figures to this file")
    args = parser.parse_args()
    figures = asyncio.run(run(args))
    print(f"{figures['feeds']} feeds x {figures['items_per_feed']} items")
    print(f"first poll   {figures['first_poll_s']:8.2f} s  ({figures['articles']} articles, "
          f"{figures['articles_per_s']:.0f} articles/s into the store; goal < 60 s)")
    print(f"second poll  {figures['second_poll_s']:8.2f} s  ({figures['unchanged_second']} answered 304; goal < 10 s)")
    print(f"peak memory  {figures['peak_mb']:8.1f} MB (goal < 1024 MB)")
    print(f"baseline     {figures['baseline_sequential_s']:8.2f} s  one feed after another, fetch + parse, "
          f"nothing stored: first poll = {figures['first_poll_s'] / figures['baseline_sequential_s']:.2f}x, "
          f"second poll = {figures['second_poll_s'] / figures['baseline_sequential_s']:.2f}x of it")
    print(f"summarizing  {figures['summarize_s']:8.2f} s  for {figures['briefs_made']} briefs "
          f"({figures['briefs_per_s']:.1f} briefs/s, default backend)")
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
