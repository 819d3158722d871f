"""Every setting of the bot in one typed object, read from the environment and `.env`."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, field_validator, model_validator
from sqlalchemy.engine import make_url
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.adapters.registry import SETTINGS_SECTIONS
from summarizer.languages import check_language
from summarizer.types import SummarizerConfig


# Each chat platform declares its own section (bot/adapters/<platform>/settings.py, named by its
# PLATFORM): Settings is the bot's own settings and every section together.
class Settings(*SETTINGS_SECTIONS, BaseSettings):
    # An empty line in .env (SOME_TOKEN=) means "not set".
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore",
                                      env_ignore_empty=True)

    # Storage
    data_dir: Path = Path("data")
    database_url: str | None = None  # default: SQLite file in data_dir

    # Summarizer
    summarizer_backend: Literal["extractive", "abstractive", "lead", "llm"] = "extractive"
    summarizer_model: str | None = None  # HF id or local path for the abstractive backend
    summarizer_device: str = "auto"
    summary_sentences: int = Field(3, ge=1, le=4)
    brief_max_chars: int = Field(600, ge=80, le=4000)
    # The llm backend: an OpenAI-compatible server (Ollama, llama.cpp, vLLM) of the operator's
    llm_base_url: str | None = None  # e.g. http://127.0.0.1:11434/v1
    llm_model: str | None = None
    llm_api_key: SecretStr | None = None
    llm_language: str = "article"  # "article" (the article's own language) or an ISO 639-1 code
    llm_timeout_s: float = Field(60, gt=0)
    llm_max_retries: int = Field(2, ge=0, le=10)
    llm_concurrency: int = Field(2, ge=1, le=64)
    llm_requests_per_hour: int = Field(1000, ge=0)  # 0: no budget
    llm_context_tokens: int | None = Field(None, ge=512)  # default: asked of the server, else 4096
    llm_max_output_tokens: int = Field(512, ge=64)
    llm_structured_output: bool = True
    llm_pause_s: float = Field(60, ge=0)  # after a failure, extractive briefs this long before asking again

    # Sources
    poll_interval_minutes: float = Field(15, gt=0)
    new_feed_items: int = Field(3, ge=0)  # a feed just added posts only its newest few items
    fetch_timeout_s: float = Field(20, gt=0)
    fetch_max_bytes: int = Field(10_000_000, gt=0)
    fetch_per_host: int = Field(4, ge=1)
    fetch_concurrency: int = Field(64, ge=1)
    user_agent: str = "briefbot/0.1 (+https://github.com/briefbot/briefbot)"
    allow_private_networks: bool = False  # test-only: lets the fetcher reach 127.0.0.1

    # Digests and alerts
    default_timezone: str = "UTC"
    digest_grace_hours: float = Field(3, ge=0)
    alerts_per_hour: int = Field(10, ge=1)

    # Limits per chat: one chat must not starve the others (each refusal names its limit)
    max_alerts_per_chat: int = Field(100, ge=1)
    max_feeds_per_chat: int = Field(200, ge=1)
    max_opml_entries: int = Field(500, ge=1)  # feeds in one imported OPML file
    max_pending_commands_per_chat: int = Field(20, ge=1)  # beyond this, "busy, N commands are waiting"
    command_db_wait_s: float = Field(5, gt=0)  # a command waits this long for a locked database, then says so

    # Delivery: any number of processes share the outbox and the platforms' limits through the database.
    delivery_shard: str | None = Field(None, deprecated="removed: a set value stops the start (_shard_removed)")
    delivery_timeout_resends: int = Field(1, ge=0, le=3)  # a send that timed out goes this many more times

    # The bot's own HTTP server (webhooks, health, metrics)
    http_host: str = "127.0.0.1"
    http_port: int = Field(8080, ge=0, le=65535)
    http_idle_timeout_s: float = Field(15, gt=0)  # to send a request's headers, and between requests
    http_max_connections: int = Field(2048, ge=1)
    loop_lag_warning_s: float = Field(0.5, gt=0)  # the event-loop watchdog warns above this

    # Logging
    log_level: str = "INFO"
    log_json: bool = False

    @field_validator("default_timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @field_validator("llm_language")
    @classmethod
    def _known_language(cls, value: str) -> str:
        return check_language(value)

    @model_validator(mode="after")
    def _llm_configured(self) -> Settings:
        if self.summarizer_backend == "llm" and not (self.llm_base_url and self.llm_model):
            raise ValueError("SUMMARIZER_BACKEND=llm needs LLM_BASE_URL (e.g. http://127.0.0.1:11434/v1) and "
                             "LLM_MODEL")
        return self

    @field_validator("delivery_shard")
    @classmethod
    def _shard_removed(cls, value: str | None) -> None:
        if value is not None:
            raise ValueError("DELIVERY_SHARD was removed: delivery processes now share the outbox and the rate "
                             "limits through leases in the database, with no setting per process. Delete it; "
                             "start extra processes with `python -m bot worker`")
        return None

    @cached_property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'briefbot.sqlite3').resolve()}"

    def summarizer_config(self) -> SummarizerConfig:
        return SummarizerConfig(
            backend=self.summarizer_backend,
            model=self.summarizer_model,
            device=self.summarizer_device,
            sentences=self.summary_sentences,
            max_chars=self.brief_max_chars,
            language=self.llm_language,
        )

    def secrets(self) -> list[str]:
        """Secret values that must never reach a log line: every SecretStr setting (a platform's
        section declares its tokens as such), and the passwords in URLs."""
        values = [getattr(self, name) for name in type(self).model_fields]
        found = [v.get_secret_value() for v in values if isinstance(v, SecretStr) and v.get_secret_value()]
        if self.database_url and (password := make_url(self.database_url).password):
            found.append(password)
        if self.llm_base_url and (password := urlsplit(self.llm_base_url).password):
            found.append(password)
        return found
