"""Telegram updates -> `Incoming` commands for the command service; its answers go back to the chat."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass

from telegram import Chat, Message, Update
from telegram.constants import ChatType
from telegram.error import RetryAfter, TelegramError
from telegram.ext import ContextTypes

from bot.adapters.telegram.admin import AdminCheck
from bot.adapters.telegram.platform import PLATFORM
from bot.adapters.telegram.render import TelegramPart, render_message
from bot.adapters.telegram.sender import TelegramSender, seconds
from bot.domain.models import ChatRef
from bot.domain.models import Message as Reply
from bot.i18n import chat_language, lazy, translator
from bot.services.actions import Ask, asked_by
from bot.services.chat_io import Attachment, ChatKind, CommandHandler, Incoming
from bot.services.commands import COMMANDS, something_went_wrong
from bot.services.pending import ChatBusy

log = logging.getLogger(__name__)
DOWNLOAD_FAILED = lazy("I could not download that file from Telegram. Please send it again.")

MAX_ATTACHMENT_BYTES = 1_000_000
MAX_REPLY_WAIT_S = 10.0  # a command's reply waits out a short flood limit once, not a long one
_COMMAND = re.compile(r"^/([A-Za-z0-9_]{1,64})(?:@([A-Za-z0-9_]{1,64}))?(?=\s|$)(.*)$", re.DOTALL)
_CHAT_KINDS: dict[str, ChatKind] = {ChatType.PRIVATE: "private", ChatType.GROUP: "group",
                                    ChatType.SUPERGROUP: "group", ChatType.CHANNEL: "channel"}


@dataclass(frozen=True)
class ParsedCommand:
    name: str | None  # lower-case, no slash, no @botname; None: a message without a command
    args: str


def parse_command(text: str | None, bot_username: str | None) -> ParsedCommand | None:
    """"/summary@briefbot_bot some text" -> ("summary", "some text"); None if not a command for us."""
    if not text:
        return None
    match = _COMMAND.match(text.strip())
    if match is None:
        return None
    name, addressee, rest = match.groups()
    if addressee and (bot_username is None or addressee.lower() != bot_username.lower()):
        return None  # "/summary@otherbot" in a group is for another bot
    return ParsedCommand(name.lower(), rest.strip())


def chat_kind(chat: Chat) -> ChatKind:
    return _CHAT_KINDS.get(chat.type, "group")


def chat_ref(message: Message) -> ChatRef:
    """The chat, and the forum topic when the message was written in one (replies go there too)."""
    thread = str(message.message_thread_id) if message.is_topic_message and message.message_thread_id else None
    return ChatRef(platform=PLATFORM.name, chat_id=str(message.chat.id), thread_id=thread)


class AttachmentTooLarge(Exception):
    pass


class UpdateRouter:
    """The one callback for messages and channel posts: parse, translate, hand over, reply."""

    def __init__(self, *, handler: CommandHandler, sender: TelegramSender, admin: AdminCheck,
                 bot_username: Callable[[], str | None], max_attachment_bytes: int = MAX_ATTACHMENT_BYTES) -> None:
        self.handler = handler
        self.sender = sender
        self.admin = admin
        self.bot_username = bot_username
        self.max_attachment_bytes = max_attachment_bytes

    async def on_update(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.message or update.channel_post
        if message is None:
            return
        parsed = self._command_of(message)
        if parsed is None:
            return
        # What is said before the service answers follows the sender's language (in a private chat).
        language = _sender_language(message)
        try:
            incoming = await self._incoming(message, parsed)
        except AttachmentTooLarge as exc:
            await self.reply(message, [Reply(kind="reply", text=translator(language).explain(exc),
                                             language=language)])
            return
        except TelegramError as exc:
            log.warning("could not download the file sent with /%s: %s", parsed.name, exc)
            await self.reply(message, [Reply(kind="reply", text=translator(language).gettext(DOWNLOAD_FAILED),
                                             language=language)])
            return
        try:
            replies = await self.handler.handle(incoming)
        except Exception:
            log.exception("command /%s failed", parsed.name)
            replies = something_went_wrong(language)
        await self.reply(message, replies)

    async def busy(self, update: Update, busy: ChatBusy) -> None:
        """The chat has too many commands waiting: say so, once per burst."""
        message = update.message or update.channel_post
        if message is not None and busy.first:
            language = _sender_language(message)
            await self.reply(message, [Reply(kind="reply", text=busy.text(translator(language)), language=language)])

    def _command_of(self, message: Message) -> ParsedCommand | None:
        parsed = parse_command(message.text or message.caption, self.bot_username())
        if parsed is None and message.text and (asked := self._prompt_of(message.reply_to_message)):
            return ParsedCommand(asked.command, asked.incoming_args(message.text))
        if parsed is None and message.chat.type == ChatType.PRIVATE and message.text:
            # In a private chat a plain link or text is for the bot too: the service decides what it asks.
            return ParsedCommand(None, message.text.strip())
        return parsed

    def _prompt_of(self, replied: Message | None) -> Ask | None:
        """The Ask a message replies to: one of the bot's own messages whose last line is exactly a
        prompt (buttons.py sent it). Nothing is kept between the press and the reply, so a restart or
        another process in between changes nothing; only the bot can write its own messages."""
        sender, username = (replied.from_user if replied else None), self.bot_username()
        if replied is None or not replied.text or sender is None or not sender.is_bot or not username or \
                (sender.username or "").lower() != username.lower():
            return None
        return asked_by(replied.text.rsplit("\n", 1)[-1])

    async def _incoming(self, message: Message, parsed: ParsedCommand) -> Incoming:
        sender = message.from_user or message.sender_chat

        async def is_admin() -> bool:
            return await self.admin.is_admin(message)

        return PLATFORM.incoming(
            chat_ref(message), parsed.name, args=parsed.args,
            chat_kind=chat_kind(message.chat), chat_title=message.chat.effective_name,
            user_id=str(sender.id) if sender else None, attachment=await self._attachment(message, parsed),
            is_admin=is_admin, user_locale=message.from_user.language_code if message.from_user else None)

    async def _attachment(self, message: Message, parsed: ParsedCommand) -> Attachment | None:
        document = message.document
        if document is None or parsed.name is None or not COMMANDS.takes_attachment(parsed.name):
            return None
        limit = self.max_attachment_bytes
        if document.file_size is not None and document.file_size > limit:
            raise AttachmentTooLarge(_too_large(document.file_size, limit))
        file = await document.get_file()
        content = bytes(await file.download_as_bytearray())
        if len(content) > limit:
            raise AttachmentTooLarge(_too_large(len(content), limit))
        return Attachment(filename=document.file_name or "sources.opml", content=content)

    async def reply(self, message: Message, replies: list[Reply]) -> None:
        """Answer in the same chat and topic, quoting the command; failures are logged, not raised."""
        chat = chat_ref(message)
        for reply in replies:
            for part in render_message(reply):
                try:
                    await self._deliver(chat, part, message.message_id)
                except TelegramError as exc:
                    log.warning("could not reply in chat %s: %s", chat.chat_id, exc)
                    return

    async def _deliver(self, chat: ChatRef, part: TelegramPart, reply_to: int) -> None:
        try:
            await self.sender.deliver(chat, part, reply_to=reply_to)
        except RetryAfter as exc:
            wait = seconds(exc.retry_after)
            if wait > MAX_REPLY_WAIT_S:
                raise
            await asyncio.sleep(wait)
            await self.sender.deliver(chat, part, reply_to=reply_to)


def _sender_language(message: Message) -> str:
    """The language of a reply the service does not write: the sender's own in a private chat."""
    return chat_language(chat_kind(message.chat), None, message.from_user.language_code if message.from_user else None)


def _too_large(size: int, limit: int) -> str:
    return lazy("That file is {size}; I import feed lists (OPML) up to {limit}.", size=_size(size), limit=_size(limit))


def _size(count: int) -> str:
    return f"{count / 1_000_000:.1f} MB" if count >= 100_000 else f"{count / 1000:.0f} kB"
