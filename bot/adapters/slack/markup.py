"""Slack's mrkdwn, both ways: outside text escaped so it can never ping, forge a link or format
itself, and the markup Slack puts into what people type turned back into plain text for the command
service."""

from __future__ import annotations

import re
from urllib.parse import quote, urlsplit

LINK_URL_MAX = 1800  # longer URLs are shown by their label alone; keeps any link well inside a section
LINK_LABEL_MAX = 150

_ENTITIES = {"&amp;": "&", "&lt;": "<", "&gt;": ">"}
_ENTITY = re.compile("|".join(_ENTITIES))
# <https://x|label>, <https://x>, <mailto:a@b|a@b>, <@U123>, <@U123|name>, <#C123|general>, <!here>
_UNSAFE_IN_LINK = re.compile(r"[|\s]")
_MARKUP = re.compile(r"<([^<>|]*)(?:\|([^<>]*))?>")


# Slack has no escape for its formatting characters. Each one that could open or close bold, italic,
# strike or code is drawn as a look-alike instead, so outside text reads the same but can never format
# itself or nest into the bot's own *bold* headline. (A zero-width space would not do: Slack takes it for
# a word boundary, which is what lets formatting start.) Inside a word ("snake_case") Slack formats
# nothing, so those stay; a backtick is always replaced, URLs are left whole.
_LOOK_ALIKES = {"*": "\u2217", "_": "\u02cd", "~": "\u223c", "`": "\u02cb"}  # ∗ ˍ ∼ ˋ
_FORMATTING = re.compile(r"[*_~`]")
_URL_TOKEN = re.compile(r"(https?://\S+)", re.IGNORECASE)


def escape(text: str) -> str:
    """The three characters Slack treats as control characters, as the entities it asks for."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def escape_text(text: str) -> str:
    """Outside text for mrkdwn: `escape`d, and its formatting characters neutralized (see above)."""
    return escape(escape_formatting(text))


def escape_formatting(text: str) -> str:
    if not _FORMATTING.search(text):
        return text
    pieces = _URL_TOKEN.split(text)  # odd indexes are URLs
    return "".join(piece if index % 2 else _FORMATTING.sub(lambda m: _look_alike(piece, m), piece)
                   for index, piece in enumerate(pieces))


def _look_alike(text: str, match: re.Match[str]) -> str:
    char, at = match.group(0), match.start()
    inside_word = 0 < at < len(text) - 1 and text[at - 1].isalnum() and text[at + 1].isalnum()
    return char if inside_word and char != "`" else _LOOK_ALIKES[char]


def _url_escape(url: str) -> str:
    # Inside <url|label> a raw "|" would end the URL, whitespace break it and ">" end the link;
    # percent-encoding keeps the URL what it was.
    return escape(_UNSAFE_IN_LINK.sub(lambda m: quote(m.group(0)), url))


def is_web_url(url: str) -> bool:
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme.lower() in {"http", "https"} and bool(parts.hostname)


def link(url: str, label: str | None = None) -> str:
    """`<url|label>` for an http(s) URL; anything else (javascript:, a huge URL) as its escaped label only."""
    label = " ".join((label or url).split())  # a newline in a label would break the link
    if len(label) > LINK_LABEL_MAX:
        label = label[:LINK_LABEL_MAX - 1] + "…"
    # Slack ends the URL at the first "|", so any later "|" is label text; drawn as "¦" to stay unambiguous.
    shown = escape_text(label.replace("|", "¦"))
    url = url.strip()
    if not is_web_url(url) or len(url) > LINK_URL_MAX:
        return shown
    return f"<{_url_escape(url)}|{shown}>"


def unescape(text: str) -> str:
    return _ENTITY.sub(lambda m: _ENTITIES[m.group(0)], text)


def from_slack(text: str) -> str:
    """What someone typed, as plain text: links become their URL, mentions and channels their name."""

    def plain(match: re.Match[str]) -> str:
        target, label = match.group(1), match.group(2)
        if target.startswith("#"):
            return "#" + (label or target[1:])
        if target.startswith("@"):
            return "@" + (label or target[1:])
        if target.startswith("!"):  # <!here>, <!subteam^S1|@team>
            return label or "@" + target[1:].split("^")[0]
        if target.startswith("mailto:"):
            return label or target[len("mailto:"):]
        return target  # a link: its URL, whatever label Slack put on it

    return unescape(_MARKUP.sub(plain, text)).strip()


def remove_mention(text: str, user_id: str | None) -> str:
    """"<@UBOT>: summary x" -> " summary x": the mention that addressed the bot, wherever it is
    (without a known bot id, a leading mention)."""
    who = re.escape(user_id) if user_id else "[A-Z0-9]+"
    anchor = "" if user_id else "^\\s*"
    return re.sub(rf"{anchor}<@{who}(?:\|[^<>]*)?>[:,]?", " ", text)


def _inside_markup(text: str, at: int) -> bool:
    """Would cutting at `at` split an entity ("&amp;") or a link? Outside text has no raw "&" or "<"."""
    return text.rfind("&", 0, at) > text.rfind(";", 0, at) or text.rfind("<", 0, at) > text.rfind(">", 0, at)


def safe_cut(text: str, limit: int) -> int:
    """Where to cut mrkdwn text to at most `limit` characters without splitting an entity or a link,
    preferring a line break, then a space."""
    if len(text) <= limit:
        return len(text)
    for separator in ("\n", " "):
        at = text.rfind(separator, limit // 2, limit)
        while at > 0 and _inside_markup(text, at):
            at = text.rfind(separator, limit // 2, at)
        if at > 0:
            return at
    cut = limit
    while cut > 0 and _inside_markup(text, cut):
        cut -= 1
    return cut or limit


def split_text(text: str, limit: int) -> list[str]:
    """Mrkdwn text in pieces of at most `limit` characters, cut at safe places."""
    pieces: list[str] = []
    while len(text) > limit:
        cut = safe_cut(text, limit)
        pieces.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    if text.strip():
        pieces.append(text)
    return [piece for piece in pieces if piece]


def truncate(text: str, limit: int) -> str:
    """Escaped text shortened to `limit` characters with an ellipsis, never inside an entity or link."""
    if len(text) <= limit:
        return text
    return text[:safe_cut(text, limit - 1)].rstrip() + "…"
