"""Slack's retried event deliveries: acknowledged, and not acted on twice.

When Slack sees no 2xx answer to an Events API delivery within 3 seconds (a busy or restarting bot,
a lost connection), it sends the same event again with the same `event_id`, marked
`X-Slack-Retry-Num: 1..3` and `X-Slack-Retry-Reason` (Socket Mode: `retry_attempt`, which bolt turns
into the same headers). Retries come at once, after about a minute and after about five. The first
delivery may well have been received and answered, so a link pasted once would be summarized twice.

The dedupe is by `event_id`, whatever the headers say: a retry whose first delivery never arrived is
the event's only delivery and is handled like any other. Who remembers the ids is given: the bot
passes the store's memory (bot/services/seen_events.py), shared by every process on the database and
kept across restarts; without one, `RecentIds` keeps them in this process's memory. If the memory
cannot answer (the database is down), the event is handled: answered twice rather than never.
Slash commands are not retried by Slack (and carry no event_id), so they pass untouched.
"""

from __future__ import annotations

import inspect
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable

from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse

log = logging.getLogger(__name__)

# True for the first delivery of an event id; sync (and quick) or async.
FirstSighting = Callable[[str], bool | Awaitable[bool]]

RETRY_WINDOW_S = 15 * 60.0  # Slack's last retry comes about five minutes after the first delivery
MAX_REMEMBERED = 20_000  # ids kept at most; far more events than a briefing bot gets in the window


class RecentIds:
    """Ids seen in the last `ttl_s` seconds, at most `limit` of them (the oldest are forgotten first)."""

    def __init__(self, ttl_s: float = RETRY_WINDOW_S, limit: int = MAX_REMEMBERED,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if ttl_s <= 0 or limit <= 0:
            raise ValueError("ttl_s and limit must be positive")
        self.ttl_s = ttl_s
        self.limit = limit
        self.clock = clock
        self._expiry: OrderedDict[str, float] = OrderedDict()  # in arrival order, so oldest first

    def first_time(self, key: str) -> bool:
        """Record `key`; True unless it was already seen within the window."""
        now = self.clock()
        while self._expiry and next(iter(self._expiry.values())) <= now:
            self._expiry.popitem(last=False)
        if key in self._expiry:
            return False
        self._expiry[key] = now + self.ttl_s
        if len(self._expiry) > self.limit:
            self._expiry.popitem(last=False)
        return True

    def __len__(self) -> int:
        return len(self._expiry)


def skip_repeated_events(first_sighting: FirstSighting) -> Callable[..., Awaitable[BoltResponse | None]]:
    """A bolt global middleware. bolt runs it after its own (signature check first), so a forged
    request cannot use up a real event's id."""

    async def skip_repeated_events(body: dict, request: AsyncBoltRequest,
                                   next_: Callable[[], Awaitable[None]]) -> BoltResponse | None:
        event_id = body.get("event_id") if body.get("type") == "event_callback" else None
        if not isinstance(event_id, str) or await _first_sighting(first_sighting, event_id):
            return await next_()
        retry = request.headers.get("x-slack-retry-num", ["?"])[0]
        reason = request.headers.get("x-slack-retry-reason", ["?"])[0]
        log.info("Slack delivered event %s again (retry %s, %s); already received, ignored", event_id, retry, reason)
        return BoltResponse(status=200, body="")  # any 2xx stops Slack's retries

    return skip_repeated_events


async def _first_sighting(first_sighting: FirstSighting, event_id: str) -> bool:
    try:
        answer = first_sighting(event_id)
        return await answer if inspect.isawaitable(answer) else answer
    except Exception:
        log.error("could not tell whether Slack event %s was received before; handling it", event_id,
                  exc_info=True)
        return True
