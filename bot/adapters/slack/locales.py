"""The language a Slack user's client is set to (users.info with include_locale), asked once per user
and remembered a while: a direct message with the bot is answered in it until /language says otherwise."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters.slack.memory import Expiring

log = logging.getLogger(__name__)

CACHE_SECONDS = 3600.0  # someone who switches their Slack language is followed within the hour
FAILED_CACHE_SECONDS = 60.0  # users.info failed: English meanwhile (a nicety, so no warning), asked again after this


class UserLocales:
    def __init__(self, client: AsyncWebClient, *, cache_seconds: float = CACHE_SECONDS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.client = client
        self.cache_seconds = cache_seconds
        self._known: Expiring[str | None] = Expiring(clock)

    def cached(self, user_id: str | None) -> str | None:
        """The locale already known for this user (no call to Slack), or None."""
        return self._known.get(user_id or "")[1]

    async def locale(self, user_id: str | None) -> str | None:
        """"de-DE", "pt-BR"; None when Slack does not say."""
        if not user_id:
            return None
        known, locale = self._known.get(user_id)
        if known:
            return locale
        try:
            response = await self.client.users_info(user=user_id, include_locale=True)
        except SlackApiError as exc:
            log.info("users.info (locale) failed for %s: %s", user_id, exc.response.get("error"))
            self._known.put(user_id, None, FAILED_CACHE_SECONDS)
            return None
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            log.info("users.info (locale) failed for %s: %s", user_id, type(exc).__name__)
            self._known.put(user_id, None, FAILED_CACHE_SECONDS)
            return None
        locale = (response.get("user") or {}).get("locale") or None
        self._known.put(user_id, locale, self.cache_seconds)
        return locale
