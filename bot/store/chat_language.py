"""A chat's language: the one chosen with /language (chats.language; None: it follows the default rule,
bot.i18n.resolution.chat_language), and the one its person last reported (chats.user_locale), which
alerts and digests queued for a private chat are written in."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.i18n import chat_language
from bot.i18n.languages import SUPPORTED
from bot.store.tables import Chat

MAX_LOCALE_CHARS = 35  # a language tag as a platform reports it ("pt-BR"); longer is no tag


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

    def known(self, platform: str, chat_key: str) -> tuple[str | None, str | None]:
        """(chosen language, last reported locale) of a chat found by its platform's id; (None, None) for
        a chat not seen yet. A read, for answers that need no chat row."""
        row = self.session.execute(select(Chat.language, Chat.user_locale)
                                   .where(Chat.platform == platform, Chat.chat_key == chat_key)).first()
        return (row[0], row[1]) if row else (None, None)

    def note_user_locale(self, chat_row_id: int, locale: str | None) -> None:
        """Remember the language the person of a private chat reported (nothing when it is unknown)."""
        if not locale or len(locale) > MAX_LOCALE_CHARS:
            return
        self.session.execute(update(Chat).where(Chat.id == chat_row_id, Chat.kind == "private",
                                                (Chat.user_locale.is_(None)) | (Chat.user_locale != locale))
                             .values(user_locale=locale))

    def resolved(self, chat_ids: set[int] | list[int]) -> dict[int, str]:
        """The language each of these chats is written in (bot.i18n.chat_language of its kind, its chosen
        language and its person's last reported one)."""
        if not chat_ids:
            return {}
        rows = self.session.execute(select(Chat.id, Chat.kind, Chat.language, Chat.user_locale)
                                    .where(Chat.id.in_(list(chat_ids))))
        return {chat_id: chat_language(kind, chosen, reported) for chat_id, kind, chosen, reported in rows}
