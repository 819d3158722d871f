"""The `Sender` port for Slack: alerts and digests from the delivery loop, one Block Kit part at a time."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters.slack.render import render_message
from bot.domain.models import ChatRef, Message
from bot.services.sending import SendError

# The bot can no longer post there (removed, archived, uninstalled): deactivate the chat's deliveries.
FORBIDDEN_ERRORS = frozenset({
    "channel_not_found", "not_in_channel", "is_archived", "account_inactive", "token_revoked", "missing_scope",
})


def send_error(exc: SlackApiError | asyncio.TimeoutError | aiohttp.ClientError) -> SendError:
    """What the delivery loop should do about a failed chat.postMessage."""
    if isinstance(exc, SlackApiError):
        status = exc.response.status_code
        data = exc.response.data if isinstance(exc.response.data, dict) else {}
        error = str(data.get("error") or f"HTTP {status}")
        if status == 429 or error == "ratelimited":
            return SendError("rate_limited", error, retry_after=_retry_after(exc.response.headers))
        if status >= 500:
            return SendError("retry", error)
        if error in FORBIDDEN_ERRORS:
            return SendError("forbidden", error)
        return SendError("final", error)  # invalid_blocks, msg_too_long, invalid_auth and every other ok:false
    if isinstance(exc, aiohttp.ClientConnectorError):
        return SendError("retry", f"not sent: {type(exc).__name__}")  # no connection, so nothing went out
    # A timeout or a lost connection: the message may have reached Slack; resending could post it twice.
    return SendError("unknown", f"no answer: {type(exc).__name__}")


def _retry_after(headers: Any) -> float | None:
    try:
        value = (headers or {}).get("Retry-After")
        return float(value) if value is not None else None
    except (TypeError, ValueError):
        return None


class SlackSender:
    """Posts with its own client, which never retries by itself: delivery decides what happens next."""

    platform = "slack"

    def __init__(self, client: AsyncWebClient) -> None:
        self.client = client

    def render(self, message: Message) -> list[Any]:
        return render_message(message)

    async def send_part(self, chat: ChatRef, part: Any) -> str | None:
        try:
            response = await self.client.chat_postMessage(
                channel=chat.chat_id, thread_ts=chat.thread_id, text=part["text"], blocks=part["blocks"],
                unfurl_links=False, unfurl_media=False)
        except (SlackApiError, asyncio.TimeoutError, aiohttp.ClientError) as exc:
            raise send_error(exc) from exc
        return response.get("ts")
