"""The outbox: deliveries enqueued with the event that caused them, claimed under a lease, finished once.

States: pending -> claimed (leased by a worker) -> sending (the request is about to go out)
-> sent | failed (final error) | unknown (we cannot tell whether it arrived; never resent blindly).
A retryable error puts the row back to pending with a later `not_before`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session

from bot.store.tables import Chat, Delivery
from bot.store.upsert import insert_ignore

FINAL_STATES = ("sent", "failed", "unknown")


@dataclass(frozen=True)
class ClaimedDelivery:
    id: int
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

    def claim(self, *, worker: str, now: datetime, lease: timedelta, limit: int,
              platforms: tuple[str, ...] | None = None) -> list[ClaimedDelivery]:
        """Lease due deliveries to this worker. On PostgreSQL rows locked by another worker are
        skipped (FOR UPDATE SKIP LOCKED); on SQLite the write transaction itself is exclusive."""
        expired_claim = and_(Delivery.status == "claimed", Delivery.lease_until < now)
        due = and_(Delivery.status == "pending", Delivery.not_before <= now)
        query = (select(Delivery.id).join(Chat, Chat.id == Delivery.chat_id)
                 .where(or_(due, expired_claim), Chat.active.is_(True))
                 .order_by(Delivery.not_before, Delivery.id).limit(limit)
                 .with_for_update(skip_locked=True, of=Delivery))
        if platforms is not None:
            query = query.where(Chat.platform.in_(platforms))
        ids = list(self.session.scalars(query))
        if not ids:
            return []
        self.session.execute(update(Delivery).where(Delivery.id.in_(ids)).values(
            status="claimed", claimed_by=worker, lease_until=now + lease))
        rows = self.session.execute(
            select(Delivery, Chat.platform, Chat.chat_key, Chat.kind).join(Chat, Chat.id == Delivery.chat_id)
            .where(Delivery.id.in_(ids)).order_by(Delivery.not_before, Delivery.id)).all()
        return [ClaimedDelivery(id=d.id, platform=platform, chat_key=key, chat_kind=chat_kind,
                                thread_id=d.thread_id, kind=d.kind, payload=d.payload, attempts=d.attempts,
                                parts_sent=d.parts_sent)
                for d, platform, key, chat_kind in rows]

    def mark_sending(self, delivery_id: int, *, worker: str) -> bool:
        """Record that the request is about to leave; False when the lease was lost to another worker."""
        result = self.session.execute(update(Delivery).where(
            Delivery.id == delivery_id, Delivery.status == "claimed", Delivery.claimed_by == worker)
            .values(status="sending", attempts=Delivery.attempts + 1))
        return result.rowcount == 1

    def record_part_sent(self, delivery_id: int) -> None:
        self.session.execute(update(Delivery).where(Delivery.id == delivery_id)
                             .values(parts_sent=Delivery.parts_sent + 1))

    def mark_sent(self, delivery_id: int, *, now: datetime, message_id: str | None) -> None:
        self._finish(delivery_id, status="sent", sent_at=now, platform_message_id=message_id, last_error=None)

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

    def depth(self) -> int:
        """Messages waiting to go out."""
        return self.session.scalar(select(func.count()).select_from(Delivery).where(
            Delivery.status.in_(("pending", "claimed", "sending")))) or 0

    def counts(self) -> dict[str, int]:
        rows = self.session.execute(select(Delivery.status, func.count()).group_by(Delivery.status)).all()
        return {status: count for status, count in rows}

    def sent_since(self, chat_id: int, kind: str, since: datetime) -> int:
        """How many messages of a kind were queued for a chat since a moment (for alert folding)."""
        return self.session.scalar(select(func.count()).select_from(Delivery).where(
            Delivery.chat_id == chat_id, Delivery.kind == kind, Delivery.created_at >= since)) or 0
