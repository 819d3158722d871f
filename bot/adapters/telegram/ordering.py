"""Updates run concurrently across chats but in order within a chat.

A slow /summary of a link in one chat must not hold up every other chat, yet "/subscribe x" then
"/alerts" in one chat must be answered in that order. python-telegram-bot's processor semaphore is
taken before our hook runs, so it only bounds the updates waiting; the work itself is bounded by our
own semaphore, taken after the chat's lock (a busy chat never occupies more than one worker).
A chat with `max_pending` updates waiting or running has the next one refused (`on_busy` hears each
refusal: it answers the first message of a burst, and every button press, whose spinner waits for an
answer), so a flood neither grows without bound nor fills python-telegram-bot's slots.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

from bot.services.pending import ChatBusy, PendingCommands

MAX_WAITING_UPDATES = 1024


class PerChatUpdateProcessor(BaseUpdateProcessor):
    def __init__(self, concurrency: int = 8, *, max_pending: int = 20,
                 on_busy: Callable[[Update, ChatBusy], Awaitable[None]] | None = None) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        super().__init__(max_concurrent_updates=MAX_WAITING_UPDATES)
        self._workers = asyncio.Semaphore(concurrency)
        self._chat_locks: dict[int | None, asyncio.Lock] = {}
        self._holders: dict[int | None, int] = {}
        self._pending = PendingCommands(max_pending)
        self._on_busy = on_busy

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        chat = update.effective_chat if isinstance(update, Update) else None
        key = chat.id if chat is not None else None
        if key is not None:
            try:
                self._pending.enter(key)
            except ChatBusy as busy:
                coroutine.close()  # never started: the update is refused
                if self._on_busy is not None:
                    await self._on_busy(update, busy)
                return
        lock = self._chat_locks.setdefault(key, asyncio.Lock())
        self._holders[key] = self._holders.get(key, 0) + 1
        try:
            async with lock, self._workers:
                await coroutine
        finally:
            if key is not None:
                self._pending.leave(key)
            self._holders[key] -= 1
            if not self._holders[key]:  # nobody waits on this chat's lock: forget it
                del self._holders[key]
                del self._chat_locks[key]

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to release."""
