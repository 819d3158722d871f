"""Local stand-ins of the Telegram Bot API and the Slack Web API for tests.

Also a stand-in of an OpenAI-compatible LLM server (Ollama's and vLLM's answers), for the openai client.
Each is an HTTP server on 127.0.0.1 (port 0) in a thread of its own, so sync tests, async tests and
bot subprocesses can all talk to it. The real client libraries point at it by base URL and work
unmodified. Every call is recorded; tests script answers (faults) and may enforce rate limits.
See tests/standins/telegram.py and tests/standins/slack.py for usage.
"""

from tests.standins.openai import OpenAIStandIn
from tests.standins.ratelimit import Rate, Violation
from tests.standins.server import Call, UploadedFile
from tests.standins.slack import SlackFault, SlackLimits, SlackStandIn, sign_slack_request
from tests.standins.telegram import TelegramFault, TelegramLimits, TelegramStandIn

__all__ = [
    "Call", "OpenAIStandIn", "Rate", "SlackFault", "SlackLimits", "SlackStandIn", "TelegramFault", "TelegramLimits",
    "TelegramStandIn", "UploadedFile", "Violation", "sign_slack_request",
]
