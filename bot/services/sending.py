"""The port through which the delivery loop hands a message to a platform adapter.

An adapter renders a neutral `Message` into one or more platform messages ("parts": a platform caps
a message's length or its number of blocks) and sends them one at a time, so that delivery can pace
every part within the platform's rate limits and resume after the last part that arrived.
Adapters translate their library's errors into `SendError`, so delivery knows no chat library.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, Protocol

from bot.domain.models import ChatRef, Message

Outcome = Literal[
    "rate_limited",  # 429: wait `retry_after` seconds, then retry
    "retry",  # 5xx or a connection error before the request was sent: back off and retry
    "forbidden",  # the bot was blocked or removed: final, and the chat is deactivated
    "final",  # 400 and the like: final, recorded
    "unknown",  # timed out after the request left: it may have arrived; never resent blindly
]


@dataclass
class SendError(Exception):
    outcome: Outcome
    detail: str
    retry_after: float | None = None

    def __str__(self) -> str:
        return f"{self.outcome}: {self.detail}"


class Sender(Protocol):
    platform: str

    def render(self, message: Message) -> list[Any]:
        """The platform messages (parts) this message becomes, in order."""

    async def send_part(self, chat: ChatRef, part: Any) -> str | None:
        """Send one part; returns the platform's message id. Raises SendError."""
