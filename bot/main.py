"""The composition root: the one place that builds concrete classes and wires them together."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
from dataclasses import dataclass, field
from datetime import timedelta

from bot.domain.models import ChatRef
from bot.runtime.clock import Clock, utcnow
from bot.runtime.health import database_check, make_health_routes
from bot.runtime.http_server import HttpServer, raise_open_file_limit
from bot.runtime.logs import setup_logging
from bot.runtime.metrics import Metrics
from bot.services.scheduling import Scheduler
from bot.services.alerts import AlertService
from bot.services.briefs import BriefMaker
from bot.services.commands import CommandService
from bot.services.delivery import DeliveryLoop
from bot.services.ratelimit import DEFAULT_LIMITS, TELEGRAM_PAID_LIMITS
from bot.services.digests import DigestService
from bot.services.feeds import FeedService
from bot.services.ingest import Ingestor
from bot.services.pages import PageService
from bot.services.seen_events import SeenEvents
from bot.services.sending import Sender
from bot.settings import Settings
from bot.sources.fetcher import SafeFetcher
from bot.store.store import Store
from bot.runtime.watchdog import LoopWatchdog

log = logging.getLogger(__name__)
SHUTDOWN_DEADLINE_S = 8  # SIGTERM to exit well within 10 s


@dataclass
class Services:
    """Everything platform-neutral, built from settings; adapters are added by `serve`."""

    settings: Settings
    store: Store
    briefs: BriefMaker
    fetcher: SafeFetcher
    ingestor: Ingestor
    feeds: FeedService
    pages: PageService
    alerts: AlertService
    digests: DigestService
    commands: CommandService
    scheduler: Scheduler
    metrics: Metrics
    seen_events: SeenEvents
    clock: Clock = utcnow  # the one "now" every service is given
    senders: dict[str, Sender] = field(default_factory=dict)

    def outbox_depth(self) -> int:
        with self.store.transaction() as tx:
            return tx.outbox.depth()

    def chat_migrated(self, chat: ChatRef, new_chat_id: str) -> None:
        with self.store.transaction() as tx:
            tx.chats.migrate(chat.platform, chat.chat_id, new_chat_id)

    async def aclose(self) -> None:
        await self.fetcher.aclose()
        self.briefs.close()
        self.store.close()


def build_services(settings: Settings, *, clock: Clock = utcnow) -> Services:
    metrics = Metrics()
    store = Store.open(settings.resolved_database_url)
    briefs = BriefMaker.from_settings(settings, metrics=metrics)
    fetcher = SafeFetcher.from_settings(settings)
    alerts = AlertService(store=store, alerts_per_hour=settings.alerts_per_hour)
    digests = DigestService(store=store, embed=briefs.embed, metrics=metrics)  # the summarizer's model and thread
    interval = timedelta(minutes=settings.poll_interval_minutes)
    ingestor = Ingestor(store=store, fetcher=fetcher, briefs=briefs, interval=interval,
                        new_feed_items=settings.new_feed_items, on_new_briefs=alerts.on_new_briefs, metrics=metrics,
                        clock=clock)
    scheduler = Scheduler(store=store, digests=digests, poll=ingestor.poll, poll_interval=interval,
                          grace=timedelta(hours=settings.digest_grace_hours), clock=clock)
    feeds = FeedService(store=store, fetcher=fetcher, ingestor=ingestor, poll_soon=scheduler.poll_soon,
                        max_feeds_per_chat=settings.max_feeds_per_chat, max_opml_entries=settings.max_opml_entries)
    pages = PageService(store=store, fetcher=fetcher, briefs=briefs, max_chars=settings.brief_max_chars, clock=clock)
    commands = CommandService(store=store, briefs=briefs, feeds=feeds, pages=pages, digests=digests,
                              scheduler=scheduler, default_timezone=settings.default_timezone,
                              max_chars=settings.brief_max_chars, max_alerts_per_chat=settings.max_alerts_per_chat,
                              db_wait_s=settings.command_db_wait_s,
                              max_pending_per_chat=settings.max_pending_commands_per_chat)
    return Services(settings=settings, store=store, briefs=briefs, fetcher=fetcher, ingestor=ingestor,
                    feeds=feeds, pages=pages, alerts=alerts, digests=digests, commands=commands,
                    scheduler=scheduler, metrics=metrics, seen_events=SeenEvents(store, clock=clock), clock=clock)


def build_adapters(services: Services, http: HttpServer) -> list:
    """Telegram when its token is set, Slack when its token is set; none means the console. A
    redelivered event is recognized in the store, whichever process received it first."""
    settings = services.settings
    adapters = []
    if settings.telegram_bot_token:
        from bot.adapters.telegram import TelegramAdapter

        adapters.append(TelegramAdapter.from_settings(settings, services.commands, http,
                                                      on_chat_migrated=services.chat_migrated,
                                                      first_sighting=services.seen_events.for_platform(
                                                          f"tg-{settings.telegram_bot_id}")))
    if settings.slack_bot_token:
        from bot.adapters.slack import SlackAdapter

        adapters.append(SlackAdapter.from_settings(settings, services.commands, http,
                                                   first_sighting=services.seen_events.for_platform("slack")))
    return adapters


class OutboundOnly:
    """A platform for a worker process: its `Sender` and nothing of the inbound side (no polling, no
    webhook, no Socket Mode), so any number of workers may run beside the one bot process."""

    def __init__(self, platform: str, sender: Sender, start, stop) -> None:
        self.platform, self.sender, self._start, self._stop = platform, sender, start, stop

    async def start(self) -> None:
        await self._start()
        if hasattr(self.sender, "ready"):
            self.sender.ready = True

    async def stop(self) -> None:
        await self._stop()

    def is_connected(self) -> bool:
        return getattr(self.sender, "ready", True)


def build_outbound(services: Services) -> list[OutboundOnly]:
    """The senders of every platform whose token is set, for `python -m bot worker`."""
    settings = services.settings
    platforms = []
    if settings.telegram_bot_token:
        from telegram import Bot

        from bot.adapters.telegram import TelegramSender

        bot = Bot(settings.telegram_bot_token.get_secret_value(), base_url=settings.telegram_api_base_url)
        sender = TelegramSender(bot, on_chat_migrated=services.chat_migrated)
        platforms.append(OutboundOnly("telegram", sender, bot.initialize, bot.shutdown))
    if settings.slack_bot_token:
        from slack_sdk.web.async_client import AsyncWebClient

        from bot.adapters.slack.sender import SlackSender

        base_url = settings.slack_api_base_url.rstrip("/") + "/"
        client = AsyncWebClient(token=settings.slack_bot_token.get_secret_value(), base_url=base_url, timeout=10,
                                retry_handlers=[])
        platforms.append(OutboundOnly("slack", SlackSender(client), client.auth_test, _nothing))
    return platforms


async def _nothing() -> None:
    return None


async def serve(services: Services, stop: asyncio.Event, *, role: str = "bot") -> None:
    """Run every configured adapter, the scheduler, the delivery loop and the HTTP server until `stop`.
    `role="worker"`: the same without the chat platforms' inbound side (no commands are received)."""
    settings = services.settings
    watchdog = LoopWatchdog(services.metrics, threshold_s=settings.loop_lag_warning_s)
    watchdog.start()
    http = HttpServer(settings.http_host, settings.http_port, idle_timeout_s=settings.http_idle_timeout_s,
                      max_connections=settings.http_max_connections)
    adapters = build_adapters(services, http) if role == "bot" else build_outbound(services)
    console_task = None
    if not adapters and role == "bot":
        from bot.adapters.console import ConsoleSender, run_console

        services.senders["console"] = ConsoleSender()
        if sys.stdin.isatty():  # a person at the terminal; as a service, stdin is no chat
            console_task = asyncio.create_task(run_console(services.commands,
                                                           log_file=settings.data_dir / "briefbot.log"))
            console_task.add_done_callback(lambda _: stop.set())
    for adapter in adapters:
        services.senders[adapter.platform] = adapter.sender
    limits = dict(DEFAULT_LIMITS)
    if settings.telegram_paid_broadcast and "telegram" in services.senders:
        services.senders["telegram"].paid_broadcast = True
        limits["telegram"] = TELEGRAM_PAID_LIMITS
    # Each start is a new lease owner: what a previous life held is taken over once its leases lapse.
    delivery = DeliveryLoop(store=services.store, senders=services.senders, metrics=services.metrics,
                            limits=limits, timeout_resends=settings.delivery_timeout_resends, clock=services.clock)
    services.metrics.platforms(list(services.senders))

    checks = {"database": database_check(services.store.engine), "model": services.briefs.ready}
    if services.briefs.llm is not None:
        checks["llm"] = services.briefs.llm_status
    for adapter in adapters:
        checks[adapter.platform] = adapter.is_connected
    for route in make_health_routes(checks, services.metrics, services.outbox_depth):
        http.route(*route)
    await http.start()
    # Load the model in the background: /healthz answers at once, /readyz waits for the model.
    warm_up = asyncio.create_task(services.briefs.warm_up())
    warm_up.add_done_callback(_log_failure("the summarizer model did not load"))
    for adapter in adapters:
        await adapter.start()
    await asyncio.to_thread(services.alerts.prepare)
    services.scheduler.start()
    await delivery.start()
    log.info("briefbot running: %s%s; HTTP on %s:%s", ", ".join(services.senders) or "no platform",
             " (worker: delivers, takes no commands)" if role == "worker" else "", http.host, http.port)
    try:
        await stop.wait()
    finally:
        log.info("shutting down")
        try:
            await asyncio.wait_for(_teardown(services, delivery, adapters, console_task, http),
                                   SHUTDOWN_DEADLINE_S)
        except TimeoutError:
            log.error("shutdown took more than %s s; exiting with work unfinished", SHUTDOWN_DEADLINE_S)
        await watchdog.stop()


async def _teardown(services: Services, delivery: DeliveryLoop, adapters: list, console_task, http) -> None:
    """Stop taking new work first, then finish or hand back what is in flight."""
    services.scheduler.shutdown()
    if console_task is not None:
        console_task.cancel()
    await delivery.stop()  # while the adapters' clients are still open: a send in flight completes
    for adapter in adapters:
        await adapter.stop()
    await http.stop()


def _log_failure(what: str):
    def callback(task: asyncio.Task) -> None:
        if not task.cancelled() and task.exception() is not None:
            log.error(what, exc_info=task.exception())

    return callback


def run(settings: Settings | None = None, *, role: str = "bot") -> None:
    settings = settings or Settings()
    setup_logging(level=settings.log_level, json_lines=settings.log_json, secrets=settings.secrets())
    raise_open_file_limit()

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        services = build_services(settings)
        try:
            await serve(services, stop, role=role)
        finally:
            await services.aclose()

    asyncio.run(main())
    # A summarizer batch still running in its worker thread would hold the exit until it ends;
    # everything worth keeping is committed by now.
    logging.shutdown()
    sys.stdout.flush()
    os._exit(0)
