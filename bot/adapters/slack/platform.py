"""Slack, as the composition root sees it (bot/adapters/contract.py). Light to import: the library
loads only when a connection is built."""

from __future__ import annotations

import re

from bot.adapters.contract import Connection, OutboundOnly, Platform, Wiring
from bot.adapters.slack.settings import SlackSettings
from bot.i18n import lazy
from bot.services.ratelimit import PlatformLimits, Rate

LIMITS = PlatformLimits(per_chat=Rate(1, 1.0))  # chat.postMessage: about one a second per channel
TOKEN_PATTERNS = (re.compile(r"\b(?:xox[a-z]|xapp)-[A-Za-z0-9-]{8,}"),)  # bot, user and app-level tokens


def _inbound(wiring: Wiring) -> Connection:
    from bot.adapters.slack.app import SlackAdapter

    return SlackAdapter.from_settings(wiring.settings, wiring.commands, wiring.http,
                                      first_sighting=wiring.first_sighting, actions=wiring.actions,
                                      home=wiring.home)


def _outbound(wiring: Wiring) -> Connection:
    from slack_sdk.web.async_client import AsyncWebClient

    from bot.adapters.slack.sender import SlackSender

    settings = wiring.settings
    client = AsyncWebClient(token=settings.slack_bot_token.get_secret_value(),
                            base_url=settings.slack_api_base_url.rstrip("/") + "/", timeout=10, retry_handlers=[])
    return OutboundOnly(PLATFORM.name, SlackSender(client), client.auth_test)


PLATFORM = Platform(
    name="slack",
    is_configured=lambda settings: settings.slack_bot_token is not None,
    inbound=_inbound,
    outbound=_outbound,
    limits=lambda settings: LIMITS,
    help_command="/briefbot-help",  # Slack keeps /help for itself
    attachment_hint=lazy("share the file in the channel with the message /sources"),
    token_patterns=TOKEN_PATTERNS,
    settings=SlackSettings,
    event_namespace=lambda settings: "slack",
    libraries=("slack_bolt", "slack_sdk"),
)
