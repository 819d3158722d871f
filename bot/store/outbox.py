"""The outbox: deliveries enqueued with the event that caused them, claimed under a lease, finished once.

States: pending -> claimed (leased by a worker) -> sending (the request is about to go out)
-> sent | failed (final error) | unknown (we cannot tell whether it arrived; never resent blindly).
A retryable error puts the row back to pending with a later `not_before`.

A worker claims rows only of chats it holds the lease of (`chat_leases`): one process serves a chat at
a time, so the chat's own rate limits hold however many processes deliver. Row and chat leases are
renewed while the worker lives; once they lapse (the worker died), any other worker takes them over.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from bot.store.tables import Chat, ChatLease, Delivery
from bot.store.upsert import insert_ignore, insert_ignore_many

FINAL_STATES = ("sent", "failed", "unknown")


@dataclass(frozen=True)
class ClaimedDelivery:
    id: int
    chat_pk: int
    platform: str
    chat_key: str
    chat_kind: str
    thread_id: str | None
    kind: str
    payload: dict[str, Any]
    attempts: int
    parts_sent: int
    timeouts: int = 0
    # When this chat was last sent to (within the last minute) by the worker that held it before: the
    # new holder paces its first messages as if it had sent those itself.
    recent_sends: tuple[datetime, ...] = ()


class OutboxRepo:
    def __init__(self, session: Session) -> None:
        self.session = session

    def enqueue(self, *, chat_pk: int, kind: str, dedupe_key: str, payload: dict[str, Any],
                thread_id: str | None = None, now: datetime) -> bool:
        """Queue a message unless this (chat, item) key was queued before; True when queued now."""
        new_id = insert_ignore(self.session, Delivery, {
            "dedupe_key": dedupe_key, "chat_id": chat_pk, "thread_id": thread_id, "kind": kind,
            "payload": payload, "status": "pending", "attempts": 0, "parts_sent": 0, "not_before": now, "created_at": now},
            returning=Delivery.id)
        return new_id is not None

    def enqueue_many(self, rows: list[dict[str, Any]], *, now: datetime) -> int:
        """`enqueue` for many messages (dicts of chat_pk, kind, dedupe_key, payload, thread_id);
        returns how many were new."""
        keys = [row["dedupe_key"] for row in rows]
        known: set[str] = set()
        for start in range(0, len(keys), 1000):
            known.update(self.session.scalars(select(Delivery.dedupe_key).where(
                Delivery.dedupe_key.in_(keys[start:start + 1000]))))
        new = [{"thread_id": None, **_columns(row), "status": "pending", "attempts": 0, "parts_sent": 0,
                "not_before": now, "created_at": now} for row in rows if row["dedupe_key"] not in known]
        insert_ignore_many(self.session, Delivery, new)
        return len(new)

    def claim(self, *, worker: str, now: datetime, lease: timedelta, limit: int,
              platforms: tuple[str, ...] | None = None) -> list[ClaimedDelivery]:
        """Lease due deliveries to this worker, with their chats. Rows of a chat that another live worker
        holds are left alone; on PostgreSQL rows locked by a concurrent claim are skipped (FOR UPDATE SKIP
        LOCKED), and the chat lease is taken with an upsert that only one of two racing workers wins."""
        expired_claim = and_(Delivery.status == "claimed", Delivery.lease_until < now)
        due = and_(Delivery.status == "pending", Delivery.not_before <= now)
        chat_free = or_(ChatLease.owner.is_(None), ChatLease.owner == worker, ChatLease.lease_until < now)
        query = (select(Delivery.id, Delivery.chat_id).join(Chat, Chat.id == Delivery.chat_id)
                 .outerjoin(ChatLease, ChatLease.chat_id == Delivery.chat_id)
                 .where(or_(due, expired_claim), Chat.active.is_(True), chat_free)
                 .order_by(Delivery.not_before, Delivery.id).limit(limit)
                 .with_for_update(skip_locked=True, of=Delivery))
        if platforms is not None:
            query = query.where(Chat.platform.in_(platforms))
        candidates = self.session.execute(query).all()
        if not candidates:
            return []
        chats, taken_over = self._lease_chats(sorted({chat_pk for _, chat_pk in candidates}), worker=worker,
                                              now=now, until=now + lease)
        ids = [delivery_id for delivery_id, chat_pk in candidates if chat_pk in chats]
        if not ids:
            return []
        self.session.execute(update(Delivery).where(Delivery.id.in_(ids)).values(
            status="claimed", claimed_by=worker, lease_until=now + lease))
        recent = self._recent_sends(taken_over, since=now - timedelta(minutes=1))
        rows = self.session.execute(
            select(Delivery, Chat.platform, Chat.chat_key, Chat.kind).join(Chat, Chat.id == Delivery.chat_id)
            .where(Delivery.id.in_(ids)).order_by(Delivery.not_before, Delivery.id)).all()
        return [ClaimedDelivery(id=d.id, chat_pk=d.chat_id, platform=platform, chat_key=key, chat_kind=chat_kind,
                                thread_id=d.thread_id, kind=d.kind, payload=d.payload, attempts=d.attempts,
                                parts_sent=d.parts_sent, timeouts=d.timeouts,
                                recent_sends=tuple(recent.pop(d.chat_id, ())))
                for d, platform, key, chat_kind in rows]

    def _lease_chats(self, chat_pks: list[int], *, worker: str, now: datetime,
                     until: datetime) -> tuple[set[int], set[int]]:
        """Take or renew the leases of these chats where they are free, ours, or lapsed. Returns (the chats
        now ours, those of them another worker held before)."""
        before = dict(self.session.execute(select(ChatLease.chat_id, ChatLease.owner)
                                           .where(ChatLease.chat_id.in_(chat_pks))).all())
        module = postgresql if self.session.get_bind().dialect.name == "postgresql" else sqlite
        insert = module.insert(ChatLease).values([{"chat_id": chat_pk, "owner": worker, "lease_until": until}
                                                  for chat_pk in chat_pks])
        upsert = insert.on_conflict_do_update(
            index_elements=[ChatLease.chat_id], set_={"owner": worker, "lease_until": until},
            where=or_(ChatLease.owner == worker, ChatLease.lease_until < now))
        ours = set(self.session.scalars(upsert.returning(ChatLease.chat_id)))
        return ours, {chat_pk for chat_pk in ours if before.get(chat_pk) not in (None, worker)}

    def _recent_sends(self, chat_pks: set[int], *, since: datetime) -> dict[int, list[datetime]]:
        if not chat_pks:
            return {}
        found: dict[int, list[datetime]] = {}
        for chat_pk, sent_at in self.session.execute(
                select(Delivery.chat_id, Delivery.sent_at).where(Delivery.chat_id.in_(chat_pks),
                                                                 Delivery.sent_at >= since)
                .order_by(Delivery.sent_at)):
            found.setdefault(chat_pk, []).append(sent_at)
        return found

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

    def record_timeout(self, delivery_id: int) -> None:
        """A send timed out without an answer and goes once more: back to claimed, with the count kept."""
        self.session.execute(update(Delivery).where(Delivery.id == delivery_id, Delivery.status == "sending")
                             .values(status="claimed", timeouts=Delivery.timeouts + 1))

    def extend_chat_leases(self, chat_pks: list[int], *, worker: str, lease_until: datetime) -> None:
        if chat_pks:
            self.session.execute(update(ChatLease).where(ChatLease.chat_id.in_(chat_pks), ChatLease.owner == worker)
                                 .values(lease_until=lease_until))

    def release_chats(self, worker: str, *, now: datetime) -> None:
        """A worker that stops hands its chats back at once (graceful shutdown). The lease is ended, not
        deleted: whoever takes a chat next sees it changed hands, and keeps the chat's pace."""
        self.session.execute(update(ChatLease).where(ChatLease.owner == worker).values(lease_until=now))

    def recover_interrupted(self, *, now: datetime) -> Counter[str]:
        """Rows left in `sending` by a worker whose lease lapsed (it died mid-request) may or may not have
        arrived: mark them unknown, never resend them. Returns how many, per platform."""
        rows = self.session.execute(select(Delivery.id, Chat.platform).join(Chat, Chat.id == Delivery.chat_id)
                                    .where(Delivery.status == "sending", Delivery.lease_until < now)).all()
        if rows:
            self.session.execute(update(Delivery).where(Delivery.id.in_([row.id for row in rows]),
                                                        Delivery.status == "sending").values(
                status="unknown", claimed_by=None, lease_until=None, last_error="interrupted while sending"))
        return Counter(row.platform for row in rows)

    def _finish(self, delivery_id: int, **values: Any) -> None:
        values.setdefault("claimed_by", None)
        values.setdefault("lease_until", None)
        self.session.execute(update(Delivery).where(Delivery.id == delivery_id).values(**values))

    def outstanding(self, *, platforms: tuple[str, ...] | None = None) -> int:
        """Messages to active chats not yet in a final state (including those waiting to be retried)."""
        query = (select(func.count()).select_from(Delivery).join(Chat, Chat.id == Delivery.chat_id)
                 .where(Delivery.status.in_(("pending", "claimed", "sending")), Chat.active.is_(True)))
        if platforms is not None:
            query = query.where(Chat.platform.in_(platforms))
        return self.session.scalar(query) or 0

    def depth(self) -> int:
        """Messages waiting to go out."""
        return self.session.scalar(select(func.count()).select_from(Delivery).where(
            Delivery.status.in_(("pending", "claimed", "sending")))) or 0

    def counts(self) -> dict[str, int]:
        rows = self.session.execute(select(Delivery.status, func.count()).group_by(Delivery.status)).all()
        return {status: count for status, count in rows}

    def queued_since(self, chat_pks: set[int], kind: str, since: datetime) -> dict[int, int]:
        """How many messages of a kind were queued for each of these chats since a moment."""
        if not chat_pks:
            return {}
        rows = self.session.execute(select(Delivery.chat_id, func.count()).where(
            Delivery.chat_id.in_(list(chat_pks)), Delivery.kind == kind, Delivery.created_at >= since)
            .group_by(Delivery.chat_id)).all()
        return {chat_pk: count for chat_pk, count in rows}


def _columns(row: dict[str, Any]) -> dict[str, Any]:
    """A message as the outbox's columns (chat_pk is the `chat_id` column)."""
    columns = dict(row)
    columns["chat_id"] = columns.pop("chat_pk")
    return columns
