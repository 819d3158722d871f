"""Platform events already received, so that a redelivery is not acted on twice."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.orm import Session

from bot.store.tables import SeenEvent
from bot.store.upsert import insert_ignore

MAX_EVENT_ID_CHARS = 100  # seen_events.event_id


class SeenEventRepo:
    def __init__(self, session: Session) -> None:
        self.session = session

    def first_sighting(self, platform: str, event_id: str, now: datetime) -> bool:
        """Record the event; True only for the first caller, whichever process or thread it is.
        The insert waits for a concurrent one of the same id to commit or roll back (unique key)."""
        if not event_id or len(event_id) > MAX_EVENT_ID_CHARS:
            raise ValueError(f"an event id has 1 to {MAX_EVENT_ID_CHARS} characters, not {len(event_id)}")
        inserted = insert_ignore(self.session, SeenEvent, {"platform": platform, "event_id": event_id,
                                                           "seen_at": now}, returning=SeenEvent.event_id)
        return inserted is not None

    def prune(self, older_than: datetime) -> int:
        """Forget events seen before `older_than`; returns how many."""
        return self.session.execute(delete(SeenEvent).where(SeenEvent.seen_at < older_than)).rowcount
