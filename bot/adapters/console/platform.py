"""The console, as the composition root sees it (bot/adapters/contract.py): the chat when no other
platform is configured. On a terminal it reads commands; as a service (no terminal) it only prints
what is delivered to it."""

from __future__ import annotations

import asyncio
import sys

from bot.adapters.contract import Connection, Platform, Wiring
from bot.services.ratelimit import PlatformLimits


class ConsoleConnection:
    def __init__(self, wiring: Wiring) -> None:
        from bot.adapters.console.terminal import ConsoleSender

        self.platform = PLATFORM.name
        self.sender = ConsoleSender()
        self._wiring = wiring
        self._task: asyncio.Task | None = None

    async def start(self) -> None:
        if not sys.stdin.isatty():  # as a service, stdin is no chat
            return
        from bot.adapters.console.terminal import run_console

        settings = self._wiring.settings
        self._task = asyncio.create_task(run_console(self._wiring.commands, log_file=settings.data_dir / "briefbot.log"))
        self._task.add_done_callback(lambda _: self._wiring.shutdown())  # end of input, /quit

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()

    def is_connected(self) -> bool:
        return True


def _inbound(wiring: Wiring) -> Connection:
    return ConsoleConnection(wiring)


PLATFORM = Platform(
    name="console",
    is_configured=lambda settings: False,  # chosen only as the fallback
    inbound=_inbound,
    outbound=None,  # a worker delivers to chat platforms; the console belongs to the bot process
    limits=lambda settings: PlatformLimits(),  # a terminal takes what it is given
    attachment_hint="python -m bot feeds import <file.opml>",
    libraries=("prompt_toolkit",),
    fallback=True,
    health_check=False,
)
