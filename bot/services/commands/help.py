"""/help: what the bot does and every command, in the words of the platform it is asked on."""

from __future__ import annotations

import difflib

from bot.domain.models import ChatSettings, Message
from bot.i18n import lazy
from bot.services.chat_io import Incoming
from bot.services.commands.registry import Command, Registry, Tools, reply

INTRO = lazy("I condense news into short briefs: send me a link or a text, follow feeds, get a daily "
             "digest and alerts on the words you care about.")


async def help_(tools: Tools, incoming: Incoming, chat: ChatSettings | None) -> list[Message]:
    return reply(help_text(tools.registry, incoming), heading="briefbot")


def help_text(registry: Registry, incoming: Incoming) -> str:
    tr = incoming.tr
    lines = [tr.gettext(INTRO), ""]
    for command in registry.listed():
        said = tr.gettext("{usage} - {description}", usage=tr.gettext(command.usage),
                          description=tr.gettext(command.description))
        lines.append(tr.gettext("{command} (admins, in groups)", command=said) if command.for_admins else said)
        lines.extend("    " + tr.gettext("e.g. {example}", example=tr.gettext(example)) for example in command.examples)
        if command.attachment:
            lines.append(f"    {tr.gettext(command.attachment)}: {tr.gettext(incoming.attachment_hint)}")
    lines += ["", tr.gettext("{help} - this message", help=incoming.help_command)]
    return "\n".join(lines)


def unknown_text(registry: Registry, incoming: Incoming) -> str:
    """Short, as a typo in a busy group deserves: the likely command, every name, where the details are."""
    typed = (incoming.command or "")[:40]
    [guess] = difflib.get_close_matches(typed, registry.every_name(), n=1, cutoff=0.6) or [None]
    tr = incoming.tr
    lines = [tr.gettext("I don't know /{typed}. Did you mean /{guess}?", typed=typed, guess=guess) if guess
             else tr.gettext("I don't know /{typed}.", typed=typed)]
    listed = " ".join(f"/{command.name}" for command in registry.listed())
    lines.append(tr.gettext("Commands: {commands}. {help} shows each with examples.", commands=listed,
                            help=incoming.help_command))
    return "\n".join(lines)


HELP = Command("help", "/help", lazy("what I do and every command"), lazy("What I do and every command"), help_,
               aliases=("start",), needs_chat=False)
