"""Progress bars for long command-line work, drawn by the real rich console from the services' callbacks."""

from __future__ import annotations

import io
import os
import pty
import subprocess
import sys
from pathlib import Path

from rich.console import Console

from bot.cli.progress import TerminalProgress
from tests.support.feedserver import FeedServer
from tests.support.news import rss, story_items


def terminal(is_terminal: bool) -> tuple[Console, io.StringIO]:
    out = io.StringIO()
    return Console(file=out, force_terminal=is_terminal, width=100, color_system=None), out


def test_each_stage_of_a_poll_gets_its_own_bar_that_ends_full():
    console, out = terminal(True)
    with TerminalProgress(console) as progress:
        for done in range(1, 41):
            progress.stage("feeds", done, 40)
        for done in (32, 64, 70):
            progress.stage("summaries", done, 70)
    screen = out.getvalue()
    assert "Polling feeds" in screen and "40/40" in screen
    assert "Summarizing articles" in screen and "70/70" in screen


def test_a_bar_callback_for_an_import_shows_how_far_it_got():
    console, out = terminal(True)
    with TerminalProgress(console) as progress:
        report = progress.bar("Importing feeds")
        for done in range(1, 8):
            report(done, 12)  # the file lists 12, the import stopped after 7
    assert "Importing feeds" in out.getvalue() and "7/12" in out.getvalue()


def test_nothing_is_drawn_when_the_output_is_not_a_terminal():
    console, out = terminal(False)
    with TerminalProgress(console) as progress:
        progress.stage("feeds", 1, 2)
        progress.bar("Importing feeds")(3, 3)
    assert out.getvalue() == ""


# ----- the real command line ----------------------------------------------------------------------

OPML = ('<?xml version="1.0"?><opml version="2.0"><head><title>desk</title></head><body>'
        + "".join(f'<outline type="rss" text="Feed {n}" xmlUrl="https://news{n}.example.com/feed.xml"/>'
                  for n in range(12))
        + "</body></opml>")


def import_command(tmp_path: Path) -> tuple[list[str], dict[str, str]]:
    (tmp_path / "feeds.opml").write_text(OPML)
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path), "DATA_DIR": str(tmp_path / "data"),
           "HF_HUB_OFFLINE": "1", "TERM": "xterm", "COLUMNS": "100"}
    return [sys.executable, "-m", "bot", "feeds", "import", "feeds.opml", "--chat", "telegram:-1001"], env


def in_terminal(command: list[str], env: dict[str, str], folder: Path) -> str:
    """Run a command with stdin, stdout and stderr on a pseudo-terminal, as a person runs it; its screen."""
    pid, fd = pty.fork()
    if pid == 0:  # the child: stdin, stdout and stderr are the terminal
        os.chdir(folder)
        os.execve(command[0], command, env)
    output = b""
    while True:
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        output += chunk
    _, status = os.waitpid(pid, 0)
    screen = output.decode(errors="replace")
    assert os.waitstatus_to_exitcode(status) == 0, screen
    return screen


def test_importing_an_opml_file_in_a_terminal_shows_the_bar(tmp_path):
    """`python -m bot feeds import FILE` on a terminal."""
    command, env = import_command(tmp_path)
    screen = in_terminal(command, env, tmp_path)
    assert "Importing feeds" in screen and "12/12" in screen
    assert "Imported 12 feeds" in screen


def test_the_first_poll_and_the_backfill_show_their_bars_in_a_terminal(tmp_path):
    """`python -m bot poll --no-summarize`, then `python -m bot backfill`, on feeds served locally."""
    with FeedServer() as server:
        for n in range(3):
            server.serve(f"/feed{n}.xml", rss(story_items(range(n * 2, n * 2 + 2)), title=f"Feed {n}"),
                         content_type="application/rss+xml")
        command, env = import_command(tmp_path)
        env["ALLOW_PRIVATE_NETWORKS"] = "1"
        (tmp_path / "feeds.opml").write_text(  # in place of the file of unreachable feeds
            '<?xml version="1.0"?><opml version="2.0"><head><title>desk</title></head><body>'
            + "".join(f'<outline type="rss" text="Feed {n}" xmlUrl="{server.url(f"/feed{n}.xml")}"/>' for n in range(3))
            + "</body></opml>")
        subprocess.run(command, cwd=tmp_path, env=env, check=True, capture_output=True, timeout=300)
        polled = in_terminal([sys.executable, "-m", "bot", "poll", "--no-summarize"], env, tmp_path)
        backfilled = in_terminal([sys.executable, "-m", "bot", "backfill"], env, tmp_path)
    assert "Polling feeds" in polled and "3/3" in polled and "Summarizing articles" not in polled
    assert "3 feeds polled: 0 unchanged, 0 failed, 6 new articles, 0 briefs" in polled
    assert "Summarizing articles" in backfilled and "6/6" in backfilled
    assert "6 briefs made" in backfilled


def test_importing_an_opml_file_into_a_pipe_prints_the_report_alone(tmp_path):
    command, env = import_command(tmp_path)
    result = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "Imported 12 feeds."
    assert "Importing feeds" not in result.stderr
