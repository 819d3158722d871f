"""/sources: the feeds a chat follows and how they are doing; add one, remove one, import an OPML file."""

from __future__ import annotations

import asyncio

from bot.domain.actions import ButtonRows
from bot.domain.models import ChatSettings, Message
from bot.i18n import Translator, lazy, translator
from bot.services.actions import sources_buttons
from bot.services.chat_io import Incoming
from bot.services.commands.registry import Command, Tools, reply, unless_bare
from bot.services.commands.summary import URL
from bot.services.feeds import (AlreadyFollowed, Followed, Imported, NotFollowed, Refused, Unfollowed)

NO_FEEDS = lazy("This chat follows no feeds. Add one with /sources add <feed url>.")


async def sources(tools: Tools, incoming: Incoming, chat: ChatSettings) -> list[Message]:
    tr = incoming.tr
    if incoming.attachment is not None:
        result = await tools.feeds.import_opml(chat.id, incoming.attachment.content,
                                               thread_id=incoming.chat.thread_id)
        return reply(said(result, tr))
    action, _, rest = incoming.args.strip().partition(" ")
    action, rest = action.lower(), rest.strip()
    if not action or action == "list":
        return await asyncio.to_thread(_list, tools, chat, tr)
    if action == "add":
        if not rest:
            return reply(tr.gettext("Which feed? For example: /sources add https://example.com/feed.xml"))
        return reply(said(await tools.feeds.add(chat.id, rest, thread_id=incoming.chat.thread_id), tr))
    if action in {"remove", "rm", "delete"}:
        if not rest:
            return reply(tr.gettext("Which feed? Send /sources to see the numbers, then /sources remove 2."))
        return reply(said(await asyncio.to_thread(tools.feeds.remove, chat.id, rest), tr))
    if URL.match(action):
        return reply(tr.gettext("To follow that feed, send /sources add {url}", url=action))
    return reply(tr.gettext("Use /sources, /sources add <feed url> or /sources remove <n | url>."))


def said(result: Followed | AlreadyFollowed | Unfollowed | NotFollowed | Imported | Refused,
         tr: Translator | None = None) -> str:
    """What the feed service did, told to the chat (in `tr`'s language, English by default)."""
    tr = tr or translator(None)
    match result:
        case Followed(name, url):
            return tr.gettext("Now following {name} ({url}). New stories arrive as briefs with the next poll; "
                              "/sources lists this chat's feeds.", name=name, url=url)
        case AlreadyFollowed(name):
            return tr.gettext("This chat already follows {name}.", name=name)
        case Unfollowed(name):
            return tr.gettext("Stopped following {name}.", name=name)
        case NotFollowed(ref):
            return tr.gettext("This chat follows no feed “{ref}”. Send /sources to see the list.", ref=ref)
        case Imported():
            return imported(result, tr)
        case Refused(reason):
            return tr.gettext(reason)
    raise TypeError(f"no words for {result!r}")


def imported(result: Imported, tr: Translator) -> str:
    report = tr.ngettext("Imported {n} feed", "Imported {n} feeds", result.added)
    if result.already:
        report += tr.gettext(", {count} already followed", count=result.already)
    if result.skipped:
        report += tr.gettext(", {count} skipped:", count=len(result.skipped)) + "\n" + "\n".join(
            tr.gettext(line) for line in result.skipped[:10])
    return report + "."


def _list(tools: Tools, chat: ChatSettings, tr: Translator) -> list[Message]:
    return [listing(tools, chat.id, language=tr.language)]


def listing(tools: Tools, chat_pk: int, *, buttons: bool = True, language: str | None = None) -> Message:
    """The chat's feeds, with a row of buttons per feed (Pause or Resume, Remove) and Add a feed, unless
    `buttons` is False; in `language` (default: the chat's own)."""
    rows: ButtonRows = ()
    with tools.store.transaction() as tx:
        language = language or tx.chat_language.resolved([chat_pk]).get(chat_pk)
    tr = translator(language)
    lines = tools.feeds.describe(chat_pk, language=tr.language)
    if buttons:
        with tools.store.transaction() as tx:
            rows = sources_buttons(tx, chat_pk)
    if not lines:
        return Message(kind="reply", text=tr.gettext(NO_FEEDS), buttons=rows, language=tr.language)
    return Message(kind="reply", heading=tr.gettext("Sources"), text="\n".join(lines), buttons=rows,
                   language=tr.language)


SOURCES = Command(
    "sources", lazy("/sources [add <feed url> | remove <n | url>]"),
    lazy("the feeds this chat follows and how they are doing; add or remove one"),
    lazy("Feeds this chat follows; add, remove, or send an OPML file"), sources,
    examples=("/sources add https://example.com/feed.xml", "/sources remove 2"), aliases=("feeds",),
    changes_settings=unless_bare, attachment=lazy("An OPML list of feeds"))
