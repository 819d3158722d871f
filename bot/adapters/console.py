"""The terminal as a chat: the same commands as Telegram and Slack, against the embedded default."""

from __future__ import annotations

import asyncio
import sys
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.panel import Panel

from bot.domain.models import ChatRef, Message
from bot.domain.render import plain_text
from bot.services.chat_io import CommandHandler, Incoming

CONSOLE_CHAT = ChatRef(platform="console", chat_id="local")


async def _always_admin() -> bool:
    return True


def parse_line(line: str) -> Incoming | None:
    """"/summary some text" -> Incoming; a line without a slash is a text to summarize."""
    text = line.strip()
    if not text:
        return None
    if not text.startswith("/"):
        return Incoming(chat=CONSOLE_CHAT, command="summary", args=text, is_admin=_always_admin)
    command, _, args = text[1:].partition(" ")
    return Incoming(chat=CONSOLE_CHAT, command=command.lower(), args=args.strip(), is_admin=_always_admin)


class ConsoleSender:
    """Alerts and digests for the console chat are printed as they are delivered."""

    platform = "console"

    def __init__(self, console: Console | None = None) -> None:
        self.console = console or Console()

    def render(self, message: Message, *, chat_kind: str) -> list[Any]:
        return [message]

    async def send_part(self, chat: ChatRef, part: Any) -> str | None:
        show(self.console, part)
        return None


def show(console: Console, message: Message) -> None:
    title = {"alert": "Alert", "digest": "Digest"}.get(message.kind)
    console.print(Panel(escape(plain_text(message)), title=title, expand=False))


async def run_console(handler: CommandHandler, console: Console | None = None) -> None:
    """Read commands from standard input until end of file or /quit."""
    console = console or Console()
    console.print("briefbot console. Type /help for commands, /quit to leave. "
                  "A line without a slash is summarized.")
    interactive = sys.stdin.isatty()
    while True:
        line = await asyncio.to_thread(_read_line, interactive)
        if line is None or line.strip() in {"/quit", "/exit"}:
            return
        incoming = parse_line(line)
        if incoming is None:
            continue
        for message in await handler.handle(incoming):
            show(console, message)


def _read_line(interactive: bool) -> str | None:
    try:
        return input("> ") if interactive else (sys.stdin.readline() or None)
    except EOFError:
        return None
