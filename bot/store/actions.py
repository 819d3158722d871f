"""What the buttons of the bot's messages stand for: a short random token per button, resolved here."""

from __future__ import annotations

import secrets
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from bot.domain.actions import TOKEN_PREFIX
from bot.store.tables import Action

# A button older than this answers "expired": long enough for yesterday's digest, short enough to prune.
ACTION_TTL = timedelta(days=30)


@dataclass(frozen=True)
class ActionSpec:
    """One button's meaning: what to do (`kind`), to what (`target_id`), with what (`args`)."""

    kind: str
    target_id: int | None = None
    args: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class StoredAction:
    token: str
    chat_pk: int  # the chats row the button was made for: a press from any other chat is refused
    kind: str
    target_id: int | None
    args: dict[str, Any]
    expires_at: datetime


def new_token() -> str:
    # 64 random bits: not guessable, and "a:" + 11 characters fit any platform's callback data.
    return TOKEN_PREFIX + secrets.token_urlsafe(8)


class ActionRepo:
    def __init__(self, session: Session) -> None:
        self.session = session

    def mint(self, chat_pk: int, specs: Sequence[ActionSpec], *, now: datetime,
             ttl: timedelta = ACTION_TTL, batch: bool = False) -> list[str]:
        """A token for each spec, in order. The chat's expired tokens go first: no global sweep is
        needed for tokens to stay bounded, and only this chat's rows are touched. `batch`: one of many
        chats minted for in this transaction (alerts to every matching chat): the caller forgot their
        expired tokens at once (`prune_chats`), and the rows are written with the next flush."""
        if not specs:
            return []
        if not batch:
            self.prune_chats([chat_pk], now=now)
        rows = [Action(token=new_token(), chat_id=chat_pk, kind=spec.kind, target_id=spec.target_id,
                       args=dict(spec.args), created_at=now, expires_at=now + ttl) for spec in specs]
        self.session.add_all(rows)
        if not batch:
            self.session.flush()
        return [row.token for row in rows]

    def prune_chats(self, chat_pks: Collection[int], *, now: datetime) -> None:
        """Forget the expired tokens of these chats."""
        if chat_pks:
            self.session.execute(delete(Action).where(Action.chat_id.in_(list(chat_pks)), Action.expires_at <= now))

    def resolve(self, token: str, *, now: datetime) -> StoredAction | None:
        """The action behind a token; None when there is none or it expired."""
        row = self.session.scalar(select(Action).where(Action.token == token, Action.expires_at > now))
        if row is None:
            return None
        return StoredAction(row.token, row.chat_id, row.kind, row.target_id, dict(row.args), row.expires_at)

    def prune(self, *, now: datetime) -> int:
        """Forget every expired token; returns how many."""
        return self.session.execute(delete(Action).where(Action.expires_at <= now)).rowcount
