"""The composition root: the one place that builds concrete classes and wires them together."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
from dataclasses import dataclass, field
from datetime import timedelta

from bot.adapters import registry
from bot.adapters.contract import Connection, Platform, Wiring
from bot.domain.models import ChatRef
from bot.runtime.clock import Clock, utcnow
from bot.runtime.health import database_check, make_health_routes
from bot.runtime.http_server import HttpServer, raise_open_file_limit
from bot.runtime.logs import setup_logging
from bot.runtime.metrics import Metrics
from bot.services.scheduling import Scheduler
from bot.services.actions import ActionService
from bot.services.alerts import AlertService
from bot.services.briefs import BriefMaker
from bot.services.commands import CommandService
from bot.services.delivery import DeliveryLoop
from bot.services.digests import DigestService
from bot.services.feeds import FeedService
from bot.services.home import HomeService
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
    actions: ActionService
    home: HomeService
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
    actions = ActionService(store=store, scheduler=scheduler, views=commands.listing,
                            db_wait_s=settings.command_db_wait_s, clock=clock)
    home = HomeService(store=store, feeds=feeds, max_alerts_per_chat=settings.max_alerts_per_chat,
                       default_timezone=settings.default_timezone, db_wait_s=settings.command_db_wait_s,
                       clock=clock)
    return Services(settings=settings, store=store, briefs=briefs, fetcher=fetcher, ingestor=ingestor,
                    feeds=feeds, pages=pages, alerts=alerts, digests=digests, commands=commands,
                    scheduler=scheduler, metrics=metrics, seen_events=SeenEvents(store, clock=clock), clock=clock,
                    actions=actions, home=home)


def build_connections(services: Services, http: HttpServer, stop: asyncio.Event, *, role: str = "bot",
                      platforms: tuple[Platform, ...] = registry.PLATFORMS) -> list[tuple[Platform, Connection]]:
    """Each configured platform (none: the console), built for the role: commands in and messages
    out for the bot, messages out only for a worker. A redelivered event is recognized in the store,
    whichever process received it first."""
    settings = services.settings
    built = []
    for platform in registry.configured(settings, platforms):
        build = platform.inbound if role == "bot" else platform.outbound
        if build is None:
            continue
        namespace = platform.event_namespace(settings) if platform.event_namespace else None
        wiring = Wiring(settings=settings, commands=services.commands, http=http,
                        first_sighting=services.seen_events.for_platform(namespace) if namespace else None,
                        on_chat_migrated=services.chat_migrated, shutdown=stop.set,
                        actions=services.actions, home=services.home)
        built.append((platform, build(wiring)))
    return built


async def serve(services: Services, stop: asyncio.Event, *, role: str = "bot",
                platforms: tuple[Platform, ...] = registry.PLATFORMS) -> None:
    """Run every configured platform, the scheduler, the delivery loop and the HTTP server until `stop`.
    `role="worker"`: the same without the chat platforms' inbound side (no commands are received).
    `platforms`: those the bot knows (bot/adapters/registry.py)."""
    settings = services.settings
    watchdog = LoopWatchdog(services.metrics, threshold_s=settings.loop_lag_warning_s)
    watchdog.start()
    http = HttpServer(settings.http_host, settings.http_port, idle_timeout_s=settings.http_idle_timeout_s,
                      max_connections=settings.http_max_connections)
    connections = build_connections(services, http, stop, role=role, platforms=platforms)
    for platform, connection in connections:
        services.senders[platform.name] = connection.sender
    limits = {platform.name: platform.limits(settings) for platform, _ in connections}
    group_chats = {platform.name: platform.is_group for platform, _ in connections}
    # Each start is a new lease owner: what a previous life held is taken over once its leases lapse.
    delivery = DeliveryLoop(store=services.store, senders=services.senders, metrics=services.metrics,
                            limits=limits, group_chats=group_chats,
                            timeout_resends=settings.delivery_timeout_resends, clock=services.clock)
    services.metrics.platforms(list(services.senders))

    checks = {"database": database_check(services.store.engine), "model": services.briefs.ready}
    if services.briefs.llm is not None:
        checks["llm"] = services.briefs.llm_status
    for platform, connection in connections:
        if platform.health_check:
            checks[platform.name] = connection.is_connected
    for route in make_health_routes(checks, services.metrics, services.outbox_depth):
        http.route(*route)
    await http.start()
    # Load the model in the background: /healthz answers at once, /readyz waits for the model.
    warm_up = asyncio.create_task(services.briefs.warm_up())
    warm_up.add_done_callback(_log_failure("the summarizer model did not load"))
    for _, connection in connections:
        await connection.start()
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
            await asyncio.wait_for(_teardown(services, delivery, [c for _, c in connections], http),
                                   SHUTDOWN_DEADLINE_S)
        except TimeoutError:
            log.error("shutdown took more than %s s; exiting with work unfinished", SHUTDOWN_DEADLINE_S)
        await watchdog.stop()


async def _teardown(services: Services, delivery: DeliveryLoop, connections: list[Connection], http) -> None:
    """Stop taking new work first, then finish or hand back what is in flight."""
    services.scheduler.shutdown()
    await delivery.stop()  # while the platforms' clients are still open: a send in flight completes
    for connection in connections:
        await connection.stop()
    await http.stop()


def _log_failure(what: str):
    def callback(task: asyncio.Task) -> None:
        if not task.cancelled() and task.exception() is not None:
            log.error(what, exc_info=task.exception())

    return callback


def run(settings: Settings | None = None, *, role: str = "bot") -> None:
    settings = settings or Settings()
    setup_logging(level=settings.log_level, json_lines=settings.log_json, secrets=settings.secrets(),
                  patterns=registry.token_patterns())
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
