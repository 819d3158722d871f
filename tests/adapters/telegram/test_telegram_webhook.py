"""Webhook mode: setWebhook with a secret, and the bot's real aiohttp server taking POST /telegram/webhook.

Updates are recorded payloads (tests/adapters/telegram/payloads/) posted as Telegram would post them.
"""

from __future__ import annotations

import json
from pathlib import Path

import aiohttp
import pytest

from bot.adapters.telegram import WEBHOOK_PATH, TelegramAdapter
from bot.domain.models import Message
from bot.runtime.http_server import HttpServer
from bot.settings import Settings

PAYLOADS = Path(__file__).with_name("payloads")
SECRET = "webhook-Secret_0123456789"
PUBLIC_URL = "https://bot.example.org/telegram/webhook"


def payload(name: str) -> dict:
    return json.loads((PAYLOADS / f"{name}.json").read_text())


class EchoHandler:
    def __init__(self) -> None:
        self.incoming = []

    async def handle(self, incoming):
        self.incoming.append(incoming)
        return [Message(kind="reply", text=f"/{incoming.command} {incoming.args}".strip())]


@pytest.fixture
def handler():
    return EchoHandler()


@pytest.fixture
async def webhook(tg, handler):
    """The adapter built the way the composition root builds it, mounted on the bot's HTTP server."""
    settings = Settings(_env_file=None, telegram_bot_token=tg.token, telegram_api_base_url=tg.base_url,
                        telegram_mode="webhook", telegram_webhook_url=PUBLIC_URL, telegram_webhook_secret=SECRET)
    http = HttpServer("127.0.0.1", 0)
    adapter = TelegramAdapter.from_settings(settings, handler, http)
    await http.start()
    await adapter.start()
    async with aiohttp.ClientSession() as session:
        yield adapter, session, f"http://127.0.0.1:{http.port}{WEBHOOK_PATH}"
    await adapter.stop()
    await http.stop()


async def test_set_webhook_with_the_secret_and_no_polling(tg, webhook):
    [call] = tg.calls("setWebhook")
    assert call.params["url"] == PUBLIC_URL and call.params["secret_token"] == SECRET
    assert call.params["allowed_updates"] == ["message", "channel_post", "callback_query"]
    assert tg.webhook()["has_secret_token"] is True
    assert tg.calls("getUpdates") == [] and tg.calls("deleteWebhook") == []
    assert [c["command"] for c in tg.commands()][:2] == ["summary", "digest"]


async def test_updates_with_the_secret_are_processed_and_answered(tg, handler, webhook):
    _, session, url = webhook
    for name in ("private_summary", "forum_topic_subscribe", "channel_post_alerts"):
        async with session.post(url, json=payload(name), headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}) as r:
            assert r.status == 200
    calls = await tg.await_calls("sendMessage", 3)

    by_chat = {c.params["chat_id"]: c.params for c in calls}
    assert by_chat[42]["text"] == "/summary The central bank raised rates. Markets fell."
    assert by_chat[-1001000000001]["text"] == "/subscribe climate -sports"
    assert by_chat[-1001000000001]["message_thread_id"] == 77
    assert by_chat[-1002000000001]["text"] == "/alerts"
    assert {i.chat_kind for i in handler.incoming} == {"private", "group", "channel"}


@pytest.mark.parametrize("headers", [
    {},
    {"X-Telegram-Bot-Api-Secret-Token": "wrong"},
    {"X-Telegram-Bot-Api-Secret-Token": SECRET[:-1]},
    {"X-Telegram-Bot-Api-Secret-Token": SECRET + "x"},
    {"X-Telegram-Bot-Api-Secret-Token": ""},
])
async def test_a_forged_or_missing_secret_is_refused(tg, handler, webhook, headers):
    adapter, session, url = webhook
    async with session.post(url, json=payload("private_summary"), headers=headers) as response:
        assert response.status == 403
    # Nothing was queued: a valid update sent after it is the only one handled.
    async with session.post(url, json=payload("channel_post_alerts"),
                            headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}) as response:
        assert response.status == 200
    [call] = await tg.await_calls("sendMessage")
    assert call.params["chat_id"] == -1002000000001
    assert [i.command for i in handler.incoming] == ["alerts"]


@pytest.mark.parametrize("body", [b"not json", b"[1, 2]", b'{"no": "update_id"}'])
async def test_a_malformed_body_with_the_secret_is_a_clear_400(webhook, body):
    _, session, url = webhook
    async with session.post(url, data=body, headers={"X-Telegram-Bot-Api-Secret-Token": SECRET,
                                                     "Content-Type": "application/json"}) as response:
        assert response.status == 400


async def test_only_post_is_routed(webhook):
    _, session, url = webhook
    async with session.get(url) as response:
        assert response.status == 405


async def test_an_update_redelivered_to_another_process_is_acknowledged_and_handled_once(tg, database_url):
    """Two bot processes on one database behind a load balancer; Telegram sends an update again
    (our answer was slow) and this time it reaches the other process."""
    from bot.services.seen_events import SeenEvents
    from bot.store.store import Store

    settings = Settings(_env_file=None, telegram_bot_token=tg.token, telegram_api_base_url=tg.base_url,
                        telegram_mode="webhook", telegram_webhook_url=PUBLIC_URL, telegram_webhook_secret=SECRET)
    handlers, urls, running = [], [], []
    for _ in range(2):
        store = Store.open(database_url)
        http = HttpServer("127.0.0.1", 0)
        handlers.append(EchoHandler())
        adapter = TelegramAdapter.from_settings(settings, handlers[-1], http,
                                                first_sighting=SeenEvents(store).for_platform("telegram"))
        await http.start()
        await adapter.start()
        running.append((adapter, http, store))
        urls.append(f"http://127.0.0.1:{http.port}{WEBHOOK_PATH}")
    update = payload("private_summary")
    # Then a later update of the same chat to each process: updates of one chat are handled in order,
    # so once those are answered a wrongly queued redelivery would have been answered too.
    later = [{**update, "update_id": update["update_id"] + n} for n in (1, 2)]
    try:
        async with aiohttp.ClientSession() as session:
            statuses = []
            for url, body in ((urls[0], update), (urls[1], update), (urls[0], update),
                              (urls[0], later[0]), (urls[1], later[1])):
                async with session.post(url, json=body, headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}) as r:
                    statuses.append(r.status)
            await tg.await_calls("sendMessage", 3)
    finally:
        for adapter, http, store in running:
            await adapter.stop()
            await http.stop()
            store.close()
    assert statuses == [200] * 5
    assert len(tg.calls("sendMessage")) == 3
    assert [len(h.incoming) for h in handlers] == [2, 1]
