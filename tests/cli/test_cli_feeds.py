"""`python -m bot feeds add|list|export|remove` and `python -m bot poll`, as a person runs them: real
processes on the embedded default (a SQLite file in DATA_DIR), against a local feed server."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from bot.sources.opml import parse_opml
from tests.support.feedserver import FeedServer
from tests.support.news import rss, story_items

CHAT = "telegram:-1001"


def bot_command(folder: Path, *args: str) -> subprocess.CompletedProcess:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(folder), "DATA_DIR": str(folder / "data"),
           "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "SUMMARIZER_BACKEND": "lead",
           # The feed server is on 127.0.0.1; a tiny interval makes the feed due again at once.
           "ALLOW_PRIVATE_NETWORKS": "1", "POLL_INTERVAL_MINUTES": "0.0001", "NEW_FEED_ITEMS": "3"}
    return subprocess.run([sys.executable, "-m", "bot", *args], cwd=folder, env=env, capture_output=True, text=True,
                          timeout=120)


def test_feeds_are_added_polled_listed_exported_and_removed_from_the_command_line(tmp_path):
    with FeedServer() as server:
        url = server.serve("/rss", rss(story_items(range(5)), title="Harbour Gazette"))
        server.serve("/page", "<html><body><p>No feed here</p></body></html>", content_type="text/html")

        refused = bot_command(tmp_path, "feeds", "add", server.url("/page"), "--chat", CHAT)
        assert refused.returncode == 1 and "is not a feed I can read" in refused.stderr

        added = bot_command(tmp_path, "feeds", "add", url, "--chat", CHAT)
        assert added.returncode == 0, added.stderr
        assert added.stdout.startswith(f"Now following Harbour Gazette ({url})")

        server.serve("/rss", rss(story_items(range(7)), title="Harbour Gazette"))  # two new stories
        polled = bot_command(tmp_path, "poll")
        assert polled.returncode == 0, polled.stderr
        # The newest three of the first five were stored on adding; the poll adds two and summarizes all.
        assert polled.stdout.splitlines()[0] == ("1 feeds polled: 0 unchanged, 0 failed, 2 new articles, "
                                                 "5 briefs")

        listed = bot_command(tmp_path, "feeds", "list", "--chat", CHAT)
        assert listed.returncode == 0, listed.stderr
        assert listed.stdout.startswith(f"1. Harbour Gazette - {url} - ok, checked ")

        exported = bot_command(tmp_path, "feeds", "export", "--chat", CHAT)
        assert exported.returncode == 0, exported.stderr
        assert [(feed.url, feed.title) for feed in parse_opml(exported.stdout.encode())] == [(url, "Harbour Gazette")]

        removed = bot_command(tmp_path, "feeds", "remove", "1", "--chat", CHAT)
        assert removed.returncode == 0, removed.stderr
        assert removed.stdout.strip() == "Stopped following Harbour Gazette."
    assert (tmp_path / "data" / "briefbot.sqlite3").is_file()
