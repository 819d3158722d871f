"""Telegram: python-telegram-bot in, `Sender` out. `PLATFORM` is what the composition root wires
(platform.py); the adapter itself is in app.py. The other names load the library when first used."""

from importlib import import_module

from bot.adapters.telegram.platform import PLATFORM

_LAZY = {"DEFAULT_API_BASE_URL": "app", "DEFAULT_COMMANDS": "app", "WEBHOOK_PATH": "app", "TelegramAdapter": "app",
         "TelegramPart": "render", "render_message": "render", "TelegramSender": "sender",
         "make_webhook_handler": "webhook"}

__all__ = ["PLATFORM", *_LAZY]


def __getattr__(name: str):
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f"{__name__}.{_LAZY[name]}"), name)
