"""Buttons under a message: what a person taps instead of typing a command.

A button carries only a short opaque token (a platform's callback data may hold as little as 64 bytes); what it
does, and for which chat, is kept server-side (bot.store.actions) and checked again when it is pressed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

from bot.domain.neutral import neutral_text

ButtonStyle = Literal["default", "primary", "danger"]  # primary: the current choice; danger: removes something
STYLES = ("default", "primary", "danger")

TOKEN_PREFIX = "a:"
# "a:" and 11 url-safe characters (64 random bits) as minted; a little room for other lengths.
TOKEN = re.compile(r"^a:[A-Za-z0-9_-]{8,30}$")
MAX_LABEL_CHARS = 64


@dataclass(frozen=True)
class Button:
    label: str
    token: str
    style: ButtonStyle = "default"
    # Its press asks the presser to type something (bot.services.actions.Ask); a platform that asks in
    # its own way (an app's own forms) may leave it out.
    asks: bool = False

    def __post_init__(self) -> None:
        label = neutral_text(self.label).strip()
        if not label:
            raise ValueError("a button needs a label")
        if len(label) > MAX_LABEL_CHARS:
            label = label[:MAX_LABEL_CHARS - 1] + "…"
        object.__setattr__(self, "label", label)
        if not TOKEN.match(self.token):
            raise ValueError(f"not an action token: {self.token[:40]!r}")
        if self.style not in STYLES:
            raise ValueError(f"a button's style is one of {STYLES}, not {self.style!r}")

    def to_dict(self) -> dict[str, Any]:
        return {"label": self.label, "token": self.token, "style": self.style, **({"asks": True} if self.asks else {})}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Button:
        return cls(label=data["label"], token=data["token"], style=data.get("style", "default"),
                   asks=bool(data.get("asks", False)))


ButtonRows = tuple[tuple[Button, ...], ...]


def rows_to_list(rows: ButtonRows) -> list[list[dict[str, Any]]]:
    return [[button.to_dict() for button in row] for row in rows]


def rows_from_list(data: list[list[dict[str, Any]]]) -> ButtonRows:
    return tuple(tuple(Button.from_dict(button) for button in row) for row in data)


def is_token(text: str) -> bool:
    """Whether `text` could be a token at all (what a button press carries back is outside input)."""
    return bool(TOKEN.match(text))
