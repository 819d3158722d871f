"""What an adapter hands to the command service, and what it gets back."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal, Protocol

from bot.domain.models import ChatRef, Message
from bot.i18n import Translator, lazy, translator

ChatKind = Literal["private", "group", "channel"]


@dataclass(frozen=True)
class Attachment:
    """A file sent with a command (an OPML feed list), already downloaded by the adapter."""

    filename: str
    content: bytes


async def _never_admin() -> bool:
    return False


@dataclass(frozen=True)
class Incoming:
    """One command as typed by someone in a chat.

    `command` is lower-case without the slash or a bot @mention ("summary"); `args` is the raw rest.
    A message without a command (a plain text, a bare link) has `command` None and all of it in `args`:
    the command service decides what it means.
    `is_admin` asks the platform, lazily, whether the sender may change this chat's settings; in a
    private chat the adapter answers True. `help_command` and `attachment_hint` are the platform's own
    words: how people ask for help there ("/help") and how they send a file with a command.
    `user_locale` is the sender's language as the platform reports it ("de", "pt-BR"; None: unknown).
    `language` is the language to answer in: the command service sets it (bot.i18n.chat_language), and
    handlers write with `tr`.
    """

    chat: ChatRef
    command: str | None
    args: str = ""
    chat_kind: ChatKind = "private"
    chat_title: str | None = None
    user_id: str | None = None
    attachment: Attachment | None = None
    is_admin: Callable[[], Awaitable[bool]] = _never_admin
    help_command: str = "/help"
    attachment_hint: str = lazy("send the file with the message /sources")
    user_locale: str | None = None
    language: str | None = None

    @property
    def tr(self) -> Translator:
        return translator(self.language)


class CommandHandler(Protocol):
    async def handle(self, incoming: Incoming) -> list[Message]: ...
