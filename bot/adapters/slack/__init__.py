"""Slack: slash commands, mentions and direct messages in; Block Kit answers, alerts and digests out."""

from bot.adapters.slack.app import DEFAULT_API_BASE_URL, SlackAdapter, SlackStartError
from bot.adapters.slack.http import EVENTS_PATH, make_events_handler
from bot.adapters.slack.render import render_message
from bot.adapters.slack.sender import SlackSender

__all__ = ["DEFAULT_API_BASE_URL", "EVENTS_PATH", "SlackAdapter", "SlackSender", "SlackStartError",
           "make_events_handler", "render_message"]
