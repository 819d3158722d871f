"""What a command is: its name, its words for people, the rule for who may use it, and its handler.

Every menu and list of commands (the help, each platform's command menu and slash commands) is read
from one `Registry`; a new command is one module with its `Command`, listed in catalog.py.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from bot.domain.models import ChatSettings, Message
from bot.i18n import translator
from bot.services.briefs import BriefMaker
from bot.services.chat_io import Attachment, Incoming
from bot.services.feeds import FeedService
from bot.services.pages import PageService
from bot.store.store import Store


def reply(text: str, *, heading: str | None = None) -> list[Message]:
    return [Message(kind="reply", heading=heading, text=text)]


# Whether a command, with these arguments and this file, changes the chat's settings (admins only, in groups).
SettingsRule = Callable[[str, Attachment | None], bool]


def never(args: str, attachment: Attachment | None) -> bool:
    return False


def always(args: str, attachment: Attachment | None) -> bool:
    return True


def unless_bare(args: str, attachment: Attachment | None) -> bool:
    """The command alone only looks (/sources, /schedule); with arguments or a file it changes."""
    return bool(args.strip()) or attachment is not None


@dataclass(frozen=True)
class Tools:
    """What handlers work with: the use cases and limits the service was built with, and the registry."""

    store: Store
    briefs: BriefMaker
    feeds: FeedService
    pages: PageService
    digests: Any  # composes /digest: .compose(chat_id, now, recap=...) -> Message
    scheduler: Any  # told when a chat's schedule changes: .reschedule_chat(chat_id); may be None
    registry: Registry
    max_chars: int = 600
    max_alerts_per_chat: int = 100

    def reschedule(self, chat_id: int) -> None:
        # From a worker thread: APScheduler's asyncio scheduler hands its wake-up to the loop thread-safely.
        if self.scheduler is not None:
            self.scheduler.reschedule_chat(chat_id)


# A handler answers one command in one chat; the chat is None only for commands with needs_chat=False.
Handler = Callable[[Tools, Incoming, ChatSettings | None], Awaitable[list[Message]]]


@dataclass(frozen=True)
class Command:
    name: str  # lower-case, as typed after the slash
    # The words for people are English, marked with bot.i18n.lazy and translated where they are shown.
    usage: str  # "/summary [link | text | words]"
    description: str  # for /help: what it does, in a sentence
    menu: str  # for a platform's command menu: short, one line (menus allow up to 256 characters)
    handler: Handler
    examples: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    changes_settings: SettingsRule = never
    attachment: str | None = None  # the file it takes ("An OPML list of feeds"); None: no file
    needs_chat: bool = True  # False: answered without the database (it may be locked elsewhere)

    @property
    def for_admins(self) -> bool:
        return self.changes_settings is not never

    @property
    def takes_attachment(self) -> bool:
        return self.attachment is not None


@dataclass(frozen=True)
class Registry:
    """The commands in the order menus show them; names and aliases are unique."""

    commands: tuple[Command, ...]
    help_name: str = "help"  # the command that lists the others
    _by_name: dict[str, Command] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_name: dict[str, Command] = {}
        for command in self.commands:
            for name in (command.name, *command.aliases):
                if name in by_name:
                    raise ValueError(f"two commands are called {name!r}")
                by_name[name] = command
        if self.help_name not in by_name:
            raise ValueError(f"the registry has no {self.help_name!r} command")
        object.__setattr__(self, "_by_name", by_name)

    def __iter__(self) -> Iterator[Command]:
        return iter(self.commands)

    def get(self, name: str) -> Command | None:
        """By name or alias."""
        return self._by_name.get(name)

    def names(self) -> list[str]:
        return [command.name for command in self.commands]

    def every_name(self) -> list[str]:
        """Names and aliases: what someone may type."""
        return list(self._by_name)

    def listed(self) -> list[Command]:
        """Every command but the help itself: what the help and the unknown-command reply list."""
        return [command for command in self.commands if command.name != self.help_name]

    def takes_attachment(self, name: str) -> bool:
        command = self.get(name)
        return command is not None and command.takes_attachment

    def menu(self, language: str | None = None) -> tuple[tuple[str, str], ...]:
        """(name, short description) for a platform's command menu, in `language` (English by default)."""
        tr = translator(language)
        return tuple((command.name, tr.gettext(command.menu)) for command in self.commands)

    def with_command(self, command: Command) -> Registry:
        """This registry and one more command, listed before the help."""
        commands = list(self.commands)
        at = next((i for i, c in enumerate(commands) if c.name == self.help_name), len(commands))
        return Registry((*commands[:at], command, *commands[at:]), help_name=self.help_name)
