"""/help: what the bot does and every command, in the words of the platform it is asked on."""

from __future__ import annotations

import difflib

from bot.domain.models import ChatSettings, Message
from bot.services.chat_io import Incoming
from bot.services.commands.registry import Command, Registry, Tools, reply

INTRO = ("I condense news into short briefs: send me a link or a text, follow feeds, get a daily "
         "digest and alerts on the words you care about.")


async def help_(tools: Tools, incoming: Incoming, chat: ChatSettings | None) -> list[Message]:
    return reply(help_text(tools.registry, incoming), heading="briefbot")


def help_text(registry: Registry, incoming: Incoming) -> str:
    lines = [INTRO, ""]
    for command in registry.listed():
        admin = " (admins, in groups)" if command.for_admins else ""
        lines.append(f"{command.usage} - {command.description}{admin}")
        lines.extend(f"    e.g. {example}" for example in command.examples)
        if command.attachment:
            lines.append(f"    {command.attachment}: {incoming.attachment_hint}")
    lines += ["", f"{incoming.help_command} - this message"]
    return "\n".join(lines)


def unknown_text(registry: Registry, incoming: Incoming) -> str:
    """Short, as a typo in a busy group deserves: the likely command, every name, where the details are."""
    typed = (incoming.command or "")[:40]
    [guess] = difflib.get_close_matches(typed, registry.every_name(), n=1, cutoff=0.6) or [None]
    lines = [f"I don't know /{typed}." + (f" Did you mean /{guess}?" if guess else "")]
    listed = " ".join(f"/{command.name}" for command in registry.listed())
    lines.append(f"Commands: {listed}. {incoming.help_command} shows each with examples.")
    return "\n".join(lines)


HELP = Command("help", "/help", "what I do and every command", "What I do and every command", help_,
               aliases=("start",), needs_chat=False)
