"""`python -m bot chat`: the commands in a terminal, as a real process on a SQLite file with the real model.

Commands are piped to standard input, as a person types them; what the bot prints is what they see.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.adapters.console import parse_line
from tests.support.feedserver import FeedServer
from tests.support.news import rss, story, story_items


def chat(folder: Path, *lines: str) -> str:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(folder), "DATA_DIR": str(folder / "data"),
           "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "ALLOW_PRIVATE_NETWORKS": "1",
           "COLUMNS": "300"}  # wide panels: a line of output is a line of the answer
    result = subprocess.run([sys.executable, "-m", "bot", "chat"], cwd=folder, env=env, text=True,
                            input="".join(f"{line}\n" for line in lines), capture_output=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    return result.stdout


@pytest.fixture(scope="module")
def feeds():
    with FeedServer() as server:
        server.serve("/feed.xml", rss(story_items(range(3)), title="Kessford Courier"),
                     content_type="application/rss+xml")
        yield server


def test_every_kind_of_command_is_answered_and_the_settings_outlive_the_session(tmp_path, feeds):
    _, body = story(5)
    screen = chat(tmp_path, "/help", f"/summary {body}", body, f"/sources add {feeds.url('/feed.xml')}",
                  "/sources", '/subscribe "climate change" -sports', "/alerts", "/schedule 07:30 Mars/Olympus",
                  "/schedule 07:30 Europe/Berlin", "/subscribe [bold red]markup[/bold red]", "/nonsense",
                  "/summary ftp://example.com/story", "/quit", "/alerts")
    assert "Type /help for commands" in screen
    for name in ("/summary", "/digest", "/subscribe", "/unsubscribe", "/alerts", "/sources", "/schedule"):
        assert name in screen
    assert "python -m bot feeds import <file.opml>" in screen  # the console's way to import a list
    # The command and the bare text: the lead sentence heads each brief once, not again as a point.
    assert screen.count("The council of Hameln Cross approved the bridge repairs on Monday") == 2
    assert "• The council of Hameln Cross approved" not in screen and screen.count("• ") >= 4
    assert "Now following" in screen and "1. Kessford Courier" in screen
    assert 'mentions "climate change" but not sports' in screen and '1. "climate change" -sports' in screen
    assert "“Mars/Olympus” is not a time zone I know" in screen
    assert "Daily digest set for 07:30 Europe/Berlin; the next one comes" in screen
    assert "[bold red]markup[/bold red]" in screen  # typed text is shown as typed, not as console markup
    assert "I don't know /nonsense." in screen
    assert "I can only read http and https links." in screen
    assert screen.count("Keyword alerts") == 1  # nothing is read after /quit

    again = chat(tmp_path, "/alerts", "/sources", "/schedule")  # the same SQLite file, a new process
    assert '1. "climate change" -sports' in again and "1. Kessford Courier" in again
    assert "Daily digest at 07:30 Europe/Berlin" in again


def test_a_line_becomes_a_command_for_the_console_chat():
    assert parse_line("   ") is None
    command = parse_line("/SCHEDULE  07:30 Europe/Berlin ")
    assert (command.command, command.args, command.chat.platform) == ("schedule", "07:30 Europe/Berlin", "console")
    # No command: the service reads a plain text as a request for its summary.
    assert (parse_line("Rates rose.").command, parse_line("Rates rose.").args) == (None, "Rates rose.")
