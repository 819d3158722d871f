"""Slack: slash commands, mentions and direct messages in; Block Kit answers, alerts and digests out.

The composition root builds `SlackAdapter.from_settings(settings, command_handler, http_server)`,
hands `adapter.sender` to the delivery loop, and calls `await adapter.start()` / `await adapter.stop()`.
SLACK_MODE=socket connects out over a WebSocket (SLACK_APP_TOKEN); SLACK_MODE=http mounts the
signed-request handler at POST /slack/events on the bot's HTTP server (SLACK_SIGNING_SECRET).

What the Slack app needs (app settings, or its manifest):
- slash commands /summary /digest /subscribe /unsubscribe /alerts /sources /schedule /briefbot-help and
  /briefbot (Slack keeps /help for itself; "@briefbot help" and a DM "help" work as well);
- bot scopes: commands, app_mentions:read, chat:write, users:read (admin check), files:read (OPML
  import), im:history (direct messages), channels:history and groups:history (a file shared with the
  text "/sources");
- events: app_mention, message.im, and message.channels / message.groups for those file shares.
"""

from bot.adapters.slack.app import DEFAULT_API_BASE_URL, SlackAdapter, SlackStartError
from bot.adapters.slack.http import EVENTS_PATH, make_events_handler
from bot.adapters.slack.render import render_message
from bot.adapters.slack.sender import SlackSender

__all__ = ["DEFAULT_API_BASE_URL", "EVENTS_PATH", "SlackAdapter", "SlackSender", "SlackStartError",
           "make_events_handler", "render_message"]
