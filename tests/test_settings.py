"""Settings derived from what an operator sets."""

from __future__ import annotations

from bot.settings import Settings


def test_the_telegram_bot_id_is_the_public_part_of_the_token():
    # Redelivered updates are recognized per bot (update ids are counted per bot), keyed by this id.
    token = "123456789:AAHsecretsecretsecretsecretsecret12"
    settings = Settings(_env_file=None, telegram_bot_token=token)
    assert settings.telegram_bot_id == "123456789"
    assert "secret" not in settings.telegram_bot_id
    assert Settings(_env_file=None).telegram_bot_id == ""
