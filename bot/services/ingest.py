"""One poll cycle: fetch the due feeds concurrently, store what is new once, summarize it in batches,
and hand the new briefs to whoever consumes them next (alerts) in the same transaction."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from bot.runtime.clock import Clock, utcnow
from bot.domain.dedupe import canonical_url, content_fingerprint
from bot.runtime.metrics import Metrics
from bot.services.briefs import BriefMaker
from bot.sources.feeds import FeedEntry, FeedError, ParsedFeed, is_teaser, parse_feed
from bot.sources.fetcher import FetchError, FetchResult, SafeFetcher, redact_url
from bot.sources.pages import PageError, extract_page
from bot.store.articles import NewArticle, StoredBrief
from bot.store.sources import FeedToPoll
from bot.store.store import Store, Tx
from summarizer import ArticleText, SummarizerError

log = logging.getLogger(__name__)

NewBriefsHook = Callable[[Tx, list[StoredBrief], datetime], None]
Progress = Callable[[str, int, int], None]  # (stage, done, total)
POLL_LEASE = timedelta(minutes=10)  # another poller leaves a claimed feed alone this long


@dataclass
class PollReport:
    feeds: int = 0
    unchanged: int = 0
    failed: int = 0
    new_articles: int = 0
    briefs: int = 0
    errors: dict[str, int] = field(default_factory=dict)  # failures by reason


class Ingestor:
    def __init__(self, *, store: Store, fetcher: SafeFetcher, briefs: BriefMaker, interval: timedelta,
                 new_feed_items: int, on_new_briefs: NewBriefsHook | None = None, batch_size: int = 32,
                 max_feeds_per_cycle: int = 5000, page_fetches: int = 8, metrics: Metrics | None = None,
                 clock: Clock = utcnow) -> None:
        self.store = store
        self.fetcher = fetcher
        self.briefs = briefs
        self.interval = interval
        self.new_feed_items = new_feed_items
        self.on_new_briefs = on_new_briefs
        self.batch_size = batch_size
        self.max_feeds_per_cycle = max_feeds_per_cycle
        self._page_slots = asyncio.Semaphore(page_fetches)
        self.metrics = metrics
        self.clock = clock

    async def poll(self, *, summarize: bool = True, progress: Progress | None = None) -> PollReport:
        """Fetch every due feed once, then summarize what is new."""
        report = PollReport()
        sources = await asyncio.to_thread(self._claim_due)  # the store's work runs off the event loop
        report.feeds = len(sources)
        done = 0

        async def poll_one(source: FeedToPoll) -> None:
            nonlocal done
            await self._poll_source(source, report)
            done += 1
            if progress:
                progress("feeds", done, len(sources))

        # One source's failure is recorded on it in _poll_source; nothing it raises may end the cycle early.
        outcomes = await asyncio.gather(*(poll_one(source) for source in sources), return_exceptions=True)
        for source, outcome in zip(sources, outcomes):
            if isinstance(outcome, Exception):
                log.error("polling feed %s failed", redact_url(source.url), exc_info=outcome)
        if summarize:  # what was stored is briefed even when some feeds failed
            report.briefs = await self.summarize_pending(progress=progress)
        return report

    async def _poll_source(self, source: FeedToPoll, report: PollReport) -> None:
        try:
            result = await self.fetcher.fetch(source.url, etag=source.etag, last_modified=source.last_modified,
                                              kind="feed")
            if result.not_modified:
                report.unchanged += 1
                await asyncio.to_thread(self._record_unchanged, source, result)
                return
            # Parsing is CPU work (slow on hostile markup): keep it off the event loop.
            parsed = await asyncio.to_thread(parse_feed, result.content, url=result.url,
                                             content_type=result.content_type)
            created = await self.store_feed(source, result, parsed)  # not `+= await`: others add meanwhile
        except (FetchError, FeedError) as exc:
            await self._record_failure(source, report, exc.reason, str(exc))
            log.info("feed %s failed: %s", redact_url(source.url), exc)
            return
        except Exception as exc:  # a bug or a hostile input nobody foresaw: this feed's failure, not the cycle's
            log.error("feed %s failed unexpectedly", redact_url(source.url), exc_info=True)
            await self._record_failure(source, report, "internal_error",
                                       f"the feed could not be read ({type(exc).__name__})")
            return
        report.new_articles += created

    def _claim_due(self) -> list[FeedToPoll]:
        with self.store.transaction() as tx:
            return tx.sources.claim_due(self.clock(), limit=self.max_feeds_per_cycle, lease=POLL_LEASE)

    def _record_unchanged(self, source: FeedToPoll, result: FetchResult) -> None:
        with self.store.transaction() as tx:
            tx.sources.record_success(source.id, now=self.clock(), interval=self.interval,
                                      etag=result.etag or source.etag,
                                      last_modified=result.last_modified or source.last_modified)

    async def _record_failure(self, source: FeedToPoll, report: PollReport, reason: str, message: str) -> None:
        """Count the failure and record it on the feed (it backs off, and /sources shows it)."""
        report.failed += 1
        report.errors[reason] = report.errors.get(reason, 0) + 1
        if self.metrics:
            self.metrics.feed_error(reason)

        def record() -> None:
            with self.store.transaction() as tx:
                tx.sources.record_failure(source.id, now=self.clock(), interval=self.interval, reason=reason,
                                          message=message)

        await asyncio.to_thread(record)

    async def store_feed(self, source: FeedToPoll, result: FetchResult, parsed: ParsedFeed) -> int:
        """Store a fetched feed's new entries once each; returns how many articles are new to the store."""
        known = await asyncio.to_thread(self._known_guids, source, parsed)
        fresh = [entry for entry in parsed.entries if entry.guid not in known]
        posted, archive = self._split_archive(source, fresh)
        # Reading up to 200 entry bodies (teaser checks, fingerprints) is CPU work: off the event loop.
        teasers = await asyncio.to_thread(lambda: [is_teaser(entry) for entry in posted])
        bodies = await asyncio.gather(*(self._full_text(entry, teaser) for entry, teaser in zip(posted, teasers)))
        created = await asyncio.to_thread(self._store_entries, source, result, parsed, posted, bodies, archive)
        if self.metrics:
            self.metrics.article_ingested(created)
        return created

    def _known_guids(self, source: FeedToPoll, parsed: ParsedFeed) -> set[str]:
        with self.store.transaction() as tx:
            return tx.articles.known_guids(source.id, [entry.guid for entry in parsed.entries])

    def _store_entries(self, source: FeedToPoll, result: FetchResult, parsed: ParsedFeed, posted: list[FeedEntry],
                       bodies: list[tuple[str, datetime | None]], archive: list[FeedEntry]) -> int:
        articles = [(self._article(entry, text, page_date), entry.guid)
                    for entry, (text, page_date) in zip(posted, bodies) if text.strip()]
        now = self.clock()
        with self.store.transaction() as tx:
            stored = tx.articles.add_many(articles, source_id=source.id, now=now)
            created = sum(is_new for _, is_new in stored)
            # The archive is remembered, so it never counts as new, but it is never posted.
            tx.articles.remember_skipped(source.id, [entry.guid for entry in archive], now=now)
            tx.sources.record_success(source.id, now=now, interval=self.interval, etag=result.etag,
                                      last_modified=result.last_modified, title=parsed.title,
                                      site_url=parsed.link)
        return created

    def _split_archive(self, source: FeedToPoll, entries: list[FeedEntry]) -> tuple[list[FeedEntry], list[FeedEntry]]:
        """A feed just added posts only its newest few items, not its archive."""
        if source.seeded:
            return entries, []
        oldest = datetime.min.replace(tzinfo=UTC)
        newest_first = sorted(entries, key=lambda e: e.published or oldest, reverse=True)
        return newest_first[:self.new_feed_items], newest_first[self.new_feed_items:]

    async def _full_text(self, entry: FeedEntry, teaser: bool) -> tuple[str, datetime | None]:
        """The story, not the teaser: a feed that carries only a teaser gets its article page. Returns the
        text and the page's publication date (for an entry that has none)."""
        if not (teaser and entry.url):
            return entry.text, None
        async with self._page_slots:
            try:
                result = await self.fetcher.fetch(entry.url, kind="page")
                page = await asyncio.to_thread(extract_page, result.content, url=result.url,
                                              content_type=result.content_type)
            except (FetchError, PageError) as exc:
                log.info("full text of %s unavailable (%s); keeping the teaser", redact_url(entry.url), exc.reason)
                return entry.text, None
            except Exception:  # the teaser is still a story: a page nobody foresaw must not lose the feed
                log.warning("full text of %s unavailable; keeping the teaser", redact_url(entry.url), exc_info=True)
                return entry.text, None
        return (page.text if len(page.text) > len(entry.text) else entry.text), page.date

    @staticmethod
    def _article(entry: FeedEntry, text: str, page_date: datetime | None = None) -> NewArticle:
        url = None
        if entry.url:
            try:
                url = canonical_url(entry.url)
            except ValueError:
                url = None
        return NewArticle(fingerprint=content_fingerprint(entry.title, text), text=text, url=url, title=entry.title,
                          published_at=entry.published or page_date)  # the feed's date first, else the page's

    def _pending_count(self) -> int:
        with self.store.transaction() as tx:
            return tx.articles.pending_count()

    def _pending_batch(self) -> list[tuple[int, ArticleText]]:
        with self.store.transaction() as tx:
            return [(a.id, ArticleText(text=a.text, title=a.title, url=a.url, published=a.published_at))
                    for a in tx.articles.pending(self.batch_size)]

    def _save_briefs(self, batch: list[tuple[int, ArticleText]], outcomes: list, now: datetime) -> int:
        """Store a batch's briefs (or failures) and queue their alerts in one transaction; returns briefs stored."""
        with self.store.transaction() as tx:
            new_briefs: list[StoredBrief] = []
            for (article_id, _), outcome in zip(batch, outcomes):
                if isinstance(outcome, SummarizerError):
                    tx.articles.mark_failed(article_id, str(outcome))
                    continue
                if tx.articles.save_brief(article_id, headline=outcome.headline, points=outcome.points,
                                          backend=outcome.backend, now=now) is not None:
                    new_briefs.append(tx.articles.brief_for_article(article_id))
            if new_briefs and self.on_new_briefs:
                self.on_new_briefs(tx, new_briefs, now)
        return len(new_briefs)

    async def summarize_pending(self, *, progress: Progress | None = None) -> int:
        """Summarize stored articles that have no brief yet, a batch at a time; returns briefs made."""
        made = done = 0
        total = await asyncio.to_thread(self._pending_count)
        while True:
            batch = await asyncio.to_thread(self._pending_batch)
            if not batch:
                return made
            outcomes = await self.briefs.summarize_each([article for _, article in batch])
            # Storing, and matching every keyword subscription, is CPU and database work: in a thread,
            # a batch at a time, so the event loop keeps serving the chats.
            made += await asyncio.to_thread(self._save_briefs, batch, outcomes, self.clock())
            done += len(batch)
            if progress:
                progress("summaries", done, max(total, done))
