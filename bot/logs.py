"""Logging setup: plain or one JSON object a line, and no secret ever in a log line."""

from __future__ import annotations

import json
import os
import logging
import re
import sys
from collections.abc import Iterable

REDACTED = "[REDACTED]"
# Telegram bot tokens travel in URLs (".../bot<id>:<secret>/sendMessage": no word boundary before the
# id, and the secret may end in "-"); Slack tokens start xox?- / xapp-; URLs may carry a password.
_TOKEN_PATTERNS = [
    re.compile(r"(?<!\d)\d{5,}:[A-Za-z0-9_-]{30,}"),
    re.compile(r"\b(?:xox[a-z]|xapp)-[A-Za-z0-9-]{8,}"),
]
_URL_PASSWORD = re.compile(r"(://[^/\s:@]+:)[^/\s@]+@")
# Libraries that log every request URL (with the Telegram token in it) at INFO.
_CHATTY = ("httpx", "httpcore", "hpack", "telegram.ext.Updater", "apscheduler.executors.default")


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    for secret in sorted((s for s in secrets if s), key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    for pattern in _TOKEN_PATTERNS:
        text = pattern.sub(REDACTED, text)
    return _URL_PASSWORD.sub(rf"\1{REDACTED}@", text)


class RedactingFilter(logging.Filter):
    """Rewrites each record's message (with its arguments), traceback and stack without the secrets."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if s]

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: log what there is rather than raise in the caller
            message = f"{record.msg} {record.args}"
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        record.msg, record.args = redact(message, self.secrets), None
        if record.exc_text:
            record.exc_text = redact(record.exc_text, self.secrets)
            record.exc_info = None  # the formatter would render the raw traceback again
        if record.stack_info:
            record.stack_info = redact(record.stack_info, self.secrets)
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        data = {"time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"), "level": record.levelname,
                "logger": record.name, "message": record.getMessage()}
        if record.exc_text or record.exc_info:
            data["exception"] = record.exc_text or self.formatException(record.exc_info)
        if record.stack_info:
            data["stack"] = record.stack_info
        return json.dumps(data, ensure_ascii=False)


def _log_uncaught(exc_type, exc, traceback) -> None:
    """A crash is a log record too: redacted, and a JSON line when LOG_JSON=1."""
    if issubclass(exc_type, KeyboardInterrupt):
        sys.__excepthook__(exc_type, exc, traceback)
        return
    logging.getLogger("bot").critical("uncaught exception", exc_info=(exc_type, exc, traceback))


def setup_logging(*, level: str = "INFO", json_lines: bool = False, secrets: Iterable[str] = ()) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(RedactingFilter(secrets))
    handler.setFormatter(JsonFormatter() if json_lines else
                         logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in _CHATTY:
        logging.getLogger(name).setLevel(max(logging.WARNING, root.level))
    logging.captureWarnings(True)  # warnings go through the same handler, not raw to stderr
    # Hugging Face draws progress bars on stderr when a model loads: noise in a service's log, and
    # not JSON. (Read when transformers/huggingface_hub are first imported, which happens later.)
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    sys.excepthook = _log_uncaught
