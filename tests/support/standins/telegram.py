"""A local stand-in of the Telegram Bot API that the real python-telegram-bot talks to unmodified.

    with TelegramStandIn() as tg:
        app = (ApplicationBuilder().token(tg.token)
               .base_url(tg.base_url).base_file_url(tg.base_file_url).build())
        tg.push_message(private_chat(user(42, "Ada")), "/start")
        ...
        tg.wait_for_calls("sendMessage")

It keeps just enough state to answer like Telegram: chats, members, the update queue, messages the
bot sent (for edits), uploaded files and the webhook. Responses have the API's shape and wording.
Rate limits (`TelegramLimits`) are checked only when enabled; a call over a limit is rejected with
429 and recorded as a `Violation`. A message sent with `allow_paid_broadcast` counts against the paid
allowance (1,000/s) instead of the free 30/s. `migrate_chat(old, new)` turns a group into a
supergroup: sends to the old id are refused with `migrate_to_chat_id`, as Telegram does.

Buttons: sendMessage and the edit methods check inline keyboards as Telegram does
(tests/support/standins/telegram_buttons.py). `press_button(chat_id, message_id, data, sender=...)` queues
the `callback_query` a person's tap produces on a message the bot sent; `callback_query_update(...)`
builds the same update for a test to POST to the bot's webhook. Each query can be answered once with
answerCallbackQuery (`callback_answers()`), and editMessageText / editMessageReplyMarkup change the
stored message (`message(...)`, `edited_messages()`).

Anonymous admins: a group message from an anonymous admin comes from GroupAnonymousBot with
`sender_chat` = the group, but a button press always carries the real user who pressed in `from`
(Telegram does not hide it from the bot); the admin's ChatMember has `is_anonymous: true`, so
`set_member(chat, person, "administrator", is_anonymous=True)` models them.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import count
from typing import Any

import aiohttp
from aiohttp import web

from tests.support.standins.ratelimit import Rate, RateLimiter, Violation
from tests.support.standins.server import BodyError, Call, FaultQueue, StandInServer, read_params
from tests.support.standins.telegram_buttons import MAX_ANSWER_TEXT, KeyboardError, callback_buttons, inline_keyboard
from tests.support.standins.telegram_markup import MarkupError, parse_markup, utf16_len

DEFAULT_TOKEN = "123456789:AAHstand-in-token-0123456789abcdefXYZ"
GROUP_ANONYMOUS_BOT_ID = 1087968824
MAX_MESSAGE_LENGTH = 4096  # UTF-16 units after entity parsing
MAX_DOWNLOAD_SIZE = 20 * 1024 * 1024  # getFile refuses larger files
# Left out unless asked for by allowed_updates, as Telegram does.
_OPT_IN_UPDATES = {"chat_member", "message_reaction", "message_reaction_count"}
_QUERY_INVALID = "Bad Request: query is too old and response timeout expired or query ID is invalid"
_NOT_MODIFIED = ("Bad Request: message is not modified: specified new message content and reply markup are "
                 "exactly the same as a current content and reply markup of the message")
_CHAT_ACTIONS = {
    "typing", "upload_photo", "record_video", "upload_video", "record_voice", "upload_voice",
    "upload_document", "choose_sticker", "find_location", "record_video_note", "upload_video_note",
}
# Parameters that are free text: never JSON-decoded (a text "123" stays a string).
_TEXT_PARAMS = {
    "text", "caption", "parse_mode", "url", "secret_token", "ip_address", "description", "short_description",
    "name", "title", "language_code", "action", "file_id", "inline_message_id", "callback_query_id", "query",
    "emoji", "custom_title", "business_connection_id", "message_effect_id",
}


# ----- builders for the objects tests push ------------------------------------------------------

def user(user_id: int, first_name: str = "Test", *, username: str | None = None, last_name: str | None = None,
         language_code: str | None = "en", is_bot: bool = False) -> dict:
    data: dict[str, Any] = {"id": user_id, "is_bot": is_bot, "first_name": first_name}
    if last_name:
        data["last_name"] = last_name
    if username:
        data["username"] = username
    if language_code and not is_bot:
        data["language_code"] = language_code
    return data


GROUP_ANONYMOUS_BOT = user(GROUP_ANONYMOUS_BOT_ID, "Group", username="GroupAnonymousBot", is_bot=True)


def private_chat(person: dict) -> dict:
    """The private chat with `person` (a `user(...)`): same id as the user."""
    chat = {"id": person["id"], "type": "private", "first_name": person["first_name"]}
    for key in ("last_name", "username"):
        if key in person:
            chat[key] = person[key]
    return chat


def group_chat(chat_id: int, title: str = "Test group") -> dict:
    if chat_id >= 0:
        raise ValueError("group chat ids are negative")
    return {"id": chat_id, "type": "group", "title": title, "all_members_are_administrators": False}


def supergroup_chat(chat_id: int, title: str = "Test supergroup", *, is_forum: bool = False,
                    username: str | None = None) -> dict:
    if chat_id > -1_000_000_000_000:
        raise ValueError("supergroup ids look like -100xxxxxxxxxx")
    chat: dict[str, Any] = {"id": chat_id, "type": "supergroup", "title": title}
    if is_forum:
        chat["is_forum"] = True
    if username:
        chat["username"] = username
    return chat


def channel_chat(chat_id: int, title: str = "Test channel", *, username: str | None = None) -> dict:
    if chat_id > -1_000_000_000_000:
        raise ValueError("channel ids look like -100xxxxxxxxxx")
    chat: dict[str, Any] = {"id": chat_id, "type": "channel", "title": title}
    if username:
        chat["username"] = username
    return chat


def chat_member(person: dict, status: str = "member", *, is_anonymous: bool = False,
                custom_title: str | None = None) -> dict:
    """A ChatMember object with every field PTB requires for that status."""
    if status == "creator":
        member = {"status": status, "user": person, "is_anonymous": is_anonymous}
    elif status == "administrator":
        rights = ("can_manage_chat", "can_delete_messages", "can_manage_video_chats", "can_restrict_members",
                  "can_promote_members", "can_change_info", "can_invite_users", "can_post_stories",
                  "can_edit_stories", "can_delete_stories", "can_pin_messages", "can_manage_topics")
        member = {"status": status, "user": person, "can_be_edited": False, "is_anonymous": is_anonymous,
                  **{right: True for right in rights}}
    elif status == "restricted":
        rights = ("can_change_info", "can_invite_users", "can_pin_messages", "can_send_messages",
                  "can_send_polls", "can_send_other_messages", "can_add_web_page_previews", "can_manage_topics",
                  "can_send_audios", "can_send_documents", "can_send_photos", "can_send_videos",
                  "can_send_video_notes", "can_send_voice_notes", "can_edit_tag")
        member = {"status": status, "user": person, "is_member": True, "until_date": 0,
                  **{right: False for right in rights}}
    elif status == "kicked":
        member = {"status": status, "user": person, "until_date": 0}
    elif status in ("member", "left"):
        member = {"status": status, "user": person}
    else:
        raise ValueError(f"unknown chat member status {status!r}")
    if custom_title and status in ("creator", "administrator"):
        member["custom_title"] = custom_title
    return member


async def post_update(url: str, update: dict, secret_token: str | None = None) -> int:
    """POST `update` to a bot's webhook `url` as Telegram does (JSON, with the secret header when the
    webhook was set with one); return the HTTP status."""
    headers = {"X-Telegram-Bot-Api-Secret-Token": secret_token} if secret_token else {}
    async with aiohttp.ClientSession() as session, session.post(url, json=update, headers=headers) as response:
        return response.status


# ----- faults and limits ------------------------------------------------------------------------

@dataclass(frozen=True)
class TelegramFault:
    """What the next call(s) for a chat get instead of the normal answer (see `fail_next`)."""

    status: int = 200
    description: str = ""
    retry_after: int | None = None
    delay: float = 0.0  # seconds before answering
    deliver: bool = False  # with a delay: the message is sent (and recorded) before the late answer

    @classmethod
    def forbidden(cls, description: str = "Forbidden: bot was blocked by the user") -> TelegramFault:
        return cls(403, description)

    @classmethod
    def too_many_requests(cls, retry_after: int) -> TelegramFault:
        return cls(429, f"Too Many Requests: retry after {retry_after}", retry_after=retry_after)

    @classmethod
    def server_error(cls, description: str = "Internal Server Error") -> TelegramFault:
        return cls(500, description)

    @classmethod
    def bad_request(cls, description: str = "Bad Request: chat not found") -> TelegramFault:
        return cls(400, description)

    @classmethod
    def slow(cls, seconds: float, deliver: bool = True) -> TelegramFault:
        """Answer only after `seconds` (longer than the client's timeout: an unknown outcome).

        With deliver=True the message reaches the chat at once, as when Telegram sent it but the
        answer was lost; with deliver=False it is dropped and answered with 500 after the delay.
        """
        return cls(200 if deliver else 500, "" if deliver else "Internal Server Error", delay=seconds,
                   deliver=deliver)


@dataclass(frozen=True)
class TelegramLimits:
    """Telegram's documented flood limits, as leaky buckets (see tests/support/standins/ratelimit.py).

    per_chat allows a burst of 3 messages before the 1/s pace applies: Telegram says short bursts
    may pass, and a strict 1/s would flag a client paced exactly at 1/s on network jitter alone.
    per_group applies to chats with a negative id (groups, supergroups, channels) and @usernames.
    Only `methods` are limited.
    """

    overall: Rate = Rate(30, 1.0)
    paid_overall: Rate = Rate(1000, 1.0)  # every message, paid broadcasts (allow_paid_broadcast) included
    per_chat: Rate = Rate(1, 1.0, burst=3)
    per_group: Rate = Rate(20, 60.0)
    methods: frozenset[str] = frozenset({"sendMessage"})
    jitter: float = 0.05  # seconds of arrival jitter forgiven


class ApiError(Exception):
    def __init__(self, status: int, description: str, retry_after: int | None = None,
                 migrate_to_chat_id: int | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.retry_after = retry_after
        self.migrate_to_chat_id = migrate_to_chat_id

    def body(self) -> dict:
        body: dict[str, Any] = {"ok": False, "error_code": self.status, "description": self.description}
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        if self.migrate_to_chat_id is not None:
            body["parameters"] = {"migrate_to_chat_id": self.migrate_to_chat_id}
        return body


def _chat_not_found() -> ApiError:
    return ApiError(400, "Bad Request: chat not found")


@dataclass
class _Poll:
    superseded: bool = False


@dataclass
class _File:
    meta: dict
    path: str
    data: bytes


@dataclass
class _State:
    chats: dict[int, dict] = field(default_factory=dict)
    usernames: dict[str, int] = field(default_factory=dict)
    users: dict[int, dict] = field(default_factory=dict)
    members: dict[tuple[int, int], dict] = field(default_factory=dict)
    forbidden: dict[int, str] = field(default_factory=dict)
    migrated: dict[int, int] = field(default_factory=dict)  # old group id -> its supergroup's id
    messages: dict[tuple[int, int], dict] = field(default_factory=dict)
    message_ids: Counter[int] = field(default_factory=Counter)
    updates: list[dict] = field(default_factory=list)
    allowed_updates: list[str] = field(default_factory=list)
    webhook: dict = field(default_factory=dict)
    commands: dict[tuple[str, str], list] = field(default_factory=dict)
    files: dict[str, _File] = field(default_factory=dict)
    sent: list[dict] = field(default_factory=list)
    edited: list[dict] = field(default_factory=list)
    callback_queries: dict[str, dict] = field(default_factory=dict)  # id -> the query, while unanswered
    callback_answers: list[dict] = field(default_factory=list)
    violations: list[Violation] = field(default_factory=list)


class TelegramStandIn(StandInServer):
    """The Bot API on 127.0.0.1:<port>/bot<token>/<method> plus file downloads at /file/bot<token>/<path>."""

    def __init__(self, token: str = DEFAULT_TOKEN, *, bot_first_name: str = "Briefbot",
                 bot_username: str = "briefbot_test_bot", limits: TelegramLimits | None = None,
                 strict_chats: bool = False) -> None:
        """`limits`: enforce these rate limits (None: no limits). `strict_chats`: unknown chat ids are
        "chat not found" (by default they are created on first use, typed by the sign of the id)."""
        super().__init__()
        bot_id, _, secret = token.partition(":")
        if not bot_id.isdigit() or not secret:
            raise ValueError("a bot token looks like <bot id>:<secret>")
        self.token = token
        self.bot_user = {"id": int(bot_id), "is_bot": True, "first_name": bot_first_name, "username": bot_username,
                         "can_join_groups": True, "can_read_all_group_messages": False,
                         "supports_inline_queries": False, "can_connect_to_business": False,
                         "has_main_web_app": False}
        self.limits = limits
        self.strict_chats = strict_chats
        self._state = _State()
        self._faults = FaultQueue()
        self._limiter = RateLimiter(limits.jitter if limits else 0.05)
        self._update_ids = count(1)
        self._file_ids = count(1)
        self._query_ids = count(1)
        self._active_poll: _Poll | None = None
        self._updates_changed: asyncio.Event | None = None
        self._handlers = {
            "getMe": self._get_me, "getUpdates": self._get_updates, "sendMessage": self._send_message,
            "editMessageText": self._edit_message_text, "editMessageReplyMarkup": self._edit_message_reply_markup,
            "answerCallbackQuery": self._answer_callback_query, "sendChatAction": self._send_chat_action,
            "getChatMember": self._get_chat_member, "getChatAdministrators": self._get_chat_administrators,
            "setWebhook": self._set_webhook, "deleteWebhook": self._delete_webhook,
            "getWebhookInfo": self._get_webhook_info, "setMyCommands": self._set_my_commands,
            "getMyCommands": self._get_my_commands, "deleteMyCommands": self._delete_my_commands,
            "getChat": self._get_chat, "getFile": self._get_file, "close": self._true, "logOut": self._true,
        }
        # Bot API method names are case-insensitive.
        self._by_lower_name = {name.lower(): name for name in self._handlers}

    # ----- URLs for the client ----------------------------------------------------------------

    @property
    def bot_id(self) -> int:
        return self.bot_user["id"]

    @property
    def base_url(self) -> str:
        """For `ApplicationBuilder().base_url(...)` / `Bot(base_url=...)`: the token is appended."""
        return f"{self.url}/bot"

    @property
    def base_file_url(self) -> str:
        return f"{self.url}/file/bot"

    # ----- test controls ------------------------------------------------------------------------

    def enforce_limits(self, limits: TelegramLimits | None = None) -> None:
        """Start enforcing rate limits (default: TelegramLimits()); counting starts afresh."""
        self.limits = limits or TelegramLimits()
        self._limiter = RateLimiter(self.limits.jitter)

    def relax_limits(self) -> None:
        self.limits = None

    def fail_next(self, chat_id: int | str, fault: TelegramFault, count: int = 1,
                  method: str = "sendMessage") -> None:
        """The next `count` calls of `method` for `chat_id` get `fault` instead of being served."""
        self._faults.add(f"{method}:{chat_id}", fault, count)

    def forbid_chat(self, chat_id: int, description: str | None = None) -> None:
        """Every send to this chat fails with 403 from now on (blocked by the user / bot kicked)."""
        with self._lock:
            kind = self._state.chats.get(chat_id, {}).get("type") or ("private" if chat_id > 0 else "group")
            self._state.forbidden[chat_id] = description or {
                "private": "Forbidden: bot was blocked by the user",
                "group": "Forbidden: bot was kicked from the group chat",
                "supergroup": "Forbidden: bot was kicked from the supergroup chat",
                "channel": "Forbidden: bot is not a member of the channel chat",
            }[kind]

    def migrate_chat(self, old_id: int, new_id: int) -> dict:
        """The group `old_id` became the supergroup `new_id`: sends to the old id are refused from now on."""
        with self._lock:
            old = self._state.chats.get(old_id) or self._guess_chat(old_id)
            self._state.migrated[old_id] = new_id
            new = self._state.chats[new_id] = {"id": new_id, "type": "supergroup", "title": old.get("title", "")}
        return new

    def add_chat(self, chat: dict) -> dict:
        with self._lock:
            self._state.chats[chat["id"]] = chat
            if chat.get("username"):
                self._state.usernames[chat["username"].lower()] = chat["id"]
        return chat

    def add_user(self, person: dict) -> dict:
        """Make `person` (a `user(...)`) known: their private chat's messages and presses come from them,
        `language_code` included."""
        with self._lock:
            self._state.users[person["id"]] = person
        return person

    def set_member(self, chat_id: int, person: dict, status: str = "member", **kwargs: Any) -> dict:
        """Make `person` (a `user(...)` or `tg.bot_user`) a member of the chat with `status`."""
        member = chat_member(person, status, **kwargs)
        with self._lock:
            self._state.users[person["id"]] = person
            self._state.members[(chat_id, person["id"])] = member
        return member

    def add_file(self, content: bytes, file_name: str = "feeds.opml", mime_type: str = "text/x-opml") -> dict:
        """Store a file the way Telegram keeps an upload; return its Document object."""
        number = next(self._file_ids)
        file_id = f"BQACAgIAAxkBAAI{number:06d}standinfile"
        suffix = file_name[file_name.rfind("."):] if "." in file_name else ""
        meta = {"file_id": file_id, "file_unique_id": f"AgAD{number:06d}", "file_size": len(content)}
        with self._lock:
            self._state.files[file_id] = _File(meta, f"documents/file_{number}{suffix}", content)
        return {**meta, "file_name": file_name, "mime_type": mime_type}

    # ----- pushing updates ----------------------------------------------------------------------

    def push_update(self, update: dict) -> dict:
        """Queue a raw update for getUpdates; an `update_id` is assigned when missing."""
        update = {"update_id": next(self._update_ids), **update}
        with self._lock:
            self._state.updates.append(update)
        self._call_on_loop(self._wake_pollers)
        return update

    def push_message(self, chat: dict, text: str | None = None, *, sender: dict | None = None,
                     thread_id: int | None = None, anonymous_admin: bool = False, document: dict | None = None,
                     caption: str | None = None, reply_to: dict | None = None) -> dict:
        """Queue a `message` (or `channel_post` for a channel) as a person would send it.

        - private chat: `sender` defaults to the chat's user (as last seen, else built from the chat).
        - group / supergroup: `sender` is required, unless `anonymous_admin=True` (from
          GroupAnonymousBot, `sender_chat` = the group, as Telegram sends an anonymous admin's message).
        - forum topic: `thread_id` sets `message_thread_id`, `is_topic_message` and, as Telegram does,
          a `reply_to_message` pointing at the topic's creation message.
        - `document`: from `add_file(...)`; `text` then becomes the caption unless `caption` is given.
        - `reply_to`: the message replied to, e.g. a bot's `message(chat_id, message_id)` (a reply to its prompt).
        Commands (text starting with "/") get their `bot_command` entity.
        """
        kind = chat["type"]
        if kind == "channel":
            if sender or anonymous_admin:
                raise ValueError("channel posts have no sender; they come from the channel itself")
            sender_chat, sender = chat, None
        elif anonymous_admin:
            if kind not in ("group", "supergroup"):
                raise ValueError("anonymous admins exist only in groups and supergroups")
            sender_chat, sender = chat, GROUP_ANONYMOUS_BOT
        else:
            sender_chat = None
            if sender is None and kind == "private":
                with self._lock:  # a user the test made known (e.g. with a language_code) keeps talking
                    sender = self._state.users.get(chat["id"]) or self._user_of(chat)
            if sender is None:
                raise ValueError("a group message needs a sender (or anonymous_admin=True)")
        if thread_id is not None and not chat.get("is_forum"):
            raise ValueError("thread_id needs a forum supergroup (supergroup_chat(..., is_forum=True))")

        self.add_chat(chat)
        with self._lock:
            if sender is not None and not anonymous_admin:
                self._state.users[sender["id"]] = sender
                if kind != "private":
                    self._state.members.setdefault((chat["id"], sender["id"]), chat_member(sender, "member"))
            message_id = self._next_message_id(chat["id"])
        message: dict[str, Any] = {"message_id": message_id, "date": int(time.time()), "chat": chat}
        if sender is not None:
            message["from"] = sender
        if sender_chat is not None:
            message["sender_chat"] = sender_chat
        if thread_id is not None:
            message["message_thread_id"] = thread_id
            message["is_topic_message"] = True
            if reply_to is None:
                reply_to = {"message_id": thread_id, "date": message["date"], "chat": chat,
                            "message_thread_id": thread_id, "is_topic_message": True,
                            "forum_topic_created": {"name": f"Topic {thread_id}", "icon_color": 7322096}}
        if reply_to is not None:
            message["reply_to_message"] = reply_to
        body_key, entities_key = ("caption", "caption_entities") if document else ("text", "entities")
        body = caption if (document and caption is not None) else text
        if document:
            message["document"] = document
        if body is not None:
            message[body_key] = body
            command = re.match(r"/\S+", body)
            if command:
                message[entities_key] = [{"type": "bot_command", "offset": 0, "length": utf16_len(command[0])}]
        with self._lock:
            self._state.messages[(chat["id"], message_id)] = message
        return self.push_update({"channel_post" if kind == "channel" else "message": message})

    def push_document(self, chat: dict, content: bytes, file_name: str = "feeds.opml",
                      mime_type: str = "text/x-opml", **kwargs: Any) -> dict:
        """A message carrying a document (e.g. an OPML file to import) the bot can getFile and download."""
        return self.push_message(chat, document=self.add_file(content, file_name, mime_type), **kwargs)

    def callback_query_update(self, chat_id: int, message_id: int, data: str, *, sender: dict | None = None,
                              require_button: bool = True) -> dict:
        """The `callback_query` update a tap on a button of the bot's message produces (webhook shape,
        with an `update_id`); the query can then be answered. Not queued: see `press_button`.

        - `sender`: who pressed (a `user(...)`, whose `language_code` the bot sees); in a private chat it
          defaults to the chat's user; in a group it is required. Anonymous admins press as themselves.
        - `require_button`: `data` must be a button of the message as it stands now, as only those can be
          tapped; False sends any data (a forged or replayed press from a modified client).
        """
        with self._lock:
            message = self._state.messages.get((chat_id, message_id))
            if message is None:
                raise ValueError(f"no message {message_id} in chat {chat_id}")
            if message.get("from", {}).get("id") != self.bot_id and message.get("sender_chat") is None:
                raise ValueError("only the bot's own messages carry its inline keyboards")
            chat = message["chat"]
            if sender is None:
                if chat["type"] != "private":
                    raise ValueError("a press in a group needs a sender")
                sender = self._state.users.get(chat["id"]) or self._user_of(chat)
            if require_button and data not in [b["callback_data"] for b in callback_buttons(message.get(
                    "reply_markup"))]:
                raise ValueError(f"message {message_id} has no button with callback data {data!r}")
            self._state.users[sender["id"]] = sender
            if chat["type"] in ("group", "supergroup"):
                self._state.members.setdefault((chat["id"], sender["id"]), chat_member(sender, "member"))
            shown = json.loads(json.dumps(message))
            if "from" in shown:  # a message's sender has only the User fields, not getMe's extras
                shown["from"] = {k: v for k, v in shown["from"].items()
                                 if k in ("id", "is_bot", "first_name", "last_name", "username")}
            query = {"id": f"{4_000_000_000_000_000 + next(self._query_ids)}", "from": sender, "message": shown,
                     "chat_instance": _chat_instance(chat["id"]), "data": data}
            self._state.callback_queries[query["id"]] = query
        return {"update_id": next(self._update_ids), "callback_query": query}

    def press_button(self, chat_id: int, message_id: int, data: str, **kwargs: Any) -> dict:
        """A person taps the button with `data` on the bot's message: the `callback_query` update is
        queued for getUpdates (see `callback_query_update` for the arguments)."""
        return self.push_update(self.callback_query_update(chat_id, message_id, data, **kwargs))

    def expire_callback_query(self, query_id: str) -> None:
        """The query is too old to answer now (Telegram gives a bot a few seconds to answer)."""
        with self._lock:
            self._state.callback_queries.pop(query_id, None)

    # ----- what the bot did ---------------------------------------------------------------------

    def sent_messages(self, chat_id: int | None = None) -> list[dict]:
        """Messages the bot sent (as returned to it), oldest first, optionally for one chat."""
        with self._lock:
            return [m for m in self._state.sent if chat_id is None or m["chat"]["id"] == chat_id]

    def sent_per_chat(self) -> Counter[int]:
        with self._lock:
            return Counter(m["chat"]["id"] for m in self._state.sent)

    def violations(self) -> list[Violation]:
        with self._lock:
            return list(self._state.violations)

    def edited_messages(self, chat_id: int | None = None) -> list[dict]:
        """Each successful editMessageText / editMessageReplyMarkup result, oldest first."""
        with self._lock:
            return [m for m in self._state.edited if chat_id is None or m["chat"]["id"] == chat_id]

    def callback_answers(self, query_id: str | None = None) -> list[dict]:
        """answerCallbackQuery calls that were accepted: {callback_query_id, text, show_alert, url,
        cache_time}, oldest first."""
        with self._lock:
            return [a for a in self._state.callback_answers if query_id is None or a["callback_query_id"] == query_id]

    def message(self, chat_id: int, message_id: int) -> dict | None:
        """A message as it stands now (after edits)."""
        with self._lock:
            return self._state.messages.get((chat_id, message_id))

    def pending_updates(self) -> list[dict]:
        """Updates not yet confirmed by a getUpdates offset."""
        with self._lock:
            return list(self._state.updates)

    def webhook(self) -> dict:
        with self._lock:
            return dict(self._state.webhook)

    def commands(self, scope: dict | None = None, language_code: str = "") -> list[dict]:
        with self._lock:
            return list(self._state.commands.get((self._scope_key(scope), language_code), []))

    # ----- routes -------------------------------------------------------------------------------

    def _routes(self) -> list[web.RouteDef]:
        return [
            web.route("*", "/bot{token}/{method}", self._api),
            web.get("/file/bot{token}/{path:.+}", self._download),
            web.route("*", "/{tail:.*}", self._not_found),
        ]

    async def _serve(self) -> None:
        self._updates_changed = asyncio.Event()
        await super()._serve()

    async def _shutdown(self) -> None:
        assert self._closing is not None
        self._closing.set()
        self._wake_pollers()
        await super()._shutdown()

    async def _not_found(self, request: web.Request) -> web.Response:
        return web.json_response(ApiError(404, "Not Found").body(), status=404)

    async def _api(self, request: web.Request) -> web.Response:
        given_name = request.match_info["method"]
        method = self._by_lower_name.get(given_name.lower(), given_name)
        try:
            params, files = await read_params(request)
            body_error = None
        except BodyError as exc:
            params, files, body_error = {}, {}, exc
        params = {name: self._decode(name, value) for name, value in params.items()}
        # The token is a secret: it never goes into the recorded path.
        call = self._record(Call(method, params, files, time.monotonic(), request.method,
                                 f"/bot<token>/{given_name}"))
        try:
            if request.match_info["token"] != self.token:
                raise ApiError(401, "Unauthorized")
            if method not in self._handlers:
                raise ApiError(404, "Not Found")
            if body_error:
                raise ApiError(400, f"Bad Request: {body_error}")
            result = await self._handlers[method](params, call)
            status, body = 200, {"ok": True, "result": result}
        except ApiError as exc:
            status, body = exc.status, exc.body()
        self._answer(call, status, body)
        return web.json_response(body, status=status)

    async def _download(self, request: web.Request) -> web.Response:
        path = request.match_info["path"]
        call = self._record(Call("file", {"path": path}, {}, time.monotonic(), request.method,
                                 f"/file/bot<token>/{path}"))
        with self._lock:
            found = next((f for f in self._state.files.values() if f.path == path), None)
        if request.match_info["token"] != self.token:
            status, body = 401, ApiError(401, "Unauthorized").body()
        elif found is None:
            status, body = 404, ApiError(404, "Not Found").body()
        else:
            self._answer(call, 200, {"bytes": len(found.data)})
            return web.Response(body=found.data, content_type="application/octet-stream")
        self._answer(call, status, body)
        return web.json_response(body, status=status)

    @staticmethod
    def _decode(name: str, value: Any) -> Any:
        """Form bodies carry every value as a string, with objects and numbers JSON-encoded (as PTB sends)."""
        if not isinstance(value, str) or name in _TEXT_PARAMS:
            return value
        try:
            return json.loads(value)
        except ValueError:
            return value

    # ----- chats --------------------------------------------------------------------------------

    def _chat(self, params: dict) -> dict:
        raw = params.get("chat_id")
        if raw is None or raw == "":
            raise ApiError(400, "Bad Request: chat_id is empty")
        with self._lock:
            if isinstance(raw, str) and raw.startswith("@"):
                chat_id = self._state.usernames.get(raw[1:].lower())
                if chat_id is None:
                    raise _chat_not_found()
            else:
                try:
                    chat_id = int(raw)
                except (TypeError, ValueError):
                    raise _chat_not_found() from None
            chat = self._state.chats.get(chat_id)
            if chat is None:
                if self.strict_chats or chat_id == 0:
                    raise _chat_not_found()
                chat = self._state.chats[chat_id] = self._guess_chat(chat_id)
            return chat

    @staticmethod
    def _guess_chat(chat_id: int) -> dict:
        if chat_id > 0:
            return {"id": chat_id, "type": "private", "first_name": f"User {chat_id}"}
        if chat_id <= -1_000_000_000_000:
            return {"id": chat_id, "type": "supergroup", "title": f"Supergroup {chat_id}"}
        return {"id": chat_id, "type": "group", "title": f"Group {chat_id}", "all_members_are_administrators": False}

    def _next_message_id(self, chat_id: int) -> int:
        with self._lock:
            self._state.message_ids[chat_id] += 1
            return self._state.message_ids[chat_id]

    def _check_not_forbidden(self, chat: dict) -> None:
        with self._lock:
            if chat["id"] in self._state.forbidden:
                raise ApiError(403, self._state.forbidden[chat["id"]])
            if chat["id"] in self._state.migrated:
                raise ApiError(400, "Bad Request: group chat was upgraded to a supergroup chat",
                               migrate_to_chat_id=self._state.migrated[chat["id"]])

    def _check_limits(self, method: str, chat: dict, call: Call) -> None:
        """A call over a rate limit is recorded as a violation and rejected with 429."""
        limits = self.limits
        if limits is None or method not in limits.methods:
            return
        key = str(chat["id"])
        buckets = [("paid_overall", "*", limits.paid_overall), ("per_chat", key, limits.per_chat)]
        if call.params.get("allow_paid_broadcast") is not True:
            buckets.append(("overall", "*", limits.overall))
        if chat["id"] < 0:
            buckets.append(("per_group", key, limits.per_group))
        over = self._limiter.admit(buckets, call.at)
        if over is not None:
            name, over_key, retry_after = over
            with self._lock:
                self._state.violations.append(Violation(name, over_key, method, call.at, retry_after))
            raise ApiError(429, f"Too Many Requests: retry after {retry_after}", retry_after)

    async def _serve_with_faults(self, method: str, chat: dict, call: Call, perform: Callable[[], Any]) -> Any:
        """Injected fault, then rate limits, then `perform()`. A slow fault that delivers performs the
        call (counted against the limits like any other) and only then waits before answering."""
        fault: TelegramFault | None = self._faults.take(f"{method}:{chat['id']}")
        if fault is not None and not fault.deliver:
            await self._sleep(fault.delay)
            raise ApiError(fault.status, fault.description, fault.retry_after)
        self._check_limits(method, chat, call)
        result = perform()
        if fault is not None:
            await self._sleep(fault.delay)
        return result

    # ----- methods ------------------------------------------------------------------------------

    async def _true(self, params: dict, call: Call) -> bool:
        return True

    async def _get_me(self, params: dict, call: Call) -> dict:
        return self.bot_user

    async def _send_message(self, params: dict, call: Call) -> dict:
        chat = self._chat(params)
        plain, entities = _message_text(params, too_long="message is too long")
        entities = params.get("entities") or entities
        _keyboard(params)
        _force_reply(params)

        def deliver() -> dict:
            message: dict[str, Any] = {"message_id": self._next_message_id(chat["id"]), "from": self.bot_user,
                                       "chat": chat, "date": int(time.time()), "text": plain}
            if chat["type"] == "channel":
                del message["from"]
                message["sender_chat"] = chat
            if entities:
                message["entities"] = entities
            thread_id = params.get("message_thread_id")
            if thread_id is not None and chat.get("is_forum"):
                message["message_thread_id"] = int(thread_id)
                message["is_topic_message"] = True
            if _keyboard(params):
                message["reply_markup"] = params["reply_markup"]
            with self._lock:
                replied = self._state.messages.get((chat["id"], _reply_to_id(params)))
                if replied is not None:  # as Telegram shows it: the replied-to message, one level deep
                    message["reply_to_message"] = {k: v for k, v in replied.items() if k != "reply_to_message"}
                self._state.messages[(chat["id"], message["message_id"])] = message
                self._state.sent.append(message)
            return message

        self._check_not_forbidden(chat)
        return await self._serve_with_faults("sendMessage", chat, call, deliver)

    async def _edit_message_text(self, params: dict, call: Call) -> dict:
        if params.get("inline_message_id"):
            raise ApiError(400, "Bad Request: MESSAGE_ID_INVALID")
        chat = self._chat(params)
        plain, entities = _message_text(params, too_long="MESSAGE_TOO_LONG")
        markup = _keyboard(params)

        def edit() -> dict:
            with self._lock:
                old = self._editable(chat, params)
                if old.get("text") == plain and old.get("entities", []) == entities and \
                        old.get("reply_markup") == markup:
                    raise ApiError(400, _NOT_MODIFIED)
                new = {**old, "text": plain}
                new.pop("entities", None)
                if entities:
                    new["entities"] = entities
                return self._store_edit(new, markup)

        self._check_not_forbidden(chat)
        return await self._serve_with_faults("editMessageText", chat, call, edit)

    async def _edit_message_reply_markup(self, params: dict, call: Call) -> dict:
        if params.get("inline_message_id"):
            raise ApiError(400, "Bad Request: MESSAGE_ID_INVALID")
        chat = self._chat(params)
        markup = _keyboard(params)  # none: the keyboard is removed

        def edit() -> dict:
            with self._lock:
                old = self._editable(chat, params)
                if old.get("reply_markup") == markup:
                    raise ApiError(400, _NOT_MODIFIED)
                return self._store_edit(dict(old), markup)

        self._check_not_forbidden(chat)
        return await self._serve_with_faults("editMessageReplyMarkup", chat, call, edit)

    def _editable(self, chat: dict, params: dict) -> dict:
        """The stored message an edit names (under the lock)."""
        try:
            message_id = int(params.get("message_id") or 0)
        except (TypeError, ValueError):
            raise ApiError(400, "Bad Request: message to edit not found") from None
        old = self._state.messages.get((chat["id"], message_id))
        if old is None:
            raise ApiError(400, "Bad Request: message to edit not found")
        if old.get("from", {}).get("id") != self.bot_id and old.get("sender_chat") is None:
            raise ApiError(400, "Bad Request: message can't be edited")
        return old

    def _store_edit(self, new: dict, markup: dict | None) -> dict:
        new["edit_date"] = int(time.time())
        new.pop("reply_markup", None)
        if markup:
            new["reply_markup"] = markup
        self._state.messages[(new["chat"]["id"], new["message_id"])] = new
        self._state.edited.append(new)
        return new

    async def _answer_callback_query(self, params: dict, call: Call) -> bool:
        query_id = str(params.get("callback_query_id") or "")
        text = params.get("text")
        if text is not None and len(str(text)) > MAX_ANSWER_TEXT:
            raise ApiError(400, "Bad Request: MESSAGE_TOO_LONG")
        with self._lock:
            if self._state.callback_queries.pop(query_id, None) is None:
                raise ApiError(400, _QUERY_INVALID)
            self._state.callback_answers.append({
                "callback_query_id": query_id, "text": text, "show_alert": bool(params.get("show_alert")),
                "url": params.get("url"), "cache_time": int(params.get("cache_time") or 0)})
        return True

    async def _send_chat_action(self, params: dict, call: Call) -> bool:
        chat = self._chat(params)
        if params.get("action") not in _CHAT_ACTIONS:
            raise ApiError(400, "Bad Request: wrong parameter action in request")
        self._check_not_forbidden(chat)
        self._check_limits("sendChatAction", chat, call)
        return True

    async def _get_chat(self, params: dict, call: Call) -> dict:
        chat = self._chat(params)
        return {**chat, "accent_color_id": 0, "max_reaction_count": 11,
                "accepted_gift_types": {"unlimited_gifts": False, "limited_gifts": False, "unique_gifts": False,
                                        "premium_subscription": False, "gifts_from_channels": False}}

    async def _get_chat_member(self, params: dict, call: Call) -> dict:
        chat = self._chat(params)
        try:
            user_id = int(params.get("user_id"))
        except (TypeError, ValueError):
            raise ApiError(400, "Bad Request: invalid user_id specified") from None
        with self._lock:
            member = self._state.members.get((chat["id"], user_id))
            if member is not None:
                return member
            if user_id == self.bot_id:
                return chat_member(self.bot_user, "member")
            if chat["type"] == "private" and user_id == chat["id"]:
                return chat_member(self._state.users.get(user_id) or self._user_of(chat), "member")
            known = self._state.users.get(user_id)
        if known is None:
            raise ApiError(400, "Bad Request: user not found")
        return chat_member(known, "left")

    @staticmethod
    def _user_of(chat: dict) -> dict:
        return user(chat["id"], chat.get("first_name", "Test"), username=chat.get("username"))

    async def _get_chat_administrators(self, params: dict, call: Call) -> list[dict]:
        chat = self._chat(params)
        if chat["type"] == "private":
            raise ApiError(400, "Bad Request: there are no administrators in the private chat")
        with self._lock:
            return [m for (chat_id, _), m in self._state.members.items()
                    if chat_id == chat["id"] and m["status"] in ("creator", "administrator")]

    # ----- updates and webhook -------------------------------------------------------------------

    def _wake_pollers(self) -> None:
        """Runs on the server loop: every waiting getUpdates re-checks the queue."""
        if self._updates_changed is not None:
            self._updates_changed.set()
            self._updates_changed = asyncio.Event()

    def _deliverable(self, offset: int | None, limit: int) -> list[dict]:
        with self._lock:
            state = self._state
            if offset is not None:
                # An offset confirms every update before it (a negative one keeps only the last -offset).
                state.updates = state.updates[offset:] if offset < 0 else \
                    [u for u in state.updates if u["update_id"] >= offset]
            allowed = set(state.allowed_updates) or None
            batch = []
            for update in state.updates:
                kind = next(k for k in update if k != "update_id")
                if (kind in allowed) if allowed else (kind not in _OPT_IN_UPDATES):
                    batch.append(update)
            return batch[:limit]

    async def _get_updates(self, params: dict, call: Call) -> list[dict]:
        with self._lock:
            if self._state.webhook.get("url"):
                raise ApiError(409, "Conflict: can't use getUpdates method while webhook is active; "
                                    "use deleteWebhook to delete the webhook first")
            if "allowed_updates" in params:
                self._state.allowed_updates = list(params["allowed_updates"] or [])
        offset = int(params["offset"]) if params.get("offset") not in (None, "") else None
        limit = min(max(int(params.get("limit") or 100), 1), 100)
        timeout = max(float(params.get("timeout") or 0), 0.0)
        # A newer getUpdates ends an older one with 409, as Telegram does.
        if self._active_poll is not None:
            self._active_poll.superseded = True
            self._wake_pollers()
        poll = self._active_poll = _Poll()
        assert self._closing is not None
        deadline = asyncio.get_running_loop().time() + timeout
        try:
            while True:
                changed = self._updates_changed
                batch = self._deliverable(offset, limit)
                if poll.superseded:
                    raise ApiError(409, "Conflict: terminated by other getUpdates request; make sure that only "
                                        "one bot instance is running")
                left = deadline - asyncio.get_running_loop().time()
                if batch or left <= 0 or self._closing.is_set():
                    return batch
                offset = None  # already applied
                assert changed is not None
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(changed.wait(), left)
        finally:
            if self._active_poll is poll:
                self._active_poll = None

    async def _set_webhook(self, params: dict, call: Call) -> bool:
        url = params.get("url") or ""
        if url and not url.startswith("https://"):
            raise ApiError(400, "Bad Request: bad webhook: An HTTPS URL must be provided for webhook")
        with self._lock:
            self._state.webhook = {"url": url, "allowed_updates": params.get("allowed_updates"),
                                   "max_connections": int(params.get("max_connections") or 40),
                                   "has_secret_token": bool(params.get("secret_token"))}
            if params.get("drop_pending_updates"):
                self._state.updates.clear()
        return True

    async def _delete_webhook(self, params: dict, call: Call) -> bool:
        with self._lock:
            self._state.webhook = {}
            if params.get("drop_pending_updates"):
                self._state.updates.clear()
        return True

    async def _get_webhook_info(self, params: dict, call: Call) -> dict:
        with self._lock:
            webhook = self._state.webhook
            info: dict[str, Any] = {"url": webhook.get("url", ""), "has_custom_certificate": False,
                                    "pending_update_count": len(self._state.updates)}
            if webhook.get("url"):
                info["max_connections"] = webhook["max_connections"]
                if webhook.get("allowed_updates"):
                    info["allowed_updates"] = webhook["allowed_updates"]
            return info

    # ----- commands and files ---------------------------------------------------------------------

    @staticmethod
    def _scope_key(scope: Any) -> str:
        return json.dumps(scope or {"type": "default"}, sort_keys=True)

    async def _set_my_commands(self, params: dict, call: Call) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise ApiError(400, "Bad Request: can't parse commands JSON object")
        for command in commands:
            name = command.get("command", "") if isinstance(command, dict) else ""
            description = command.get("description", "") if isinstance(command, dict) else ""
            if not re.fullmatch(r"[a-z0-9_]{1,32}", name):
                raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
            if not 1 <= len(description) <= 256:
                raise ApiError(400, "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID")
        with self._lock:
            key = (self._scope_key(params.get("scope")), params.get("language_code") or "")
            self._state.commands[key] = [{"command": c["command"], "description": c["description"]}
                                         for c in commands]
        return True

    async def _get_my_commands(self, params: dict, call: Call) -> list[dict]:
        return self.commands(params.get("scope"), params.get("language_code") or "")

    async def _delete_my_commands(self, params: dict, call: Call) -> bool:
        with self._lock:
            self._state.commands.pop((self._scope_key(params.get("scope")), params.get("language_code") or ""),
                                     None)
        return True

    async def _get_file(self, params: dict, call: Call) -> dict:
        with self._lock:
            stored = self._state.files.get(str(params.get("file_id") or ""))
        if stored is None:
            raise ApiError(400, "Bad Request: invalid file_id")
        if len(stored.data) > MAX_DOWNLOAD_SIZE:
            raise ApiError(400, "Bad Request: file is too big")
        return {**stored.meta, "file_path": stored.path}


def _message_text(params: dict, *, too_long: str) -> tuple[str, list]:
    """The text of a sendMessage or editMessageText call, checked as Telegram checks it: plain text and
    entities. `too_long` is the error each method gives for more than 4,096 characters."""
    try:
        plain, entities = parse_markup(str(params.get("text") or ""), params.get("parse_mode"))
    except MarkupError as exc:
        raise ApiError(400, f"Bad Request: can't parse entities: {exc}") from None
    if not plain.strip():
        raise ApiError(400, "Bad Request: message text is empty")
    if utf16_len(plain) > MAX_MESSAGE_LENGTH:
        raise ApiError(400, f"Bad Request: {too_long}")
    return plain, entities


def _keyboard(params: dict) -> dict | None:
    """The call's inline keyboard markup, checked as Telegram checks it; None without one."""
    try:
        rows = inline_keyboard(params.get("reply_markup"))
    except KeyboardError as exc:
        raise ApiError(400, f"Bad Request: {exc}") from None
    return params["reply_markup"] if rows else None


def _force_reply(params: dict) -> dict | None:
    """The call's ForceReply, checked as Telegram checks it; None without one. Messages never show it
    (their reply_markup is an inline keyboard only): a test reads it from the call's params."""
    markup = params.get("reply_markup")
    if not isinstance(markup, dict) or "force_reply" not in markup:
        return None
    if markup["force_reply"] is not True:
        raise ApiError(400, "Bad Request: can't parse reply keyboard markup JSON object")
    placeholder = markup.get("input_field_placeholder")
    if placeholder is not None and not 1 <= len(str(placeholder)) <= 64:
        raise ApiError(400, "Bad Request: input field placeholder must be 1-64 characters long")
    return markup


def _reply_to_id(params: dict) -> int | None:
    reply = params.get("reply_parameters")
    return int(reply["message_id"]) if isinstance(reply, dict) and "message_id" in reply else None


def _chat_instance(chat_id: int) -> str:
    """A stable opaque id per chat, as Telegram gives every query from one chat the same chat_instance."""
    return str((chat_id * 0x9E3779B97F4A7C15) % (1 << 63))
