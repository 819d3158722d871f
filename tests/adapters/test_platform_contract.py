"""The platform contract (bot/adapters/contract.py): every registered platform keeps it, and a new one
is one declaration plus one registry line, wired by `bot.main` with no change to the services.

The walkthrough follows docs/adding-a-platform.md with "pigeon", a platform that lives in this file:
the real composition root (`serve`) builds it from the registry, its commands reach the real command
service, and the real delivery loop hands it an alert from the real store, within the limits and
with the idea of a group that pigeon declares.
"""

from __future__ import annotations

import asyncio
import importlib
import re
import time
from pathlib import Path

import pytest

from bot.adapters import registry
from bot.adapters.contract import Platform, Wiring
from bot.adapters.console import parse_line
from bot.domain.models import ChatRef, Message
from bot.domain.render import message_text
from bot.main import build_services, serve
from bot.runtime.clock import utcnow
from bot.runtime.logs import REDACTED, redact
from bot.services.delivery import DeliveryLoop
from bot.services.ratelimit import PlatformLimits, Rate
from bot.settings import Settings
from tests.support.feedserver import FeedServer
from tests.support.news import rss, story_items

# What configures each registered platform (a new platform adds its line here too).
CONFIGURED = {
    "telegram": {"telegram_bot_token": "7012345678:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsa-_"},
    "slack": {"slack_bot_token": "xoxb-1234567890-9876543210987-AbCdEfGhIjKlMnOpQrStUvWx",
              "slack_app_token": "xapp-1-A0123456789-1234567890123-0123456789abcdef"},
    "console": {},
}


def settings_for(tmp_path: Path, **values) -> Settings:
    return Settings(_env_file=None, data_dir=tmp_path, http_port=0, summarizer_backend="lead",
                    allow_private_networks=True, **values)


# ----- every registered platform keeps the contract ------------------------------------------------

def test_the_registry_lists_each_platform_once_with_one_fallback():
    names = [platform.name for platform in registry.PLATFORMS]
    assert len(names) == len(set(names)) and set(names) == set(CONFIGURED)
    assert [platform.name for platform in registry.PLATFORMS if platform.fallback] == ["console"]


@pytest.mark.parametrize("platform", registry.PLATFORMS, ids=lambda platform: platform.name)
def test_each_platform_is_the_one_object_its_package_exports(platform):
    package = importlib.import_module(f"bot.adapters.{platform.name}")
    assert package.PLATFORM is platform and isinstance(platform, Platform)
    assert re.fullmatch(r"[a-z][a-z0-9_]*", platform.name)


@pytest.mark.parametrize("platform", registry.PLATFORMS, ids=lambda platform: platform.name)
def test_each_platform_declares_what_the_root_and_the_services_need(platform, tmp_path):
    unset, configured = settings_for(tmp_path), settings_for(tmp_path, **CONFIGURED[platform.name])
    assert platform.is_configured(unset) is False
    assert platform.is_configured(configured) is (not platform.fallback)
    assert isinstance(platform.limits(configured), PlatformLimits)
    assert platform.help_command.startswith("/") and " " not in platform.help_command
    assert platform.attachment_hint.strip()
    assert all(isinstance(pattern, re.Pattern) for pattern in platform.token_patterns)
    assert callable(platform.inbound) and (platform.outbound is None or callable(platform.outbound))
    assert platform.is_group("any") in (True, False)


@pytest.mark.parametrize("platform", [p for p in registry.PLATFORMS if p.settings], ids=lambda p: p.name)
def test_a_platform_section_of_the_settings_is_read_from_the_environment(platform, tmp_path, monkeypatch):
    """A platform's settings live in its own folder (PLATFORM.settings); Settings reads them with the rest."""
    assert issubclass(Settings, platform.settings)
    assert platform.settings.__module__ == f"bot.adapters.{platform.name}.settings"
    for name, value in CONFIGURED[platform.name].items():
        monkeypatch.setenv(name.upper(), value)
    monkeypatch.chdir(tmp_path)  # no .env here
    read = Settings()
    assert platform.is_configured(read)
    assert set(platform.settings.model_fields) <= set(Settings.model_fields)
    assert all(name.startswith(f"{platform.name}_") for name in platform.settings.model_fields)


@pytest.mark.parametrize("platform", [p for p in registry.PLATFORMS if p.token_patterns], ids=lambda p: p.name)
def test_each_platform_s_token_patterns_find_its_tokens(platform):
    """The tokens a platform's settings hold are found by its patterns alone (no settings needed)."""
    tokens = [value for value in CONFIGURED[platform.name].values()]
    for token in tokens:
        assert REDACTED in redact(f"token {token} leaked", patterns=platform.token_patterns), token
        assert token not in redact(f"token {token} leaked", patterns=platform.token_patterns)


def test_event_namespaces_keep_the_platforms_apart(tmp_path):
    settings = settings_for(tmp_path, **{k: v for values in CONFIGURED.values() for k, v in values.items()})
    namespaces = [p.event_namespace(settings) for p in registry.PLATFORMS if p.event_namespace]
    assert len(namespaces) == len(set(namespaces)) and "tg-7012345678" in namespaces


# A platform without an outbound side (the console: a terminal no worker can write to) has no worker case.
ROLES = [(platform, role) for platform in registry.PLATFORMS for role in ("bot", "worker")
         if (platform.inbound if role == "bot" else platform.outbound) is not None]


@pytest.mark.parametrize("platform,role", ROLES, ids=lambda value: getattr(value, "name", value))
async def test_each_platform_builds_its_connection_for_each_role_without_the_network(platform, role, tmp_path):
    build = platform.inbound if role == "bot" else platform.outbound
    settings = settings_for(tmp_path, **CONFIGURED[platform.name])
    wiring = Wiring(settings=settings, commands=None, http=Routes(), first_sighting=None,
                    on_chat_migrated=lambda chat, new_id: None, shutdown=lambda: None)
    connection = build(wiring)
    assert connection.platform == platform.name and connection.sender.platform == platform.name
    assert callable(connection.start) and callable(connection.stop) and callable(connection.is_connected)


class Routes:
    def __init__(self) -> None:
        self.routes: list[tuple[str, str]] = []

    def route(self, method: str, path: str, handler) -> None:
        self.routes.append((method, path))


def test_the_console_is_chosen_only_when_no_other_platform_is_configured(tmp_path):
    assert [p.name for p in registry.configured(settings_for(tmp_path))] == ["console"]
    chosen = registry.configured(settings_for(tmp_path, **CONFIGURED["slack"]))
    assert [p.name for p in chosen] == ["slack"]


def test_the_console_fills_its_words_into_what_it_hands_the_services():
    incoming = parse_line("/help")
    assert (incoming.help_command, incoming.attachment_hint) == ("/help", "python -m bot feeds import <file.opml>")


async def test_a_platform_without_limits_is_refused_not_left_unpaced(tmp_path):
    services = build_services(settings_for(tmp_path))
    try:
        with pytest.raises(ValueError, match="no rate limits for pigeon"):
            DeliveryLoop(store=services.store, senders={"pigeon": PigeonSender()}, limits={})
    finally:
        await services.aclose()


# ----- adding a platform: pigeon ---------------------------------------------------------------------

class PigeonSender:
    """The `Sender`: each part a line of plain text, recorded with the time it went."""

    platform = "pigeon"

    def __init__(self) -> None:
        self.sent: list[tuple[str, str, float]] = []

    def render(self, message: Message) -> list[str]:
        return [message_text(message)]

    async def send_part(self, chat: ChatRef, part: str) -> str | None:
        self.sent.append((chat.chat_id, part, time.monotonic()))
        return str(len(self.sent))

    def to(self, chat_id: str) -> list[str]:
        return [part for chat, part, _ in self.sent if chat == chat_id]


class PigeonLoft:
    """The connection: what arrives by pigeon goes to the command service as neutral `Incoming`."""

    def __init__(self, wiring: Wiring) -> None:
        self.platform = PIGEON.name
        self.sender = PigeonSender()
        self.wiring = wiring
        self.running = False
        LOFTS.append(self)

    async def start(self) -> None:
        self.running = True

    async def stop(self) -> None:
        self.running = False

    def is_connected(self) -> bool:
        return self.running

    async def hear(self, chat_id: str, text: str) -> str:
        name, _, args = text.removeprefix("/").partition(" ")

        async def yes() -> bool:
            return True

        incoming = PIGEON.incoming(ChatRef(PIGEON.name, chat_id), name, args=args, is_admin=yes)
        return "\n".join(message_text(message) for message in await self.wiring.commands.handle(incoming))


LOFTS: list[PigeonLoft] = []
PIGEON = Platform(
    name="pigeon",
    is_configured=lambda settings: True,
    inbound=PigeonLoft,
    outbound=None,
    limits=lambda settings: PlatformLimits(per_chat=Rate(50, 1.0, burst=10), per_group=Rate(1, 60.0)),
    is_group=lambda chat_key: chat_key.startswith("flock-"),
    help_command="/coo",
    attachment_hint="tie the file to the pigeon's leg with the note /sources",
    token_patterns=(re.compile(r"\bpgn-[a-z0-9]{12,}"),),
    event_namespace=lambda settings: "pigeon",
)


@pytest.fixture
def feeds():
    with FeedServer() as server:
        server.serve("/news.xml", rss(story_items(range(3))), content_type="application/rss+xml")
        yield server


async def until(condition, timeout_s: float = 30) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.05)


async def test_a_new_platform_is_one_registry_line_and_the_root_wires_it(tmp_path, feeds):
    platforms = (*registry.PLATFORMS, PIGEON)  # the one line in bot/adapters/registry.py
    services = build_services(settings_for(tmp_path))
    stop = asyncio.Event()
    LOFTS.clear()
    running = asyncio.create_task(serve(services, stop, platforms=platforms))
    try:
        await until(lambda: LOFTS and LOFTS[0].running)
        [loft] = LOFTS
        assert list(services.senders) == ["pigeon"]  # configured, so the console stays out

        # Commands arrive as neutral facts and get the service's answers.
        assert "council" in await loft.hear("bird-1", "/subscribe council")
        await loft.hear("bird-1", f"/sources add {feeds.url('/news.xml')}")
        # The feed is polled, its briefs match, and the real delivery loop hands pigeon the alert.
        await until(lambda: loft.sender.to("bird-1"))
        assert "approves" in loft.sender.to("bird-1")[0]

        # The event namespace keys redeliveries in the store.
        assert await loft.wiring.first_sighting("e-1") is True
        assert await loft.wiring.first_sighting("e-1") is False

        # Delivery paces pigeon's chats by pigeon's limits and its idea of a group.
        with services.store.transaction() as tx:
            for chat_key in ("flock-7", "bird-2"):
                chat = tx.chats.ensure(PIGEON.name, chat_key, kind="private")
                for n in range(2):
                    tx.outbox.enqueue(chat_pk=chat.id, kind="alert", dedupe_key=f"{chat_key}:{n}",
                                      payload=Message(kind="alert", text=f"note {n}").to_dict(), now=utcnow())
        await until(lambda: len(loft.sender.to("bird-2")) == 2)
        await asyncio.sleep(1.5)  # well past the poll interval: the flock's second note waits a minute
        assert loft.sender.to("flock-7") == ["note 0"]
    finally:
        stop.set()
        await running
        await services.aclose()
    assert not loft.running  # stopped with the rest
