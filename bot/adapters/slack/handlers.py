"""Slash commands and events in, `Incoming` to the command service, its answers back to Slack.

Ways in (every one means the same command as on the other platforms):
- slash commands: /summary /digest /subscribe /unsubscribe /alerts /sources /schedule, /briefbot-help
  (Slack keeps /help for itself), and /briefbot <command> [args] for workspaces where another app
  already owns one of those names;
- a mention: "@briefbot summary https://...", in a channel or a thread ("@briefbot" alone is help,
  "@briefbot <link>" a summary of it); files shared with the mention are an OPML import for /sources;
- a direct message to the bot: the same text without the mention;
- a file shared in a channel with the text "/sources" (a `message` event with files).

Slash commands are acknowledged at once (Slack allows 3 seconds) and answered through their
response_url; mentions and messages are answered with chat.postMessage in the same place. A slash
command this code does not know goes to the service like any other (which says it does not know it
and names the commands); other event types are acknowledged and ignored. A redelivered event never gets here (see retries.py).
"""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters.slack.admin import AdminCheck
from bot.adapters.slack.files import FileDownloader, FileProblem
from bot.adapters.slack.markup import from_slack, is_web_url, remove_mention
from bot.adapters.slack.platform import PLATFORM
from bot.adapters.slack.render import render_message
from bot.domain.models import ChatRef, Message
from bot.services.chat_io import Attachment, ChatKind, CommandHandler, Incoming
from bot.services.commands import COMMANDS, SOMETHING_WENT_WRONG

log = logging.getLogger(__name__)

# One slash command per command of the registry (the help under its Slack name), and the umbrella.
SLASH_COMMANDS = {(PLATFORM.help_command if name == COMMANDS.help_name else f"/{name}"): name
                  for name in COMMANDS.names()}
UMBRELLA_COMMAND = "/briefbot"
WORKING = "Working on it…"
FAILED = SOMETHING_WENT_WRONG
MAX_RESPONSES = 5  # a response_url takes at most five messages; the rest go through chat.postMessage
_PRIVATE_CHANNEL_NAMES = {"directmessage", "privategroup"}


def split_command(text: str) -> tuple[str | None, str]:
    """"summary https://x" -> ("summary", "https://x"); nothing is help; a bare link is no command
    (None, "https://x ...": the service decides what it asks)."""
    text = text.strip()
    if not text:
        return "help", ""
    first, _, rest = text.partition(" ")
    if is_web_url(first):
        return None, text
    return first.lstrip("/").lower(), rest.strip()


def is_direct_message(channel_id: str, channel_type: str | None = None) -> bool:
    return channel_type == "im" or channel_id.startswith("D")


def chat_kind(channel_id: str, channel_type: str | None = None) -> ChatKind:
    # Slack channels and group DMs are conversations of many people, like Telegram groups.
    return "private" if is_direct_message(channel_id, channel_type) else "group"


class SlackCommands:
    """The listeners; `register(app)` attaches them to a bolt app."""

    def __init__(self, handler: CommandHandler, *, admin: AdminCheck, files: FileDownloader) -> None:
        self.handler = handler
        self.admin = admin
        self.files = files

    def register(self, app: AsyncApp) -> None:
        # Every slash command: one the app's settings have and this code does not know gets the
        # service's answer to an unknown command (the commands it knows), not bolt's 404 (an error in Slack).
        app.command(re.compile(r"^/"))(self.on_command)
        app.event("app_mention")(self.on_mention)
        app.event("message")(self.on_message)
        # Last, so only events nobody else takes reach it: acknowledged (bolt would answer 404, and
        # Slack retries those and disables an app that fails too often) and otherwise ignored.
        app.event(re.compile(r".*"))(self.on_other_event)

    # ----- slash commands ---------------------------------------------------------------------

    async def on_command(self, ack, command: dict[str, Any], respond, client: AsyncWebClient) -> None:
        text = from_slack(command.get("text") or "")
        slash = command["command"]
        if slash == UMBRELLA_COMMAND:
            name, args = split_command(text)
        else:
            name, args = SLASH_COMMANDS.get(slash) or slash.lstrip("/").lower(), text
        # Acknowledge before any work: Slack shows an error after 3 seconds.
        await ack(WORKING if name in (None, "summary") and args else "")
        channel = command["channel_id"]
        title = command.get("channel_name")
        incoming = self._incoming(ChatRef(PLATFORM.name, channel), name, args, user_id=command.get("user_id"),
                                  title=None if title in _PRIVATE_CHANNEL_NAMES else title)
        await self._respond(respond, client, incoming.chat, await self._answer(incoming), public=name != "help")

    async def _respond(self, respond, client: AsyncWebClient, chat: ChatRef, messages: list[Message],
                       *, public: bool) -> None:
        parts = [part for message in messages for part in render_message(message)]
        sent = 0
        for part in parts[:MAX_RESPONSES]:
            response = await respond(text=part["text"], blocks=part["blocks"], unfurl_links=False,
                                     unfurl_media=False, response_type="in_channel" if public else "ephemeral")
            if response.status_code != 200:  # expired (after 30 minutes) or used up: post the rest instead
                log.warning("response_url refused an answer in %s: HTTP %s", chat.chat_id, response.status_code)
                break
            sent += 1
        await self._post(client, chat, parts[sent:])

    # ----- events -----------------------------------------------------------------------------

    async def on_mention(self, event: dict[str, Any], client: AsyncWebClient, context) -> None:
        text = remove_mention(event.get("text") or "", context.get("bot_user_id"))
        await self._run_text(event, text, client)

    async def on_message(self, event: dict[str, Any], client: AsyncWebClient, context) -> None:
        if event.get("subtype") not in (None, "file_share") or event.get("bot_id"):
            return  # edits, joins, other bots
        raw = event.get("text") or ""
        channel = event.get("channel", "")
        if not is_direct_message(channel, event.get("channel_type")):
            if re.match(r"\s*<@", raw):
                return  # a mention: on_mention answers it
            if not event.get("files") or raw.split()[:1] != ["/sources"]:
                return  # channel chatter is not for the bot
        await self._run_text(event, remove_mention(raw, context.get("bot_user_id")), client)

    @staticmethod
    async def on_other_event(event: dict[str, Any]) -> None:
        log.debug("ignored a %s event: nothing to do for it", event.get("type"))

    async def _run_text(self, event: dict[str, Any], text: str, client: AsyncWebClient) -> None:
        name, args = split_command(from_slack(text))
        chat = ChatRef(PLATFORM.name, event["channel"], event.get("thread_ts"))
        attachment = None
        if event.get("files") and name is not None and COMMANDS.takes_attachment(name):
            try:
                attachment = await self.files.download(event["files"][0])
            except FileProblem as problem:
                await self._post(client, chat, render_message(Message(kind="reply", text=str(problem))))
                return
        incoming = self._incoming(chat, name, args, user_id=event.get("user"), attachment=attachment,
                                  channel_type=event.get("channel_type"))
        messages = await self._answer(incoming)
        await self._post(client, chat, [part for message in messages for part in render_message(message)])

    # ----- shared -----------------------------------------------------------------------------

    async def _answer(self, incoming: Incoming) -> list[Message]:
        try:
            return await self.handler.handle(incoming)
        except Exception:  # the service answers its own failures; this is the last line before silence
            log.exception("/%s failed in %s", incoming.command, incoming.chat.chat_id)
            return [Message(kind="reply", text=FAILED)]

    def _incoming(self, chat: ChatRef, name: str, args: str, *, user_id: str | None, title: str | None = None,
                  attachment: Attachment | None = None, channel_type: str | None = None) -> Incoming:
        direct = is_direct_message(chat.chat_id, channel_type)
        return PLATFORM.incoming(chat, name, args=args, chat_kind=chat_kind(chat.chat_id, channel_type),
                                 chat_title=title, user_id=user_id, attachment=attachment,
                                 is_admin=self.admin.checker(user_id, direct_message=direct))

    @staticmethod
    async def _post(client: AsyncWebClient, chat: ChatRef, parts: list[dict[str, Any]]) -> None:
        for part in parts:
            try:
                await client.chat_postMessage(channel=chat.chat_id, thread_ts=chat.thread_id, text=part["text"],
                                              blocks=part["blocks"], unfurl_links=False, unfurl_media=False)
            except SlackApiError as exc:
                log.warning("could not answer in %s: %s", chat.chat_id, exc.response.get("error"))
                return
