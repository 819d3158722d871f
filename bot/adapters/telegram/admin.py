"""Who may change a chat's settings: private chats always; in groups and channels, admins only."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from telegram import Bot, Chat, ChatMember, Message, User
from telegram.constants import ChatType
from telegram.error import TelegramError

log = logging.getLogger(__name__)

ADMIN_STATUSES = {ChatMember.ADMINISTRATOR, ChatMember.OWNER}


class AdminCheck:
    """Answers "is the sender of this message an admin of its chat?", caching getChatMember briefly.

    Anonymous admins post as the group itself (`sender_chat` is the chat, `from` is
    GroupAnonymousBot); only admins can be anonymous, and only admins can post in a channel. A user
    posting on behalf of another channel has a different `sender_chat` and is not an admin.
    """

    def __init__(self, bot: Bot, *, ttl_seconds: float = 60.0,
                 clock: Callable[[], float] = time.monotonic, max_entries: int = 10_000) -> None:
        self.bot = bot
        self.ttl_seconds = ttl_seconds
        self.clock = clock
        self.max_entries = max_entries
        self._cache: dict[tuple[int, int], tuple[float, bool]] = {}

    async def is_admin(self, message: Message) -> bool:
        chat = message.chat
        if chat.type == ChatType.PRIVATE:
            return True
        if chat.type == ChatType.CHANNEL:
            return True
        if message.sender_chat is not None:
            return message.sender_chat.id == chat.id
        if message.from_user is None:
            return False
        return await self._member_is_admin(chat.id, message.from_user.id)

    async def presser_is_admin(self, chat: Chat, presser: User | None) -> bool:
        """Whether whoever pressed a button under the bot's message may change the chat. A press always
        carries the real user, an anonymous admin's too (their member status says administrator), and
        in a channel anyone who reads it can press: outside private chats the presser must be an admin."""
        if chat.type == ChatType.PRIVATE:
            return True
        if presser is None:
            return False
        return await self._member_is_admin(chat.id, presser.id)

    async def _member_is_admin(self, chat_id: int, user_id: int) -> bool:
        now = self.clock()
        cached = self._cache.get((chat_id, user_id))
        if cached is not None and cached[0] > now:
            return cached[1]
        try:
            member = await self.bot.get_chat_member(chat_id, user_id)
        except TelegramError as exc:
            # Unknown means no: a settings change waits until Telegram answers again.
            log.warning("could not check admin rights in chat %s: %s", chat_id, exc)
            return False
        answer = member.status in ADMIN_STATUSES
        if len(self._cache) >= self.max_entries:
            self._cache = {key: value for key, value in self._cache.items() if value[0] > now}
            if len(self._cache) >= self.max_entries:
                self._cache.clear()
        self._cache[(chat_id, user_id)] = (now + self.ttl_seconds, answer)
        return answer
