"""Telegram: python-telegram-bot in, `Sender` out. See app.py for the adapter the composition root builds."""

from bot.adapters.telegram.app import DEFAULT_API_BASE_URL, DEFAULT_COMMANDS, WEBHOOK_PATH, TelegramAdapter
from bot.adapters.telegram.render import TelegramPart, render_message
from bot.adapters.telegram.sender import TelegramSender
from bot.adapters.telegram.webhook import make_webhook_handler

__all__ = ["DEFAULT_API_BASE_URL", "DEFAULT_COMMANDS", "WEBHOOK_PATH", "TelegramAdapter", "TelegramPart",
           "TelegramSender", "make_webhook_handler", "render_message"]
