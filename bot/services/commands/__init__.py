"""The bot's commands, written once for every platform.

An adapter turns what someone typed into an `Incoming` and renders the `Message`s that come back;
`COMMANDS` is the list every menu and help is made from.
"""

from bot.services.commands.catalog import COMMANDS
from bot.services.commands.registry import Command, Registry
from bot.services.commands.service import CommandService, something_went_wrong

__all__ = ["COMMANDS", "Command", "CommandService", "Registry", "something_went_wrong"]
