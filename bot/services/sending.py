"""The port through which the delivery loop hands a message to a platform adapter.

Adapters translate their library's errors into `SendError` with one of these outcomes, so that delivery
decides what to do without knowing any chat library.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

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
    """One platform's way out. `send` returns the platform's id of the (last) message sent."""

    platform: str

    async def send(self, chat: ChatRef, message: Message, *, chat_kind: str) -> str | None: ...
