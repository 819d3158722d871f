"""The Slack adapter: a bolt `AsyncApp` with briefbot's listeners, in Socket Mode or HTTP mode."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING, Literal, Protocol

from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler, async_default_handlers
from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters.slack.admin import AdminCheck
from bot.adapters.slack.buttons import SlackButtons
from bot.adapters.slack.files import FileDownloader
from bot.adapters.slack.handlers import SlackCommands
from bot.adapters.slack.home import SlackHome
from bot.adapters.slack.http import EVENTS_PATH, make_events_handler
from bot.adapters.slack.locales import UserLocales
from bot.adapters.slack.platform import TOKEN_PATTERNS
from bot.adapters.slack.retries import FirstSighting, RecentIds, skip_repeated_events
from bot.adapters.slack.sender import SlackSender
from bot.runtime.logs import protect_secrets
from bot.services.chat_io import CommandHandler

if TYPE_CHECKING:
    from bot.services.actions import ActionService
    from bot.services.home import HomeService
    from bot.settings import Settings

log = logging.getLogger(__name__)

DEFAULT_API_BASE_URL = "https://slack.com/api/"
Mode = Literal["socket", "http"]


class RouteTable(Protocol):
    """Where HTTP mode mounts its handler (the bot's `HttpServer`)."""

    def route(self, method: str, path: str, handler) -> None: ...


class SlackStartError(RuntimeError):
    """Slack refused to start the adapter (bad token, missing scope)."""


class SlackAdapter:
    """Build it, `await start()`, and `await stop()` on shutdown.

    `sender` is the delivery loop's `Sender` for Slack. In HTTP mode the signed-request handler is
    `events_handler` (for `POST /slack/events`: commands, events and interactions alike), mounted on
    `http` when one is given. With `actions` buttons work (buttons.py); with `home` the App Home tab
    does (home.py).
    """

    platform = "slack"

    def __init__(self, handler: CommandHandler, *, bot_token: str, mode: Mode = "socket",
                 app_token: str | None = None, signing_secret: str | None = None,
                 api_base_url: str = DEFAULT_API_BASE_URL, admin_user_ids: Iterable[str] = (),
                 installer_user_id: str | None = None, http: RouteTable | None = None,
                 timeout_s: float = 30, first_sighting: FirstSighting | None = None,
                 actions: ActionService | None = None, home: HomeService | None = None) -> None:
        if mode not in ("socket", "http"):
            raise ValueError(f"SLACK_MODE must be socket or http, not {mode!r}")
        if mode == "socket" and not app_token:
            raise ValueError("SLACK_MODE=socket needs SLACK_APP_TOKEN (an app-level token, xapp-...)")
        if mode == "http" and not signing_secret:
            raise ValueError("SLACK_MODE=http needs SLACK_SIGNING_SECRET to verify Slack's requests")
        protect_secrets((bot_token, app_token, signing_secret), TOKEN_PATTERNS)
        self.mode = mode
        self.app_token = app_token
        base_url = api_base_url if api_base_url.endswith("/") else api_base_url + "/"
        # Answers to commands may wait out one rate limit; alerts and digests never retry on their own.
        self.client = AsyncWebClient(token=bot_token, base_url=base_url, timeout=timeout_s,
                                     retry_handlers=[*async_default_handlers(),
                                                     AsyncRateLimitErrorRetryHandler(max_retry_count=1)])
        self.sender = SlackSender(AsyncWebClient(token=bot_token, base_url=base_url, timeout=timeout_s,
                                                 retry_handlers=[]))
        # bolt's own auth.test (single-workspace authorization) goes through `client`, so to base_url too.
        # Socket Mode requests carry no signature; bolt skips verification for them anyway.
        # With "slack_bolt" as base logger bolt's loggers follow its level, not the root's at import time.
        self.app = AsyncApp(client=self.client, signing_secret=signing_secret or "", name="briefbot",
                            logger=logging.getLogger("slack_bolt"), request_verification_enabled=mode == "http")
        # Slack redelivers an event it thinks was lost; answer each event once. The bot shares the
        # memory of events among its processes (the store); on its own the adapter keeps it in memory.
        self.app.middleware(skip_repeated_events(first_sighting or RecentIds().first_time))
        self.admin = AdminCheck(self.client, admin_user_ids=admin_user_ids, installer_user_id=installer_user_id)
        self.locales = UserLocales(self.client)  # one users.info per person, for its language
        # Before the commands' listeners: their catch-all event listener would take app_home_opened.
        slack_home = SlackHome(home, admin=self.admin, locales=self.locales) if home is not None else None
        if slack_home is not None:
            slack_home.register(self.app)
        if actions is not None:
            SlackButtons(actions, admin=self.admin, home=slack_home).register(self.app)
        SlackCommands(handler, admin=self.admin, files=FileDownloader(self.client),
                      locales=self.locales).register(self.app)
        self.events_handler = make_events_handler(self.app)
        if http is not None and mode == "http":
            http.route("POST", EVENTS_PATH, self.events_handler)
        self._socket: AsyncSocketModeHandler | None = None
        self._started = False

    @classmethod
    def from_settings(cls, settings: Settings, handler: CommandHandler, http: RouteTable | None = None,
                      first_sighting: FirstSighting | None = None, actions: ActionService | None = None,
                      home: HomeService | None = None) -> SlackAdapter:
        if settings.slack_bot_token is None:
            raise ValueError("SLACK_BOT_TOKEN is not set")

        def secret(value) -> str | None:
            return value.get_secret_value() if value is not None else None

        return cls(handler, bot_token=settings.slack_bot_token.get_secret_value(), mode=settings.slack_mode,
                   app_token=secret(settings.slack_app_token), signing_secret=secret(settings.slack_signing_secret),
                   api_base_url=settings.slack_api_base_url, admin_user_ids=settings.slack_admin_user_ids,
                   installer_user_id=settings.slack_installer_user_id, http=http, first_sighting=first_sighting,
                   actions=actions, home=home)

    async def start(self) -> None:
        """Check the bot token; in Socket Mode, open the WebSocket connection."""
        try:
            auth = await self.client.auth_test()
        except SlackApiError as exc:
            raise SlackStartError(f"Slack refused the bot token: {exc.response.get('error')}") from exc
        log.info("Slack: signed in as %s in %s (%s mode)", auth.get("user"), auth.get("team"), self.mode)
        if self.mode == "socket":
            socket = AsyncSocketModeHandler(self.app, self.app_token)
            # Ask for the WebSocket URL ourselves: the client's own connect() retries a refused app
            # token forever, and a bad token should stop the start with a clear error instead.
            try:
                socket.client.wss_uri = await socket.client.issue_new_wss_url()
            except SlackApiError as exc:
                await socket.close_async()
                raise SlackStartError(f"Slack refused the app token: {exc.response.get('error')}") from exc
            await socket.connect_async()
            self._socket = socket
        self._started = True

    async def stop(self) -> None:
        self._started = False
        if self._socket is not None:
            await self._socket.close_async()
            self._socket = None

    async def is_connected(self) -> bool:
        """For readiness checks: the token was accepted and, in Socket Mode, the WebSocket is open."""
        if self.mode == "http" or not self._started:
            return self._started
        return self._socket is not None and await self._socket.client.is_connected()
