"""Chats, their keyword subscriptions and their digest schedules."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from bot.domain.models import ChatSettings
from bot.store.tables import AlertRecord, Chat, Delivery, DigestRecord, DigestSchedule, Subscription, Version
from bot.store.upsert import insert_ignore, insert_ignore_many


SUBSCRIPTIONS_VERSION = "subscriptions"


@dataclass(frozen=True)
class StoredChat:
    """A chat as the bot knows it (`id` is its row's; `chat_key` the platform's own id)."""

    id: int
    platform: str
    chat_key: str
    kind: str  # private | group | channel
    title: str | None
    timezone: str
    empty_digest: str  # an empty digest day: "skip" sends nothing, "say" sends a short note
    active: bool
    deactivated_reason: str | None = None
    language: str | None = None  # chosen with /language; None: the platform's or the default


@dataclass(frozen=True)
class ChatSchedule:
    """A chat's daily digest: local time and zone, the next run in UTC, and where the last one ended."""

    chat_pk: int
    local_time: str  # HH:MM
    timezone: str
    thread_id: str | None
    next_run_at: datetime
    last_run_at: datetime | None
    covered_until: datetime | None  # briefs newer than this go into the next digest


@dataclass(frozen=True)
class KeywordSubscription:
    """A keyword alert of a chat."""

    id: int
    chat_pk: int
    query: str  # normalized
    display: str  # as the user typed it
    thread_id: str | None


class ChatRepo:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, chat_pk: int) -> Chat | None:
        return self.session.get(Chat, chat_pk)

    def lock(self, chat_pk: int) -> bool:
        """Lock the chat's row until the transaction ends (changes to one chat's settings take turns);
        False when there is no such chat."""
        return self.session.scalar(select(Chat.id).where(Chat.id == chat_pk).with_for_update()) is not None

    def chat(self, chat_pk: int) -> StoredChat | None:
        row = self.session.get(Chat, chat_pk)
        return _stored_chat(row) if row is not None else None

    def find(self, platform: str, chat_key: str) -> StoredChat | None:
        row = self._find(platform, chat_key)
        return _stored_chat(row) if row is not None else None

    def _find(self, platform: str, chat_key: str) -> Chat | None:
        return self.session.scalar(select(Chat).where(Chat.platform == platform, Chat.chat_key == chat_key))

    def ensure(self, platform: str, chat_key: str, *, kind: str = "private", title: str | None = None,
               timezone: str = "UTC") -> StoredChat:
        """The chat row, created on first contact; a chat that talks to us again is active again."""
        insert_ignore(self.session, Chat, {"platform": platform, "chat_key": chat_key, "kind": kind,
                                           "title": title, "timezone": timezone, "empty_digest": "skip",
                                           "active": True})
        chat = self._find(platform, chat_key)
        assert chat is not None
        if not chat.active:
            chat.active, chat.deactivated_reason = True, None
        if title and chat.title != title:
            chat.title = title
        return _stored_chat(chat)

    def deactivate(self, chat_pk: int, reason: str) -> None:
        """Stop alerts and digests to a chat that can no longer be reached (e.g. the bot was blocked).
        What was still queued for it fails with the reason, rather than going out if it comes back."""
        self.session.execute(update(Chat).where(Chat.id == chat_pk)
                             .values(active=False, deactivated_reason=reason[:500]))
        self.session.execute(update(Delivery).where(Delivery.chat_id == chat_pk,
                                                    Delivery.status.in_(("pending", "claimed")))
                             .values(status="failed", claimed_by=None, lease_until=None,
                                     last_error=f"chat deactivated: {reason}"[:1000]))

    def migrate(self, platform: str, old_key: str, new_key: str) -> None:
        """A chat got a new id (a group the platform upgraded): keep its feeds, alerts and schedule."""
        old, new = self._find(platform, old_key), self._find(platform, new_key)
        if old is None:
            return
        if new is None:
            old.chat_key = new_key
        else:  # the bot already knew the new id: keep that row, retire the old one
            old.active, old.deactivated_reason = False, f"migrated to {new_key}"

    # Keyword subscriptions
    def subscribe(self, chat_pk: int, query: str, display: str, thread_id: str | None = None) -> bool:
        new_id = insert_ignore(self.session, Subscription, {"chat_id": chat_pk, "query": query,
                                                             "display": display, "thread_id": thread_id},
                               returning=Subscription.id)
        if new_id is not None:
            self._bump(SUBSCRIPTIONS_VERSION)
        return new_id is not None

    def unsubscribe(self, chat_pk: int, query: str | None) -> int:
        """Remove one subscription by its normalized query, or all of them when query is None."""
        statement = delete(Subscription).where(Subscription.chat_id == chat_pk)
        if query is not None:
            statement = statement.where(Subscription.query == query)
        removed = self.session.execute(statement).rowcount
        if removed:
            self._bump(SUBSCRIPTIONS_VERSION)
        return removed

    def subscription_count(self, chat_pk: int) -> int:
        return self.session.scalar(select(func.count()).select_from(Subscription)
                                   .where(Subscription.chat_id == chat_pk)) or 0

    def subscriptions(self, chat_pk: int) -> list[KeywordSubscription]:
        return [KeywordSubscription(*row) for row in self.session.execute(
            select(Subscription.id, Subscription.chat_id, Subscription.query, Subscription.display,
                   Subscription.thread_id).where(Subscription.chat_id == chat_pk).order_by(Subscription.id))]

    def all_subscriptions(self) -> list[KeywordSubscription]:
        """Every subscription, active chat or not: the alert matcher is compiled from these. Read as
        plain columns: loading 10,000 ORM objects costs more than parsing the queries."""
        return [KeywordSubscription(*row) for row in self.session.execute(
            select(Subscription.id, Subscription.chat_id, Subscription.query, Subscription.display,
                   Subscription.thread_id).order_by(Subscription.id))]

    def subscriptions_version(self) -> int:
        """Changes whenever a subscription is added or removed: compiled matchers are cached on it."""
        return self.session.scalar(select(Version.value).where(Version.name == SUBSCRIPTIONS_VERSION)) or 0

    def active_chat_zones(self, chat_pks: set[int] | list[int]) -> dict[int, str]:
        """The active chats among these, each with its time zone."""
        if not chat_pks:
            return {}
        rows = self.session.execute(select(Chat.id, Chat.timezone).where(Chat.id.in_(list(chat_pks)),
                                                                         Chat.active.is_(True)))
        return dict(rows.tuples().all())

    def record_alerts(self, rows: list[dict], *, now: datetime) -> None:
        """Note which stories go to which chats (dicts of chat_pk, brief_id, subscription_id, dedupe_key)."""
        insert_ignore_many(self.session, AlertRecord, [
            {"chat_id": row["chat_pk"], "brief_id": row["brief_id"], "subscription_id": row["subscription_id"],
             "dedupe_key": row["dedupe_key"], "created_at": now} for row in rows])

    def already_alerted(self, chat_pks: set[int], brief_ids: set[int]) -> set[tuple[int, int]]:
        """The (chat, brief) pairs among these that were alerted before."""
        if not chat_pks or not brief_ids:
            return set()
        rows = self.session.execute(select(AlertRecord.chat_id, AlertRecord.brief_id).where(
            AlertRecord.chat_id.in_(list(chat_pks)), AlertRecord.brief_id.in_(list(brief_ids)))).all()
        return {(chat_pk, brief_id) for chat_pk, brief_id in rows}

    def _bump(self, name: str) -> None:
        insert_ignore(self.session, Version, {"name": name, "value": 0})
        self.session.execute(update(Version).where(Version.name == name).values(value=Version.value + 1))

    # Digests
    def record_digest(self, chat_pk: int, brief_ids: list[int], *, now: datetime) -> None:
        """Note the briefs a digest showed this chat (a brief already noted keeps its first time)."""
        insert_ignore_many(self.session, DigestRecord,
                           [{"chat_id": chat_pk, "brief_id": brief_id, "sent_at": now} for brief_id in brief_ids])

    def digested(self, chat_pk: int, *, since: datetime) -> list[int]:
        """The briefs shown to this chat in digests since then."""
        return list(self.session.scalars(select(DigestRecord.brief_id).where(
            DigestRecord.chat_id == chat_pk, DigestRecord.sent_at > since).order_by(DigestRecord.brief_id)))

    def last_digest_at(self, chat_pk: int) -> datetime | None:
        """When this chat last got a digest with stories in it."""
        latest = self.session.scalar(select(func.max(DigestRecord.sent_at)).where(DigestRecord.chat_id == chat_pk))
        if latest is not None and latest.tzinfo is None:  # SQLite returns an aggregate without its column type
            latest = datetime.fromisoformat(str(latest)).replace(tzinfo=UTC)
        return latest

    # Digest schedules
    def schedule(self, chat_pk: int) -> ChatSchedule | None:
        row = self._schedule_row(chat_pk)
        return _chat_schedule(row) if row is not None else None

    def set_schedule(self, chat_pk: int, *, local_time: str, timezone: str, next_run_at: datetime,
                     thread_id: str | None, covered_until: datetime | None) -> ChatSchedule:
        schedule = self._schedule_row(chat_pk)
        if schedule is None:
            schedule = DigestSchedule(chat_id=chat_pk, covered_until=covered_until)
            self.session.add(schedule)
        schedule.local_time, schedule.timezone = local_time, timezone
        schedule.next_run_at, schedule.thread_id = next_run_at, thread_id
        self.session.flush()
        return _chat_schedule(schedule)

    def clear_schedule(self, chat_pk: int) -> bool:
        return self.session.execute(delete(DigestSchedule).where(DigestSchedule.chat_id == chat_pk)).rowcount > 0

    def schedules(self) -> list[ChatSchedule]:
        """Schedules of active chats (the scheduler rebuilds its jobs from these at start)."""
        return [_chat_schedule(row) for row in self.session.scalars(
            select(DigestSchedule).join(Chat, Chat.id == DigestSchedule.chat_id)
            .where(Chat.active.is_(True)).order_by(DigestSchedule.id))]

    def lock_schedule(self, chat_pk: int) -> ChatSchedule | None:
        """The schedule, its row locked until the transaction ends (one digest per chat and day)."""
        row = self.session.scalar(select(DigestSchedule).where(DigestSchedule.chat_id == chat_pk)
                                  .with_for_update())
        return _chat_schedule(row) if row is not None else None

    def advance_schedule(self, chat_pk: int, *, next_run_at: datetime, ran_at: datetime | None = None,
                         covered_until: datetime | None = None) -> None:
        """Move the schedule on to its next run; `ran_at` when a digest ran now, `covered_until` where the
        next digest starts."""
        values: dict = {"next_run_at": next_run_at}
        if ran_at is not None:
            values["last_run_at"] = ran_at
        if covered_until is not None:
            values["covered_until"] = covered_until
        self.session.execute(update(DigestSchedule).where(DigestSchedule.chat_id == chat_pk).values(**values))

    def _schedule_row(self, chat_pk: int) -> DigestSchedule | None:
        return self.session.scalar(select(DigestSchedule).where(DigestSchedule.chat_id == chat_pk))


    # Settings as the commands see them
    def ensure_settings(self, platform: str, chat_key: str, *, kind: str = "private", title: str | None = None,
                        timezone: str = "UTC") -> ChatSettings:
        """The chat's settings, the chat created on first contact (see `ensure`)."""
        return self._settings(self.ensure(platform, chat_key, kind=kind, title=title, timezone=timezone))

    def settings(self, chat_pk: int) -> ChatSettings | None:
        chat = self.get(chat_pk)
        return None if chat is None else self._settings(chat)

    def set_empty_digest(self, chat_pk: int, choice: str) -> None:
        """What a day without news sends: "say" or "skip"."""
        self.session.execute(update(Chat).where(Chat.id == chat_pk).values(empty_digest=choice))

    def plan_digest(self, chat_pk: int, *, local_time: str, timezone: str, next_run_at: datetime,
                    thread_id: str | None) -> None:
        """A daily digest at local_time in timezone, which becomes the chat's zone; what the last digest
        covered is kept, so the next one starts where it ended."""
        self.session.execute(update(Chat).where(Chat.id == chat_pk).values(timezone=timezone))
        existing = self.schedule(chat_pk)
        self.set_schedule(chat_pk, local_time=local_time, timezone=timezone, next_run_at=next_run_at,
                          thread_id=thread_id, covered_until=existing.covered_until if existing else None)

    def _settings(self, chat: Chat | StoredChat) -> ChatSettings:
        schedule = self.schedule(chat.id)
        return ChatSettings(id=chat.id, platform=chat.platform, chat_key=chat.chat_key, kind=chat.kind, title=chat.title,
                            timezone=chat.timezone, empty_digest=chat.empty_digest,
                            digest_time=schedule.local_time if schedule else None,
                            digest_timezone=schedule.timezone if schedule else None)


def _stored_chat(row: Chat) -> StoredChat:
    return StoredChat(id=row.id, platform=row.platform, chat_key=row.chat_key, kind=row.kind, title=row.title,
                      timezone=row.timezone, empty_digest=row.empty_digest, active=row.active,
                      deactivated_reason=row.deactivated_reason, language=row.language)


def _chat_schedule(row: DigestSchedule) -> ChatSchedule:
    return ChatSchedule(chat_pk=row.chat_id, local_time=row.local_time, timezone=row.timezone,
                        thread_id=row.thread_id, next_run_at=row.next_run_at, last_run_at=row.last_run_at,
                        covered_until=row.covered_until)
