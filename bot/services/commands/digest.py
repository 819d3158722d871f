"""/digest: this chat's digest now, or the last day's stories again."""

from __future__ import annotations

import asyncio

from bot.domain.models import ChatSettings, Message
from bot.i18n import lazy
from bot.runtime.clock import utcnow
from bot.services.chat_io import Incoming
from bot.services.commands.registry import Command, Tools, reply


def follows_feeds(tools: Tools, chat_id: int) -> bool:
    with tools.store.transaction() as tx:
        return bool(tx.sources.followed_by(chat_id))


async def digest(tools: Tools, incoming: Incoming, chat: ChatSettings) -> list[Message]:
    # An empty digest "since the last digest" would only puzzle.
    tr = incoming.tr
    if not await asyncio.to_thread(follows_feeds, tools, chat.id):
        return reply(tr.gettext("A digest gathers the stories of the feeds this chat follows, and it follows none "
                                "yet. Add one with /sources add <feed url>."))
    option = incoming.args.strip().lower()
    if option not in {"", "recap"}:
        return reply(tr.gettext("Use /digest for the stories since the last digest, or /digest recap for the last "
                                "day's stories again."))
    # Grouping stories runs the embedding model: keep it off the event loop.
    return [await asyncio.to_thread(tools.digests.compose, chat.id, utcnow(), recap=option == "recap",
                                    language=incoming.language)]


DIGEST = Command(
    "digest", "/digest [recap]",
    lazy("this chat's digest now: the stories since its last digest, none told twice; "
         "recap: the last day's stories again"),
    lazy("This chat's digest now; /digest recap: the last day again"), digest,
    examples=("/digest", "/digest recap"))
