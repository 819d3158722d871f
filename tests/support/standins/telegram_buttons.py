"""Inline keyboards as the Bot API checks them, and the `callback_query` a press produces.

Telegram refuses a keyboard it cannot show with 400 and these descriptions: callback data outside
1-64 bytes (BUTTON_DATA_INVALID), a blank button text (BUTTON_TEXT_INVALID), a button without an
action, more than 100 buttons ("reply markup is too long").
"""

from __future__ import annotations

from typing import Any

MAX_BUTTONS = 100
MAX_CALLBACK_DATA = 64  # bytes
MAX_ANSWER_TEXT = 200  # answerCallbackQuery text, characters
# Exactly one of these makes a button do something.
_ACTIONS = ("url", "callback_data", "web_app", "login_url", "switch_inline_query",
            "switch_inline_query_current_chat", "switch_inline_query_chosen_chat", "copy_text", "callback_game",
            "pay")


class KeyboardError(ValueError):
    """The description Telegram gives (after "Bad Request: ") for a keyboard it refuses."""


def inline_keyboard(markup: Any) -> list[list[dict]] | None:
    """The rows of an InlineKeyboardMarkup, checked as Telegram checks them; None for other markups
    (reply keyboards, ForceReply, ReplyKeyboardRemove) and for no markup."""
    if not isinstance(markup, dict) or "inline_keyboard" not in markup:
        return None
    rows = markup["inline_keyboard"]
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise KeyboardError('field "inline_keyboard" of the InlineKeyboardMarkup must be an Array of Arrays')
    if sum(len(row) for row in rows) > MAX_BUTTONS:
        raise KeyboardError("reply markup is too long")
    for row in rows:
        for button in row:
            _check_button(button)
    return rows


def _check_button(button: Any) -> None:
    if not isinstance(button, dict) or not isinstance(button.get("text"), str):
        raise KeyboardError('can\'t parse inline keyboard button: Field "text" must be of type String')
    if not button["text"].strip():
        raise KeyboardError("BUTTON_TEXT_INVALID")
    actions = [name for name in _ACTIONS if name in button]
    if not actions:
        raise KeyboardError("can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard")
    if "callback_data" in button:
        data = button["callback_data"]
        if not isinstance(data, str) or not 1 <= len(data.encode()) <= MAX_CALLBACK_DATA:
            raise KeyboardError("BUTTON_DATA_INVALID")
    if "url" in button:
        url = button["url"]
        if not isinstance(url, str) or not url.startswith(("http://", "https://", "tg://")):
            raise KeyboardError("BUTTON_URL_INVALID")


def callback_buttons(markup: Any) -> list[dict]:
    """The buttons of a stored message's keyboard that send callback data, row by row."""
    rows = markup.get("inline_keyboard", []) if isinstance(markup, dict) else []
    return [button for row in rows for button in row if "callback_data" in button]
