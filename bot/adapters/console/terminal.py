"""The terminal as a chat: the same commands as Telegram and Slack, against the embedded default.

On a terminal, prompt_toolkit reads each message: line editing, history (up and down arrows), and a
pasted block, paragraphs and all, is one message (bracketed paste); Enter sends it. While the prompt is
open, log lines go to a file (`log_file`) instead of over the prompt, and what the bot prints meanwhile
(alerts, digests) appears above it. From a pipe, each line is one message.
"""

from __future__ import annotations

import asyncio
import logging
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.panel import Panel

from bot.adapters.console.platform import PLATFORM
from bot.domain.models import ChatRef, Message
from bot.domain.render import message_text
from bot.services.chat_io import CommandHandler, Incoming

CONSOLE_CHAT = ChatRef(platform=PLATFORM.name, chat_id="local")
_COMMAND = re.compile(r"/(\S+)\s*(.*)", re.DOTALL)
QUIT = {"/quit", "/exit"}


async def _always_admin() -> bool:
    return True


def parse_line(line: str) -> Incoming | None:
    """"/summary some text" -> Incoming; a message without a slash has no command (the service decides)."""
    text = line.strip()
    if not text:
        return None
    command = _COMMAND.fullmatch(text)
    name, args = (command.group(1).lower(), command.group(2).strip()) if command else (None, text)
    return PLATFORM.incoming(CONSOLE_CHAT, name, args=args, is_admin=_always_admin)


class ConsoleSender:
    """Alerts and digests for the console chat are printed as they are delivered."""

    platform = PLATFORM.name

    def __init__(self, console: Console | None = None) -> None:
        self.console = console or Console()

    def render(self, message: Message) -> list[Any]:
        return [message]

    async def send_part(self, chat: ChatRef, part: Any) -> str | None:
        show(self.console, part)
        return None


def show(console: Console, message: Message) -> None:
    title = {"alert": "Alert", "digest": "Digest"}.get(message.kind)
    console.print(Panel(escape(message_text(message)), title=title, expand=False))


async def run_console(handler: CommandHandler, console: Console | None = None, *,
                      log_file: Path | None = None) -> None:
    """Read messages until end of input or /quit: from the terminal with prompt_toolkit, else line by line."""
    console = console or Console()
    if sys.stdin.isatty() and sys.stdout.isatty():
        await _run_terminal(handler, console, log_file)
        return
    console.print("briefbot console. Type /help for commands, /quit to leave. "
                  "A line without a slash is summarized.")
    while True:
        line = await asyncio.to_thread(sys.stdin.readline)
        if not line or line.strip() in QUIT:
            return
        await _answer(handler, console, line)


async def _run_terminal(handler: CommandHandler, console: Console, log_file: Path | None) -> None:
    from prompt_toolkit import PromptSession
    from prompt_toolkit.patch_stdout import patch_stdout

    session: PromptSession[str] = PromptSession()
    with _logs_to(log_file), patch_stdout(raw=True):
        console.print("briefbot console. Type /help for commands, /quit to leave. Text without a slash, "
                      "typed or pasted (paragraphs and all), is summarized when you press Enter."
                      + (f" Logs go to {log_file}." if log_file else ""))
        while True:
            try:
                text = await session.prompt_async("> ")
            except (EOFError, KeyboardInterrupt):  # Ctrl-D, Ctrl-C
                return
            if text.strip() in QUIT:
                return
            await _answer(handler, console, text)


async def _answer(handler: CommandHandler, console: Console, text: str) -> None:
    incoming = parse_line(text)
    if incoming is not None:
        for message in await handler.handle(incoming):
            show(console, message)


@contextmanager
def _logs_to(log_file: Path | None) -> Iterator[None]:
    """Log handlers that write to the terminal write to `log_file` meanwhile (a log line would break
    the prompt's line); nothing changes without a file."""
    root = logging.getLogger()
    terminal = [h for h in root.handlers if isinstance(h, logging.StreamHandler)
                and not isinstance(h, logging.FileHandler) and h.stream in (sys.stderr, sys.stdout)]
    if log_file is None or not terminal:
        yield
        return
    log_file.parent.mkdir(parents=True, exist_ok=True)
    to_file = logging.FileHandler(log_file, encoding="utf-8")
    to_file.setFormatter(terminal[0].formatter)
    to_file.setLevel(terminal[0].level)
    root.handlers[:] = [h for h in root.handlers if h not in terminal] + [to_file]
    try:
        yield
    finally:
        root.handlers[:] = [h for h in root.handlers if h is not to_file] + terminal
        to_file.close()
