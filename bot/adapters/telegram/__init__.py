"""Telegram: python-telegram-bot in, `Sender` out. `PLATFORM` is what the composition root wires
(platform.py); the adapter itself is in app.py. The other names load the library when first used."""

from bot.adapters.lazy import lazy_exports
from bot.adapters.telegram.platform import PLATFORM

_LAZY = {"DEFAULT_API_BASE_URL": "app", "DEFAULT_COMMANDS": "app", "WEBHOOK_PATH": "app", "TelegramAdapter": "app",
         "TelegramPart": "render", "render_message": "render", "TelegramSender": "sender",
         "make_webhook_handler": "webhook"}

__all__ = ["PLATFORM", *_LAZY]

__getattr__ = lazy_exports(__name__, _LAZY)
