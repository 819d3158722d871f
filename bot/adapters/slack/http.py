"""HTTP mode: Slack's signed requests (commands and events alike) through the bot's aiohttp server."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp

EVENTS_PATH = "/slack/events"
TIMESTAMP_HEADER = "X-Slack-Request-Timestamp"


def make_events_handler(app: AsyncApp) -> Callable[[web.Request], Awaitable[web.Response]]:
    """An aiohttp handler for `POST /slack/events`.

    The bolt app checks each request's signature (signing secret, five-minute window) before anything
    else: an unsigned, forged or stale request gets 401 and reaches no listener. `url_verification`
    is answered with its challenge. A slash command's answer is the empty (or "Working on it…")
    acknowledgement, sent while the command itself still runs; an event's is an empty 200, and one
    Slack delivers again (`X-Slack-Retry-Num`) gets the same and is not acted on twice.
    """

    async def handle(request: web.Request) -> web.Response:
        # bolt's signature check calls int() on the timestamp and answers a non-number with 500: a request
        # that no signing secret could have signed is refused here with the 401 any bad signature gets.
        # (Without the header bolt decides: it skips the check for Slack's unsigned ssl_check requests.)
        timestamp = request.headers.get(TIMESTAMP_HEADER)
        if timestamp is not None and not (timestamp.isascii() and timestamp.isdigit()):  # "²": isdigit, not int
            return web.json_response({"error": "invalid request"}, status=401)
        return await to_aiohttp_response(await app.async_dispatch(await to_bolt_request(request)))

    return handle
