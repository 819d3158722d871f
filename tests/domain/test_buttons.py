"""Buttons on a neutral message: labels made neutral, tokens checked, and a round trip through the outbox's JSON."""

from __future__ import annotations

import json

import pytest

from bot.domain.actions import Button, is_token
from bot.domain.models import Message


def test_a_label_is_neutral_text_and_a_long_one_is_cut():
    assert Button("Pa\u200buse \u202e1", "a:abcdefghijk").label == "Pause 1"
    assert len(Button("x" * 200, "a:abcdefghijk").label) == 64


@pytest.mark.parametrize("token", ["", "abcdefghijk", "a:short", "a:" + "x" * 40, "a:abc def ghij", "a:abcdefgh/jk"])
def test_anything_but_a_token_is_refused(token):
    assert not is_token(token)
    with pytest.raises(ValueError, match="not an action token"):
        Button("Pause", token)


def test_a_style_outside_the_list_and_an_empty_label_are_refused():
    with pytest.raises(ValueError, match="style"):
        Button("Pause", "a:abcdefghijk", "loud")
    with pytest.raises(ValueError, match="label"):
        Button("\u200b ", "a:abcdefghijk")


def test_a_message_keeps_its_buttons_through_json_and_one_without_has_no_key():
    rows = ((Button("Pause 1", "a:abcdefghijk"), Button("Remove 1", "a:bcdefghijkl", "danger")),
            (Button("Off", "a:cdefghijklm", "primary"),))
    message = Message(kind="reply", text="Sources", buttons=rows)
    again = Message.from_dict(json.loads(json.dumps(message.to_dict())))
    assert again == message and again.buttons == rows
    plain = Message(kind="reply", text="x")
    assert "buttons" not in plain.to_dict() and Message.from_dict(plain.to_dict()).buttons == ()
