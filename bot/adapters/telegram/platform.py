"""Telegram, as the composition root sees it (bot/adapters/contract.py). Light to import: the
library loads only when a connection is built."""

from __future__ import annotations

import re
from dataclasses import replace

from bot.adapters.contract import Connection, OutboundOnly, Platform, Wiring
from bot.i18n import lazy
from bot.services.ratelimit import PlatformLimits, Rate
from bot.adapters.telegram.settings import TelegramSettings

# The documented limits. Our bursts stay below Telegram's (30 through at once overall, 3 per chat,
# 20 per group) so that network jitter, which can bunch arrivals together, never pushes a paced
# stream over the line; the sustained rate is the full allowance.
LIMITS = PlatformLimits(overall=Rate(30, 1.0, burst=5), per_chat=Rate(1, 1.0), per_group=Rate(20, 60.0, burst=18))
# Paid broadcasts (allow_paid_broadcast): up to 1,000 messages/s for the bot, the chats' own limits unchanged.
PAID_LIMITS = replace(LIMITS, overall=Rate(1000, 1.0, burst=50))
# Bot tokens travel in URLs (".../bot<id>:<secret>/sendMessage"): no word boundary before the id,
# and the secret may end in "-".
TOKEN_PATTERNS = (re.compile(r"(?<!\d)\d{5,}:[A-Za-z0-9_-]{30,}"),)


def is_group(chat_key: str) -> bool:
    """Group and supergroup ids are negative; a channel is also addressed as @name."""
    return chat_key.startswith(("-", "@"))


def _limits(settings: TelegramSettings) -> PlatformLimits:
    return PAID_LIMITS if settings.telegram_paid_broadcast else LIMITS


def _inbound(wiring: Wiring) -> Connection:
    from bot.adapters.telegram.app import TelegramAdapter

    adapter = TelegramAdapter.from_settings(wiring.settings, wiring.commands, wiring.http,
                                            on_chat_migrated=wiring.on_chat_migrated,
                                            first_sighting=wiring.first_sighting, actions=wiring.actions)
    adapter.sender.paid_broadcast = wiring.settings.telegram_paid_broadcast
    return adapter


def _outbound(wiring: Wiring) -> Connection:
    from telegram import Bot

    from bot.adapters.telegram.sender import TelegramSender

    settings = wiring.settings
    bot = Bot(settings.telegram_bot_token.get_secret_value(), base_url=settings.telegram_api_base_url)
    sender = TelegramSender(bot, on_chat_migrated=wiring.on_chat_migrated,
                            paid_broadcast=settings.telegram_paid_broadcast)
    return OutboundOnly(PLATFORM.name, sender, bot.initialize, bot.shutdown)


PLATFORM = Platform(
    name="telegram",
    is_configured=lambda settings: settings.telegram_bot_token is not None,
    inbound=_inbound,
    outbound=_outbound,
    limits=_limits,
    is_group=is_group,
    help_command="/help",
    attachment_hint=lazy("send the file with the caption /sources"),
    token_patterns=TOKEN_PATTERNS,
    settings=TelegramSettings,
    # Update ids are counted per bot: the bot's own id (the token's public part) keeps them apart.
    event_namespace=lambda settings: f"tg-{settings.telegram_bot_id}",
    libraries=("telegram",),
)
