"""A local stand-in of the Slack Web API, response URLs and private file downloads.

    with SlackStandIn() as slack:
        client = AsyncWebClient(token=slack.token, base_url=slack.api_url)
        app = AsyncApp(client=client, signing_secret=SIGNING_SECRET)
        body = slack.slash_command_body("/brief", "subscribe ai", user_id="U1", channel_id="C1")
        await app.async_dispatch(AsyncBoltRequest(body=body.decode(),
                                                  headers=sign_slack_request(body, SIGNING_SECRET)))
        slack.responses()  # what respond() posted to the response_url

Errors look like Slack's: HTTP 200 with `{"ok": false, "error": "..."}`, except `ratelimited`, which
is HTTP 429 with a `Retry-After` header. Rate limits (`SlackLimits`) are checked only when enabled.

Interactivity: chat.update edits a posted message; views.publish keeps each user's Home tab and
views.open the modals, after the Block Kit checks Slack makes (100 blocks in a view, 24-character
titles). A trigger_id works once, within 3 seconds of the interaction that issued it, as in Slack;
the payload builders (`block_actions_payload`, `home_block_actions_payload`, `view_submission_payload`,
`slash_command_body`) issue them. `users.info` with `include_locale` tells a user's locale
(`set_user(..., locale="de-DE")`). Payload shapes: tests/support/standins/slack_interactions.py.
"""

from __future__ import annotations

import json
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from itertools import count
from typing import Any
from urllib.parse import urlencode

import aiohttp
from aiohttp import web
from slack_sdk.signature import SignatureVerifier

from tests.support.standins.ratelimit import Rate, RateLimiter, Violation
from tests.support.standins.server import BodyError, Call, FaultQueue, StandInServer, read_params
from tests.support.standins.slack_interactions import (
    app_home_opened_event,
    block_actions_payload,
    button_action,
    interaction_user,
    view_submission_payload,
)

DEFAULT_TOKEN = "xoxb-0000000001-0000000002-standintokenstandintoken"
MAX_BLOCKS = 50  # in a message
MAX_VIEW_BLOCKS = 100  # in a modal or the Home tab
MAX_VIEW_TEXT = 24  # a view's title, submit and close labels
MAX_BUTTON_TEXT = 75
MAX_BUTTON_VALUE = 2000
MAX_ACTION_ID = 255
MAX_ACTIONS_ELEMENTS = 25
TRIGGER_LIFETIME = 3.0  # seconds a trigger_id can be exchanged
MAX_SECTION_TEXT = 3000
MAX_SECTION_FIELDS = 10
MAX_FIELD_TEXT = 2000
MAX_HEADER_TEXT = 150
MAX_CONTEXT_ELEMENTS = 10
MAX_MESSAGE_TEXT = 40000
_JSON_PARAMS = {"blocks", "attachments", "metadata", "view"}
_TRIGGER_ID = re.compile(r"\d+\.\d+\.[0-9a-f]+")
_BLOCK_TYPES = {"section", "divider", "header", "context", "actions", "image", "rich_text", "input", "file",
                "video", "markdown"}
_LOGIN_PAGE = "<!DOCTYPE html><html><head><title>Slack</title></head><body>Sign in to Slack</body></html>"


# ----- helpers for test requests ----------------------------------------------------------------

def sign_slack_request(body: bytes | str, secret: str, timestamp: int | None = None,
                       content_type: str | None = None) -> dict[str, str]:
    """Headers Slack would send with `body`: `v0=` + HMAC-SHA256 over `v0:{timestamp}:{body}`.

    The content type defaults from the body: JSON for `{...}`, else a form (slash commands).
    """
    raw = body.encode() if isinstance(body, str) else body
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    signature = SignatureVerifier(secret).generate_signature(timestamp=stamp, body=raw)
    assert signature is not None
    if content_type is None:
        content_type = "application/json" if raw.lstrip().startswith(b"{") else "application/x-www-form-urlencoded"
    return {"Content-Type": content_type, "X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": signature}


async def post_signed(url: str, body: bytes, secret: str, *, timestamp: int | None = None) -> tuple[int, str]:
    """POST `body` (an event, a slash command, an `interaction_body(...)`) to the bot's `url` as Slack
    would, signed with `secret`; return (status, response text)."""
    async with aiohttp.ClientSession() as session:
        async with session.post(url, data=body, headers=sign_slack_request(body, secret, timestamp)) as response:
            return response.status, await response.text()


def slash_command_body(command: str, text: str = "", *, response_url: str, user_id: str = "U0000USER",
                       channel_id: str = "C0000CHAN", team_id: str = "T0STANDIN", user_name: str = "ada",
                       channel_name: str = "general", team_domain: str = "standin", api_app_id: str = "A0STANDIN",
                       trigger_id: str | None = None) -> bytes:
    """The form body Slack posts for a slash command."""
    if not command.startswith("/"):
        raise ValueError("a slash command starts with '/'")
    return urlencode({
        "token": "verification-token-unused", "team_id": team_id, "team_domain": team_domain,
        "channel_id": channel_id, "channel_name": channel_name, "user_id": user_id, "user_name": user_name,
        "command": command, "text": text, "api_app_id": api_app_id, "is_enterprise_install": "false",
        "response_url": response_url,
        "trigger_id": trigger_id or f"{int(time.time())}.{team_id}.standintrigger",
    }).encode()


def app_mention_event(text: str, *, user: str = "U0000USER", channel: str = "C0000CHAN",
                      ts: str | None = None, thread_ts: str | None = None) -> dict:
    event = {"type": "app_mention", "user": user, "text": text, "channel": channel,
             "ts": ts or f"{time.time():.6f}", "event_ts": ts or f"{time.time():.6f}"}
    if thread_ts:
        event["thread_ts"] = thread_ts
    return event


def message_event(text: str, *, user: str = "U0000USER", channel: str = "C0000CHAN", channel_type: str = "channel",
                  ts: str | None = None, thread_ts: str | None = None, bot_id: str | None = None) -> dict:
    """A `message` event; `channel_type` "im" for a direct message; `bot_id` for a bot's own message."""
    stamp = ts or f"{time.time():.6f}"
    event = {"type": "message", "user": user, "text": text, "channel": channel, "channel_type": channel_type,
             "ts": stamp, "event_ts": stamp}
    if thread_ts:
        event["thread_ts"] = thread_ts
    if bot_id:
        event["bot_id"] = bot_id
        event["subtype"] = "bot_message"
    return event


_event_ids = count(1)


def event_callback_body(event: dict, *, team_id: str = "T0STANDIN", api_app_id: str = "A0STANDIN",
                        bot_user_id: str = "U0BRIEFBOT") -> bytes:
    """The JSON body of an Events API delivery wrapping `event`."""
    return json.dumps({
        "token": "verification-token-unused", "team_id": team_id, "api_app_id": api_app_id, "event": event,
        "type": "event_callback", "event_id": f"Ev{next(_event_ids):08d}", "event_time": int(time.time()),
        "authorizations": [{"enterprise_id": None, "team_id": team_id, "user_id": bot_user_id, "is_bot": True,
                            "is_enterprise_install": False}],
        "is_ext_shared_channel": False,
    }).encode()


def url_verification_body(challenge: str = "standin-challenge") -> bytes:
    return json.dumps({"token": "verification-token-unused", "challenge": challenge,
                       "type": "url_verification"}).encode()


# ----- faults and limits ------------------------------------------------------------------------

@dataclass(frozen=True)
class SlackFault:
    """What the next call(s) for a channel get instead of the normal answer (see `fail_next`)."""

    status: int = 200
    error: str = ""
    retry_after: int | None = None
    delay: float = 0.0
    deliver: bool = False

    @classmethod
    def ratelimited(cls, retry_after: int) -> SlackFault:
        return cls(429, "ratelimited", retry_after=retry_after)

    @classmethod
    def error_code(cls, error: str) -> SlackFault:
        """An `{"ok": false, "error": error}` answer, e.g. "channel_not_found", "is_archived"."""
        return cls(200, error)

    @classmethod
    def server_error(cls) -> SlackFault:
        return cls(500, "internal_error")

    @classmethod
    def slow(cls, seconds: float, deliver: bool = True) -> SlackFault:
        """Answer after `seconds`; with deliver=True the message is posted at once (unknown outcome)."""
        return cls(200 if deliver else 500, "" if deliver else "internal_error", delay=seconds, deliver=deliver)


@dataclass(frozen=True)
class SlackLimits:
    """chat.postMessage: about one message per second per channel; a burst of 3 passes (Slack allows
    short bursts, and a strict 1/s would flag a client paced at exactly 1/s on network jitter)."""

    per_channel: Rate = Rate(1, 1.0, burst=3)
    methods: frozenset[str] = frozenset({"chat.postMessage"})
    jitter: float = 0.05


class SlackError(Exception):
    def __init__(self, error: str, status: int = 200, retry_after: int | None = None,
                 messages: list[str] | None = None) -> None:
        super().__init__(error)
        self.error, self.status, self.retry_after, self.messages = error, status, retry_after, messages

    def body(self) -> dict:
        body: dict[str, Any] = {"ok": False, "error": self.error}
        if self.messages:
            body["response_metadata"] = {"messages": self.messages}
        return body


def _invalid_blocks(problem: str, pointer: str) -> SlackError:
    return SlackError("invalid_blocks", messages=[f"[ERROR] {problem} [json-pointer:{pointer}]"])


def validate_blocks(blocks: Any, limit: int = MAX_BLOCKS, pointer: str = "/blocks",
                    error: str = "invalid_blocks") -> None:
    """Block Kit checks Slack makes on chat.postMessage (the ones a renderer is likely to trip); views
    allow `limit` 100 blocks and report problems as `invalid_arguments`."""
    if not isinstance(blocks, list):
        raise SlackError("invalid_blocks_format" if error == "invalid_blocks" else error)
    try:
        _validate_blocks(blocks, limit, pointer)
    except SlackError as exc:
        exc.error = error
        raise


def _validate_blocks(blocks: list, limit: int, pointer: str) -> None:
    if len(blocks) > limit:
        raise _invalid_blocks(f"no more than {limit} items allowed", pointer)
    for index, block in enumerate(blocks):
        where = f"{pointer}/{index}"
        if not isinstance(block, dict) or block.get("type") not in _BLOCK_TYPES:
            raise _invalid_blocks("must provide a valid block type", f"{where}/type")
        kind = block["type"]
        if kind == "section":
            if "text" not in block and "fields" not in block:
                raise _invalid_blocks("must provide either text or fields", where)
            if "text" in block:
                _check_text(block["text"], MAX_SECTION_TEXT, f"{where}/text", ("mrkdwn", "plain_text"))
            fields = block.get("fields", [])
            if len(fields) > MAX_SECTION_FIELDS:
                raise _invalid_blocks(f"no more than {MAX_SECTION_FIELDS} items allowed", f"{where}/fields")
            for number, item in enumerate(fields):
                _check_text(item, MAX_FIELD_TEXT, f"{where}/fields/{number}", ("mrkdwn", "plain_text"))
        elif kind == "header":
            _check_text(block.get("text"), MAX_HEADER_TEXT, f"{where}/text", ("plain_text",))
        elif kind == "context":
            elements = block.get("elements")
            if not isinstance(elements, list) or not elements:
                raise _invalid_blocks("must provide elements", f"{where}/elements")
            if len(elements) > MAX_CONTEXT_ELEMENTS:
                raise _invalid_blocks(f"no more than {MAX_CONTEXT_ELEMENTS} items allowed", f"{where}/elements")
        elif kind == "actions":
            elements = block.get("elements")
            if not isinstance(elements, list) or not elements:
                raise _invalid_blocks("must provide elements", f"{where}/elements")
            if len(elements) > MAX_ACTIONS_ELEMENTS:
                raise _invalid_blocks(f"no more than {MAX_ACTIONS_ELEMENTS} items allowed", f"{where}/elements")
            action_ids = [e.get("action_id") for e in elements if isinstance(e, dict) and e.get("action_id")]
            if len(action_ids) != len(set(action_ids)):
                raise _invalid_blocks("action_id already exists", f"{where}/elements")
            for number, element in enumerate(elements):
                _check_element(element, f"{where}/elements/{number}")
        if kind == "section" and "accessory" in block:
            _check_element(block["accessory"], f"{where}/accessory")


def _check_element(element: Any, pointer: str) -> None:
    """Buttons in detail; other interactive elements only need a type."""
    if not isinstance(element, dict) or not isinstance(element.get("type"), str):
        raise _invalid_blocks("must provide a valid element type", f"{pointer}/type")
    action_id = element.get("action_id")
    if action_id is not None and (not isinstance(action_id, str) or len(action_id) > MAX_ACTION_ID):
        raise _invalid_blocks(f"must be less than {MAX_ACTION_ID + 1} characters", f"{pointer}/action_id")
    if element["type"] != "button":
        return
    _check_text(element.get("text"), MAX_BUTTON_TEXT, f"{pointer}/text", ("plain_text",))
    value = element.get("value")
    if value is not None and (not isinstance(value, str) or len(value) > MAX_BUTTON_VALUE):
        raise _invalid_blocks(f"must be less than {MAX_BUTTON_VALUE + 1} characters", f"{pointer}/value")
    if element.get("style") not in (None, "primary", "danger"):
        raise _invalid_blocks("must be one of primary, danger", f"{pointer}/style")


def _check_text(obj: Any, limit: int, pointer: str, types: tuple[str, ...]) -> None:
    if not isinstance(obj, dict) or obj.get("type") not in types:
        raise _invalid_blocks(f"must be one of {', '.join(types)} text objects", f"{pointer}/type")
    text = obj.get("text")
    if not isinstance(text, str) or not text:
        raise _invalid_blocks("must be more than 0 characters", f"{pointer}/text")
    if len(text) > limit:
        raise _invalid_blocks(f"must be less than {limit + 1} characters", f"{pointer}/text")


@dataclass
class _File:
    meta: dict
    data: bytes


@dataclass
class _State:
    channels: dict[str, dict] = field(default_factory=dict)
    users: dict[str, dict] = field(default_factory=dict)
    files: dict[str, _File] = field(default_factory=dict)
    posted: list[dict] = field(default_factory=list)
    updated: list[dict] = field(default_factory=list)  # chat.update results, oldest first
    home_views: dict[str, dict] = field(default_factory=dict)  # user id -> the published Home tab
    opened_views: list[dict] = field(default_factory=list)  # modals, oldest first
    triggers: dict[str, float] = field(default_factory=dict)  # unexchanged trigger_id -> issued at
    responses: list[tuple[str, Any]] = field(default_factory=list)
    violations: list[Violation] = field(default_factory=list)


class SlackStandIn(StandInServer):
    """Web API at /api/<method>, response URLs at /response/<id>, files at /files-pri/<team>-<id>/<name>."""

    def __init__(self, token: str = DEFAULT_TOKEN, *, team_id: str = "T0STANDIN", team: str = "Stand-in",
                 bot_user_id: str = "U0BRIEFBOT", bot_id: str = "B0BRIEFBOT", limits: SlackLimits | None = None,
                 strict_channels: bool = False) -> None:
        """`limits`: enforce these rate limits (None: no limits). `strict_channels`: unknown channel ids
        are `channel_not_found` (by default they become public channels the bot is in)."""
        super().__init__()
        self.token = token
        self.team_id, self.team, self.bot_user_id, self.bot_id = team_id, team, bot_user_id, bot_id
        self.limits = limits
        self.strict_channels = strict_channels
        self._state = _State()
        self._faults = FaultQueue()
        self._limiter = RateLimiter(limits.jitter if limits else 0.05)
        self._ids = count(1)
        self._handlers = {
            "auth.test": self._auth_test, "chat.postMessage": self._post_message, "users.info": self._users_info,
            "conversations.info": self._conversations_info, "files.info": self._files_info,
            "chat.update": self._chat_update, "views.publish": self._views_publish, "views.open": self._views_open,
        }

    # ----- URLs ---------------------------------------------------------------------------------

    @property
    def api_url(self) -> str:
        """For `WebClient(base_url=...)` / `AsyncWebClient(base_url=...)`."""
        return f"{self.url}/api/"

    def new_response_url(self) -> str:
        return f"{self.url}/response/R{next(self._ids):08d}"

    # ----- test controls ------------------------------------------------------------------------

    def enforce_limits(self, limits: SlackLimits | None = None) -> None:
        self.limits = limits or SlackLimits()
        self._limiter = RateLimiter(self.limits.jitter)

    def relax_limits(self) -> None:
        self.limits = None

    def fail_next(self, channel: str, fault: SlackFault, count: int = 1, method: str = "chat.postMessage") -> None:
        self._faults.add(f"{method}:{channel}", fault, count)

    def add_channel(self, channel_id: str, name: str | None = None, *, is_member: bool = True,
                    is_private: bool = False, is_im: bool = False, is_archived: bool = False,
                    user: str | None = None) -> dict:
        """A conversation: public/private channel, or a DM (`is_im`, with `user`)."""
        channel: dict[str, Any] = {
            "id": channel_id, "created": int(time.time()), "is_archived": is_archived, "is_im": is_im,
            "is_channel": not is_im and not is_private, "is_group": is_private, "is_private": is_private or is_im,
            "is_mpim": False, "is_member": is_member, "context_team_id": self.team_id,
        }
        if is_im:
            channel["user"] = user or "U0000USER"
        else:
            channel["name"] = name or channel_id.lower()
        with self._lock:
            self._state.channels[channel_id] = channel
        return channel

    def set_user(self, user_id: str, *, name: str = "ada", real_name: str = "Ada Lovelace", is_admin: bool = False,
                 is_owner: bool = False, is_bot: bool = False, tz: str = "Europe/London",
                 locale: str = "en-US") -> dict:
        """A workspace member; `locale` ("de-DE") is told only to users.info with include_locale."""
        user = {"id": user_id, "team_id": self.team_id, "name": name, "real_name": real_name, "deleted": False,
                "tz": tz, "tz_offset": 0, "is_admin": is_admin, "is_owner": is_owner,
                "is_primary_owner": False, "is_restricted": False, "is_ultra_restricted": False, "is_bot": is_bot,
                "is_app_user": False, "profile": {"real_name": real_name, "display_name": name}, "locale": locale}
        with self._lock:
            self._state.users[user_id] = user
        return {k: v for k, v in user.items() if k != "locale"}

    def set_locale(self, user_id: str, locale: str) -> None:
        """Change a known user's language setting (e.g. "es-ES")."""
        with self._lock:
            self._state.users[user_id]["locale"] = locale

    def new_trigger_id(self) -> str:
        """A trigger_id as an interaction carries it; views.open takes it once, within 3 seconds."""
        number = next(self._ids)
        trigger_id = f"{int(time.time())}.{number}.{number * 2654435761 % 16 ** 12:012x}"
        with self._lock:
            self._state.triggers[trigger_id] = time.monotonic()
        return trigger_id

    def add_file(self, content: bytes, name: str = "feeds.opml", mimetype: str = "text/x-opml",
                 filetype: str = "xml", user: str = "U0000USER") -> dict:
        """A file someone shared; `url_private` needs the bot token (without it: a login page, as Slack does)."""
        file_id = f"F{next(self._ids):08d}"
        url = f"{self.url}/files-pri/{self.team_id}-{file_id}/{name}"
        meta = {"id": file_id, "created": int(time.time()), "timestamp": int(time.time()), "name": name,
                "title": name, "mimetype": mimetype, "filetype": filetype, "user": user, "size": len(content),
                "url_private": url, "url_private_download": f"{url}?download=1", "is_public": False}
        with self._lock:
            self._state.files[file_id] = _File(meta, content)
        return meta

    def slash_command_body(self, command: str, text: str = "", **kwargs: Any) -> bytes:
        """A slash command in this workspace whose response_url points here (its trigger_id opens a modal)."""
        kwargs.setdefault("response_url", self.new_response_url())
        kwargs.setdefault("team_id", self.team_id)
        kwargs.setdefault("trigger_id", self.new_trigger_id())
        return slash_command_body(command, text, **kwargs)

    def event_body(self, event: dict) -> bytes:
        return event_callback_body(event, team_id=self.team_id, bot_user_id=self.bot_user_id)

    def app_home_opened_body(self, user_id: str, channel_id: str | None = None) -> bytes:
        """The Events API body when `user_id` opens the Home tab (with the view last published for them);
        `channel_id` is their DM with the app."""
        with self._lock:
            view = self._state.home_views.get(user_id)
        return self.event_body(app_home_opened_event(user_id, channel_id or f"D{user_id.lstrip('U')}",
                                                     view=view))

    def block_actions_payload(self, action_id: str, *, user_id: str, channel_id: str | None = None,
                              message_ts: str | None = None, value: str | None = None,
                              block_id: str | None = None, require_button: bool = True) -> dict:
        """A person presses the button `action_id` on a message the bot posted (the channel's latest, or
        the one at `message_ts`): the `block_actions` payload, with a response_url here and a fresh
        trigger_id. `value` defaults to the button's; `require_button=False` presses a button the message
        does not have (a forged or stale payload: then `block_id`/`value` are taken as given)."""
        with self._lock:
            candidates = [m for m in self._state.posted
                          if (channel_id is None or m["channel"] == channel_id)
                          and (message_ts is None or m["ts"] == message_ts)]
        if not candidates:
            raise ValueError(f"the bot posted no message {message_ts or ''} in {channel_id or 'any channel'}")
        stored = candidates[-1]
        message = {k: v for k, v in stored.items() if k != "channel"}
        action = self._pressed(message.get("blocks", []), action_id, value, block_id, require_button)
        channel = self._channel(stored["channel"])
        return block_actions_payload(
            action, user=self._interaction_user(user_id), team=self._team(), api_app_id="A0STANDIN",
            trigger_id=self.new_trigger_id(),
            container={"type": "message", "message_ts": stored["ts"], "channel_id": stored["channel"],
                       "is_ephemeral": False},
            channel={"id": stored["channel"], "name": channel.get("name", "directmessage")}, message=message,
            response_url=self.new_response_url())

    def home_block_actions_payload(self, action_id: str, *, user_id: str, value: str | None = None,
                                   require_button: bool = True) -> dict:
        """A press on a button of the Home tab published for `user_id` (a `view` container, no response_url)."""
        with self._lock:
            view = self._state.home_views.get(user_id)
        if view is None:
            raise ValueError(f"no Home tab was published for {user_id}")
        action = self._pressed(view["blocks"], action_id, value, None, require_button)
        return block_actions_payload(
            action, user=self._interaction_user(user_id), team=self._team(), api_app_id="A0STANDIN",
            trigger_id=self.new_trigger_id(), container={"type": "view", "view_id": view["id"]}, view=view)

    def view_submission_payload(self, values: dict[str, dict[str, Any]], *, user_id: str,
                                view_id: str | None = None) -> dict:
        """The person submits a modal the bot opened (the latest, or `view_id`). `values` maps block_id ->
        action_id -> what was entered: a string (for a plain_text_input) or the element's state object.
        Every block_id/action_id must be an input of the view."""
        with self._lock:
            views = [v for v in self._state.opened_views if view_id is None or v["id"] == view_id]
        if not views:
            raise ValueError("the bot opened no such modal")
        view = views[-1]
        inputs = {b.get("block_id"): b.get("element", {}) for b in view["blocks"] if b.get("type") == "input"}
        state: dict[str, dict[str, Any]] = {}
        for block_id, entered in values.items():
            for action_id, value in entered.items():
                element = inputs.get(block_id)
                if element is None or element.get("action_id") != action_id:
                    raise ValueError(f"the modal has no input {block_id}/{action_id}")
                state.setdefault(block_id, {})[action_id] = (
                    {"type": element.get("type", "plain_text_input"), "value": value} if isinstance(value, str)
                    else value)
        return view_submission_payload(view, state, user=self._interaction_user(user_id), team=self._team(),
                                       api_app_id="A0STANDIN", trigger_id=self.new_trigger_id())

    def _interaction_user(self, user_id: str) -> dict:
        with self._lock:
            known = self._state.users.get(user_id, {})
        return interaction_user(user_id, team_id=self.team_id, username=known.get("name", "ada"))

    def _team(self) -> dict:
        return {"id": self.team_id, "domain": "standin"}

    @staticmethod
    def _pressed(blocks: list, action_id: str, value: str | None, block_id: str | None,
                 require_button: bool) -> dict:
        for block in blocks:
            elements = block.get("elements", []) if block.get("type") == "actions" else [block.get("accessory")]
            for element in elements:
                if isinstance(element, dict) and element.get("type") == "button" and \
                        element.get("action_id") == action_id:
                    return button_action(element, block.get("block_id", ""), value=value)
        if require_button:
            raise ValueError(f"no button with action_id {action_id!r} there")
        return button_action({"action_id": action_id, "text": {"type": "plain_text", "text": action_id}},
                             block_id or "forged", value=value or "")

    # ----- what the bot did ---------------------------------------------------------------------

    def posted_messages(self, channel: str | None = None) -> list[dict]:
        """Messages posted with chat.postMessage (as stored by Slack), oldest first."""
        with self._lock:
            return [m for m in self._state.posted if channel is None or m["channel"] == channel]

    def updated_messages(self, channel: str | None = None) -> list[dict]:
        """Messages as chat.update left them, one entry per successful call, oldest first."""
        with self._lock:
            return [m for m in self._state.updated if channel is None or m["channel"] == channel]

    def home_view(self, user_id: str) -> dict | None:
        """The Home tab last published for `user_id` (as Slack stores it), or None."""
        with self._lock:
            return self._state.home_views.get(user_id)

    def opened_views(self) -> list[dict]:
        """Modals opened with views.open, oldest first."""
        with self._lock:
            return list(self._state.opened_views)

    def sent_per_channel(self) -> Counter[str]:
        with self._lock:
            return Counter(m["channel"] for m in self._state.posted)

    def responses(self, response_url: str | None = None) -> list[Any]:
        """JSON bodies posted to response URLs (all, or one URL's), oldest first."""
        wanted = response_url.rsplit("/", 1)[-1] if response_url else None
        with self._lock:
            return [body for key, body in self._state.responses if wanted is None or key == wanted]

    def violations(self) -> list[Violation]:
        with self._lock:
            return list(self._state.violations)

    # ----- routes -------------------------------------------------------------------------------

    def _routes(self) -> list[web.RouteDef]:
        return [
            web.route("*", "/api/{method}", self._api),
            web.post("/response/{key}", self._response_url),
            web.get("/files-pri/{team_file}/{name}", self._download),
        ]

    def _authorized(self, request: web.Request) -> str | None:
        """None when the bearer token is right, else the error Slack gives."""
        header = request.headers.get("Authorization", "")
        if not header.startswith("Bearer ") or not header[7:].strip():
            return "not_authed"
        return None if header[7:].strip() == self.token else "invalid_auth"

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        try:
            params, files = await read_params(request)
            body_error = None
        except BodyError as exc:
            params, files, body_error = {}, {}, exc
        params = {k: self._decode(k, v) for k, v in params.items()}
        call = self._record(Call(method, params, files, time.monotonic(), request.method, f"/api/{method}"))
        headers: dict[str, str] = {}
        try:
            if method not in self._handlers:
                raise SlackError("unknown_method")
            if (auth_error := self._authorized(request)) is not None:
                raise SlackError(auth_error)
            if body_error:
                raise SlackError("invalid_json")
            status, body = 200, {"ok": True, **await self._handlers[method](params, call)}
        except SlackError as exc:
            status, body = exc.status, exc.body()
            if method not in self._handlers:
                body["req_method"] = method
            if exc.retry_after is not None:
                headers["Retry-After"] = str(exc.retry_after)
        self._answer(call, status, body)
        return web.json_response(body, status=status, headers=headers)

    @staticmethod
    def _decode(name: str, value: Any) -> Any:
        """Form bodies carry blocks and attachments as JSON strings."""
        if name in _JSON_PARAMS and isinstance(value, str):
            try:
                return json.loads(value)
            except ValueError:
                return value  # reported as invalid_blocks_format by the handler
        return value

    async def _response_url(self, request: web.Request) -> web.Response:
        key = request.match_info["key"]
        raw = await request.read()
        try:
            body: Any = json.loads(raw)
        except ValueError:
            body = raw.decode(errors="replace")
        call = self._record(Call("response_url", {"key": key, "body": body}, {}, time.monotonic(), "POST",
                                 f"/response/{key}"))
        if not isinstance(body, dict):
            self._answer(call, 400, "invalid_payload")
            return web.Response(status=400, text="invalid_payload")
        with self._lock:
            self._state.responses.append((key, body))
        self._answer(call, 200, "ok")
        return web.Response(text="ok")

    async def _download(self, request: web.Request) -> web.Response:
        team, _, file_id = request.match_info["team_file"].partition("-")
        call = self._record(Call("file", {"file": file_id}, {}, time.monotonic(), "GET", request.path))
        with self._lock:
            found = self._state.files.get(file_id)
        if found is None or team != self.team_id:
            self._answer(call, 404, "file_not_found")
            return web.Response(status=404, text="Not Found")
        if self._authorized(request) is not None:
            # Slack answers an unauthenticated download with its sign-in page, not an error status.
            self._answer(call, 200, "login page")
            return web.Response(text=_LOGIN_PAGE, content_type="text/html")
        self._answer(call, 200, {"bytes": len(found.data)})
        return web.Response(body=found.data, content_type=found.meta["mimetype"])

    # ----- methods ------------------------------------------------------------------------------

    async def _auth_test(self, params: dict, call: Call) -> dict:
        return {"url": f"{self.url}/", "team": self.team, "user": "briefbot", "team_id": self.team_id,
                "user_id": self.bot_user_id, "bot_id": self.bot_id, "is_enterprise_install": False}

    def _channel(self, channel_id: Any) -> dict:
        if not channel_id or not isinstance(channel_id, str):
            raise SlackError("channel_not_found")
        with self._lock:
            channel = self._state.channels.get(channel_id)
        if channel is None:
            if self.strict_channels or channel_id[0] not in "CDG":
                raise SlackError("channel_not_found")
            channel = self.add_channel(channel_id, is_im=channel_id.startswith("D"),
                                       is_private=channel_id.startswith("G"))
        return channel

    async def _post_message(self, params: dict, call: Call) -> dict:
        channel = self._channel(params.get("channel"))
        text, blocks, attachments = params.get("text"), params.get("blocks"), params.get("attachments")
        if not text and not blocks and not attachments:
            raise SlackError("no_text")
        if blocks is not None:
            validate_blocks(blocks)
        if isinstance(text, str) and len(text) > MAX_MESSAGE_TEXT:
            raise SlackError("msg_too_long")

        def deliver() -> dict:
            stamp = f"{int(time.time())}.{next(self._ids):06d}"
            message: dict[str, Any] = {"type": "message", "user": self.bot_user_id, "bot_id": self.bot_id,
                                       "text": text or "", "ts": stamp, "team": self.team_id}
            if blocks:
                message["blocks"] = blocks
            if attachments:
                message["attachments"] = attachments
            if params.get("thread_ts"):
                message["thread_ts"] = str(params["thread_ts"])
            with self._lock:
                self._state.posted.append({**message, "channel": channel["id"]})
            return {"channel": channel["id"], "ts": stamp, "message": message}

        if channel["is_archived"]:
            raise SlackError("is_archived")
        if not channel["is_member"] and not channel["is_im"]:
            raise SlackError("not_in_channel")
        # Injected fault, then rate limits, then the post. A slow fault that delivers posts (counted
        # against the limits like any other) and only then waits before answering.
        fault: SlackFault | None = self._faults.take(f"chat.postMessage:{channel['id']}")
        if fault is not None and not fault.deliver:
            await self._sleep(fault.delay)
            raise SlackError(fault.error, fault.status, fault.retry_after)
        self._check_limits("chat.postMessage", channel["id"], call)
        result = deliver()
        if fault is not None:
            await self._sleep(fault.delay)
        return result

    def _check_limits(self, method: str, channel_id: str, call: Call) -> None:
        limits = self.limits
        if limits is None or method not in limits.methods:
            return
        over = self._limiter.admit([("per_channel", channel_id, limits.per_channel)], call.at)
        if over is not None:
            name, key, retry_after = over
            with self._lock:
                self._state.violations.append(Violation(name, key, method, call.at, retry_after))
            raise SlackError("ratelimited", 429, retry_after)

    async def _users_info(self, params: dict, call: Call) -> dict:
        with self._lock:
            user = self._state.users.get(str(params.get("user") or ""))
        if user is None:
            raise SlackError("user_not_found")
        if not _true(params.get("include_locale")):
            user = {k: v for k, v in user.items() if k != "locale"}
        return {"user": dict(user)}

    async def _chat_update(self, params: dict, call: Call) -> dict:
        channel = self._channel(params.get("channel"))
        text, blocks = params.get("text"), params.get("blocks")
        with self._lock:
            found = next((m for m in self._state.posted
                          if m["channel"] == channel["id"] and m["ts"] == str(params.get("ts") or "")), None)
        if found is None:
            raise SlackError("message_not_found")
        if not text and not blocks and not params.get("attachments"):
            raise SlackError("no_text")
        if blocks is not None:
            validate_blocks(blocks)
        if isinstance(text, str) and len(text) > MAX_MESSAGE_TEXT:
            raise SlackError("msg_too_long")
        with self._lock:
            if text is not None:
                found["text"] = text
            if blocks is not None:
                found["blocks"] = blocks
            found["edited"] = {"user": self.bot_user_id, "ts": f"{int(time.time())}.000000"}
            self._state.updated.append(json.loads(json.dumps(found)))
            message = {k: v for k, v in found.items() if k != "channel"}
        return {"channel": channel["id"], "ts": found["ts"], "text": found["text"], "message": message}

    async def _views_publish(self, params: dict, call: Call) -> dict:
        user_id = str(params.get("user_id") or "")
        with self._lock:
            known = user_id in self._state.users
            current = self._state.home_views.get(user_id)
        if not known and not re.fullmatch(r"[UW][A-Z0-9]{2,}", user_id):
            raise SlackError("user_not_found")
        view = self._checked_view(params.get("view"), "home")
        if params.get("hash") and current is not None and params["hash"] != current["hash"]:
            raise SlackError("hash_conflict")
        stored = self._stored_view(view, current["id"] if current else None)
        with self._lock:
            self._state.home_views[user_id] = stored
        return {"view": stored}

    async def _views_open(self, params: dict, call: Call) -> dict:
        trigger_id = str(params.get("trigger_id") or "")
        view = self._checked_view(params.get("view"), "modal")
        with self._lock:
            issued = self._state.triggers.pop(trigger_id, None)
        if not _TRIGGER_ID.fullmatch(trigger_id):
            raise SlackError("invalid_trigger_id")
        if issued is None:
            raise SlackError("exchanged_trigger_id")  # already used, or never issued by this workspace
        if time.monotonic() - issued > TRIGGER_LIFETIME:
            raise SlackError("expired_trigger_id")
        stored = self._stored_view(view, None)
        with self._lock:
            self._state.opened_views.append(stored)
        return {"view": stored}

    def _checked_view(self, view: Any, kind: str) -> dict:
        """A view checked as views.publish / views.open check it (invalid_arguments, with pointers)."""
        if not isinstance(view, dict):
            raise SlackError("invalid_arguments", messages=["[ERROR] missing required field: view"])
        if view.get("type") != kind:
            raise SlackError("invalid_arguments",
                             messages=[f"[ERROR] must be {kind} [json-pointer:/view/type]"])
        if "blocks" not in view:
            raise SlackError("invalid_arguments", messages=["[ERROR] missing required field: blocks"])
        validate_blocks(view["blocks"], MAX_VIEW_BLOCKS, "/view/blocks", "invalid_arguments")
        if kind == "modal":
            if "title" not in view:
                raise SlackError("invalid_arguments", messages=["[ERROR] missing required field: title"])
            has_input = any(isinstance(b, dict) and b.get("type") == "input" for b in view["blocks"])
            if has_input and "submit" not in view:
                raise SlackError("invalid_arguments", messages=["[ERROR] must provide submit when using input "
                                                                "blocks [json-pointer:/view/submit]"])
            for name in ("title", "submit", "close"):
                if name in view:
                    try:
                        _check_text(view[name], MAX_VIEW_TEXT, f"/view/{name}", ("plain_text",))
                    except SlackError as exc:
                        exc.error = "invalid_arguments"
                        raise
        return view

    def _stored_view(self, view: dict, view_id: str | None) -> dict:
        """A view as Slack returns and stores it: the app's fields plus Slack's own."""
        view_id = view_id or f"V{next(self._ids):08d}"
        stored = {"id": view_id, "team_id": self.team_id, "type": view["type"], "blocks": view["blocks"],
                  "private_metadata": view.get("private_metadata", ""), "callback_id": view.get("callback_id", ""),
                  "state": {"values": {}}, "hash": f"{int(time.time())}.{next(self._ids):08x}",
                  "clear_on_close": bool(view.get("clear_on_close", False)),
                  "notify_on_close": bool(view.get("notify_on_close", False)), "root_view_id": view_id,
                  "previous_view_id": None, "app_id": "A0STANDIN", "external_id": view.get("external_id", ""),
                  "app_installed_team_id": self.team_id, "bot_id": self.bot_id}
        for name in ("title", "submit", "close"):
            if name in view:
                stored[name] = view[name]
        return stored

    async def _conversations_info(self, params: dict, call: Call) -> dict:
        return {"channel": self._channel(params.get("channel"))}

    async def _files_info(self, params: dict, call: Call) -> dict:
        with self._lock:
            found = self._state.files.get(str(params.get("file") or ""))
        if found is None:
            raise SlackError("file_not_found")
        return {"file": found.meta, "comments": [], "response_metadata": {"next_cursor": ""}}


def _true(value: Any) -> bool:
    """A boolean argument as Slack reads it from JSON or a form ("true", "1")."""
    return value is True or value == 1 or (isinstance(value, str) and value.lower() in ("true", "1"))
