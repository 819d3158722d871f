"""Feeds, who follows them, and how their polling went."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from bot.runtime.clock import utcnow
from bot.store.tables import Chat, ChatSource, Source
from bot.store.upsert import insert_ignore

MAX_BACKOFF = timedelta(hours=24)


@dataclass(frozen=True)
class FeedToPoll:
    """What polling a feed needs to know of it."""

    id: int
    url: str
    etag: str | None
    last_modified: str | None
    seeded: bool  # False until the first successful poll: a new feed posts only its newest few items
    failures: int  # consecutive failed polls


@dataclass(frozen=True)
class FeedStatus:
    """A feed and how its polling went, as /sources shows it."""

    id: int
    url: str
    title: str | None
    next_poll_at: datetime
    last_polled_at: datetime | None
    last_success_at: datetime | None
    last_error: str | None
    last_error_reason: str | None
    consecutive_failures: int


@dataclass(frozen=True)
class FollowedSource:
    position: int  # 1-based, as shown to users by /sources
    source: FeedStatus
    thread_id: str | None
    paused: bool = False


class SourceRepo:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, source_id: int) -> Source | None:
        return self.session.get(Source, source_id)

    def by_url(self, url: str) -> Source | None:
        return self.session.scalar(select(Source).where(Source.url == url))

    def ensure(self, url: str, *, title: str | None = None, now: datetime | None = None) -> FeedToPoll:
        """The feed's row, created on first follow (due for polling at once)."""
        now = now or utcnow()
        insert_ignore(self.session, Source, {"url": url, "title": title, "consecutive_failures": 0,
                                              "seeded": False, "created_at": now, "next_poll_at": now})
        source = self.by_url(url)
        assert source is not None
        return _feed_to_poll(source)

    def follow(self, chat_pk: int, source_id: int, thread_id: str | None = None) -> bool:
        """Make a chat follow a feed; False when it already did."""
        new_id = insert_ignore(self.session, ChatSource,
                               {"chat_id": chat_pk, "source_id": source_id, "thread_id": thread_id},
                               returning=ChatSource.id)
        return new_id is not None

    def unfollow(self, chat_pk: int, source_id: int) -> bool:
        result = self.session.execute(
            delete(ChatSource).where(ChatSource.chat_id == chat_pk, ChatSource.source_id == source_id))
        return result.rowcount > 0

    def followed_by(self, chat_pk: int) -> list[FollowedSource]:
        rows = self.session.execute(
            select(Source, ChatSource.thread_id, ChatSource.paused).join(ChatSource, ChatSource.source_id == Source.id)
            .where(ChatSource.chat_id == chat_pk).order_by(ChatSource.id)).all()
        return [FollowedSource(i, _feed_status(source), thread, paused)
                for i, (source, thread, paused) in enumerate(rows, start=1)]

    def follows(self, chat_pk: int, source_id: int) -> bool:
        return self.session.scalar(select(ChatSource.id).where(
            ChatSource.chat_id == chat_pk, ChatSource.source_id == source_id)) is not None

    def set_paused(self, chat_pk: int, source_id: int, paused: bool) -> bool:
        """Pause or resume a chat's feed; False when it already was so, or the chat does not follow it.
        The condition is in the UPDATE: of two presses at once, exactly one changes the row."""
        result = self.session.execute(update(ChatSource).where(
            ChatSource.chat_id == chat_pk, ChatSource.source_id == source_id, ChatSource.paused.is_(not paused))
            .values(paused=paused))
        return result.rowcount > 0

    def claim_due(self, now: datetime, *, limit: int, lease: timedelta) -> list[FeedToPoll]:
        """Feeds due for polling that some active chat follows (not paused), pushed `lease` ahead so that
        another poller process does not take them too (rows locked with SKIP LOCKED on PostgreSQL)."""
        followed = select(ChatSource.source_id).join(Chat, Chat.id == ChatSource.chat_id).where(
            Chat.active.is_(True), ChatSource.paused.is_(False))
        query = (select(Source).where(Source.next_poll_at <= now, Source.id.in_(followed))
                 .order_by(Source.next_poll_at).limit(limit).with_for_update(skip_locked=True))
        feeds = [_feed_to_poll(source) for source in self.session.scalars(query)]
        if feeds:
            self.session.execute(update(Source).where(Source.id.in_([feed.id for feed in feeds]))
                                 .values(next_poll_at=now + lease))
        return feeds

    def record_success(self, source_id: int, *, now: datetime, interval: timedelta, etag: str | None,
                       last_modified: str | None, title: str | None = None,
                       site_url: str | None = None) -> None:
        values = {"etag": etag, "last_modified": last_modified, "last_polled_at": now,
                  "last_success_at": now, "next_poll_at": now + interval, "consecutive_failures": 0,
                  "last_error": None, "last_error_reason": None, "seeded": True}
        if title:
            values["title"] = title[:500]
        if site_url:
            values["site_url"] = site_url[:2048]
        self.session.execute(update(Source).where(Source.id == source_id).values(**values))

    def record_failure(self, source_id: int, *, now: datetime, interval: timedelta, reason: str,
                       message: str) -> None:
        """Keep the error for users to see, and back off exponentially (capped at a day)."""
        source = self.session.get(Source, source_id)
        if source is None:
            return
        source.consecutive_failures += 1
        source.last_polled_at = now
        source.last_error = message[:500]
        source.last_error_reason = reason[:50]
        backoff = min(interval * (2 ** min(source.consecutive_failures, 16)), MAX_BACKOFF)
        source.next_poll_at = now + max(backoff, interval)



def _feed_to_poll(source: Source) -> FeedToPoll:
    return FeedToPoll(id=source.id, url=source.url, etag=source.etag, last_modified=source.last_modified,
                      seeded=source.seeded, failures=source.consecutive_failures)


def _feed_status(source: Source) -> FeedStatus:
    return FeedStatus(id=source.id, url=source.url, title=source.title, next_poll_at=source.next_poll_at,
                      last_polled_at=source.last_polled_at, last_success_at=source.last_success_at,
                      last_error=source.last_error, last_error_reason=source.last_error_reason,
                      consecutive_failures=source.consecutive_failures)
