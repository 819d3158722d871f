"""The `Sender` port for Telegram: render a message to HTML parts, send one part, map errors.

Error outcomes (see bot/services/sending.py):
- `Forbidden` (blocked, kicked, not a member): "forbidden"; delivery deactivates the chat.
- `RetryAfter`: "rate_limited" with Telegram's `retry_after` in seconds.
- `ChatMigrated` (a group became a supergroup): `on_chat_migrated` is told the new id and the same
  message goes to the new id (Telegram refused the first request, so this cannot duplicate it); the
  same holds for command replies, which go through `deliver` too.
- `BadRequest`: "final". Except "message thread not found": the forum topic was deleted, and the
  message goes once more without a topic (to the chat's General topic) rather than being lost. The
  first request was refused, so it did not arrive: sending again cannot duplicate it.
- `InvalidToken`: "retry": our configuration is wrong, not the chat; an operator fixes the token.
- No request sent (connection refused, connect or pool timeout) or a 5xx answer: "retry".
- `TimedOut` after connecting, or a connection lost mid-request: "unknown" - it may have arrived.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta

import httpx
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, LinkPreviewOptions, ReplyParameters
from telegram.constants import ParseMode
from telegram.error import (BadRequest, ChatMigrated, Forbidden, InvalidToken, NetworkError, RetryAfter,
                            TelegramError, TimedOut)

from bot.adapters.telegram.render import TelegramPart, render_message
from bot.domain.actions import ButtonRows
from bot.domain.models import ChatRef, Message
from bot.runtime.logs import redact_secrets
from bot.services.sending import SendError

log = logging.getLogger(__name__)

# httpx errors raised before any byte of the request left: safe to send again.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.UnsupportedProtocol)
_THREAD_GONE = "message thread not found"
_STYLES = {"primary": "primary", "danger": "danger"}  # Telegram's button colours; "default": the app's own

ChatMigratedCallback = Callable[[ChatRef, str], Awaitable[None] | None]


def seconds(value: int | float | timedelta) -> float:
    """PTB 22 gives `retry_after` as an int or a timedelta, depending on its settings."""
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def send_error(exc: TelegramError) -> SendError:
    """The delivery outcome of a python-telegram-bot error."""
    detail = redact_secrets(f"{type(exc).__name__}: {exc.message}")  # details are stored
    if isinstance(exc, RetryAfter):
        return SendError("rate_limited", detail, retry_after=seconds(exc.retry_after))
    if isinstance(exc, Forbidden):
        return SendError("forbidden", detail)
    if isinstance(exc, ChatMigrated):
        return SendError("final", f"the group became a supergroup with chat id {exc.new_chat_id}")
    if isinstance(exc, InvalidToken):
        return SendError("retry", detail)
    if isinstance(exc, BadRequest):
        return SendError("final", detail)
    if isinstance(exc, TimedOut):
        return SendError("retry" if isinstance(exc.__cause__, _NOT_SENT) else "unknown", detail)
    if isinstance(exc, NetworkError):
        if exc.__cause__ is None or isinstance(exc.__cause__, _NOT_SENT):
            return SendError("retry", detail)  # Telegram answered 5xx, or we never reached it
        return SendError("unknown", detail)
    if exc.message == "Invalid server response":
        return SendError("unknown", detail)  # an unreadable answer: the message may have arrived
    return SendError("final", detail)


def keyboard(rows: ButtonRows) -> InlineKeyboardMarkup | None:
    """Buttons as an inline keyboard: each button's callback data is its token (at most 64 bytes, as
    Telegram allows), resolved when it is pressed. No rows: no keyboard."""
    if not rows:
        return None
    return InlineKeyboardMarkup([[InlineKeyboardButton(button.label, callback_data=button.token,
                                                       style=_STYLES.get(button.style)) for button in row]
                                 for row in rows])


class TelegramSender:
    """Sends rendered parts with the application's bot; built by `TelegramAdapter`."""

    platform = "telegram"

    def __init__(self, bot: Bot, *, on_chat_migrated: ChatMigratedCallback | None = None,
                 paid_broadcast: bool = False) -> None:
        """`paid_broadcast`: alerts and digests go with allow_paid_broadcast (up to 1,000 messages/s for
        the bot; Telegram charges 0.1 Stars per message above the free 30/s)."""
        self.bot = bot
        self.on_chat_migrated = on_chat_migrated
        self.paid_broadcast = paid_broadcast
        self.ready = False  # set by the adapter once the bot is initialized

    def render(self, message: Message) -> list[TelegramPart]:
        return render_message(message)

    async def send_part(self, chat: ChatRef, part: TelegramPart) -> str | None:
        if not self.ready:
            raise SendError("retry", "the Telegram adapter is not started")
        try:
            return await self.deliver(chat, part, broadcast=True)
        except TelegramError as exc:
            raise send_error(exc) from exc

    async def deliver(self, chat: ChatRef, part: TelegramPart, *, reply_to: int | None = None,
                      broadcast: bool = False) -> str:
        """Send one part (to the chat's topic, if any); raises python-telegram-bot's errors. A group that
        became a supergroup is re-keyed and gets the part at its new id."""
        try:
            return await self._deliver_to(chat, part, reply_to, broadcast)
        except ChatMigrated as exc:
            new_chat_id = str(exc.new_chat_id)
            await self.chat_migrated(chat, new_chat_id)
            log.info("sending the message that met the migration of chat %s to %s", chat.chat_id, new_chat_id)
            return await self._deliver_to(ChatRef(chat.platform, new_chat_id, chat.thread_id), part, reply_to,
                                          broadcast)

    async def _deliver_to(self, chat: ChatRef, part: TelegramPart, reply_to: int | None, broadcast: bool) -> str:
        thread_id = int(chat.thread_id) if chat.thread_id else None
        try:
            return await self._send(chat.chat_id, thread_id, part, reply_to, broadcast)
        except BadRequest as exc:
            if thread_id is None or _THREAD_GONE not in exc.message.lower():
                raise
            log.warning("topic %s of chat %s is gone; sending to the chat's General topic",
                        thread_id, chat.chat_id)
            return await self._send(chat.chat_id, None, part, reply_to, broadcast)

    async def _send(self, chat_id: str, thread_id: int | None, part: TelegramPart, reply_to: int | None,
                    broadcast: bool) -> str:
        preview = (LinkPreviewOptions(url=part.preview_url, prefer_small_media=True) if part.preview_url
                   else LinkPreviewOptions(is_disabled=True))
        sent = await self.bot.send_message(
            chat_id=chat_id, text=part.html, parse_mode=ParseMode.HTML, message_thread_id=thread_id,
            link_preview_options=preview, reply_markup=keyboard(part.buttons),
            reply_parameters=ReplyParameters(reply_to, allow_sending_without_reply=True) if reply_to else None,
            allow_paid_broadcast=True if broadcast and self.paid_broadcast else None)
        return str(sent.message_id)

    async def chat_migrated(self, chat: ChatRef, new_chat_id: str) -> None:
        """A group became a supergroup: tell `on_chat_migrated` (the store keys chats by id)."""
        log.info("chat %s migrated to %s", chat.chat_id, new_chat_id)
        if self.on_chat_migrated is None:
            return
        try:
            result = self.on_chat_migrated(chat, new_chat_id)
            if inspect.isawaitable(result):
                await result
        except Exception:
            log.exception("could not record the migration of chat %s", chat.chat_id)
