"""The outbox: deliveries enqueued with the event that caused them, claimed under a lease, finished once.

States: pending -> claimed (leased by a worker) -> sending (the request is about to go out)
-> sent | failed (final error) | unknown (we cannot tell whether it arrived; never resent blindly).
A retryable error puts the row back to pending with a later `not_before`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, literal_column, or_, select, update
from sqlalchemy.orm import Session

from bot.store.tables import Chat, Delivery
from bot.store.upsert import insert_ignore, insert_ignore_many

FINAL_STATES = ("sent", "failed", "unknown")


@dataclass(frozen=True)
class ClaimedDelivery:
    id: int
    chat_id: int
    platform: str
    chat_key: str
    chat_kind: str
    thread_id: str | None
    kind: str
    payload: dict[str, Any]
    attempts: int
    parts_sent: int


class OutboxRepo:
    def __init__(self, session: Session) -> None:
        self.session = session

    def enqueue(self, *, chat_id: int, kind: str, dedupe_key: str, payload: dict[str, Any],
                thread_id: str | None = None, now: datetime) -> bool:
        """Queue a message unless this (chat, item) key was queued before; True when queued now."""
        new_id = insert_ignore(self.session, Delivery, {
            "dedupe_key": dedupe_key, "chat_id": chat_id, "thread_id": thread_id, "kind": kind,
            "payload": payload, "status": "pending", "attempts": 0, "parts_sent": 0, "not_before": now, "created_at": now},
            returning=Delivery.id)
        return new_id is not None

    def enqueue_many(self, rows: list[dict[str, Any]], *, now: datetime) -> int:
        """`enqueue` for many messages (dicts of chat_id, kind, dedupe_key, payload, thread_id);
        returns how many were new."""
        keys = [row["dedupe_key"] for row in rows]
        known: set[str] = set()
        for start in range(0, len(keys), 1000):
            known.update(self.session.scalars(select(Delivery.dedupe_key).where(
                Delivery.dedupe_key.in_(keys[start:start + 1000]))))
        new = [{"thread_id": None, **row, "status": "pending", "attempts": 0, "parts_sent": 0, "not_before": now,
                "created_at": now} for row in rows if row["dedupe_key"] not in known]
        insert_ignore_many(self.session, Delivery, new)
        return len(new)

    def claim(self, *, worker: str, now: datetime, lease: timedelta, limit: int,
              platforms: tuple[str, ...] | None = None, shard: tuple[int, int] | None = None
              ) -> list[ClaimedDelivery]:
        """Lease due deliveries to this worker. On PostgreSQL rows locked by another worker are
        skipped (FOR UPDATE SKIP LOCKED); on SQLite the write transaction itself is exclusive.
        `shard=(index, count)` takes only chats whose id % count == index."""
        expired_claim = and_(Delivery.status == "claimed", Delivery.lease_until < now)
        due = and_(Delivery.status == "pending", Delivery.not_before <= now)
        query = (select(Delivery.id).join(Chat, Chat.id == Delivery.chat_id)
                 .where(or_(due, expired_claim), Chat.active.is_(True))
                 .order_by(Delivery.not_before, Delivery.id).limit(limit)
                 .with_for_update(skip_locked=True, of=Delivery))
        if platforms is not None:
            query = query.where(Chat.platform.in_(platforms))
        if shard is not None:
            query = query.where(_in_shard(shard))
        ids = list(self.session.scalars(query))
        if not ids:
            return []
        self.session.execute(update(Delivery).where(Delivery.id.in_(ids)).values(
            status="claimed", claimed_by=worker, lease_until=now + lease))
        rows = self.session.execute(
            select(Delivery, Chat.platform, Chat.chat_key, Chat.kind).join(Chat, Chat.id == Delivery.chat_id)
            .where(Delivery.id.in_(ids)).order_by(Delivery.not_before, Delivery.id)).all()
        return [ClaimedDelivery(id=d.id, chat_id=d.chat_id, platform=platform, chat_key=key, chat_kind=chat_kind,
                                thread_id=d.thread_id, kind=d.kind, payload=d.payload, attempts=d.attempts,
                                parts_sent=d.parts_sent)
                for d, platform, key, chat_kind in rows]

    def mark_sending(self, delivery_id: int, *, worker: str, new_attempt: bool = True) -> bool:
        """Record that the request is about to leave; False when the lease was lost to another worker.
        The later parts of a long message go within the same attempt (`new_attempt=False`)."""
        attempts = Delivery.attempts + 1 if new_attempt else Delivery.attempts
        result = self.session.execute(update(Delivery).where(
            Delivery.id == delivery_id, Delivery.status == "claimed", Delivery.claimed_by == worker)
            .values(status="sending", attempts=attempts))
        return result.rowcount == 1

    def record_part_sent(self, delivery_id: int) -> None:
        """One part of a multi-part message arrived; nothing is in flight, so back to claimed: a worker
        that dies now leaves a row that is resumed after this part, not one of unknown fate."""
        self.session.execute(update(Delivery).where(Delivery.id == delivery_id, Delivery.status == "sending")
                             .values(parts_sent=Delivery.parts_sent + 1, status="claimed"))

    def mark_sent(self, delivery_id: int, *, now: datetime, message_id: str | None) -> None:
        self._finish(delivery_id, status="sent", sent_at=now, platform_message_id=message_id, last_error=None,
                     parts_sent=Delivery.parts_sent + 1)

    def mark_failed(self, delivery_id: int, error: str) -> None:
        self._finish(delivery_id, status="failed", last_error=error[:1000])

    def mark_unknown(self, delivery_id: int, error: str) -> None:
        self._finish(delivery_id, status="unknown", last_error=error[:1000])

    def retry_later(self, delivery_id: int, *, not_before: datetime, error: str) -> None:
        self._finish(delivery_id, status="pending", not_before=not_before, last_error=error[:1000])

    def release(self, delivery_ids: list[int]) -> None:
        """Give claimed-but-unsent rows back (graceful shutdown)."""
        if delivery_ids:
            self.session.execute(update(Delivery).where(Delivery.id.in_(delivery_ids),
                                                        Delivery.status == "claimed")
                                 .values(status="pending", claimed_by=None, lease_until=None))

    def extend_lease(self, delivery_ids: list[int], *, worker: str, lease_until: datetime) -> None:
        """Keep rows this worker still holds (a slow chat's queue) from being taken over."""
        if delivery_ids:
            self.session.execute(update(Delivery).where(
                Delivery.id.in_(delivery_ids), Delivery.claimed_by == worker,
                Delivery.status.in_(("claimed", "sending"))).values(lease_until=lease_until))

    def recover_worker(self, worker: str) -> tuple[int, int]:
        """A worker restarting under the same name: what its previous life held is dead for sure.
        Claimed rows go back to pending; rows it was sending become unknown. Returns (released, unknown)."""
        released = self.session.execute(update(Delivery).where(
            Delivery.claimed_by == worker, Delivery.status == "claimed").values(
            status="pending", claimed_by=None, lease_until=None)).rowcount
        unknown = self.session.execute(update(Delivery).where(
            Delivery.claimed_by == worker, Delivery.status == "sending").values(
            status="unknown", claimed_by=None, lease_until=None,
            last_error="interrupted while sending")).rowcount
        return released, unknown

    def recover_interrupted(self, *, now: datetime) -> int:
        """Rows left in `sending` by a crashed worker may or may not have arrived: mark them unknown."""
        result = self.session.execute(update(Delivery).where(
            Delivery.status == "sending", Delivery.lease_until < now).values(
            status="unknown", last_error="interrupted while sending"))
        return result.rowcount

    def _finish(self, delivery_id: int, **values: Any) -> None:
        values.setdefault("claimed_by", None)
        values.setdefault("lease_until", None)
        self.session.execute(update(Delivery).where(Delivery.id == delivery_id).values(**values))

    def outstanding(self, *, shard: tuple[int, int] | None = None, platforms: tuple[str, ...] | None = None) -> int:
        """Messages to active chats not yet in a final state (including those waiting to be retried)."""
        query = (select(func.count()).select_from(Delivery).join(Chat, Chat.id == Delivery.chat_id)
                 .where(Delivery.status.in_(("pending", "claimed", "sending")), Chat.active.is_(True)))
        if platforms is not None:
            query = query.where(Chat.platform.in_(platforms))
        if shard is not None:
            query = query.where(_in_shard(shard))
        return self.session.scalar(query) or 0

    def depth(self) -> int:
        """Messages waiting to go out."""
        return self.session.scalar(select(func.count()).select_from(Delivery).where(
            Delivery.status.in_(("pending", "claimed", "sending")))) or 0

    def counts(self) -> dict[str, int]:
        rows = self.session.execute(select(Delivery.status, func.count()).group_by(Delivery.status)).all()
        return {status: count for status, count in rows}

    def queued_since(self, chat_ids: set[int], kind: str, since: datetime) -> dict[int, int]:
        """How many messages of a kind were queued for each of these chats since a moment."""
        if not chat_ids:
            return {}
        rows = self.session.execute(select(Delivery.chat_id, func.count()).where(
            Delivery.chat_id.in_(list(chat_ids)), Delivery.kind == kind, Delivery.created_at >= since)
            .group_by(Delivery.chat_id)).all()
        return {chat_id: count for chat_id, count in rows}

    def sent_since(self, chat_id: int, kind: str, since: datetime) -> int:
        """How many messages of a kind were queued for a chat since a moment (for alert folding)."""
        return self.session.scalar(select(func.count()).select_from(Delivery).where(
            Delivery.chat_id == chat_id, Delivery.kind == kind, Delivery.created_at >= since)) or 0


def _in_shard(shard: tuple[int, int]):
    """Chats spread over `count` shards by a multiplicative hash of their id: ids are not spread evenly
    themselves (on PostgreSQL every INSERT ... ON CONFLICT DO NOTHING uses up a sequence value)."""
    index, count = shard
    if not 0 <= index < count:
        raise ValueError(f"shard index {index} is not in 0..{count - 1}")
    mixed = ((Delivery.chat_id % 1_000_003) * 2_654_435_761).op(">>")(literal_column("16"))
    return mixed % count == index
