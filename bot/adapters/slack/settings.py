"""Slack's section of the settings (SLACK_* in the environment or `.env`)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode


class SlackSettings(BaseSettings):
    slack_bot_token: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_api_base_url: str = "https://slack.com/api/"
    slack_mode: Literal["socket", "http"] = "socket"
    slack_installer_user_id: str | None = None  # who installed the app: may change settings everywhere
    slack_admin_user_ids: Annotated[list[str], NoDecode] = Field(default_factory=list)

    @field_validator("slack_admin_user_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value
