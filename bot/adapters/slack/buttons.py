"""Button presses (`block_actions`): acknowledged at once, checked and done by the action service, answered.

Slack shows an error unless a press is acknowledged within 3 seconds, so `ack()` comes first and the
work after (bolt sends the acknowledgement as soon as it is called, in HTTP and Socket Mode alike).
Requests are signed and bolt has checked the signature before any listener runs (http.py).

The press is checked as a command is: in a channel the presser must be allowed to change it (admin.py),
in a direct message they may. Its answer is a toast, which Slack does not have: it becomes an ephemeral
message to the presser through the press's `response_url`, which needs no scope and works where the
bot is not a member (chat.postEphemeral needs both). When the press changed what the message shows, the
message is updated in place with chat.update: new buttons, and the listing's text again when it is one
(/sources, /alerts, /schedule). A slash command's answer came through its response_url and may be out
of chat.update's reach: then the press's response_url replaces it (`replace_original`). A press on the
App Home tab (a `view` container) gets the tab published again instead, with the toast at its top.
"""

from __future__ import annotations

import asyncio
import logging
import re
from typing import TYPE_CHECKING, Any

import aiohttp
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters.slack.admin import AdminCheck
from bot.adapters.slack.handlers import chat_kind, is_direct_message
from bot.adapters.slack.platform import PLATFORM
from bot.adapters.slack.render import ACTION_PREFIX, button_blocks, is_our_button_block, render_message
from bot.domain.models import ChatRef
from bot.services.actions import ActionService, PressResult

if TYPE_CHECKING:
    from bot.adapters.slack.home import SlackHome

log = logging.getLogger(__name__)

PRESSED = re.compile(rf"^{re.escape(ACTION_PREFIX)}")
HOME_BLOCK = re.compile(r"^chat:([A-Z0-9]{1,30}):")  # a Home tab's button block: "chat:<channel id>:<n>"


def home_block_id(chat_key: str, number: int) -> str:
    return f"chat:{chat_key}:{number}"


class SlackButtons:
    """The press listener; `register(app)` attaches it to a bolt app."""

    def __init__(self, actions: ActionService, *, admin: AdminCheck, home: SlackHome | None = None) -> None:
        self.actions = actions
        self.admin = admin
        self.home = home

    def register(self, app: AsyncApp) -> None:
        app.action(PRESSED)(self.on_press)

    async def on_press(self, ack, body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient,
                       respond) -> None:
        await ack()  # within Slack's 3 seconds, before any database or API work
        user_id = (body.get("user") or {}).get("id")
        token = action.get("value") if isinstance(action.get("value"), str) else ""
        container = body.get("container") or {}
        if container.get("type") == "view":
            await self._home_press(client, body, action, user_id, token)
            return
        channel = (body.get("channel") or {}).get("id") or container.get("channel_id")
        if not isinstance(channel, str) or not channel:
            log.warning("a button press without a channel; ignored")
            return
        message = body.get("message") or {}
        chat = ChatRef(PLATFORM.name, channel, message.get("thread_ts"))
        result = await self._press(chat, token, user_id)
        await self._toast(respond, client, chat, user_id, result.toast)
        if result.edits and (message.get("ts") or container.get("message_ts")):
            await self._update(client, respond, chat, message, container, result, user_id)

    async def _press(self, chat: ChatRef, token: str, user_id: str | None) -> PressResult:
        direct = is_direct_message(chat.chat_id)
        return await self.actions.press(chat, token, chat_kind=chat_kind(chat.chat_id),
                                        presser_is_admin=self.admin.checker(user_id, direct_message=direct))

    async def _home_press(self, client: AsyncWebClient, body: dict[str, Any], action: dict[str, Any],
                          user_id: str | None, token: str) -> None:
        found = HOME_BLOCK.match(str(action.get("block_id") or ""))
        view = body.get("view") or {}
        own = str(view.get("private_metadata") or "")
        chat_key = found.group(1) if found else ""
        # A private chat's buttons are only ever on its own person's tab (its private_metadata).
        if not chat_key or not user_id or self.home is None or (is_direct_message(chat_key) and chat_key != own):
            log.warning("a press on a view this bot did not publish; ignored")
            return
        result = await self._press(ChatRef(PLATFORM.name, chat_key), token, user_id)
        await self.home.publish(client, user_id, own_chat=own, notice=result.toast)

    @staticmethod
    async def _toast(respond, client: AsyncWebClient, chat: ChatRef, user_id: str | None, toast: str) -> None:
        try:
            response = await respond(text=toast, response_type="ephemeral", replace_original=False)
            if response.status_code == 200:
                return
            log.warning("response_url refused a toast in %s: HTTP %s", chat.chat_id, response.status_code)
        except ValueError:  # no response_url in this press
            pass
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            log.warning("response_url failed for a toast in %s: %s", chat.chat_id, type(exc).__name__)
        if user_id:
            try:
                await client.chat_postEphemeral(channel=chat.chat_id, user=user_id, text=toast,
                                                thread_ts=chat.thread_id)
            except SlackApiError as exc:
                log.warning("could not answer a press in %s: %s", chat.chat_id, exc.response.get("error"))

    async def _update(self, client: AsyncWebClient, respond, chat: ChatRef, message: dict[str, Any],
                      container: dict[str, Any], result: PressResult, user_id: str | None) -> None:
        kept = [block for block in message.get("blocks") or [] if not is_our_button_block(block)]
        text, blocks = message.get("text") or "…", kept + button_blocks(result.buttons or ())
        if result.message is not None:  # the listing drawn again by the service, in its new state
            parts = render_message(result.message)
            if len(parts) == 1:  # a listing too long for one message keeps its text, gets new buttons
                text, blocks = parts[0]["text"], parts[0]["blocks"]
        try:
            await client.chat_update(channel=chat.chat_id, ts=message.get("ts") or container["message_ts"],
                                     text=text, blocks=blocks)
            return
        except SlackApiError as exc:
            error = exc.response.get("error")
        # An answer a slash command got through its response_url (or an ephemeral one) may be no message
        # chat.update can reach; the press's own response_url replaces it wherever it came from.
        try:
            response = await respond(text=text, blocks=blocks, replace_original=True)
            if response.status_code == 200:
                return
            error = f"{error}; response_url: HTTP {response.status_code}"
        except (ValueError, aiohttp.ClientError, asyncio.TimeoutError) as exc:
            error = f"{error}; response_url: {type(exc).__name__}"
        log.warning("could not update the pressed message in %s: %s", chat.chat_id, error)
