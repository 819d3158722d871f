"""`python -m bot run` with Telegram, as bot.main wires it, against the Telegram stand-in.

Polling: a pushed /help is answered. Webhook: setWebhook carries the secret, the bot's own HTTP
server refuses a forged update with 403 and answers a valid one. Both stop on SIGTERM, and no log
line (JSON, at DEBUG) holds the token or the webhook secret.
"""

from __future__ import annotations

import time

import httpx
import pytest

from tests.support.bot_process import START_DEADLINE_S, BotProcess
from tests.support.standins.telegram import private_chat, user

WEBHOOK_SECRET = "process-webhook-secret-5f4e3d2c1b"
pytestmark = pytest.mark.slow  # a whole bot process: imports, migrations, start and stop


def wait_ready(port: int) -> httpx.Response:
    """/readyz until 200 (the model loads in the background after the start), or its last answer."""
    deadline = time.monotonic() + START_DEADLINE_S
    while True:
        answer = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=10)
        if answer.status_code == 200 or time.monotonic() > deadline:
            return answer
        time.sleep(0.2)


def test_the_bot_process_polls_telegram_and_answers(tg, tmp_path):
    bot = BotProcess(tmp_path, LOG_LEVEL="DEBUG", SUMMARIZER_BACKEND="lead", TELEGRAM_BOT_TOKEN=tg.token,
                     TELEGRAM_API_BASE_URL=tg.base_url)
    try:
        port = bot.port()
        bot.wait_for("briefbot running")
        tg.push_message(private_chat(user(42, "Ada")), "/help")
        [reply] = tg.wait_for_calls("sendMessage", timeout=60)
        ready = wait_ready(port)
    finally:
        code = bot.stop()
    logs = bot.output()

    assert code == 0, logs[-3000:]
    assert ready.status_code == 200, ready.text
    assert {name: check["ok"] for name, check in ready.json()["checks"].items()} == {
        "database": True, "model": True, "telegram": True}
    assert reply.status == 200 and "/subscribe" in reply.params["text"] and reply.params["chat_id"] == 42
    assert [c["command"] for c in tg.commands()][0] == "summary"
    assert tg.token not in logs and tg.token.partition(":")[2] not in logs
    assert "Set Bot API URL" in logs  # the DEBUG line that carries the token was written, redacted


def test_the_bot_process_takes_telegram_webhooks_with_the_secret_only(tg, tmp_path):
    bot = BotProcess(tmp_path, LOG_LEVEL="DEBUG", SUMMARIZER_BACKEND="lead", TELEGRAM_BOT_TOKEN=tg.token,
                     TELEGRAM_API_BASE_URL=tg.base_url, TELEGRAM_MODE="webhook",
                     TELEGRAM_WEBHOOK_URL="https://bot.example/telegram/webhook", TELEGRAM_WEBHOOK_SECRET=WEBHOOK_SECRET)
    update = {"update_id": 7, "message": {"message_id": 3, "date": 0, "chat": private_chat(user(42, "Ada")),
                                          "from": user(42, "Ada"), "text": "/alerts",
                                          "entities": [{"type": "bot_command", "offset": 0, "length": 7}]}}
    try:
        port = bot.port()
        bot.wait_for("briefbot running")
        url = f"http://127.0.0.1:{port}/telegram/webhook"
        forged = httpx.post(url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": "forged"}, timeout=10)
        missing = httpx.post(url, json=update, timeout=10)
        valid = httpx.post(url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET}, timeout=10)
        [reply] = tg.wait_for_calls("sendMessage", timeout=60)
    finally:
        code = bot.stop()
    logs = bot.output()

    assert code == 0, logs[-3000:]
    assert (forged.status_code, missing.status_code, valid.status_code) == (403, 403, 200)
    assert "keyword alerts" in reply.params["text"].lower() and len(tg.calls("sendMessage")) == 1
    [hook] = tg.calls("setWebhook")
    assert hook.params["secret_token"] == WEBHOOK_SECRET and tg.calls("getUpdates") == []
    for secret in (tg.token, tg.token.partition(":")[2], WEBHOOK_SECRET):
        assert secret not in logs


def test_the_bot_process_takes_a_button_press(tg, tmp_path):
    bot = BotProcess(tmp_path, SUMMARIZER_BACKEND="lead", TELEGRAM_BOT_TOKEN=tg.token,
                     TELEGRAM_API_BASE_URL=tg.base_url)
    chat = private_chat(user(42, "Ada"))
    try:
        bot.port()
        bot.wait_for("briefbot running")
        tg.push_message(chat, "/subscribe climate")
        tg.push_message(chat, "/alerts")
        _, listing = tg.wait_for_calls("sendMessage", 2, timeout=60)
        [[stop], _] = listing.response["result"]["reply_markup"]["inline_keyboard"]
        tg.press_button(42, listing.response["result"]["message_id"], stop["callback_data"])
        [answer] = tg.wait_for_calls("answerCallbackQuery", timeout=60)
        [edit] = tg.wait_for_calls("editMessageText", timeout=60)
    finally:
        code = bot.stop()
    logs = bot.output()

    assert code == 0, logs[-3000:]
    assert stop["text"] == "Stop 1" and answer.params["text"] == "Alert for climate stopped."
    assert "No keyword alerts" in edit.params["text"]
    assert [[b["text"] for b in row] for row in edit.params["reply_markup"]["inline_keyboard"]] == [["Add an alert"]]
    assert tg.calls("getUpdates")[0].params["allowed_updates"] == ["message", "channel_post", "callback_query"]


def test_a_prompt_asked_before_a_restart_is_answered_after_it(tg, tmp_path):
    """Add an alert keeps nothing between the press and the reply: a new process reads the reply."""
    settings = {"SUMMARIZER_BACKEND": "lead", "TELEGRAM_BOT_TOKEN": tg.token, "TELEGRAM_API_BASE_URL": tg.base_url}
    chat = private_chat(user(43, "Grace"))
    with BotProcess(tmp_path, **settings) as first:
        first.wait_for("briefbot running")
        tg.push_message(chat, "/alerts")
        [listing] = tg.wait_for_calls("sendMessage", timeout=60)
        [[add]] = listing.response["result"]["reply_markup"]["inline_keyboard"]
        tg.press_button(43, listing.response["result"]["message_id"], add["callback_data"])
        _, prompt = tg.wait_for_calls("sendMessage", 2, timeout=60)
        assert first.stop() == 0, first.lines[-30:]
    assert prompt.params["reply_markup"]["force_reply"] is True
    with BotProcess(tmp_path, **settings) as second:
        second.wait_for("briefbot running")
        tg.push_message(chat, "climate -sports", reply_to=tg.message(43, prompt.response["result"]["message_id"]))
        *_, answer = tg.wait_for_calls("sendMessage", 3, timeout=60)
        assert second.stop() == 0, second.lines[-30:]
    assert answer.params["text"].startswith("Alert set for climate -sports")
