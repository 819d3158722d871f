"""Which language a chat is answered in."""

from __future__ import annotations

from bot.i18n.languages import DEFAULT_LANGUAGE, negotiate

PRIVATE = "private"  # the chats table's kind of a one-to-one chat (a private chat, a direct message)


def chat_language(kind: str, saved: str | None, reported: str | None) -> str:
    """The language to answer in. `kind`: the chat's kind ("private", "group", "channel"); `saved`: the
    language /language set for the chat, or None; `reported`: the sender's own language as the platform
    tells it (the language its chat app is set to), or None.

    A language set with /language always wins. Without one, a private chat follows its person, and a
    group or channel, read by many, stays in English until its admins choose."""
    chosen = negotiate(saved)
    if chosen:
        return chosen
    if kind == PRIVATE:
        return negotiate(reported) or DEFAULT_LANGUAGE
    return DEFAULT_LANGUAGE
