"""Keeps the bot token and the webhook secret out of every log line the Telegram side writes.

The token is part of every Bot API URL: httpx logs each request URL at INFO, python-telegram-bot
logs the API URL at DEBUG when a Bot is built and every call's parameters (setWebhook's
secret_token among them) at DEBUG, and exception texts may carry URLs. So: httpx and httpcore stay
at WARNING, and a filter rewrites every record of these loggers. A logger's filters see only the
records created on that very logger (not those propagated from its children), so the filter is
attached to each logger that exists under the prefixes below; python-telegram-bot creates all of its
loggers at import. Loggers are process-wide, and so is this filter.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from bot.logs import redact
LOGGER_PREFIXES = ("telegram", "httpx", "httpcore", "bot.adapters.telegram", "aiohttp", "asyncio")
QUIET_LOGGERS = ("httpx", "httpcore")


class TokenFilter(logging.Filter):
    """Rewrites a record's message, arguments and traceback text without any secret in them."""

    def __init__(self) -> None:
        super().__init__()
        self.secrets: set[str] = set()

    def redact(self, text: str) -> str:
        """Our own secrets, and any Telegram or Slack token, ours or not (also inside ".../bot<token>/...")."""
        return redact(text, self.secrets)

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: keep what there is rather than lose the record
            message = f"{record.msg} {record.args}"
        record.msg, record.args = self.redact(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
            record.exc_info = None  # a formatter would render the unredacted traceback again
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


TOKEN_FILTER = TokenFilter()


def protect_logs(secrets: Iterable[str | None]) -> None:
    """Quiet the URL-logging libraries and attach the filter to every matching logger that exists now."""
    import telegram.ext  # noqa: F401 - its loggers must exist before the filter is attached

    TOKEN_FILTER.secrets.update(s for s in secrets if s)
    for name in QUIET_LOGGERS:
        logger = logging.getLogger(name)
        if logger.level < logging.WARNING:
            logger.setLevel(logging.WARNING)
    names = [name for name in list(logging.Logger.manager.loggerDict) if name.startswith(LOGGER_PREFIXES)]
    for name in {*LOGGER_PREFIXES, *names}:
        logger = logging.getLogger(name)
        if TOKEN_FILTER not in logger.filters:
            logger.addFilter(TOKEN_FILTER)
