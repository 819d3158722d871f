"""Logs: plain or one JSON object a line, and no token or secret in any line, whatever carries it.

Each test configures the real root logger with `setup_logging` (as `python -m bot run` does) and
reads what the real handler wrote to stderr; the logger is restored afterwards.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

from bot.adapters.registry import token_patterns
from bot.runtime.logs import _CHATTY, REDACTED, setup_logging

ROOT = Path(__file__).resolve().parents[2]
# Shaped like the real things: "<bot id>:<35 characters>", "xoxb-<team>-<bot>-<24 characters>".
TELEGRAM_TOKEN = "7012345678:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsa-_"
OTHER_TELEGRAM_TOKEN = "5550001234:AAF9xk2LmQw8ZcVbNp3RtYu6IoPaSdFgHj-"  # not in the settings' secrets
SLACK_BOT_TOKEN = "xoxb-1234567890-9876543210987-AbCdEfGhIjKlMnOpQrStUvWx"
SLACK_APP_TOKEN = "xapp-1-A0123456789-1234567890123-0123456789abcdef0123456789abcdef"
SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"  # no pattern: only the settings' list finds it
DB_PASSWORD = "s3cr3t-pa55word"
ALL_SECRETS = [TELEGRAM_TOKEN, OTHER_TELEGRAM_TOKEN, SLACK_BOT_TOKEN, SLACK_APP_TOKEN, SIGNING_SECRET, DB_PASSWORD]
KNOWN = [TELEGRAM_TOKEN, SLACK_BOT_TOKEN, SLACK_APP_TOKEN, SIGNING_SECRET]  # what Settings.secrets() gives


@pytest.fixture
def configure(capsys):
    """setup_logging(...) on the real root logger, then give back the root logger as it was."""
    root = logging.getLogger()
    saved = root.handlers[:], root.level, sys.excepthook
    chatty_levels = {name: logging.getLogger(name).level for name in _CHATTY}

    def configure(json_lines: bool) -> None:
        setup_logging(level="DEBUG", json_lines=json_lines, secrets=KNOWN, patterns=token_patterns())
        capsys.readouterr()

    yield configure
    root.handlers[:], root.level, sys.excepthook = saved[0], saved[1], saved[2]
    for name, level in chatty_levels.items():
        logging.getLogger(name).setLevel(level)
    logging.captureWarnings(False)


def log_everything() -> None:
    log = logging.getLogger("bot.test_ops_logs")
    log.info("GET https://api.telegram.org/bot%s/getUpdates?offset=1 \"HTTP/1.1 200 OK\"", TELEGRAM_TOKEN)
    log.info("POST https://api.telegram.org/bot" + OTHER_TELEGRAM_TOKEN + "/sendMessage")
    log.warning("token ends the line: %s", OTHER_TELEGRAM_TOKEN)
    log.info("slack client built with %s and %s", SLACK_BOT_TOKEN, SLACK_APP_TOKEN)
    log.info("request signed with %s", SIGNING_SECRET)
    log.info("connecting to postgresql+psycopg://briefbot:%s@db:5432/briefbot", DB_PASSWORD)
    try:
        raise RuntimeError(f"Slack refused token {SLACK_BOT_TOKEN} at https://api.telegram.org/bot{TELEGRAM_TOKEN}/x")
    except RuntimeError:
        log.exception("start failed")
    log.info("extra %s", "args", stack_info=True)
    logging.getLogger("httpx").warning("HTTP Request: POST https://api.telegram.org/bot%s/getMe", TELEGRAM_TOKEN)


def assert_no_secret(text: str) -> None:
    for secret in ALL_SECRETS:
        assert secret not in text, f"{secret[:12]}... leaked"
        assert secret[-12:] not in text, f"the end of {secret[:12]}... leaked"


def test_plain_lines_carry_no_secret(configure, capsys):
    configure(json_lines=False)
    log_everything()
    err = capsys.readouterr().err
    assert_no_secret(err)
    assert err.count(REDACTED) >= 10
    assert "start failed" in err and "Traceback (most recent call last)" in err and "RuntimeError" in err
    assert "https://api.telegram.org/bot[REDACTED]/getUpdates?offset=[REDACTED]" in err  # the rest stays
    assert "postgresql+psycopg://briefbot:[REDACTED]@db:5432/briefbot" in err


def test_json_lines_are_one_object_each_and_carry_no_secret(configure, capsys):
    configure(json_lines=True)
    log_everything()
    err = capsys.readouterr().err
    assert_no_secret(err)
    records = [json.loads(line) for line in err.splitlines()]  # every line is one JSON object
    assert len(records) == 9
    assert {"time", "level", "logger", "message"} <= set(records[0])
    failure = next(r for r in records if r["message"] == "start failed")
    assert failure["level"] == "ERROR" and "RuntimeError: Slack refused token [REDACTED]" in failure["exception"]
    assert "stack" in records[-2] and "log_everything" in records[-2]["stack"]


def test_a_bad_format_string_is_logged_not_raised(configure, capsys):
    configure(json_lines=True)
    logging.getLogger("bot.test").info("two placeholders %s %s", SLACK_BOT_TOKEN)
    [record] = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    assert SLACK_BOT_TOKEN not in json.dumps(record) and "two placeholders" in record["message"]


def test_warnings_become_json_log_lines(configure, capsys):
    configure(json_lines=True)
    warnings.warn(f"deprecated call with {SLACK_APP_TOKEN}", UserWarning, stacklevel=1)
    [record] = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    assert record["logger"] == "py.warnings" and SLACK_APP_TOKEN not in record["message"]


@pytest.mark.parametrize("json_lines", ["0", "1"])
def test_an_uncaught_exception_is_logged_redacted(json_lines):
    """A crash at start (a real interpreter, its real excepthook) ends as a log record, not a raw traceback."""
    script = (
        "import sys\n"
        "from bot.adapters.registry import token_patterns\n"
        "from bot.runtime.logs import setup_logging\n"
        f"setup_logging(json_lines={json_lines == '1'}, secrets=[{SIGNING_SECRET!r}], patterns=token_patterns())\n"
        f"raise ValueError('bad settings: ' + {SIGNING_SECRET!r} + ' ' + {SLACK_BOT_TOKEN!r})\n")
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert_no_secret(result.stderr)
    assert "ValueError: bad settings: [REDACTED] [REDACTED]" in result.stderr
    if json_lines == "1":
        [record] = [json.loads(line) for line in result.stderr.splitlines()]
        assert record["level"] == "CRITICAL" and "Traceback" in record["exception"]
