"""The composition root: the one place that builds concrete classes and wires them together."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from dataclasses import dataclass, field
from datetime import timedelta

from bot.http_server import HttpServer
from bot.logs import setup_logging
from bot.services.alerts import AlertService
from bot.services.briefs import BriefMaker
from bot.services.commands import CommandService
from bot.services.delivery import DeliveryLoop
from bot.services.digests import DigestService
from bot.services.feeds import FeedService
from bot.services.ingest import Ingestor
from bot.services.pages import PageService
from bot.services.sending import Sender
from bot.scheduling import Scheduler
from bot.settings import Settings
from bot.sources.fetcher import SafeFetcher
from bot.store.store import Store
from summarizer import get_summarizer

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
    senders: dict[str, Sender] = field(default_factory=dict)

    async def aclose(self) -> None:
        await self.fetcher.aclose()
        self.briefs.close()
        self.store.close()


def build_services(settings: Settings) -> Services:
    store = Store.open(settings.resolved_database_url)
    summarizer = get_summarizer(settings.summarizer_config())
    briefs = BriefMaker(summarizer)
    fetcher = SafeFetcher.from_settings(settings)
    alerts = AlertService(store=store, alerts_per_hour=settings.alerts_per_hour)
    digests = DigestService(store=store)
    interval = timedelta(minutes=settings.poll_interval_minutes)
    ingestor = Ingestor(store=store, fetcher=fetcher, briefs=briefs, interval=interval,
                        new_feed_items=settings.new_feed_items, on_new_briefs=alerts.on_new_briefs)
    scheduler = Scheduler(store=store, digests=digests, poll=ingestor.poll, poll_interval=interval,
                          grace=timedelta(hours=settings.digest_grace_hours))
    feeds = FeedService(store=store, fetcher=fetcher, ingestor=ingestor, poll_soon=scheduler.poll_soon)
    pages = PageService(store=store, fetcher=fetcher, briefs=briefs, max_chars=settings.brief_max_chars)
    commands = CommandService(store=store, briefs=briefs, feeds=feeds, pages=pages, digests=digests,
                              scheduler=scheduler, default_timezone=settings.default_timezone,
                              max_chars=settings.brief_max_chars)
    return Services(settings=settings, store=store, briefs=briefs, fetcher=fetcher, ingestor=ingestor,
                    feeds=feeds, pages=pages, alerts=alerts, digests=digests, commands=commands,
                    scheduler=scheduler)


async def serve(services: Services, stop: asyncio.Event) -> None:
    """Run every configured adapter, the scheduler, the delivery loop and the HTTP server until `stop`."""
    settings = services.settings
    http = HttpServer(settings.http_host, settings.http_port)
    adapters = []
    if settings.telegram_bot_token:
        from bot.adapters.telegram import TelegramAdapter

        adapters.append(TelegramAdapter.from_settings(settings, services.commands, http))
    if settings.slack_bot_token:
        from bot.adapters.slack import SlackAdapter

        adapters.append(SlackAdapter.from_settings(settings, services.commands, http))
    console_task = None
    if not adapters:
        from bot.adapters.console import ConsoleSender, run_console

        services.senders["console"] = ConsoleSender()
        if sys.stdin.isatty():
            console_task = asyncio.create_task(run_console(services.commands))
            console_task.add_done_callback(lambda _: stop.set())
    for adapter in adapters:
        services.senders[adapter.platform] = adapter.sender
    delivery = DeliveryLoop(store=services.store, senders=services.senders)
    await http.start()
    for adapter in adapters:
        await adapter.start()
    services.scheduler.start()
    await delivery.start()
    log.info("briefbot running: %s", ", ".join(services.senders) or "no platform")
    try:
        await stop.wait()
    finally:
        log.info("shutting down")
        services.scheduler.shutdown()
        await asyncio.wait_for(delivery.stop(), SHUTDOWN_DEADLINE_S)
        for adapter in adapters:
            await adapter.stop()
        if console_task is not None:
            console_task.cancel()
        await http.stop()


def run(settings: Settings | None = None) -> None:
    settings = settings or Settings()
    setup_logging(level=settings.log_level, json_lines=settings.log_json, secrets=settings.secrets())

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        services = build_services(settings)
        try:
            await serve(services, stop)
        finally:
            await services.aclose()

    asyncio.run(main())
