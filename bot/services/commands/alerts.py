"""/subscribe, /unsubscribe and /alerts: keyword alerts, posted when a new story matches."""

from __future__ import annotations

import asyncio
import re

from bot.domain.matching import Query, QueryError, parse_query
from bot.domain.models import ChatSettings, Message
from bot.services.actions import alerts_buttons
from bot.services.chat_io import Incoming
from bot.services.commands.registry import Command, Tools, always, reply
from bot.store.store import Store

NO_ALERTS = "No keyword alerts here yet. Try /subscribe \"North Korea\" or /subscribe climate -sports"
_DISPLAY_TERM = re.compile(r'-?"[^"]*"|\S+')  # one term of a tidied query: word, "a phrase", -excluded


async def subscribe(tools: Tools, incoming: Incoming, chat: ChatSettings) -> list[Message]:
    if not incoming.args.strip():
        return reply("Which words? For example: /subscribe \"North Korea\" missile, or /subscribe climate -sports")
    _, said = await add_alert(tools.store, chat.id, incoming.args, thread_id=incoming.chat.thread_id,
                              max_alerts=tools.max_alerts_per_chat)
    return reply(said)


async def add_alert(store: Store, chat_pk: int, words: str, *, thread_id: str | None,
                    max_alerts: int) -> tuple[bool, str]:
    """Set an alert for `words` in the chat: (whether one was set, what to tell the person). /subscribe
    and any other way of adding an alert (an app's form) say the same."""
    try:
        query = parse_query(words)
    except QueryError as exc:
        return False, str(exc)
    added, count = await asyncio.to_thread(_add, store, chat_pk, query, thread_id, max_alerts)
    if added is None:
        return False, (f"This chat has {count} alerts, the most a chat can have ({max_alerts}). "
                       "Remove one first: /alerts lists them, /unsubscribe <keywords> removes one.")
    if not added:
        return False, f"This chat already has an alert for {query.display}."
    return True, (f"Alert set for {query.display}: I will post here every new story that {_explain(query)}. "
                  "/alerts lists this chat's alerts.")


async def unsubscribe(tools: Tools, incoming: Incoming, chat: ChatSettings) -> list[Message]:
    args = incoming.args.strip()
    if not args:
        return reply("Which alert? Send /alerts to see them, then /unsubscribe <keywords> or /unsubscribe all.")
    if args.lower() == "all":
        removed = await asyncio.to_thread(_remove, tools, chat.id, None)
        return reply(f"Removed all {removed} alerts." if removed else "This chat has no alerts.")
    try:
        query = parse_query(args)
    except QueryError as exc:
        return reply(str(exc))
    removed = await asyncio.to_thread(_remove, tools, chat.id, query.normalized)
    if not removed:
        return reply(f"No alert for {query.display} here. Send /alerts to see them.")
    return reply(f"Alert for {query.display} removed.")


async def alerts(tools: Tools, incoming: Incoming, chat: ChatSettings) -> list[Message]:
    return [await asyncio.to_thread(listing, tools, chat.id)]


def listing(tools: Tools, chat_pk: int, *, buttons: bool = True) -> Message:
    """The chat's alerts, numbered, with a Stop button for each and Add an alert, unless `buttons` is False."""
    with tools.store.transaction() as tx:
        subscriptions = tx.chats.subscriptions(chat_pk)
        lines = [f"{i}. {s.display}" for i, s in enumerate(subscriptions, start=1)]
        rows = alerts_buttons(tx, chat_pk, subscriptions) if buttons else ()
    if not lines:
        return Message(kind="reply", text=NO_ALERTS, buttons=rows)
    return Message(kind="reply", heading="Keyword alerts", text="\n".join(lines), buttons=rows)


def _add(store: Store, chat_id: int, query: Query, thread_id: str | None,
         max_alerts: int) -> tuple[bool | None, int]:
    """(True when added, False when it was there already, None when the chat has no room; the count)."""
    with store.transaction() as tx:
        count = tx.chats.subscription_count(chat_id)
        if count >= max_alerts:
            return None, count
        return tx.chats.subscribe(chat_id, query.normalized, query.display, thread_id), count


def _remove(tools: Tools, chat_id: int, query: str | None) -> int:
    with tools.store.transaction() as tx:
        return tx.chats.unsubscribe(chat_id, query)


def _explain(query: Query) -> str:
    """'mentions "North Korea" and missile but not drill': what an alert's words mean, said back."""
    shown = _DISPLAY_TERM.findall(query.display)  # as typed: original case and order
    if len(shown) != len(query.required) + len(query.excluded):  # a stray quote: the normalised terms
        shown = [t.canonical for t in query.required] + [f"-{t.canonical}" for t in query.excluded]
    required = " and ".join(term for term in shown if not term.startswith("-"))  # a query always has one
    excluded = " or ".join(term[1:] for term in shown if term.startswith("-"))
    return f"mentions {required}" + (f" but not {excluded}" if excluded else "")


SUBSCRIBE = Command(
    "subscribe", "/subscribe <keywords>",
    "alert this chat when a story matches: several words must all appear, "
    "\"quotes\" keep a phrase together, -word excludes",
    "Alert this chat on keywords, e.g. /subscribe climate -sports", subscribe,
    examples=("/subscribe \"North Korea\" missile", "/subscribe climate -sports"), changes_settings=always)
UNSUBSCRIBE = Command(
    "unsubscribe", "/unsubscribe <keywords | all>", "stop an alert, or all of them",
    "Stop an alert, or all of them", unsubscribe,
    examples=("/unsubscribe climate -sports", "/unsubscribe all"), changes_settings=always)
ALERTS = Command("alerts", "/alerts", "this chat's keyword alerts", "This chat's keyword alerts", alerts)
