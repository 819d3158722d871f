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


def test_the_llm_backend_needs_a_server_and_a_model():
    import pytest
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="LLM_BASE_URL"):
        Settings(_env_file=None, summarizer_backend="llm", llm_model="llama3.2")
    settings = Settings(_env_file=None, summarizer_backend="llm", llm_base_url="http://127.0.0.1:11434/v1",
                        llm_model="llama3.2", llm_language="DE")
    assert settings.summarizer_config().backend == "llm" and settings.summarizer_config().language == "de"
    with pytest.raises(ValidationError, match="unknown language 'klingon'"):
        Settings(_env_file=None, llm_language="klingon")


def test_the_llm_api_key_and_a_password_in_its_url_are_secrets():
    settings = Settings(_env_file=None, llm_api_key="local-key-123", llm_base_url="http://bot:pw-456@llm.lan/v1")
    assert {"local-key-123", "pw-456"} <= set(settings.secrets())
