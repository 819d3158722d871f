"""Logging setup: plain or one JSON object a line, and no secret ever in a log line."""

from __future__ import annotations

import json
import os
import logging
import re
import sys
from collections.abc import Iterable

REDACTED = "[REDACTED]"
# API keys of LLM servers look like OpenAI's (sk-...) and travel as "Bearer <key>"; URLs may carry a
# password. The chat platforms add their own tokens' patterns (`protect_secrets`).
_TOKEN_PATTERNS = [
    re.compile(r"\bsk-[A-Za-z0-9_-]{16,}"),
    re.compile(r"(?<=Bearer )[A-Za-z0-9._~+/=-]{8,}", re.I),
]
_URL_PASSWORD = re.compile(r"(://[^/\s:@]+:)[^/\s@]+@")
# Feed and page URLs may carry a token in their query string (?token=...): every value is redacted.
_URL = re.compile(r"\bhttps?://[^\s\"'<>]*", re.IGNORECASE)
# Libraries that log every request URL (a bot token may be part of the path) at INFO (httpx2: openai's);
# a platform names its own library's (protect_secrets' `url_loggers`).
_CHATTY = ("httpx", "httpcore", "httpx2", "hpack", "apscheduler.executors.default")


def redact(text: str, secrets: Iterable[str] = (), patterns: Iterable[re.Pattern[str]] = ()) -> str:
    """`text` without these secrets, anything matching `patterns`, nor anything shaped like an API key,
    a URL's password or a URL's query values."""
    for secret in sorted((s for s in secrets if s), key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    for pattern in [*patterns, *_TOKEN_PATTERNS]:
        text = pattern.sub(REDACTED, text)
    text = _URL_PASSWORD.sub(rf"\1{REDACTED}@", text)
    return _URL.sub(_without_query_values, text) if "?" in text else text


def _without_query_values(url: re.Match[str]) -> str:
    """https://x/feed?token=abc&page=2 -> https://x/feed?token=[REDACTED]&page=[REDACTED]"""
    address, mark, rest = url.group(0).partition("?")
    if not mark or not rest:
        return url.group(0)
    query, hash_mark, fragment = rest.partition("#")
    return f"{address}?{'&'.join(map(_redacted_pair, query.split('&')))}{hash_mark}{fragment}"


def _redacted_pair(pair: str) -> str:
    name, equals, _ = pair.partition("=")
    return f"{name}={REDACTED}" if equals else (REDACTED if pair else "")


class _SecretRedactor:
    """The process's log record factory: a record holding a secret is rewritten before any handler or
    filter sees it, whichever logger made it (libraries create loggers as they go,
    so per-logger filters would miss some); every other record is left exactly as it was."""

    def __init__(self) -> None:
        self.secrets: set[str] = set()
        self.patterns: dict[str, re.Pattern[str]] = {}  # by their source: each one once
        self.previous = logging.getLogRecordFactory()

    def __call__(self, *args, **kwargs) -> logging.LogRecord:
        record = self.previous(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: log what there is rather than raise in the caller
            message = f"{record.msg} {record.args}"
            record.msg, record.args = message, None
        if (clean := redact(message, self.secrets, self.patterns.values())) != message:
            record.msg, record.args = clean, None
        if record.exc_info:
            trace = logging.Formatter().formatException(record.exc_info)
            if (clean := redact(trace, self.secrets, self.patterns.values())) != trace:
                record.exc_text, record.exc_info = clean, None  # the formatter would render the raw one again
        if record.stack_info and (clean := redact(record.stack_info, self.secrets, self.patterns.values())) != record.stack_info:
            record.stack_info = clean
        return record


_REDACTOR: _SecretRedactor | None = None


def protect_secrets(secrets: Iterable[str | None], patterns: Iterable[re.Pattern[str]] = (),
                    url_loggers: Iterable[str] = ()) -> None:
    """Keep these secrets, and anything matching `patterns` (a platform's tokens), out of every log
    record from now on, and keep the libraries that log request URLs, tokens in them, at WARNING
    (those `url_loggers` too)."""
    global _REDACTOR
    if _REDACTOR is None:  # once: a factory installed later may wrap this one, never the reverse
        _REDACTOR = _SecretRedactor()
        logging.setLogRecordFactory(_REDACTOR)
    _REDACTOR.secrets.update(secret for secret in secrets if secret)
    _REDACTOR.patterns.update((pattern.pattern, pattern) for pattern in patterns)
    for name in (*_CHATTY, *url_loggers):
        logger = logging.getLogger(name)
        logger.setLevel(max(logger.level, logging.WARNING))


def redact_secrets(text: str) -> str:
    """`text` without the secrets and patterns given to protect_secrets, nor anything shaped like a token."""
    if _REDACTOR is None:
        return redact(text)
    return redact(text, _REDACTOR.secrets, _REDACTOR.patterns.values())


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


def setup_logging(*, level: str = "INFO", json_lines: bool = False, secrets: Iterable[str] = (),
                  patterns: Iterable[re.Pattern[str]] = ()) -> None:
    """`secrets` and `patterns`: as `protect_secrets`."""
    protect_secrets(secrets, patterns)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if json_lines else
                         logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in _CHATTY:
        logging.getLogger(name).setLevel(max(logging.WARNING, root.level))  # quieter still when the root is
    logging.captureWarnings(True)  # warnings go through the same handler, not raw to stderr
    # Hugging Face draws progress bars on stderr when a model loads: noise in a service's log, and
    # not JSON. (Read when transformers/huggingface_hub are first imported, which happens later.)
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    sys.excepthook = _log_uncaught
