"""`POST /telegram/webhook`: Telegram's pushed updates, accepted only with our secret token.

Telegram sends the secret given to setWebhook in `X-Telegram-Bot-Api-Secret-Token`; anything else
is refused with 403 before the body is read, and a body that is not an update (not JSON, nested too
deep, a field of the wrong type) with 400. A valid update is queued for the application and
answered at once: Telegram waits for the answer and would send the update again if it were slow.
An update whose `update_id` was received before (by this or another bot process, when the bot gives a
`first_sighting` memory) is answered 200 and not queued again; if the memory cannot answer, it is queued.
"""

from __future__ import annotations

import hmac
import inspect
import json
import logging
from collections.abc import Awaitable, Callable

from aiohttp import web
from telegram import Update
from telegram.ext import Application

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_UPDATE_BYTES = 1_000_000  # an update is a few kB; a larger body is not from Telegram

WebhookHandler = Callable[[web.Request], Awaitable[web.Response]]
# True for the first delivery of an update_id; sync (and quick) or async.
FirstSighting = Callable[[str], bool | Awaitable[bool]]


def make_webhook_handler(application: Application, secret: str,
                         first_sighting: FirstSighting | None = None) -> WebhookHandler:
    if not secret:
        raise ValueError("the Telegram webhook needs a secret token")
    expected = secret.encode()

    async def telegram_webhook(request: web.Request) -> web.Response:
        supplied = request.headers.get(SECRET_HEADER, "").encode("utf-8", "surrogateescape")
        if not hmac.compare_digest(supplied, expected):
            log.warning("refused a webhook request from %s without the right secret token", request.remote)
            return web.Response(status=403, text="forbidden")
        if request.content_length is not None and request.content_length > MAX_UPDATE_BYTES:
            return web.Response(status=413, text="update too large")
        body = await request.read()
        if len(body) > MAX_UPDATE_BYTES:
            return web.Response(status=413, text="update too large")
        try:
            data = json.loads(body)  # RecursionError on JSON nested too deep
            update_id = data.get("update_id") if isinstance(data, dict) else None
            if not isinstance(update_id, int) or isinstance(update_id, bool):
                raise ValueError("not an update")
            # python-telegram-bot trusts the shape of what it reads: {"message": "x"} raises AttributeError.
            update = Update.de_json(data, application.bot)
        except Exception as exc:
            log.warning("refused a malformed webhook update: %s: %.200s", type(exc).__name__, exc)
            return web.Response(status=400, text="bad update")
        if first_sighting is not None and not await _first_sighting(first_sighting, update.update_id):
            log.info("Telegram delivered update %s again; already received, ignored", update.update_id)
            return web.Response(status=200, text="ok")
        await application.update_queue.put(update)
        return web.Response(status=200, text="ok")

    return telegram_webhook


async def _first_sighting(first_sighting: FirstSighting, update_id: int) -> bool:
    try:
        answer = first_sighting(str(update_id))
        return await answer if inspect.isawaitable(answer) else answer
    except Exception:
        log.error("could not tell whether Telegram update %s was received before; handling it", update_id,
                  exc_info=True)
        return True
