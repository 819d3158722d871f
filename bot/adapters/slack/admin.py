"""Who may change a channel's sources, alerts and schedule.

Workspace admins and owners (users.info), whoever installed the app, and the user ids listed in
settings. Slack has no per-channel admins a bot can see, so the check is per workspace; a direct
message with the bot is the person's own chat and the adapter answers True there without asking.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterable

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters.slack.memory import Expiring

log = logging.getLogger(__name__)

CACHE_SECONDS = 300.0  # a demoted admin keeps their rights at most this long


class AdminCheck:
    def __init__(self, client: AsyncWebClient, *, admin_user_ids: Iterable[str] = (),
                 installer_user_id: str | None = None, cache_seconds: float = CACHE_SECONDS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.client = client
        self.always = {*admin_user_ids, *([installer_user_id] if installer_user_id else [])}
        self.cache_seconds = cache_seconds
        self._known: Expiring[bool] = Expiring(clock)

    async def is_admin(self, user_id: str | None) -> bool:
        if not user_id:
            return False
        if user_id in self.always:
            return True
        known, admin = self._known.get(user_id)
        if known:
            return bool(admin)
        try:
            response = await self.client.users_info(user=user_id)
        except SlackApiError as exc:
            log.warning("users.info failed for %s: %s", user_id, exc.response.get("error"))
            return False  # not cached: the next command asks again
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            log.warning("users.info failed for %s: %s", user_id, type(exc).__name__)
            return False
        user = response.get("user") or {}
        admin = bool(user.get("is_admin") or user.get("is_owner") or user.get("is_primary_owner"))
        self._known.put(user_id, admin, self.cache_seconds)
        return admin

    def checker(self, user_id: str | None, *, direct_message: bool) -> Callable[[], Awaitable[bool]]:
        """The lazy `Incoming.is_admin` for one command."""

        async def check() -> bool:
            return True if direct_message else await self.is_admin(user_id)

        return check
