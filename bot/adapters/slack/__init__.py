"""Slack: slash commands, mentions and direct messages in; Block Kit answers, alerts and digests out,
with buttons (buttons.py) and the App Home tab (home.py).

`PLATFORM` (platform.py) is what the composition root wires: it builds
`SlackAdapter.from_settings(settings, command_handler, http_server)` (app.py), hands `adapter.sender` to
the delivery loop, and calls `await adapter.start()` / `await adapter.stop()`. The other names here
load the library when first used.
SLACK_MODE=socket connects out over a WebSocket (SLACK_APP_TOKEN); SLACK_MODE=http mounts the
signed-request handler at POST /slack/events on the bot's HTTP server (SLACK_SIGNING_SECRET).

What the Slack app needs (app settings, or its manifest):
- slash commands /summary /digest /subscribe /unsubscribe /alerts /sources /schedule /briefbot-help and
  /briefbot (Slack keeps /help for itself; "@briefbot help" and a DM "help" work as well);
- bot scopes: commands, app_mentions:read, chat:write, users:read (admin check), files:read (OPML
  import), im:history (direct messages), channels:history and groups:history (a file shared with the
  text "/sources");
- events: app_mention, message.im, message.channels / message.groups for those file shares, and
  app_home_opened (the Home tab, enabled);
- interactivity on (buttons and modals; in HTTP mode to the same POST /slack/events).
"""

from bot.adapters.lazy import lazy_exports
from bot.adapters.slack.platform import PLATFORM

_LAZY = {"DEFAULT_API_BASE_URL": "app", "SlackAdapter": "app", "SlackStartError": "app", "EVENTS_PATH": "http",
         "make_events_handler": "http", "render_message": "render", "SlackSender": "sender"}

__all__ = ["PLATFORM", *_LAZY]

__getattr__ = lazy_exports(__name__, _LAZY)
