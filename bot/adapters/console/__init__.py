"""The terminal as a chat (terminal.py). `PLATFORM` is what the composition root wires (platform.py);
the other names load the terminal's libraries when first used."""

from bot.adapters.lazy import lazy_exports
from bot.adapters.console.platform import PLATFORM

_LAZY = {"CONSOLE_CHAT": "terminal", "ConsoleSender": "terminal", "parse_line": "terminal", "run_console": "terminal",
         "show": "terminal"}

__all__ = ["PLATFORM", *_LAZY]

__getattr__ = lazy_exports(__name__, _LAZY)
