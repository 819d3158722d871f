"""Read-only: the shared chats a platform's bot serves (a home screen lists them for workspace admins)."""

from __future__ import annotations

from sqlalchemy import select

from bot.store.chats import StoredChat, _stored_chat
from bot.store.store import Tx
from bot.store.tables import Chat


def shared_chats(tx: Tx, platform: str, *, limit: int = 500) -> list[StoredChat]:
    """Active group and channel chats of `platform`, oldest first; private chats are each person's own."""
    rows = tx.session.scalars(
        select(Chat).where(Chat.platform == platform, Chat.active.is_(True), Chat.kind != "private")
        .order_by(Chat.id).limit(limit))
    return [_stored_chat(row) for row in rows]
