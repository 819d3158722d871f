"""/subscribe, /unsubscribe and /alerts: keyword alerts, posted when a new story matches."""

from __future__ import annotations

import asyncio
import re

from bot.domain.matching import Query, QueryError, parse_query
from bot.domain.models import ChatSettings, Message
from bot.i18n import Translator, lazy, translator
from bot.services.actions import alerts_buttons
from bot.services.chat_io import Incoming
from bot.services.commands.registry import Command, Tools, always, reply
from bot.store.store import Store

NO_ALERTS = lazy("No keyword alerts here yet. Try /subscribe \"North Korea\" or /subscribe climate -sports")
_DISPLAY_TERM = re.compile(r'-?"[^"]*"|\S+')  # one term of a tidied query: word, "a phrase", -excluded


async def subscribe(tools: Tools, incoming: Incoming, chat: ChatSettings) -> list[Message]:
    tr = incoming.tr
    if not incoming.args.strip():
        return reply(tr.gettext("Which words? For example: /subscribe \"North Korea\" missile, or /subscribe "
                                "climate -sports"))
    _, said = await add_alert(tools.store, chat.id, incoming.args, thread_id=incoming.chat.thread_id,
                              max_alerts=tools.max_alerts_per_chat, tr=tr)
    return reply(said)


async def add_alert(store: Store, chat_pk: int, words: str, *, thread_id: str | None,
                    max_alerts: int, tr: Translator | None = None) -> tuple[bool, str]:
    """Set an alert for `words` in the chat: (whether one was set, what to tell the person, in `tr`'s
    language, English by default). /subscribe and any other way of adding an alert (an app's form) say the same."""
    tr = tr or translator(None)
    try:
        query = parse_query(words)
    except QueryError as exc:
        return False, tr.explain(exc)
    added, count = await asyncio.to_thread(_add, store, chat_pk, query, thread_id, max_alerts)
    if added is None:
        return False, tr.gettext("This chat has {count} alerts, the most a chat can have ({limit}). Remove one "
                                 "first: /alerts lists them, /unsubscribe <keywords> removes one.",
                                 count=count, limit=max_alerts)
    if not added:
        return False, tr.gettext("This chat already has an alert for {query}.", query=query.display)
    return True, tr.gettext("Alert set for {query}: I will post here every new story that {meaning}. /alerts "
                            "lists this chat's alerts.", query=query.display, meaning=_explain(query, tr))


async def unsubscribe(tools: Tools, incoming: Incoming, chat: ChatSettings) -> list[Message]:
    tr = incoming.tr
    args = incoming.args.strip()
    if not args:
        return reply(tr.gettext("Which alert? Send /alerts to see them, then /unsubscribe <keywords> or "
                                "/unsubscribe all."))
    if args.lower() == "all":
        removed = await asyncio.to_thread(_remove, tools, chat.id, None)
        return reply(tr.ngettext("Removed {n} alert.", "Removed all {n} alerts.", removed) if removed
                     else tr.gettext("This chat has no alerts."))
    try:
        query = parse_query(args)
    except QueryError as exc:
        return reply(tr.explain(exc))
    removed = await asyncio.to_thread(_remove, tools, chat.id, query.normalized)
    if not removed:
        return reply(tr.gettext("No alert for {query} here. Send /alerts to see them.", query=query.display))
    return reply(tr.gettext("Alert for {query} removed.", query=query.display))


async def alerts(tools: Tools, incoming: Incoming, chat: ChatSettings) -> list[Message]:
    return [await asyncio.to_thread(listing, tools, chat.id, language=incoming.language)]


def listing(tools: Tools, chat_pk: int, *, buttons: bool = True, language: str | None = None) -> Message:
    """The chat's alerts, numbered, with a Stop button for each and Add an alert, unless `buttons` is
    False; in `language` (default: the chat's own)."""
    with tools.store.transaction() as tx:
        subscriptions = tx.chats.subscriptions(chat_pk)
        lines = [f"{i}. {s.display}" for i, s in enumerate(subscriptions, start=1)]
        rows = alerts_buttons(tx, chat_pk, subscriptions) if buttons else ()
        tr = translator(language or tx.chat_language.resolved([chat_pk]).get(chat_pk))
    if not lines:
        return Message(kind="reply", text=tr.gettext(NO_ALERTS), buttons=rows, language=tr.language)
    return Message(kind="reply", heading=tr.gettext("Keyword alerts"), text="\n".join(lines), buttons=rows,
                   language=tr.language)


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


def _explain(query: Query, tr: Translator) -> str:
    """'mentions "North Korea" and missile but not drill': what an alert's words mean, said back."""
    shown = _DISPLAY_TERM.findall(query.display)  # as typed: original case and order
    if len(shown) != len(query.required) + len(query.excluded):  # a stray quote: the normalised terms
        shown = [t.canonical for t in query.required] + [f"-{t.canonical}" for t in query.excluded]
    required = [term for term in shown if not term.startswith("-")]  # a query always has one
    excluded = [term[1:] for term in shown if term.startswith("-")]
    if not excluded:
        return tr.gettext("mentions {required}", required=joined(required, tr))
    return tr.gettext("mentions {required} but not {excluded}", required=joined(required, tr),
                      excluded=joined(excluded, tr, either=True))


def joined(terms: list[str], tr: Translator, *, either: bool = False) -> str:
    """"a and b and c" ("a or b" with `either`), joined as the language joins them."""
    text = terms[0]
    for term in terms[1:]:
        text = (tr.gettext("{first} or {second}", first=text, second=term) if either
                else tr.gettext("{first} and {second}", first=text, second=term))
    return text


SUBSCRIBE = Command(
    "subscribe", lazy("/subscribe <keywords>"),
    lazy("alert this chat when a story matches: several words must all appear, "
         "\"quotes\" keep a phrase together, -word excludes"),
    lazy("Alert this chat on keywords, e.g. /subscribe climate -sports"), subscribe,
    examples=(lazy("/subscribe \"North Korea\" missile"), lazy("/subscribe climate -sports")),
    changes_settings=always)
UNSUBSCRIBE = Command(
    "unsubscribe", lazy("/unsubscribe <keywords | all>"), lazy("stop an alert, or all of them"),
    lazy("Stop an alert, or all of them"), unsubscribe,
    examples=(lazy("/unsubscribe climate -sports"), "/unsubscribe all"), changes_settings=always)
ALERTS = Command("alerts", "/alerts", lazy("this chat's keyword alerts"), lazy("This chat's keyword alerts"), alerts)
