"""/sources: the feeds a chat follows and how they are doing; add one, remove one, import an OPML file."""

from __future__ import annotations

import asyncio

from bot.domain.actions import ButtonRows
from bot.domain.models import ChatSettings, Message
from bot.services.actions import sources_buttons
from bot.services.chat_io import Incoming
from bot.services.commands.registry import Command, Tools, reply, unless_bare
from bot.services.commands.summary import URL
from bot.services.feeds import (AlreadyFollowed, Followed, Imported, NotFollowed, Refused, Unfollowed)

NO_FEEDS = "This chat follows no feeds. Add one with /sources add <feed url>."


async def sources(tools: Tools, incoming: Incoming, chat: ChatSettings) -> list[Message]:
    if incoming.attachment is not None:
        result = await tools.feeds.import_opml(chat.id, incoming.attachment.content,
                                               thread_id=incoming.chat.thread_id)
        return reply(said(result))
    action, _, rest = incoming.args.strip().partition(" ")
    action, rest = action.lower(), rest.strip()
    if not action or action == "list":
        return await asyncio.to_thread(_list, tools, chat)
    if action == "add":
        if not rest:
            return reply("Which feed? For example: /sources add https://example.com/feed.xml")
        return reply(said(await tools.feeds.add(chat.id, rest, thread_id=incoming.chat.thread_id)))
    if action in {"remove", "rm", "delete"}:
        if not rest:
            return reply("Which feed? Send /sources to see the numbers, then /sources remove 2.")
        return reply(said(await asyncio.to_thread(tools.feeds.remove, chat.id, rest)))
    if URL.match(action):
        return reply(f"To follow that feed, send /sources add {action}")
    return reply("Use /sources, /sources add <feed url> or /sources remove <n | url>.")


def said(result: Followed | AlreadyFollowed | Unfollowed | NotFollowed | Imported | Refused) -> str:
    """What the feed service did, told to the chat."""
    match result:
        case Followed(name, url):
            return (f"Now following {name} ({url}). New stories arrive as briefs with the next poll; "
                    "/sources lists this chat's feeds.")
        case AlreadyFollowed(name):
            return f"This chat already follows {name}."
        case Unfollowed(name):
            return f"Stopped following {name}."
        case NotFollowed(ref):
            return f"This chat follows no feed “{ref}”. Send /sources to see the list."
        case Imported():
            return imported(result)
        case Refused(reason):
            return reason
    raise TypeError(f"no words for {result!r}")


def imported(result: Imported) -> str:
    report = f"Imported {result.added} feed{'s' if result.added != 1 else ''}"
    if result.already:
        report += f", {result.already} already followed"
    if result.skipped:
        report += f", {len(result.skipped)} skipped:\n" + "\n".join(result.skipped[:10])
    return report + "."


def _list(tools: Tools, chat: ChatSettings) -> list[Message]:
    return [listing(tools, chat.id)]


def listing(tools: Tools, chat_pk: int, *, buttons: bool = True) -> Message:
    """The chat's feeds, with a row of buttons per feed (Pause or Resume, Remove) and Add a feed, unless
    `buttons` is False."""
    lines = tools.feeds.describe(chat_pk)
    rows: ButtonRows = ()
    if buttons:
        with tools.store.transaction() as tx:
            rows = sources_buttons(tx, chat_pk)
    if not lines:
        return Message(kind="reply", text=NO_FEEDS, buttons=rows)
    return Message(kind="reply", heading="Sources", text="\n".join(lines), buttons=rows)


SOURCES = Command(
    "sources", "/sources [add <feed url> | remove <n | url>]",
    "the feeds this chat follows and how they are doing; add or remove one",
    "Feeds this chat follows; add, remove, or send an OPML file", sources,
    examples=("/sources add https://example.com/feed.xml", "/sources remove 2"), aliases=("feeds",),
    changes_settings=unless_bare, attachment="An OPML list of feeds")
