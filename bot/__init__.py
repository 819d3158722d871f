"""briefbot: news feeds condensed into briefs, posted to Telegram and Slack."""
