"""The terminal as a chat (terminal.py). `PLATFORM` is what the composition root wires (platform.py);
the other names load the terminal's libraries when first used."""

from importlib import import_module

from bot.adapters.console.platform import PLATFORM

_LAZY = {"CONSOLE_CHAT": "terminal", "ConsoleSender": "terminal", "parse_line": "terminal", "run_console": "terminal",
         "show": "terminal"}

__all__ = ["PLATFORM", *_LAZY]


def __getattr__(name: str):
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f"{__name__}.{_LAZY[name]}"), name)
