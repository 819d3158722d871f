"""Telegram's section of the settings (TELEGRAM_* in the environment or `.env`)."""

from __future__ import annotations

from typing import Literal

from pydantic import SecretStr
from pydantic_settings import BaseSettings


class TelegramSettings(BaseSettings):
    telegram_bot_token: SecretStr | None = None
    telegram_api_base_url: str = "https://api.telegram.org/bot"
    telegram_mode: Literal["polling", "webhook"] = "polling"
    telegram_webhook_url: str | None = None  # public URL Telegram posts updates to
    telegram_webhook_secret: SecretStr | None = None
    telegram_paid_broadcast: bool = False  # allow_paid_broadcast: up to 1,000 messages/s, paid in Stars

    @property
    def telegram_bot_id(self) -> str:
        """The bot's own user id, the token's public part before ":" (update ids are counted per bot)."""
        return self.telegram_bot_token.get_secret_value().partition(":")[0] if self.telegram_bot_token else ""
