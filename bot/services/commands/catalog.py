"""Every command the bot has, in the order menus and the help show them. A new command: its module,
and one line here."""

from bot.services.commands.alerts import ALERTS, SUBSCRIBE, UNSUBSCRIBE
from bot.services.commands.digest import DIGEST
from bot.services.commands.help import HELP
from bot.services.commands.language import LANGUAGE
from bot.services.commands.registry import Registry
from bot.services.commands.schedule import SCHEDULE
from bot.services.commands.sources import SOURCES
from bot.services.commands.summary import SUMMARY

COMMANDS = Registry((
    SUMMARY,
    DIGEST,
    SUBSCRIBE,
    UNSUBSCRIBE,
    ALERTS,
    SOURCES,
    SCHEDULE,
    LANGUAGE,
    HELP,
), help_name=HELP.name)
