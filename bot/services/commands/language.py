"""/language: the language the bot writes in here; set it, or go back to following each person."""

from __future__ import annotations

import asyncio

from bot.domain.models import ChatSettings, Message
from bot.i18n import (UnknownLanguage, chat_language, language_list, language_name, lazy, parse_language_choice,
                      translator)
from bot.i18n.messages import LANGUAGE_CURRENT, LANGUAGE_DEFAULT, LANGUAGE_FOLLOWS_YOU, LANGUAGE_SET
from bot.services.chat_io import Incoming
from bot.services.commands.registry import Command, Tools, reply, unless_bare


async def language(tools: Tools, incoming: Incoming, chat: ChatSettings) -> list[Message]:
    tr = incoming.tr
    if not incoming.args.strip():
        return reply(tr.gettext(LANGUAGE_CURRENT, language=language_name(tr.language), languages=language_list()))
    try:
        choice = parse_language_choice(incoming.args)
    except UnknownLanguage as unknown:
        return reply(unknown.message(tr))
    await asyncio.to_thread(_set, tools, chat.id, choice.code)
    # Said in the chat's new language, as everything after it.
    now = translator(chat_language(incoming.chat_kind, choice.code, incoming.user_locale))
    if choice.code is not None:
        answer = now.gettext(LANGUAGE_SET, language=language_name(choice.code))
    else:
        default = LANGUAGE_FOLLOWS_YOU if incoming.chat_kind == "private" else LANGUAGE_DEFAULT
        answer = now.gettext(default)
    return [Message(kind="reply", text=answer, language=now.language)]


def _set(tools: Tools, chat_id: int, code: str | None) -> None:
    with tools.store.transaction() as tx:
        tx.chat_language.set_language(chat_id, code)


LANGUAGE = Command(
    "language", lazy("/language [name | code | auto]"),
    lazy("the language I write in here; auto: each person's own in a private chat, English in a group"),
    lazy("The language I write in here, e.g. /language es"), language,
    examples=("/language es", "/language Deutsch", "/language auto"), changes_settings=unless_bare)
