"""/digest: this chat's digest now, or the last day's stories again."""

from __future__ import annotations

import asyncio

from bot.domain.models import ChatSettings, Message
from bot.runtime.clock import utcnow
from bot.services.chat_io import Incoming
from bot.services.commands.registry import Command, Tools, reply


def follows_feeds(tools: Tools, chat_id: int) -> bool:
    with tools.store.transaction() as tx:
        return bool(tx.sources.followed_by(chat_id))


async def digest(tools: Tools, incoming: Incoming, chat: ChatSettings) -> list[Message]:
    # An empty digest "since the last digest" would only puzzle.
    if not await asyncio.to_thread(follows_feeds, tools, chat.id):
        return reply("A digest gathers the stories of the feeds this chat follows, and it follows none yet. "
                     "Add one with /sources add <feed url>.")
    option = incoming.args.strip().lower()
    if option not in {"", "recap"}:
        return reply("Use /digest for the stories since the last digest, or /digest recap for the last day's "
                     "stories again.")
    # Grouping stories runs the embedding model: keep it off the event loop.
    return [await asyncio.to_thread(tools.digests.compose, chat.id, utcnow(), recap=option == "recap")]


DIGEST = Command(
    "digest", "/digest [recap]",
    "this chat's digest now: the stories since its last digest, none told twice; "
    "recap: the last day's stories again",
    "This chat's digest now; /digest recap: the last day again", digest,
    examples=("/digest", "/digest recap"))
