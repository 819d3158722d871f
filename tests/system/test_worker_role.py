"""`python -m bot worker`: delivers what is queued through the platform, and never touches its inbound side
(no getUpdates, no webhook, no command menu), so it can run beside the bot process and scale."""

from __future__ import annotations

import pytest

from bot.store.store import Store
from tests.support.delivery_process import enqueue_messages
from tests.support.bot_process import BotProcess
from tests.support.standins.telegram import TelegramStandIn

pytestmark = pytest.mark.slow  # a whole process: imports, migrations, start and stop

INBOUND = {"getUpdates", "setWebhook", "deleteWebhook", "setMyCommands"}


def test_a_worker_delivers_the_outbox_and_takes_no_updates(tmp_path):
    (tmp_path / "data").mkdir()
    store = Store.open(f"sqlite:///{tmp_path / 'data' / 'briefbot.sqlite3'}")
    enqueue_messages(store, [{"chat_key": 1001, "key": "a", "text": "queued before the worker started"},
                             {"chat_key": -2001, "chat_kind": "group", "key": "b", "text": "and for a group"}])
    store.close()
    with TelegramStandIn() as tg:
        tg.push_message({"id": 1001, "type": "private", "first_name": "Ada"}, "/help")  # not for a worker
        with BotProcess(tmp_path, "worker", TELEGRAM_BOT_TOKEN=tg.token, TELEGRAM_API_BASE_URL=tg.base_url,
                        SUMMARIZER_BACKEND="lead") as worker:
            assert "(worker: delivers, takes no commands)" in worker.wait_for("briefbot running")
            tg.wait_for_calls("sendMessage", 2, timeout=60)
            assert worker.stop() == 0
        methods = {call.method for call in tg.calls()}
        texts = sorted(message["text"] for message in tg.sent_messages())
    assert texts == ["and for a group", "queued before the worker started"]
    assert not methods & INBOUND, methods
    assert len(tg.pending_updates()) == 1  # the command stays for the bot process to answer
