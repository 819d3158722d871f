"""Keeps the bot token, app token and signing secret out of every log line the Slack side writes.

slack_sdk already replaces the Authorization header in its DEBUG request logs, but response bodies,
exception texts and our own messages are logged as they are. A logger's filters see only the records
created on that very logger (not those propagated from its children), so the filter is attached to
each logger of slack_sdk, slack_bolt and this package. Loggers are process-wide, so is this filter.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

REDACTED = "[REDACTED]"
LOGGER_PREFIXES = ("slack_sdk", "slack_bolt", "bot.adapters.slack")
# Any Slack token, known to us or not: bot/user/config tokens (xox?-) and app-level tokens (xapp-).
_TOKEN = re.compile(r"\b(?:xox[a-z]|xapp)-[A-Za-z0-9-]{8,}")


class SecretFilter(logging.Filter):
    """Rewrites a record's message, arguments and traceback text without any secret in them."""

    def __init__(self) -> None:
        super().__init__()
        self.secrets: set[str] = set()

    def redact(self, text: str) -> str:
        for secret in sorted(self.secrets, key=len, reverse=True):
            text = text.replace(secret, REDACTED)
        return _TOKEN.sub(REDACTED, text)

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: log what there is rather than lose the record
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


SECRET_FILTER = SecretFilter()


def protect_logs(secrets: Iterable[str | None], extra_loggers: Iterable[logging.Logger] = ()) -> None:
    """Attach the filter to every Slack logger that exists now (and to `extra_loggers`)."""
    SECRET_FILTER.secrets.update(s for s in secrets if s)
    manager = logging.Logger.manager
    names = [name for name in list(manager.loggerDict) if name.startswith(LOGGER_PREFIXES)]
    loggers = [logging.getLogger(name) for name in (*LOGGER_PREFIXES, *names)]
    for logger in (*loggers, *extra_loggers):
        if SECRET_FILTER not in logger.filters:
            logger.addFilter(SECRET_FILTER)
