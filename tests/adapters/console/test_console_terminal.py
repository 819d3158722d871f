"""`python -m bot chat` on a real terminal (a pty): what a person pastes and types, escape sequences and all."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from tests.support.news import story

pexpect = pytest.importorskip("pexpect")

ROOT = Path(__file__).resolve().parents[3]
PASTE_START, PASTE_END = "\x1b[200~", "\x1b[201~"  # what a terminal sends around a paste (bracketed paste)
UP, ENTER = "\x1b[A", "\r"
PROMPT_READY = "\x1b[?2004h"  # prompt_toolkit turns bracketed paste on as each prompt opens


@pytest.fixture
def terminal(tmp_path):
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path), "DATA_DIR": str(tmp_path / "data"),
           "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "PYTHONPATH": str(ROOT), "TERM": "xterm",
           "NO_COLOR": "1", "PROMPT_TOOLKIT_NO_CPR": "1"}
    child = pexpect.spawn(sys.executable, ["-m", "bot", "chat"], cwd=str(tmp_path), env=env, encoding="utf-8",
                          timeout=120, dimensions=(60, 250))
    child.expect("Logs go to")
    child.expect_exact(PROMPT_READY)
    yield child
    child.sendcontrol("d")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0


def answer(child, keys: str, settle_s: float = 3.0) -> str:
    """Send keys; return what the terminal shows from then on, until nothing more comes for `settle_s`
    after the first answer (printing above the prompt is asynchronous, so a prompt is no end mark)."""
    child.send(keys)
    child.expect_exact("╰")  # the bottom of the first answer's panel
    shown = child.before + "╰"
    while True:
        try:
            shown += child.read_nonblocking(100_000, timeout=settle_s)
        except pexpect.TIMEOUT:
            return shown


def test_a_pasted_article_with_paragraphs_is_one_message_and_history_brings_it_back(terminal, tmp_path):
    _, body = story(3)
    sentences = body.split(". ")
    article = ". ".join(sentences[:4]) + ".\r\n\r\n" + ". ".join(sentences[4:])  # two paragraphs
    shown = answer(terminal, PASTE_START + article + PASTE_END + ENTER)
    assert shown.count("╭") == 1 and shown.count("• ") >= 2  # one brief, not one per paragraph
    assert "Dunlow" in shown
    again = answer(terminal, UP + ENTER)  # the history: the same message again
    assert again.count("╭") == 1 and again.count("• ") >= 2
    assert (tmp_path / "data" / "briefbot.log").is_file()  # logs go there while the prompt is open


def test_a_paste_over_the_limit_gets_the_platforms_answer(terminal):
    long_text = "The council approved the new budget on Monday after a long debate.\r\n\r\n" * 300
    shown = answer(terminal, PASTE_START + long_text + PASTE_END + ENTER)
    assert "I summarize up to 20,000 pasted characters. Send a link to the article instead." in " ".join(shown.split())
    typed = answer(terminal, "/summary Rates rose on Monday. Banks followed on Tuesday." + "\x1b[D" * 4 + "X" + ENTER)
    assert "TuesXday" in typed  # the cursor moved back into the line: line editing
