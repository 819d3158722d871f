"""What one chat platform declares, so that the composition root wires it with no code of its own.

Each `bot/adapters/<platform>/` package exports one `PLATFORM = Platform(...)`, and
`bot/adapters/registry.py` lists them. The root asks each platform whether the settings configure it,
builds its connection (commands in and messages out for the bot role, messages out only for a
worker), and gives the delivery loop its sender, rate limits and idea of a group. The services
only ever see the neutral side: `Incoming` (with the platform's help command and attachment hint)
and `Sender`.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from bot.domain.models import ChatRef
from bot.services.chat_io import CommandHandler, Incoming
from bot.services.ratelimit import PlatformLimits
from bot.services.sending import Sender

if TYPE_CHECKING:
    from bot.services.actions import ActionService  # the platforms' packages stay light to import
    from bot.services.home import HomeService
    from bot.settings import Settings  # made of the platforms' sections (registry.py): not imported here

FirstSighting = Callable[[str], Awaitable[bool]]


class Routes(Protocol):
    """The bot's HTTP server, where a platform mounts its webhook."""

    def route(self, method: str, path: str, handler: Any) -> None: ...


class Connection(Protocol):
    """A platform running in this process: started before delivery uses `sender`, stopped after it."""

    platform: str
    sender: Sender

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    def is_connected(self) -> bool | Awaitable[bool]:
        """For /readyz."""


@dataclass(frozen=True)
class Wiring:
    """What the composition root hands a platform to build its connection from."""

    settings: Settings
    commands: CommandHandler
    http: Routes
    first_sighting: FirstSighting | None  # None for a platform without an event namespace
    on_chat_migrated: Callable[[ChatRef, str], None]
    shutdown: Callable[[], None]  # ends the process (the console's end of input)
    actions: ActionService | None = None  # what a pressed button does; None: presses get no answer
    home: HomeService | None = None  # what a person manages, for a platform's home screen


def _no_key_marks_a_group(chat_key: str) -> bool:
    return False


@dataclass(frozen=True)
class Platform:
    """One chat platform, declared once.

    `name` is `ChatRef.platform` of its chats and its sender's key. `is_configured` reads the
    platform's own section of `Settings` (its env vars). `inbound` builds the bot role's connection,
    `outbound` a worker's (its sender and nothing of the inbound side; None: a worker leaves the
    platform out). `limits` are the rates its senders keep to. `is_group` tells from a chat key alone
    that the chat is a group (on top of the kind recorded with the chat). `help_command` and
    `attachment_hint` are its words in `Incoming`. `token_patterns` find its tokens in log lines
    even when the settings do not know them. `event_namespace` keys its redelivered events in the
    store (None: it has none). `settings`: its section of the settings, a pydantic-settings class
    whose fields (named for the platform: TELEGRAM_BOT_TOKEN...) `Settings` inherits. `libraries`: the packages only this platform may import (the
    architecture test keeps them out of the rest of the bot). `fallback`: chosen when no other
    platform is configured. `health_check`: its connection reports to /readyz.
    """

    name: str
    is_configured: Callable[[Settings], bool]
    inbound: Callable[[Wiring], Connection]
    outbound: Callable[[Wiring], Connection] | None
    limits: Callable[[Settings], PlatformLimits]
    is_group: Callable[[str], bool] = _no_key_marks_a_group
    help_command: str = Incoming.help_command
    attachment_hint: str = Incoming.attachment_hint
    token_patterns: tuple[re.Pattern[str], ...] = ()
    event_namespace: Callable[[Settings], str] | None = None
    libraries: tuple[str, ...] = ()
    settings: type | None = None
    fallback: bool = False
    health_check: bool = True

    def incoming(self, chat: ChatRef, command: str | None, **facts: Any) -> Incoming:
        """What someone typed on this platform, in the services' neutral terms (`command` None: no command)."""
        return Incoming(chat=chat, command=command, help_command=self.help_command,
                        attachment_hint=self.attachment_hint, **facts)


class OutboundOnly:
    """A worker's connection: a `Sender` and whatever opens and closes its client, no inbound side
    (no polling, no webhook, no socket), so any number of workers may run beside the one bot process."""

    def __init__(self, platform: str, sender: Sender, start: Callable[[], Awaitable[Any]],
                 stop: Callable[[], Awaitable[Any]] | None = None) -> None:
        self.platform, self.sender, self._start, self._stop = platform, sender, start, stop

    async def start(self) -> None:
        await self._start()
        if hasattr(self.sender, "ready"):
            self.sender.ready = True

    async def stop(self) -> None:
        if self._stop is not None:
            await self._stop()

    def is_connected(self) -> bool:
        return getattr(self.sender, "ready", True)
