"""Chats, their keyword subscriptions and their digest schedules."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Row, delete, func, select, update
from sqlalchemy.orm import Session

from bot.domain.models import ChatSettings
from bot.store.tables import AlertRecord, Chat, Delivery, DigestRecord, DigestSchedule, Subscription, Version
from bot.store.upsert import insert_ignore, insert_ignore_many


SUBSCRIPTIONS_VERSION = "subscriptions"


class ChatRepo:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, chat_id: int) -> Chat | None:
        return self.session.get(Chat, chat_id)

    def lock(self, chat_id: int) -> Chat | None:
        """The chat row, locked until the transaction ends: changes to one chat's settings take turns."""
        return self.session.scalar(select(Chat).where(Chat.id == chat_id).with_for_update())

    def find(self, platform: str, chat_key: str) -> Chat | None:
        return self.session.scalar(select(Chat).where(Chat.platform == platform, Chat.chat_key == chat_key))

    def ensure(self, platform: str, chat_key: str, *, kind: str = "private", title: str | None = None,
               timezone: str = "UTC") -> Chat:
        """The chat row, created on first contact; a chat that talks to us again is active again."""
        insert_ignore(self.session, Chat, {"platform": platform, "chat_key": chat_key, "kind": kind,
                                           "title": title, "timezone": timezone, "empty_digest": "skip",
                                           "active": True})
        chat = self.find(platform, chat_key)
        assert chat is not None
        if not chat.active:
            chat.active, chat.deactivated_reason = True, None
        if title and chat.title != title:
            chat.title = title
        return chat

    def deactivate(self, chat_id: int, reason: str) -> None:
        """Stop alerts and digests to a chat that can no longer be reached (e.g. the bot was blocked).
        What was still queued for it fails with the reason, rather than going out if it comes back."""
        self.session.execute(update(Chat).where(Chat.id == chat_id)
                             .values(active=False, deactivated_reason=reason[:500]))
        self.session.execute(update(Delivery).where(Delivery.chat_id == chat_id,
                                                    Delivery.status.in_(("pending", "claimed")))
                             .values(status="failed", claimed_by=None, lease_until=None,
                                     last_error=f"chat deactivated: {reason}"[:1000]))

    def migrate(self, platform: str, old_key: str, new_key: str) -> None:
        """A chat got a new id (a group the platform upgraded, with a new id): keep its feeds, alerts and schedule."""
        old, new = self.find(platform, old_key), self.find(platform, new_key)
        if old is None:
            return
        if new is None:
            old.chat_key = new_key
        else:  # the bot already knew the new id: keep that row, retire the old one
            old.active, old.deactivated_reason = False, f"migrated to {new_key}"

    # Keyword subscriptions
    def subscribe(self, chat_id: int, query: str, display: str, thread_id: str | None = None) -> bool:
        new_id = insert_ignore(self.session, Subscription, {"chat_id": chat_id, "query": query,
                                                             "display": display, "thread_id": thread_id},
                               returning=Subscription.id)
        if new_id is not None:
            self._bump(SUBSCRIPTIONS_VERSION)
        return new_id is not None

    def unsubscribe(self, chat_id: int, query: str | None) -> int:
        """Remove one subscription by its normalized query, or all of them when query is None."""
        statement = delete(Subscription).where(Subscription.chat_id == chat_id)
        if query is not None:
            statement = statement.where(Subscription.query == query)
        removed = self.session.execute(statement).rowcount
        if removed:
            self._bump(SUBSCRIPTIONS_VERSION)
        return removed

    def subscription_count(self, chat_id: int) -> int:
        return self.session.scalar(select(func.count()).select_from(Subscription)
                                   .where(Subscription.chat_id == chat_id)) or 0

    def subscriptions(self, chat_id: int) -> list[Subscription]:
        return list(self.session.scalars(
            select(Subscription).where(Subscription.chat_id == chat_id).order_by(Subscription.id)))

    def all_subscriptions(self) -> list[Row]:
        """Every subscription (id, chat_id, query, display, thread_id), active chat or not: the alert
        matcher is compiled from these. Plain rows: loading 10,000 ORM objects costs more than parsing."""
        return list(self.session.execute(
            select(Subscription.id, Subscription.chat_id, Subscription.query, Subscription.display,
                   Subscription.thread_id).order_by(Subscription.id)))

    def subscriptions_version(self) -> int:
        """Changes whenever a subscription is added or removed: compiled matchers are cached on it."""
        return self.session.scalar(select(Version.value).where(Version.name == SUBSCRIPTIONS_VERSION)) or 0

    def active_chat_zones(self, chat_ids: set[int] | list[int]) -> dict[int, str]:
        """The active chats among these, each with its time zone."""
        if not chat_ids:
            return {}
        rows = self.session.execute(select(Chat.id, Chat.timezone).where(Chat.id.in_(list(chat_ids)),
                                                                         Chat.active.is_(True)))
        return dict(rows.tuples().all())

    def record_alerts(self, rows: list[dict], *, now: datetime) -> None:
        """Note which stories go to which chats (dicts of chat_id, brief_id, subscription_id, dedupe_key)."""
        insert_ignore_many(self.session, AlertRecord, [{**row, "created_at": now} for row in rows])

    def already_alerted(self, chat_ids: set[int], brief_ids: set[int]) -> set[tuple[int, int]]:
        """The (chat, brief) pairs among these that were alerted before."""
        if not chat_ids or not brief_ids:
            return set()
        rows = self.session.execute(select(AlertRecord.chat_id, AlertRecord.brief_id).where(
            AlertRecord.chat_id.in_(list(chat_ids)), AlertRecord.brief_id.in_(list(brief_ids)))).all()
        return {(chat_id, brief_id) for chat_id, brief_id in rows}

    def _bump(self, name: str) -> None:
        insert_ignore(self.session, Version, {"name": name, "value": 0})
        self.session.execute(update(Version).where(Version.name == name).values(value=Version.value + 1))

    # Digests
    def record_digest(self, chat_id: int, brief_ids: list[int], *, now: datetime) -> None:
        """Note the briefs a digest showed this chat (a brief already noted keeps its first time)."""
        insert_ignore_many(self.session, DigestRecord,
                           [{"chat_id": chat_id, "brief_id": brief_id, "sent_at": now} for brief_id in brief_ids])

    def digested(self, chat_id: int, *, since: datetime) -> list[int]:
        """The briefs shown to this chat in digests since then."""
        return list(self.session.scalars(select(DigestRecord.brief_id).where(
            DigestRecord.chat_id == chat_id, DigestRecord.sent_at > since).order_by(DigestRecord.brief_id)))

    def last_digest_at(self, chat_id: int) -> datetime | None:
        """When this chat last got a digest with stories in it."""
        latest = self.session.scalar(select(func.max(DigestRecord.sent_at)).where(DigestRecord.chat_id == chat_id))
        if latest is not None and latest.tzinfo is None:  # SQLite returns an aggregate without its column type
            latest = datetime.fromisoformat(str(latest)).replace(tzinfo=UTC)
        return latest

    # Digest schedules
    def schedule(self, chat_id: int) -> DigestSchedule | None:
        return self.session.scalar(select(DigestSchedule).where(DigestSchedule.chat_id == chat_id))

    def set_schedule(self, chat_id: int, *, local_time: str, timezone: str, next_run_at: datetime,
                     thread_id: str | None, covered_until: datetime | None) -> DigestSchedule:
        schedule = self.schedule(chat_id)
        if schedule is None:
            schedule = DigestSchedule(chat_id=chat_id, covered_until=covered_until)
            self.session.add(schedule)
        schedule.local_time, schedule.timezone = local_time, timezone
        schedule.next_run_at, schedule.thread_id = next_run_at, thread_id
        self.session.flush()
        return schedule

    def clear_schedule(self, chat_id: int) -> bool:
        return self.session.execute(delete(DigestSchedule).where(DigestSchedule.chat_id == chat_id)).rowcount > 0

    def schedules(self) -> list[DigestSchedule]:
        """Schedules of active chats (the scheduler rebuilds its jobs from these at start)."""
        return list(self.session.scalars(
            select(DigestSchedule).join(Chat, Chat.id == DigestSchedule.chat_id)
            .where(Chat.active.is_(True)).order_by(DigestSchedule.id)))

    def lock_schedule(self, chat_id: int) -> DigestSchedule | None:
        """The schedule row, locked until the transaction ends (one digest per chat and day)."""
        return self.session.scalar(select(DigestSchedule).where(DigestSchedule.chat_id == chat_id)
                                   .with_for_update())

    # Settings as the commands see them
    def ensure_settings(self, platform: str, chat_key: str, *, kind: str = "private", title: str | None = None,
                        timezone: str = "UTC") -> ChatSettings:
        """The chat's settings, the chat created on first contact (see `ensure`)."""
        return self._settings(self.ensure(platform, chat_key, kind=kind, title=title, timezone=timezone))

    def settings(self, chat_id: int) -> ChatSettings | None:
        chat = self.get(chat_id)
        return None if chat is None else self._settings(chat)

    def set_empty_digest(self, chat_id: int, choice: str) -> None:
        """What a day without news sends: "say" or "skip"."""
        self.session.execute(update(Chat).where(Chat.id == chat_id).values(empty_digest=choice))

    def plan_digest(self, chat_id: int, *, local_time: str, timezone: str, next_run_at: datetime,
                    thread_id: str | None) -> None:
        """A daily digest at local_time in timezone, which becomes the chat's zone; what the last digest
        covered is kept, so the next one starts where it ended."""
        self.session.execute(update(Chat).where(Chat.id == chat_id).values(timezone=timezone))
        existing = self.schedule(chat_id)
        self.set_schedule(chat_id, local_time=local_time, timezone=timezone, next_run_at=next_run_at,
                          thread_id=thread_id, covered_until=existing.covered_until if existing else None)

    def _settings(self, chat: Chat) -> ChatSettings:
        schedule = self.schedule(chat.id)
        return ChatSettings(id=chat.id, platform=chat.platform, key=chat.chat_key, kind=chat.kind, title=chat.title,
                            timezone=chat.timezone, empty_digest=chat.empty_digest,
                            digest_time=schedule.local_time if schedule else None,
                            digest_timezone=schedule.timezone if schedule else None)
