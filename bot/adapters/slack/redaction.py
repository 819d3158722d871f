"""Keeps the bot token, app token and signing secret out of every log line, whoever writes it.

slack_sdk already hides the Authorization header in its DEBUG request logs, but response bodies,
exception texts and anyone's own messages are logged as they are. A logger filter would not do:
it sees only records created on its own logger, and slack_bolt creates loggers as it goes (one per
class, one per listener). So the redaction sits in the log record factory, which makes every record
of the process: a record that contains a secret is rewritten before any handler sees it, and every
other record is left exactly as it was. It does not rely on the logging setup of the composition root.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

from bot.logs import redact


class SecretRedactor:
    """A log record factory wrapping the one installed before it."""

    def __init__(self) -> None:
        self.secrets: set[str] = set()
        self.previous: Callable[..., logging.LogRecord] = logging.getLogRecordFactory()
        self.installed = False

    def redact(self, text: str) -> str:
        """Our own secrets, and anything shaped like a Slack or Telegram token."""
        return redact(text, self.secrets)

    def __call__(self, *args: Any, **kwargs: Any) -> logging.LogRecord:
        record = self.previous(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: the handler reports it, with nothing formatted
            return record
        if (clean := self.redact(message)) != message:
            record.msg, record.args = clean, None
        if record.exc_info:
            trace = logging.Formatter().formatException(record.exc_info)
            if (clean := self.redact(trace)) != trace:
                record.exc_text, record.exc_info = clean, None  # the formatter would render the raw one again
        if record.stack_info and (clean := self.redact(record.stack_info)) != record.stack_info:
            record.stack_info = clean
        return record


REDACTOR = SecretRedactor()


def protect_logs(secrets: Iterable[str | None]) -> None:
    """Redact these secrets (and anything shaped like a Slack token) from every log record from now on."""
    REDACTOR.secrets.update(s for s in secrets if s)
    if not REDACTOR.installed:  # once: a factory installed later may wrap this one, never the reverse
        REDACTOR.previous = logging.getLogRecordFactory()
        logging.setLogRecordFactory(REDACTOR)
        REDACTOR.installed = True
