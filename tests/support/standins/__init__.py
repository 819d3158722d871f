"""Local stand-ins of the Telegram Bot API and the Slack Web API for tests.

Also a stand-in of an OpenAI-compatible LLM server (Ollama's and vLLM's answers), for the openai client.
Each is an HTTP server on 127.0.0.1 (port 0) in a thread of its own, so sync tests, async tests and
bot subprocesses can all talk to it. The real client libraries point at it by base URL and work
unmodified. Every call is recorded; tests script answers (faults) and may enforce rate limits.
They also play the person: Telegram button presses (`TelegramStandIn.press_button`), Slack button
presses, modal submissions and App Home visits (`SlackStandIn.block_actions_payload` and friends).
See tests/support/standins/telegram.py and tests/support/standins/slack.py for usage.
"""

from tests.support.standins.openai import OpenAIStandIn
from tests.support.standins.ratelimit import Rate, Violation
from tests.support.standins.server import Call, UploadedFile
from tests.support.standins.slack import SlackFault, SlackLimits, SlackStandIn, post_signed, sign_slack_request
from tests.support.standins.slack_interactions import interaction_body
from tests.support.standins.telegram import TelegramFault, TelegramLimits, TelegramStandIn, post_update

__all__ = [
    "Call", "OpenAIStandIn", "Rate", "SlackFault", "SlackLimits", "SlackStandIn", "TelegramFault", "TelegramLimits",
    "TelegramStandIn", "UploadedFile", "Violation", "interaction_body", "post_signed", "post_update",
    "sign_slack_request",
]
