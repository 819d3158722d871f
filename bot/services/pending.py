"""A cap on the commands one chat has waiting or running, so a chat that floods cannot starve the others.

Beyond the cap a command is refused, not queued: the first refusal of a burst is answered ("busy,
N commands are waiting"); the following ones are dropped without an answer until the chat's queue
has drained, since answering each would itself be a flood.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable

from bot.i18n import Translator, translator
from bot.i18n.messages import CHAT_BUSY


class ChatBusy(Exception):
    def __init__(self, waiting: int, limit: int, *, first: bool) -> None:
        super().__init__(f"{waiting} commands are waiting (limit {limit})")
        self.waiting = waiting
        self.limit = limit
        self.first = first  # the first refusal since the chat's queue last drained: answer it

    def text(self, tr: Translator | None = None) -> str:
        return (tr or translator(None)).gettext(CHAT_BUSY, waiting=self.waiting, limit=self.limit)


class PendingCommands:
    def __init__(self, limit: int) -> None:
        if limit < 1:
            raise ValueError("the limit of pending commands must be at least 1")
        self.limit = limit
        self._pending: Counter[Hashable] = Counter()
        self._told: set[Hashable] = set()

    def enter(self, chat: Hashable) -> None:
        """Count one more command of this chat, or raise ChatBusy when it has `limit` already."""
        waiting = self._pending[chat]
        if waiting >= self.limit:
            first = chat not in self._told
            self._told.add(chat)
            raise ChatBusy(waiting, self.limit, first=first)
        self._pending[chat] = waiting + 1

    def leave(self, chat: Hashable) -> None:
        self._pending[chat] -= 1
        if self._pending[chat] <= 0:
            del self._pending[chat]
            self._told.discard(chat)

    def waiting(self, chat: Hashable) -> int:
        return self._pending[chat]
