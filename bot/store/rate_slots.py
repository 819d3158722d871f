"""Bot-wide rate limits shared by every delivery process, as one row per limit (see RateSlot).

Slots are taken in batches: one short transaction hands a process `count` consecutive slots, so the
row is touched a few times a second whatever the rate. The database's clock is the only clock.
"""

from __future__ import annotations

import time

from sqlalchemy import Float, cast, extract, func, update
from sqlalchemy.orm import Session

from bot.store.tables import RateSlot
from bot.store.upsert import insert_ignore


class RateSlotRepo:
    def __init__(self, session: Session) -> None:
        self.session = session
        self._postgres = session.get_bind().dialect.name == "postgresql"

    def _now(self):
        if self._postgres:
            return cast(extract("epoch", func.clock_timestamp()), Float)
        return time.time()  # SQLite serves one process: its clock is the clock

    def reserve(self, key: str, count: int, interval: float, burst: int = 1) -> tuple[float, float]:
        """Take `count` slots `interval` apart; returns (first slot, now), seconds on the database's clock.
        Slots unused in the last `burst - 1` intervals may still be taken (GCRA's burst): the time a
        process spends coming back for more is not lost to the allowance."""
        greatest = func.greatest if self._postgres else func.max
        statement = (update(RateSlot).where(RateSlot.key == key)
                     .values(tat=greatest(RateSlot.tat, self._now() - (burst - 1) * interval) + count * interval)
                     .returning(RateSlot.tat, self._now()))
        row = self.session.execute(statement).one_or_none()
        if row is None:
            insert_ignore(self.session, RateSlot, {"key": key, "tat": 0.0})
            row = self.session.execute(statement).one()
        tat, now = (float(value) for value in row)
        return tat - count * interval, now

    def pause(self, key: str, seconds: float) -> None:
        """Nobody sends under this limit for `seconds` (the platform said the bot as a whole is over it)."""
        greatest = func.greatest if self._postgres else func.max
        self.session.execute(update(RateSlot).where(RateSlot.key == key)
                             .values(tat=greatest(RateSlot.tat, self._now() + seconds)))
