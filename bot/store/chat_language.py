"""The language a chat chose with /language (chats.language); None: it follows the default rule
(bot.i18n.resolution.chat_language)."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.i18n.languages import SUPPORTED
from bot.store.tables import Chat


class ChatLanguageRepo:
    def __init__(self, session: Session) -> None:
        self.session = session

    def language(self, chat_row_id: int) -> str | None:
        """The chat's chosen language code, or None (none chosen, or no such chat)."""
        return self.session.scalar(select(Chat.language).where(Chat.id == chat_row_id))

    def set_language(self, chat_row_id: int, code: str | None) -> bool:
        """Choose the chat's language (a code of bot.i18n.SUPPORTED), or None to follow the default
        rule again. False when there is no such chat."""
        if code is not None and code not in SUPPORTED:
            raise ValueError(f"not a supported language code: {code!r}")
        changed = self.session.execute(update(Chat).where(Chat.id == chat_row_id).values(language=code))
        return changed.rowcount == 1
