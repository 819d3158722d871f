"""/summary: a brief of a link or a pasted text; with a few words, the latest briefs that match them."""

from __future__ import annotations

import asyncio
import re

from bot.domain.matching import QueryError, parse_query
from bot.domain.models import ChatSettings, Message
from bot.i18n import Translator, lazy
from bot.services.briefs import brief_item, fresh_item
from bot.services.chat_io import Incoming
from bot.services.commands.registry import Command, Tools, reply
from bot.services.pages import PageProblem, summarizer_problem
from summarizer import ArticleText, SummarizerError

MAX_INPUT_CHARS = 20_000  # pasted text beyond this is refused, not silently cut
LATEST_LIMIT = 5
SEARCH_WINDOW = 500  # briefs searched by /summary <words>
URL = re.compile(r"^https?://\S+$", re.IGNORECASE)
_OTHER_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*://\S+$", re.IGNORECASE)  # ftp://, file://...


async def summary(tools: Tools, incoming: Incoming, chat: ChatSettings) -> list[Message]:
    tr = incoming.tr
    args = incoming.args.strip()
    if len(args) > MAX_INPUT_CHARS:
        return reply(tr.gettext("That is {count} characters; I summarize up to {limit} pasted characters. Send a "
                                "link to the article instead.", count=len(args),
                                limit=MAX_INPUT_CHARS))
    if not args:
        return await asyncio.to_thread(_latest, tools, chat, tr)
    if URL.match(args):
        return await _summarize_url(tools, args, tr)
    if _OTHER_SCHEME.match(args):
        return reply(tr.gettext("I can only read http and https links."))
    if _looks_like_query(args):
        return await asyncio.to_thread(_search, tools, chat, args, tr)
    return await _summarize_text(tools, args, tr)


def _latest(tools: Tools, chat: ChatSettings, tr: Translator) -> list[Message]:
    with tools.store.transaction() as tx:
        briefs = tx.articles.briefs_for_chat(chat.id, limit=LATEST_LIMIT)
        followed = tx.sources.followed_by(chat.id)
    if not briefs:
        hint = (tr.gettext("Your feeds have no briefs yet; they arrive after the next poll.") if followed else
                tr.gettext("This chat follows no feeds yet. Add one with /sources add <feed url>, or send /summary "
                           "with a link or a text."))
        return reply(hint)
    return [Message(kind="reply", heading=tr.gettext("Latest briefs"), items=[brief_item(b) for b in briefs])]


def _search(tools: Tools, chat: ChatSettings, text: str, tr: Translator) -> list[Message]:
    try:
        query = parse_query(text)
    except QueryError as exc:
        return reply(tr.explain(exc))
    with tools.store.transaction() as tx:
        followed = tx.sources.followed_by(chat.id)
        pool = (tx.articles.briefs_for_chat(chat.id, limit=SEARCH_WINDOW) if followed
                else tx.articles.recent_briefs(limit=SEARCH_WINDOW))
    found = [b for b in pool if query.matches(" ".join([b.title or "", b.headline, *b.points]))]
    if not found:
        return reply(tr.gettext("No recent brief matches {query}. To summarize a text instead, paste a few "
                                "sentences of it; for a page, send its link.", query=query.display.rstrip(".")))
    return [Message(kind="reply", heading=tr.gettext("Latest on {query}", query=query.display),
                    items=[brief_item(b) for b in found[:LATEST_LIMIT]])]


async def _summarize_url(tools: Tools, url: str, tr: Translator) -> list[Message]:
    try:
        stored = await tools.pages.brief_for_url(url)
    except PageProblem as exc:
        return reply(tr.explain(exc))
    return [Message(kind="reply", items=[brief_item(stored)])]


async def _summarize_text(tools: Tools, text: str, tr: Translator) -> list[Message]:
    try:
        [brief] = await tools.briefs.summarize([ArticleText(text=text)], max_chars=tools.max_chars)
    except SummarizerError as exc:
        return reply(tr.gettext(summarizer_problem(exc)))
    return [Message(kind="reply", items=[fresh_item(brief)], footer=brief.notice or None)]


def _looks_like_query(text: str) -> bool:
    """A few words to look up, rather than a text to summarize."""
    words = text.split()
    return len(words) <= 8 and not re.search(r"[.!?]\s+\S", text)


SUMMARY = Command(
    "summary", lazy("/summary [link | text | words]"),
    lazy("a brief of a link or pasted text; with words, the latest matching briefs; "
         "alone, the latest briefs of this chat's sources"),
    lazy("Brief of a link or text; with words, the latest matching briefs"), summary,
    examples=("/summary https://example.com/news/story", lazy("/summary interest rates"), "/summary"),
    aliases=("brief",))
