"""The App Home tab: what a person manages, published when they open it, and a form to add a feed or an alert.

`app_home_opened` (the Home tab, not the Messages tab) publishes the person's view with views.publish:
their direct messages with the bot (its feeds, alerts and digest time) and, for workspace admins
(admin.py), each channel the bot serves with the same. The feed and alert buttons are the listings'
own (bot.services.actions), pressed through buttons.py; their block ids name the chat they belong to.
"Add a feed" / "Add an alert" open a modal (views.open, with the press's trigger_id, good for 3 s); its
submission adds through the same services as /sources add and /subscribe. Slack wants the submission
answered within 3 seconds: an error (a bad address, a bad query, not an admin) is shown in the modal
(`response_action: errors`) when the answer comes in time; a feed that takes longer to check turns the
modal into a "checking" note, and the Home tab shows the outcome when it is known.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters.slack.admin import AdminCheck
from bot.adapters.slack.buttons import home_block_id
from bot.adapters.slack.handlers import chat_kind, is_direct_message
from bot.adapters.slack.locales import UserLocales
from bot.adapters.slack.markup import escape_text, link, truncate
from bot.adapters.slack.platform import PLATFORM
from bot.adapters.slack.render import ACTION_PREFIX, MAX_SECTION_CHARS, button_blocks
from bot.domain.actions import ButtonRows
from bot.domain.models import ChatRef
from bot.i18n import Translator, chat_language, lazy, translator
from bot.services.home import Added, HomeService, ManagedChat, Overview

log = logging.getLogger(__name__)

ADD = re.compile(r"^briefbot-home:add_(feed|alert)$")  # the Home tab's "Add a feed" / "Add an alert"
FORM = re.compile(r"^briefbot_add_(feed|alert)$")  # the modal's callback_id
CHAT_KEY = re.compile(r"^[A-Z0-9]{1,30}$")
ENTRY_BLOCK, ENTRY_ACTION = "entry", "value"
MAX_VIEW_BLOCKS = 100
MAX_ERROR_CHARS = 300
ANSWER_WITHIN_S = 2.0  # of Slack's 3 seconds for a submission's answer, what the adding may take
FAILED = lazy("Sorry, something went wrong on my side. Nothing was changed; please try again in a minute.")

_FORMS = {
    "feed": {"title": lazy("Add a feed"), "label": lazy("Feed address"),
             "placeholder": "https://example.com/feed.xml",
             "hint": lazy("An RSS, Atom or JSON feed, or a web page that links one."),
             "checking": lazy("Checking the feed…")},
    "alert": {"title": lazy("Add an alert"), "label": lazy("Words to watch for"),
              "placeholder": lazy("climate -sports"),
              "hint": lazy("Every word must appear; \"quotes\" keep a phrase together; -word excludes."),
              "checking": lazy("Setting the alert…")},
}


class SlackHome:
    """The Home tab's listeners; `register(app)` attaches them to a bolt app."""

    def __init__(self, home: HomeService, *, admin: AdminCheck, locales: UserLocales | None = None) -> None:
        self.home = home
        self.admin = admin
        self.locales = locales  # the Home tab is a person's own: in their Slack language (None: English)

    async def _tr(self, user_id: str | None) -> Translator:
        locale = await self.locales.locale(user_id) if self.locales is not None else None
        return translator(chat_language("private", None, locale))

    def register(self, app: AsyncApp) -> None:
        app.event("app_home_opened")(self.on_home_opened)
        app.action(ADD)(self.on_add)
        app.view(FORM)(self.on_submit)

    async def on_home_opened(self, event: dict[str, Any], client: AsyncWebClient) -> None:
        if event.get("tab") != "home" or not event.get("user"):
            return  # the Messages tab: nothing to publish
        await self.publish(client, event["user"], own_chat=str(event.get("channel") or ""))

    async def publish(self, client: AsyncWebClient, user_id: str, *, own_chat: str, notice: str | None = None) -> None:
        """Publish `user_id`'s Home tab; `own_chat` is their direct message channel with the app."""
        overview, tr = None, await self._tr(user_id)
        if CHAT_KEY.match(own_chat) and is_direct_message(own_chat):
            try:
                overview = await self.home.overview(ChatRef(PLATFORM.name, own_chat),
                                                    with_shared=await self.admin.is_admin(user_id))
            except Exception:
                log.exception("could not gather the Home tab of %s", user_id)
                notice = tr.gettext(FAILED)
        try:
            await client.views_publish(user_id=user_id, view=home_view(overview, own_chat=own_chat, notice=notice,
                                                                       tr=tr))
        except SlackApiError as exc:
            log.warning("views.publish failed for %s: %s", user_id, exc.response.get("error"))

    async def on_add(self, ack, body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        which = ADD.match(action.get("action_id", "")).group(1)
        chat_key = action.get("value") if isinstance(action.get("value"), str) else ""
        if not CHAT_KEY.match(chat_key) or not body.get("trigger_id"):
            log.warning("an add button without a chat; ignored")
            return
        own = str((body.get("view") or {}).get("private_metadata") or "")
        if is_direct_message(chat_key) and chat_key != own:
            log.warning("an add button for someone else's direct messages; ignored")
            return
        try:
            tr = await self._tr((body.get("user") or {}).get("id"))
            await client.views_open(trigger_id=body["trigger_id"], view=form_view(which, chat_key, own, tr=tr))
        except SlackApiError as exc:
            log.warning("views.open failed: %s", exc.response.get("error"))

    async def on_submit(self, ack, body: dict[str, Any], view: dict[str, Any], client: AsyncWebClient) -> None:
        which = FORM.match(view.get("callback_id", "")).group(1)
        user_id = (body.get("user") or {}).get("id")
        tr = await self._tr(user_id)
        try:
            meta = json.loads(view.get("private_metadata") or "{}")
            chat_key, own = str(meta["chat"]), str(meta.get("own") or "")
        except (ValueError, KeyError, TypeError):
            meta = None
        if meta is None or not CHAT_KEY.match(chat_key) or not user_id or \
                (is_direct_message(chat_key) and chat_key != own):
            expired = tr.gettext("This form has expired; open it again.")
            await ack(response_action="errors", errors={ENTRY_BLOCK: expired})
            return
        entered = (((view.get("state") or {}).get("values") or {}).get(ENTRY_BLOCK) or {}).get(ENTRY_ACTION) or {}
        text = entered.get("value") if isinstance(entered.get("value"), str) else ""
        if not text.strip():
            await ack(response_action="errors", errors={ENTRY_BLOCK: tr.gettext("Please fill this in.")})
            return
        work = asyncio.ensure_future(self._add(which, chat_key, text, user_id, tr))
        done, _ = await asyncio.wait({work}, timeout=ANSWER_WITHIN_S)
        if work in done:
            added = work.result()
            if not added.ok:
                await ack(response_action="errors", errors={ENTRY_BLOCK: truncate(added.text, MAX_ERROR_CHARS)})
                return
            await ack()  # closes the modal
        else:
            await ack(response_action="update", view=checking_view(which, tr=tr))
            added = await work
        await self.publish(client, user_id, own_chat=own, notice=added.text)

    async def _add(self, which: str, chat_key: str, text: str, user_id: str, tr: Translator) -> Added:
        chat = ChatRef(PLATFORM.name, chat_key)
        may_change = self.admin.checker(user_id, direct_message=is_direct_message(chat_key))
        add = self.home.add_feed if which == "feed" else self.home.add_alert
        try:
            return await add(chat, text, kind=chat_kind(chat_key), may_change=may_change, language=tr.language)
        except Exception:
            log.exception("adding a %s from the Home tab failed", which)
            return Added(False, tr.gettext(FAILED))


# ----- views ------------------------------------------------------------------------------------

def _plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text, "emoji": True}


def _section(mrkdwn: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": truncate(mrkdwn, MAX_SECTION_CHARS)}}


def _context(mrkdwn: str) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": truncate(mrkdwn, MAX_SECTION_CHARS)}]}


def _packed(rows: ButtonRows, chat_key: str, what: str, first: int) -> list[dict[str, Any]]:
    """A chat's buttons packed into few actions blocks (a view holds 100 blocks), each block named by its chat."""
    flat = tuple(button for row in rows for button in row)
    blocks = button_blocks((flat,), prefix=f"{ACTION_PREFIX}{chat_key}.{what}.") if flat else []
    return [{**block, "block_id": home_block_id(chat_key, first + n)} for n, block in enumerate(blocks)]


def chat_blocks(managed: ManagedChat, tr: Translator | None = None) -> list[dict[str, Any]]:
    tr = tr or translator(None)
    key = managed.chat.chat_id
    if managed.kind == "private":
        blocks: list[dict[str, Any]] = [{"type": "header",
                                         "text": _plain(tr.gettext("Your direct messages with briefbot"))}]
    else:
        blocks = [_section(f"*<#{key}>*")]
    paused = " · _" + tr.gettext("paused") + "_"
    none_yet, feeds, alerts = tr.gettext("None yet."), tr.gettext("Feeds"), tr.gettext("Alerts")
    if managed.feeds:
        lines = [f"{feed.position}. {link(feed.url, feed.name)}" + (paused if feed.paused else "")
                 for feed in managed.feeds]
        blocks.append(_section(f"*{feeds}*\n" + "\n".join(lines)))
    else:
        blocks.append(_section(f"*{feeds}*\n{none_yet}"))
    feed_buttons = _packed(managed.feed_buttons, key, "feeds", 0)
    blocks += feed_buttons
    if managed.alerts:
        lines = [f"{n}. {escape_text(words)}" for n, words in enumerate(managed.alerts, start=1)]
        blocks.append(_section(f"*{alerts}*\n" + "\n".join(lines)))
    else:
        blocks.append(_section(f"*{alerts}*\n{none_yet}"))
    alert_buttons = _packed(managed.alert_buttons, key, "alerts", len(feed_buttons))
    blocks += alert_buttons
    blocks.append(_context(tr.gettext("Daily digest: {schedule}", schedule=escape_text(managed.digest))
                           if managed.digest else tr.gettext("No daily digest; /schedule sets one.")))
    blocks += _packed(managed.schedule_buttons, key, "schedule", len(feed_buttons) + len(alert_buttons))
    blocks.append({"type": "actions", "block_id": f"add:{key}", "elements": [
        {"type": "button", "action_id": "briefbot-home:add_feed", "text": _plain(tr.gettext(_FORMS["feed"]["title"])),
         "value": key, "style": "primary"},
        {"type": "button", "action_id": "briefbot-home:add_alert",
         "text": _plain(tr.gettext(_FORMS["alert"]["title"])), "value": key},
    ]})
    blocks.append({"type": "divider"})
    return blocks


def home_view(overview: Overview | None, *, own_chat: str, notice: str | None = None,
              tr: Translator | None = None) -> dict[str, Any]:
    tr = tr or translator(None)
    blocks: list[dict[str, Any]] = []
    if notice:
        blocks.append(_context(escape_text(notice)))
    left_out = overview.more if overview else 0
    for managed in overview.chats if overview else ():
        more = chat_blocks(managed, tr)
        if len(blocks) + len(more) > MAX_VIEW_BLOCKS - 1:  # room for the note below
            left_out += 1
            continue
        blocks += more
    if left_out:
        blocks.append(_context(tr.ngettext("{n} more channel not shown here; /sources in a channel lists its feeds.",
                                           "{n} more channels not shown here; /sources in a channel lists its feeds.",
                                           left_out)))
    if not blocks:
        blocks.append(_section(tr.gettext("Send me /briefbot-help in a direct message to see what I can do.")))
    # private_metadata: the person's own chat, for presses on this view (which carry no channel).
    return {"type": "home", "private_metadata": own_chat, "blocks": blocks}


def form_view(which: str, chat_key: str, own_chat: str, *, tr: Translator | None = None) -> dict[str, Any]:
    tr = tr or translator(None)
    words = {name: tr.gettext(text) for name, text in _FORMS[which].items()}
    where = (tr.gettext("For your direct messages with briefbot.") if is_direct_message(chat_key)
             else tr.gettext("For {channel}.", channel=f"<#{chat_key}>"))
    return {
        "type": "modal", "callback_id": f"briefbot_add_{which}",
        "private_metadata": json.dumps({"chat": chat_key, "own": own_chat}),
        "title": _plain(words["title"]), "submit": _plain(tr.gettext("Add")), "close": _plain(tr.gettext("Cancel")),
        "blocks": [
            _section(where),
            {"type": "input", "block_id": ENTRY_BLOCK, "label": _plain(words["label"]), "hint": _plain(words["hint"]),
             "element": {"type": "plain_text_input", "action_id": ENTRY_ACTION,
                         "placeholder": _plain(words["placeholder"])}},
        ],
    }


def checking_view(which: str, *, tr: Translator | None = None) -> dict[str, Any]:
    tr = tr or translator(None)
    words = _FORMS[which]
    return {"type": "modal", "title": _plain(tr.gettext(words["title"])), "close": _plain(tr.gettext("Close")),
            "blocks": [_section(tr.gettext(words["checking"]) + " "
                                + tr.gettext("The Home tab will show how it went."))]}
