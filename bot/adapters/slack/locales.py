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

log = logging.getLogger(__name__)

CACHE_SECONDS = 3600.0  # someone who switches their Slack language is followed within the hour
FAILED_CACHE_SECONDS = 60.0  # users.info failed: English meanwhile (a nicety, so no warning), asked again after this
_CACHE_LIMIT = 4096


class UserLocales:
    def __init__(self, client: AsyncWebClient, *, cache_seconds: float = CACHE_SECONDS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.client = client
        self.cache_seconds = cache_seconds
        self.clock = clock
        self._cache: dict[str, tuple[str | None, float]] = {}

    def cached(self, user_id: str | None) -> str | None:
        """The locale already known for this user (no call to Slack), or None."""
        entry = self._cache.get(user_id or "")
        return entry[0] if entry is not None and entry[1] > self.clock() else None

    async def locale(self, user_id: str | None) -> str | None:
        """"de-DE", "pt-BR"; None when Slack does not say."""
        if not user_id:
            return None
        now = self.clock()
        entry = self._cache.get(user_id)
        if entry is not None and entry[1] > now:
            return entry[0]
        try:
            response = await self.client.users_info(user=user_id, include_locale=True)
        except SlackApiError as exc:
            log.info("users.info (locale) failed for %s: %s", user_id, exc.response.get("error"))
            self._remember(user_id, None, now + FAILED_CACHE_SECONDS)
            return None
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            log.info("users.info (locale) failed for %s: %s", user_id, type(exc).__name__)
            self._remember(user_id, None, now + FAILED_CACHE_SECONDS)
            return None
        locale = (response.get("user") or {}).get("locale") or None
        self._remember(user_id, locale, now + self.cache_seconds)
        return locale

    def _remember(self, user_id: str, locale: str | None, until: float) -> None:
        if len(self._cache) >= _CACHE_LIMIT:
            now = self.clock()
            self._cache = {k: v for k, v in self._cache.items() if v[1] > now}
        self._cache[user_id] = (locale, until)
