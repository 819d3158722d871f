"""The database schema. Every change to it goes through an Alembic migration (bot/store/migrations)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (JSON, BigInteger, Boolean, DateTime, Float, ForeignKey, Index, Integer, String, Text,
                        UniqueConstraint, false)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from bot.runtime.clock import utcnow


class UTCDateTime(TypeDecorator):
    """Aware UTC datetimes on every backend (SQLite keeps no time zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


# BIGINT on PostgreSQL, INTEGER on SQLite (where only INTEGER PRIMARY KEY autoincrements).
BigId = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    pass


class Source(Base):
    """A feed that at least one chat follows."""

    __tablename__ = "sources"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    url: Mapped[str] = mapped_column(String(2048), unique=True)
    title: Mapped[str | None] = mapped_column(String(500))
    site_url: Mapped[str | None] = mapped_column(String(2048))
    etag: Mapped[str | None] = mapped_column(String(500))
    last_modified: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    next_poll_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    last_polled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(String(500))
    last_error_reason: Mapped[str | None] = mapped_column(String(50))
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    # False until the first successful poll: a new feed posts only its newest few items.
    seeded: Mapped[bool] = mapped_column(Boolean, default=False)


class Article(Base):
    __tablename__ = "articles"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    url: Mapped[str | None] = mapped_column(String(2048), unique=True)  # canonical
    fingerprint: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str | None] = mapped_column(String(1000))
    text: Mapped[str] = mapped_column(Text)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    # "new" until summarized; "failed" when the summarizer refused it (summary_error says why).
    status: Mapped[str] = mapped_column(String(20), default="new", index=True)
    summary_error: Mapped[str | None] = mapped_column(String(500))


class ArticleSource(Base):
    """Which feed(s) carried an article, under which GUID: one story, many feeds."""

    __tablename__ = "article_sources"
    __table_args__ = (UniqueConstraint("source_id", "guid"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"), index=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"))
    guid: Mapped[str] = mapped_column(String(2048))
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class BriefRow(Base):
    """The one summary of an article, whatever number of chats follow it (a stored `summarizer.Brief`)."""

    __tablename__ = "briefs"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"), unique=True)
    headline: Mapped[str] = mapped_column(String(1000))
    points: Mapped[list[str]] = mapped_column(JSON)
    backend: Mapped[str] = mapped_column(String(30))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class Chat(Base):
    """A conversation on a platform: a private chat, a group, a channel."""

    __tablename__ = "chats"
    __table_args__ = (UniqueConstraint("platform", "chat_key"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    platform: Mapped[str] = mapped_column(String(20))
    chat_key: Mapped[str] = mapped_column(String(100))  # the platform's own chat id
    title: Mapped[str | None] = mapped_column(String(500))
    kind: Mapped[str] = mapped_column(String(20), default="private")  # private | group | channel
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    # An empty digest day: "skip" sends nothing, "say" sends a short note.
    empty_digest: Mapped[str] = mapped_column(String(10), default="skip")
    # Chosen with /language (a code of bot.i18n.SUPPORTED); None: bot.i18n.resolution decides.
    language: Mapped[str | None] = mapped_column(String(10))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    deactivated_reason: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ChatSource(Base):
    """A chat follows a feed; briefs of that feed go to `thread_id` when set (a forum topic)."""

    __tablename__ = "chat_sources"
    __table_args__ = (UniqueConstraint("chat_id", "source_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    chat_id: Mapped[int] = mapped_column(ForeignKey("chats.id", ondelete="CASCADE"))
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"), index=True)
    thread_id: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Paused (or muted from under a brief): the feed stays in /sources but brings this chat nothing.
    paused: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class Subscription(Base):
    """A keyword alert: `query` is the normalized form, `display` what the user typed."""

    __tablename__ = "subscriptions"
    __table_args__ = (UniqueConstraint("chat_id", "query"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    chat_id: Mapped[int] = mapped_column(ForeignKey("chats.id", ondelete="CASCADE"), index=True)
    query: Mapped[str] = mapped_column(String(500))
    display: Mapped[str] = mapped_column(String(500))
    thread_id: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Version(Base):
    """A counter bumped on every change of something that readers compile and cache (subscriptions)."""

    __tablename__ = "versions"

    name: Mapped[str] = mapped_column(String(50), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, default=0)


class AlertRecord(Base):
    """A story alerted to a chat, alone or folded with others: never twice, and nothing left out."""

    __tablename__ = "alert_log"
    __table_args__ = (UniqueConstraint("chat_id", "brief_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    chat_id: Mapped[int] = mapped_column(ForeignKey("chats.id", ondelete="CASCADE"))
    brief_id: Mapped[int] = mapped_column(ForeignKey("briefs.id", ondelete="CASCADE"))
    subscription_id: Mapped[int | None] = mapped_column(ForeignKey("subscriptions.id", ondelete="SET NULL"))
    dedupe_key: Mapped[str] = mapped_column(String(300))  # the delivery that carries it
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class DigestRecord(Base):
    """A story shown to a chat in a digest, scheduled or asked for: the next digest does not tell it again."""

    __tablename__ = "digest_log"
    __table_args__ = (UniqueConstraint("chat_id", "brief_id"), Index("ix_digest_log_chat_sent", "chat_id", "sent_at"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    chat_id: Mapped[int] = mapped_column(ForeignKey("chats.id", ondelete="CASCADE"))
    brief_id: Mapped[int] = mapped_column(ForeignKey("briefs.id", ondelete="CASCADE"))
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class DigestSchedule(Base):
    """A chat's daily digest: local time and zone, and the next run in UTC (rebuilt into jobs at start)."""

    __tablename__ = "digest_schedules"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    chat_id: Mapped[int] = mapped_column(ForeignKey("chats.id", ondelete="CASCADE"), unique=True)
    local_time: Mapped[str] = mapped_column(String(5))  # HH:MM
    timezone: Mapped[str] = mapped_column(String(64))
    thread_id: Mapped[str | None] = mapped_column(String(100))
    next_run_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    last_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Briefs newer than this go into the next digest.
    covered_until: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Delivery(Base):
    """The outbox: every outgoing message, written in the transaction that decided to send it."""

    __tablename__ = "deliveries"
    __table_args__ = (Index("ix_deliveries_due", "status", "not_before"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    # Unique per (chat, item): enqueueing the same thing twice is a no-op.
    dedupe_key: Mapped[str] = mapped_column(String(300), unique=True)
    chat_id: Mapped[int] = mapped_column(ForeignKey("chats.id", ondelete="CASCADE"), index=True)
    thread_id: Mapped[str | None] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(20))
    payload: Mapped[dict] = mapped_column(JSON)
    # pending -> claimed -> sending -> sent | failed | unknown (pending again on a retryable error)
    status: Mapped[str] = mapped_column(String(20), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # A long message goes out in several parts; a retry resumes after the last part that arrived.
    parts_sent: Mapped[int] = mapped_column(Integer, default=0)
    # Sends that timed out without an answer: the first is sent once more, the next one is given up.
    timeouts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    not_before: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    platform_message_id: Mapped[str | None] = mapped_column(String(100))


class ChatLease(Base):
    """The delivery process serving a chat now: one at a time, so per-chat limits hold across processes.
    The owner renews `lease_until` while it has work for the chat; once it lapses, any process may take over."""

    __tablename__ = "chat_leases"

    chat_id: Mapped[int] = mapped_column(BigId, ForeignKey("chats.id", ondelete="CASCADE"), primary_key=True)
    owner: Mapped[str] = mapped_column(String(100))
    lease_until: Mapped[datetime] = mapped_column(UTCDateTime)


class RateSlot(Base):
    """A bot-wide rate limit shared by every delivery process (GCRA): when its next message may go, in
    seconds since the epoch on the database's clock, so that the processes' own clocks do not matter."""

    __tablename__ = "rate_slots"

    key: Mapped[str] = mapped_column(String(50), primary_key=True)
    tat: Mapped[float] = mapped_column(Float)


class SeenEvent(Base):
    """A platform event some bot process has received (an event id, an update id), kept a
    day: a redelivery to any process sharing the database, or after a restart, is recognized."""

    __tablename__ = "seen_events"

    platform: Mapped[str] = mapped_column(String(20), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)  # pruning goes by this


class Action(Base):
    """What a button does: its token (the only thing the platform sees) resolves to this, for one chat,
    until it expires."""

    __tablename__ = "actions"

    token: Mapped[str] = mapped_column(String(32), primary_key=True)
    chat_id: Mapped[int] = mapped_column(ForeignKey("chats.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    target_id: Mapped[int | None] = mapped_column(BigInteger)  # a source, a subscription; None for a chat setting
    args: Mapped[dict] = mapped_column(JSON)  # e.g. {"time": "07:00"}, {"choice": "say"}
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
