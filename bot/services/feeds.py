"""A chat's feed list: add (checked by fetching it), remove, show with its health, OPML in and out.

Adding, removing and importing answer with what happened (`Followed`, `Refused`, ...), not with a
sentence: the chat commands and the command line each say it in their own words.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from bot.runtime.clock import utcnow
from bot.domain.dedupe import canonical_url
from bot.i18n import Translator, lazy, translator
from bot.services.ingest import Ingestor
from bot.sources.feeds import FeedError, discover_feed_links, parse_feed
from bot.sources.fetcher import FetchError, SafeFetcher
from bot.sources.opml import OpmlError, OpmlFeed, parse_opml, to_opml
from bot.store.store import Store


class SourceProblem(Exception):
    """Why a feed could not be added or imported, in words for the person who asked."""


@dataclass(frozen=True)
class Followed:
    name: str  # the feed's title, or its address
    url: str  # the feed's canonical address


@dataclass(frozen=True)
class AlreadyFollowed:
    name: str


@dataclass(frozen=True)
class Unfollowed:
    name: str


@dataclass(frozen=True)
class NotFollowed:
    ref: str  # what was asked for: a number or an address, as typed


@dataclass(frozen=True)
class Imported:
    added: int
    already: int  # followed before the import
    skipped: tuple[str, ...]  # "address: why" for each feed not imported


@dataclass(frozen=True)
class Refused:
    reason: str  # a sentence for whoever asked: what is wrong with the feed, the address or the file


class FeedService:
    def __init__(self, *, store: Store, fetcher: SafeFetcher, ingestor: Ingestor,
                 poll_soon: Callable[[], None] | None = None, max_feeds_per_chat: int = 200,
                 max_opml_entries: int = 500) -> None:
        self.store = store
        self.max_feeds_per_chat = max_feeds_per_chat
        self.max_opml_entries = max_opml_entries
        self.fetcher = fetcher
        self.ingestor = ingestor
        self.poll_soon = poll_soon  # asks the scheduler to poll (and summarize) without waiting

    async def add(self, chat_id: int, url: str, *, thread_id: str | None = None
                  ) -> Followed | AlreadyFollowed | Refused:
        """Follow a feed after checking that it is one; a web page that links a feed works too."""
        try:
            url = _checked(url)
            await asyncio.to_thread(self._check_room, chat_id)
            result, parsed = await self._fetch_feed(url)
        except SourceProblem as problem:
            return Refused(problem.args[0])
        feed_url = canonical_url(result.url)
        source, followed = await asyncio.to_thread(self._follow, chat_id, feed_url, parsed.title, thread_id)
        name = parsed.title or feed_url
        if not followed:
            return AlreadyFollowed(name)
        if not source.seeded:
            await self.ingestor.store_feed(source, result, parsed)
        if self.poll_soon:
            self.poll_soon()
        return Followed(name, feed_url)

    async def _fetch_feed(self, url: str):
        # Parsing a feed and scanning a page for its feed links are CPU work on hostile bytes: both run
        # in a thread, so the event loop keeps answering other chats meanwhile.
        try:
            result = await self.fetcher.fetch(url, kind="any")
            try:
                return result, await asyncio.to_thread(parse_feed, result.content, url=result.url,
                                                       content_type=result.content_type)
            except FeedError as not_a_feed:
                links = await asyncio.to_thread(discover_feed_links, result.content, base_url=result.url)
                for link in links[:3]:
                    try:
                        found = await self.fetcher.fetch(link, kind="feed")
                        return found, await asyncio.to_thread(parse_feed, found.content, url=found.url,
                                                              content_type=found.content_type)
                    except (FetchError, FeedError):
                        continue
                raise not_a_feed
        except FetchError as exc:
            # the message names the URL
            raise SourceProblem(lazy("I could not fetch that feed: {problem}", problem=str(exc))) from exc
        except FeedError as exc:
            raise SourceProblem(lazy("{url} is not a feed I can read: {problem}", url=url, problem=str(exc))) from exc

    def _follow(self, chat_id: int, url: str, title: str | None, thread_id: str | None):
        with self.store.transaction() as tx:
            source = tx.sources.ensure(url, title=title)
            return source, tx.sources.follow(chat_id, source.id, thread_id)

    def _check_room(self, chat_id: int) -> None:
        with self.store.transaction() as tx:
            self._room_for_one(len(tx.sources.followed_by(chat_id)))

    def _room_for_one(self, count: int) -> None:
        if count + 1 > self.max_feeds_per_chat:
            raise SourceProblem(lazy("A chat can follow up to {limit} feeds; this one follows {count}.",
                                     limit=self.max_feeds_per_chat, count=count))

    def remove(self, chat_id: int, ref: str) -> Unfollowed | NotFollowed:
        """Unfollow by the number /sources shows, or by URL."""
        with self.store.transaction() as tx:
            followed = tx.sources.followed_by(chat_id)
            match = None
            if ref.isdigit():
                match = next((f for f in followed if f.position == int(ref)), None)
            else:
                try:
                    wanted = canonical_url(ref)
                except ValueError:
                    wanted = ref
                match = next((f for f in followed if f.source.url in {wanted, ref}), None)
            if match is None:
                return NotFollowed(ref[:200])
            tx.sources.unfollow(chat_id, match.source.id)
        return Unfollowed(match.source.title or match.source.url)

    def describe(self, chat_id: int, *, now: datetime | None = None, language: str | None = None) -> list[str]:
        """One line a feed: its number, name, address and health (in `language`, English by default)."""
        now, tr = now or utcnow(), translator(language)
        with self.store.transaction() as tx:
            followed = tx.sources.followed_by(chat_id)
        lines = []
        for item in followed:
            source = item.source
            name = source.title or source.url
            if source.consecutive_failures:
                since = (_ago(now, source.last_success_at, tr) if source.last_success_at
                         else tr.gettext("never worked"))
                health = tr.gettext("failing ({failures}x, last success: {since}): {error}",
                                    failures=source.consecutive_failures, since=since, error=source.last_error)
            elif source.last_success_at:
                health = tr.gettext("ok, checked {ago}", ago=_ago(now, source.last_success_at, tr))
            else:
                health = tr.gettext("waiting for its first poll")
            if item.paused:  # its briefs are left out of this chat until it is resumed
                health = tr.gettext("paused ({health})", health=health)
            lines.append(f"{item.position}. {name} - {source.url} - {health}")
        return lines

    async def import_opml(self, chat_id: int, content: bytes, *, thread_id: str | None = None,
                          progress: Callable[[int, int], None] | None = None) -> Imported | Refused:
        """Follow every feed of an OPML file; they are fetched with the next poll. Parsing and storing run in
        a worker thread: a file of thousands of entries must not hold up the other chats."""
        try:
            feeds = await asyncio.to_thread(parse_opml, content)
        except OpmlError as exc:
            return Refused(lazy("I could not read that OPML file: {problem}", problem=str(exc)))
        if not feeds:
            return Refused(lazy("That OPML file lists no feeds."))
        if len(feeds) > self.max_opml_entries:
            return Refused(lazy("That OPML file lists {count} feeds; I import up to {limit} at a time (and a chat "
                                "follows up to {most}). Split the file, or keep the feeds you read most.",
                                count=len(feeds), limit=self.max_opml_entries,
                                most=self.max_feeds_per_chat))
        added, already, skipped = await asyncio.to_thread(self._follow_all, chat_id, feeds, thread_id, progress)
        if added and self.poll_soon:
            self.poll_soon()
        return Imported(added, already, tuple(skipped))

    def _follow_all(self, chat_id: int, feeds: list[OpmlFeed], thread_id: str | None,
                    progress: Callable[[int, int], None] | None) -> tuple[int, int, list[str]]:
        """(added, already followed, why each other one was skipped), in one transaction."""
        added = already = 0
        skipped: list[str] = []
        with self.store.transaction() as tx:
            count = len(tx.sources.followed_by(chat_id))
            for done, feed in enumerate(feeds, start=1):
                try:
                    url = _checked(feed.url)
                    self._room_for_one(count)
                except SourceProblem as exc:
                    skipped.append(lazy("{url}: {problem}", url=feed.url[:100], problem=exc.args[0]))
                else:
                    source = tx.sources.ensure(url, title=feed.title)
                    if tx.sources.follow(chat_id, source.id, thread_id):
                        added, count = added + 1, count + 1
                    else:
                        already += 1
                if progress:
                    progress(done, len(feeds))
        return added, already, skipped

    def export_opml(self, chat_id: int, *, title: str = "briefbot feeds") -> bytes:
        with self.store.transaction() as tx:
            followed = tx.sources.followed_by(chat_id)
        return to_opml([OpmlFeed(url=f.source.url, title=f.source.title) for f in followed], title=title)


def _checked(url: str) -> str:
    try:
        canonical = canonical_url(url.strip())
    except ValueError as exc:
        raise SourceProblem(lazy("“{url}” is not a web address. Send the feed's whole address, for example "
                                 "https://example.com/feed.xml.", url=url[:200])) from exc
    if not canonical.startswith(("http://", "https://")):
        raise SourceProblem(lazy("“{url}” is not an http(s) address.", url=url[:200]))
    return canonical


def _ago(now: datetime, then: datetime, tr: Translator) -> str:
    seconds = max(0, int((now - then).total_seconds()))
    if seconds >= 86400:
        return tr.gettext("{count} d ago", count=seconds // 86400)
    if seconds >= 3600:
        return tr.gettext("{count} h ago", count=seconds // 3600)
    if seconds >= 60:
        return tr.gettext("{count} min ago", count=seconds // 60)
    return tr.gettext("just now")
