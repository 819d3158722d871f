"""Every chat platform the bot knows. Adding one: its folder under bot/adapters/ exporting
`PLATFORM` (docs/adding-a-platform.md), and one line here."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from bot.adapters import console, slack, telegram
from bot.adapters.contract import Platform

if TYPE_CHECKING:  # bot.settings is made of the sections below: it imports this module
    from bot.settings import Settings

PLATFORMS: tuple[Platform, ...] = (
    telegram.PLATFORM,
    slack.PLATFORM,
    console.PLATFORM,
)
# Each platform's section of the settings (its env vars): bot.settings.Settings inherits them all.
SETTINGS_SECTIONS: tuple[type, ...] = tuple(platform.settings for platform in PLATFORMS if platform.settings)


def configured(settings: Settings, platforms: tuple[Platform, ...] = PLATFORMS) -> list[Platform]:
    """The platforms the settings configure; none: the fallback (the console)."""
    chosen = [platform for platform in platforms if platform.is_configured(settings)]
    return chosen or [platform for platform in platforms if platform.fallback]


def token_patterns(platforms: tuple[Platform, ...] = PLATFORMS) -> list[re.Pattern[str]]:
    """What every platform's tokens look like, for log redaction."""
    return [pattern for platform in platforms for pattern in platform.token_patterns]
