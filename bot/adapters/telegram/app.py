"""The Telegram adapter: builds the python-telegram-bot Application and runs it (polling or webhook)."""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from datetime import timedelta
from typing import Any, Literal, Protocol

from telegram import BotCommand, Update
from telegram.error import InvalidToken, TelegramError
from telegram.ext import (Application, ApplicationBuilder, CallbackQueryHandler, ContextTypes, MessageHandler,
                          filters)

from bot.adapters.telegram.admin import AdminCheck
from bot.adapters.telegram.buttons import ButtonPresses
from bot.adapters.telegram.handlers import MAX_ATTACHMENT_BYTES, UpdateRouter, chat_ref
from bot.adapters.telegram.ordering import PerChatUpdateProcessor
from bot.adapters.telegram.platform import TOKEN_PATTERNS
from bot.adapters.telegram.sender import ChatMigratedCallback, TelegramSender
from bot.adapters.telegram.webhook import FirstSighting, WebhookHandler, make_webhook_handler
from bot.i18n import DEFAULT_LANGUAGE, SUPPORTED
from bot.runtime.logs import protect_secrets
from bot.services.actions import ActionService
from bot.services.chat_io import CommandHandler
from bot.services.commands import COMMANDS
from bot.services.pending import ChatBusy

log = logging.getLogger(__name__)

DEFAULT_API_BASE_URL = "https://api.telegram.org/bot"
WEBHOOK_PATH = "/telegram/webhook"
ALLOWED_UPDATES = ("message", "channel_post", "callback_query")  # callback_query: button presses
_SECRET_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,256}")  # what setWebhook accepts as secret_token
DEFAULT_COMMANDS: tuple[tuple[str, str], ...] = COMMANDS.menu()  # the menu: every command, from the registry

Mode = Literal["polling", "webhook"]


class Routes(Protocol):
    """The bot's HTTP server (bot/runtime/http_server.py), as far as the webhook needs it."""

    def route(self, method: str, path: str, handler: Any) -> None: ...


def file_base_url(api_base_url: str) -> str:
    """"https://api.telegram.org/bot" -> "https://api.telegram.org/file/bot" (files are served beside the API)."""
    if not api_base_url.endswith("/bot"):
        raise ValueError(f"the Telegram API base URL must end with /bot (the token follows it): {api_base_url!r}")
    return api_base_url[: -len("/bot")] + "/file/bot"


class TelegramAdapter:
    """Commands in, replies out, button presses handed to `actions`, and the `Sender` through which
    delivery posts alerts and digests.

    Build it, then `await start()` (before the delivery loop uses `sender`) and `await stop()`.
    In webhook mode mount `webhook_handler()` at POST /telegram/webhook (`from_settings` does so).
    """

    platform = "telegram"

    def __init__(self, *, token: str, handler: CommandHandler, api_base_url: str = DEFAULT_API_BASE_URL,
                 mode: Mode = "polling", webhook_url: str | None = None, webhook_secret: str | None = None,
                 commands: Sequence[tuple[str, str]] = DEFAULT_COMMANDS, concurrency: int = 8,
                 admin_cache_seconds: float = 60.0, max_attachment_bytes: int = MAX_ATTACHMENT_BYTES,
                 poll_timeout_s: float = 10.0, request_timeout_s: float = 10.0, on_chat_migrated: ChatMigratedCallback | None = None,
                 first_sighting: FirstSighting | None = None, max_pending_per_chat: int = 20,
                 actions: ActionService | None = None) -> None:
        if not token:
            raise ValueError("a Telegram bot token is required")
        if mode not in ("polling", "webhook"):
            raise ValueError(f"TELEGRAM_MODE must be polling or webhook, not {mode!r}")
        if mode == "webhook":
            if not webhook_url or not webhook_url.startswith("https://"):
                raise ValueError("webhook mode needs TELEGRAM_WEBHOOK_URL, an https:// URL Telegram can reach")
            if not webhook_secret or not _SECRET_TOKEN.fullmatch(webhook_secret):
                raise ValueError("webhook mode needs TELEGRAM_WEBHOOK_SECRET: 1-256 characters A-Z, a-z, 0-9, _ or -")
        # Before the Bot exists: it logs its URL when built; the Updater logs the URLs it polls.
        protect_secrets([token, webhook_secret], TOKEN_PATTERNS, url_loggers=("telegram.ext.Updater",))
        self.mode = mode
        self.webhook_url = webhook_url
        self._webhook_secret = webhook_secret
        self._first_sighting = first_sighting  # webhook redeliveries; polling hands each update out once
        self.commands = list(commands)
        self.poll_timeout_s = poll_timeout_s
        builder = (ApplicationBuilder().token(token).base_url(api_base_url)
                   .base_file_url(file_base_url(api_base_url))
                   .job_queue(None)  # the composition root owns the one scheduler
                   .connect_timeout(request_timeout_s).read_timeout(request_timeout_s)
                   .write_timeout(request_timeout_s)
                   .concurrent_updates(PerChatUpdateProcessor(
                       concurrency, max_pending=max_pending_per_chat,
                       on_busy=self._on_busy)))
        if mode == "webhook":
            builder = builder.updater(None)  # updates arrive through webhook_handler()
        self.application: Application = builder.build()
        bot = self.application.bot
        self.sender = TelegramSender(bot, on_chat_migrated=on_chat_migrated)
        admin = AdminCheck(bot, ttl_seconds=admin_cache_seconds)
        self.router = UpdateRouter(handler=handler, sender=self.sender, admin=admin,
                                   bot_username=lambda: bot.username, max_attachment_bytes=max_attachment_bytes)
        self.presses = ButtonPresses(actions=actions, admin=admin)
        self.application.add_handler(MessageHandler(filters.StatusUpdate.MIGRATE, self._on_migration), group=0)
        self.application.add_handler(
            MessageHandler(filters.UpdateType.MESSAGE | filters.UpdateType.CHANNEL_POST, self.router.on_update),
            group=1)
        self.application.add_handler(CallbackQueryHandler(self.presses.on_callback_query), group=1)
        self.application.add_error_handler(self._on_error)

    @classmethod
    def from_settings(cls, settings: Any, handler: CommandHandler, http: Routes | None = None,
                      **options: Any) -> TelegramAdapter:
        """Build from `bot.settings.Settings`; in webhook mode, mount the webhook on `http`."""
        if settings.telegram_bot_token is None:
            raise ValueError("TELEGRAM_BOT_TOKEN is not set")
        secret = settings.telegram_webhook_secret
        adapter = cls(token=settings.telegram_bot_token.get_secret_value(), handler=handler,
                      api_base_url=settings.telegram_api_base_url, mode=settings.telegram_mode,
                      webhook_url=settings.telegram_webhook_url,
                      webhook_secret=secret.get_secret_value() if secret else None,
                      max_pending_per_chat=settings.max_pending_commands_per_chat, **options)
        if adapter.mode == "webhook":
            if http is None:
                raise ValueError("webhook mode needs the bot's HTTP server")
            http.route("POST", WEBHOOK_PATH, adapter.webhook_handler())
        return adapter

    def webhook_handler(self) -> WebhookHandler:
        """The aiohttp handler for POST /telegram/webhook (webhook mode only)."""
        if self._webhook_secret is None:
            raise RuntimeError("the webhook handler exists only in webhook mode")
        return make_webhook_handler(self.application, self._webhook_secret, self._first_sighting)

    async def start(self) -> None:
        try:
            await self.application.initialize()  # getMe: also learns the bot's @username
        except InvalidToken:
            # PTB's message quotes the token; whoever logs this exception must not see it.
            raise InvalidToken("Telegram rejected the bot token (TELEGRAM_BOT_TOKEN)") from None
        self.sender.ready = True
        await self._register_commands()
        if self.mode == "webhook":
            await self.application.bot.set_webhook(self.webhook_url, secret_token=self._webhook_secret,
                                                   allowed_updates=list(ALLOWED_UPDATES))
        else:
            await self.application.updater.start_polling(
                timeout=timedelta(seconds=self.poll_timeout_s), allowed_updates=list(ALLOWED_UPDATES))
        await self.application.start()
        log.info("Telegram adapter running as @%s (%s)", self.application.bot.username, self.mode)

    async def stop(self) -> None:
        """Stop taking updates, finish the ones in hand, close the HTTP clients. The webhook stays set:
        Telegram keeps updates for the next start."""
        self.sender.ready = False
        updater = self.application.updater
        if updater is not None and updater.running:
            await updater.stop()
        if self.application.running:
            await self.application.stop()
        await self.application.shutdown()

    def is_connected(self) -> bool:
        """For /readyz: getMe answered, and updates are coming in (polling) or accepted (webhook)."""
        if not (self.sender.ready and self.application.running):
            return False
        updater = self.application.updater
        return self.mode == "webhook" or bool(updater is not None and updater.running)

    async def _register_commands(self) -> None:
        # The registry's menu also in each language the bot speaks: Telegram shows a person the one of
        # their app's language (a menu given by hand is the one menu for everyone).
        menus = {"": self.commands}
        if self.commands == list(DEFAULT_COMMANDS):
            menus |= {code: list(COMMANDS.menu(code)) for code in SUPPORTED if code != DEFAULT_LANGUAGE}
        try:
            for language, menu in menus.items():
                await self.application.bot.set_my_commands([BotCommand(name, text) for name, text in menu],
                                                           language_code=language or None)
        except TelegramError as exc:  # the menu is a convenience; commands work without it
            log.warning("could not register the command menu: %s", exc)

    async def _on_migration(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        if message is not None and message.migrate_to_chat_id:
            await self.sender.chat_migrated(chat_ref(message), str(message.migrate_to_chat_id))

    async def _on_busy(self, update: Update, busy: ChatBusy) -> None:
        if update.callback_query is not None:
            await self.presses.busy(update, busy)
        else:
            await self.router.busy(update, busy)

    async def _on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        log.error("error while handling a Telegram update: %s", context.error, exc_info=context.error)
