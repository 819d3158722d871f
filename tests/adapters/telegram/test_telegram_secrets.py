"""The bot token (in every Bot API URL) and the webhook secret never reach a log line.

The errors are real: a 500 and a 403 from the stand-in, a refused connection, a wrong token, a
polling conflict, a crashing command, a forged webhook request. Logs are captured at DEBUG in this
process (caplog) and from a bot subprocess (stderr), with no redaction installed but the adapter's own.
"""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
import textwrap
import traceback
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from telegram import Bot
from telegram.error import InvalidToken, NetworkError

from bot.adapters.telegram import TelegramAdapter
from bot.domain.models import ChatRef, Message
from bot.services.sending import SendError
from tests.support.standins.telegram import TelegramFault, private_chat, user

ROOT = Path(__file__).resolve().parents[3]
SECRET = "hook-secret-Do-Not-Log-0123456789"
OTHER_TOKEN = "987654321:AAGanother-token-that-is-wrong-0123456"
NOTICE = Message(kind="alert", text="Something happened.")


class CrashingHandler:
    async def handle(self, incoming):
        raise RuntimeError(f"command failed while handling {incoming.command}")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def assert_clean(text: str, *secrets: str) -> None:
    for secret in secrets:
        assert secret not in text
        if ":" in secret:
            assert secret.partition(":")[2] not in text  # not even a token's part after the bot id


async def test_errors_logged_at_debug_never_show_the_token_or_secret(tg, caplog):
    caplog.set_level(logging.DEBUG)
    polling = TelegramAdapter(token=tg.token, handler=CrashingHandler(), api_base_url=tg.base_url,
                              poll_timeout_s=1, request_timeout_s=1)
    await polling.start()
    try:
        # A crashing command, a 500 and a 403 on delivery.
        tg.push_message(private_chat(user(42, "Ada")), "/digest")
        await tg.await_calls("sendMessage")
        tg.fail_next(42, TelegramFault.server_error())
        tg.forbid_chat(43)
        for chat_id, outcome in (("42", "retry"), ("43", "forbidden")):
            with pytest.raises(SendError) as caught:
                await polling.sender.send_part(ChatRef("telegram", chat_id), polling.sender.render(NOTICE)[0])
            assert caught.value.outcome == outcome
            logging.getLogger("bot.adapters.telegram.test").warning("delivery failed: %r", caught.value)
        # A second bot sets a webhook: the polling one gets 409 Conflict and logs it with a traceback.
        async with Bot(tg.token, base_url=tg.base_url) as other:
            await other.set_webhook("https://elsewhere.example/hook")
            await tg.await_calls("getUpdates", where=lambda c: c.status == 409)
            await other.delete_webhook()
    finally:
        await polling.stop()

    # Nothing listens: the connection is refused at start.
    unreachable = TelegramAdapter(token=tg.token, handler=CrashingHandler(),
                                  api_base_url=f"http://127.0.0.1:{free_port()}/bot")
    with pytest.raises(NetworkError) as refused:
        await unreachable.start()
    logging.getLogger("telegram.ext.Application").exception("start failed", exc_info=refused.value)
    # A wrong token: 401 from the stand-in.
    wrong = TelegramAdapter(token=OTHER_TOKEN, handler=CrashingHandler(), api_base_url=tg.base_url)
    with pytest.raises(InvalidToken) as invalid:
        await wrong.start()
    logging.getLogger("telegram.ext.Updater").error("start failed: %s", invalid.value, exc_info=invalid.value)
    # The exception itself is clean too, for whoever logs it outside the adapter's loggers.
    assert_clean("".join(traceback.format_exception(invalid.value)), OTHER_TOKEN)

    # Webhook mode: setWebhook's parameters (with the secret) are logged at DEBUG; a forged request is refused.
    hooked = TelegramAdapter(token=tg.token, handler=CrashingHandler(), api_base_url=tg.base_url, mode="webhook",
                             webhook_url="https://bot.example/telegram/webhook", webhook_secret=SECRET)
    await hooked.start()
    server = web.Application()
    server.router.add_post("/telegram/webhook", hooked.webhook_handler())
    runner = web.AppRunner(server)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        async with aiohttp.ClientSession() as session:
            async with session.post(f"http://127.0.0.1:{port}/telegram/webhook", data=b"{}",
                                    headers={"X-Telegram-Bot-Api-Secret-Token": "forged"}) as response:
                assert response.status == 403
    finally:
        await runner.cleanup()
        await hooked.stop()

    records = caplog.records
    text = caplog.text + "\n".join(r.getMessage() + (r.exc_text or "") for r in records)
    assert_clean(text, tg.token, OTHER_TOKEN, SECRET)
    # The dangerous lines were logged, redacted - not silently dropped.
    assert "Set Bot API URL" in text and "[REDACTED]" in text
    assert "command /digest failed" in text or "command failed while handling digest" in text
    assert "Exception happened while polling" in text and "Conflict" in text
    assert "without the right secret token" in text
    assert logging.getLogger("httpx").getEffectiveLevel() >= logging.WARNING


BOT_SCRIPT = textwrap.dedent("""
    import asyncio, logging, os, sys
    logging.basicConfig(level=logging.DEBUG, stream=sys.stderr)
    from bot.adapters.telegram import TelegramAdapter
    from bot.domain.models import ChatRef, Message
    from bot.services.sending import SendError

    class Echo:
        async def handle(self, incoming):
            return [Message(kind="reply", text="pong")]

    async def main():
        adapter = TelegramAdapter(token=os.environ["TG_TOKEN"], handler=Echo(), api_base_url=os.environ["TG_BASE"],
                                  poll_timeout_s=1, request_timeout_s=1)
        await adapter.start()
        part = adapter.sender.render(Message(kind="alert", text="hello"))[0]
        for chat_id in ("42", "43"):
            try:
                await adapter.sender.send_part(ChatRef("telegram", chat_id), part)
            except SendError as exc:
                logging.getLogger("bot.delivery").error("delivery failed: %s", exc, exc_info=exc)
                print("outcome", chat_id, exc.outcome)
        await asyncio.sleep(1.5)  # a few long polls
        await adapter.stop()
        broken = TelegramAdapter(token=os.environ["TG_TOKEN"], handler=Echo(), api_base_url=os.environ["TG_DOWN"])
        try:
            await broken.start()
        except Exception:
            logging.getLogger("telegram.ext.Application").exception("could not start")
            print("refused")

    asyncio.run(main())
""")


def test_a_bot_process_logging_at_debug_to_stderr_never_prints_the_token(tg):
    tg.fail_next(42, TelegramFault.server_error())
    tg.forbid_chat(43)
    env = {**os.environ, "TG_TOKEN": tg.token, "TG_BASE": tg.base_url,
           "TG_DOWN": f"http://127.0.0.1:{free_port()}/bot", "PYTHONPATH": str(ROOT)}
    result = subprocess.run([sys.executable, "-c", BOT_SCRIPT], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=60)

    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.split("\n")[:3] == ["outcome 42 retry", "outcome 43 forbidden", "refused"]
    assert_clean(result.stdout + result.stderr, tg.token)
    assert "Set Bot API URL" in result.stderr and "[REDACTED]" in result.stderr
    assert "Traceback" in result.stderr and "ConnectError" in result.stderr
    assert "HTTP Request:" not in result.stderr  # httpx's per-request INFO line stays off
