"""Progress bars for long command-line work, drawn by the real rich console from the services' callbacks."""

from __future__ import annotations

import io

from rich.console import Console

from bot.progress import TerminalProgress


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
