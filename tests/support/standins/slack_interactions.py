"""What Slack sends an app when a person taps: interaction payloads and the App Home event.

Interactions (`block_actions` for a button, `view_submission` for a modal's submit) arrive as a form
body with one field, `payload=<json>`, signed like every Slack request; `app_home_opened` is an Events
API delivery. The builders here produce those shapes; `SlackStandIn` fills them from what the bot
posted or published (see its `block_actions_payload`, `view_submission_payload`, `app_home_opened_body`).

    body = interaction_body(slack.block_actions_payload("pause_feed", user_id="U1", channel_id="C1"))
    status, text = await post_signed(bot_url, body, SIGNING_SECRET)  # from tests.support.standins.slack
"""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import urlencode


def interaction_user(user_id: str, *, team_id: str, username: str = "ada") -> dict:
    return {"id": user_id, "username": username, "name": username, "team_id": team_id}


def block_actions_payload(action: dict, *, user: dict, team: dict, api_app_id: str, trigger_id: str,
                          container: dict, channel: dict | None = None, message: dict | None = None,
                          view: dict | None = None, response_url: str | None = None) -> dict:
    """A `block_actions` payload for one pressed element (`action`: action_id, block_id, type, value...).

    A button on a message has a `message` container with `channel`, `message` and a `response_url`;
    one in a view (App Home, a modal) has a `view` container and the `view` instead.
    """
    payload: dict[str, Any] = {
        "type": "block_actions", "user": user, "api_app_id": api_app_id, "token": "verification-token-unused",
        "container": container, "trigger_id": trigger_id, "team": team, "enterprise": None,
        "is_enterprise_install": False,
    }
    if channel is not None:
        payload["channel"] = channel
    if message is not None:
        payload["message"] = message
    if view is not None:
        payload["view"] = view
    payload["state"] = {"values": {}}
    if response_url is not None:
        payload["response_url"] = response_url
    payload["actions"] = [action]
    return payload


def button_action(button: dict, block_id: str, *, value: str | None = None) -> dict:
    """The `actions[]` entry for a press on `button` (a Block Kit button element)."""
    action = {"action_id": button["action_id"], "block_id": block_id, "text": button["text"],
              "value": button.get("value", "") if value is None else value, "type": "button",
              "action_ts": f"{time.time():.6f}"}
    if "style" in button:
        action["style"] = button["style"]
    return action


def view_submission_payload(view: dict, values: dict[str, dict[str, Any]], *, user: dict, team: dict,
                            api_app_id: str, trigger_id: str) -> dict:
    """A `view_submission` payload: `view` as Slack stores it, with `state.values` filled in."""
    return {
        "type": "view_submission", "team": team, "user": user, "api_app_id": api_app_id,
        "token": "verification-token-unused", "trigger_id": trigger_id,
        "view": {**view, "state": {"values": values}}, "response_urls": [], "is_enterprise_install": False,
        "enterprise": None,
    }


def app_home_opened_event(user_id: str, channel_id: str, *, view: dict | None = None) -> dict:
    """The event when a person opens the app's Home tab; `view` is the one last published for them."""
    event: dict[str, Any] = {"type": "app_home_opened", "user": user_id, "channel": channel_id, "tab": "home",
                             "event_ts": f"{time.time():.6f}"}
    if view is not None:
        event["view"] = view
    return event


def interaction_body(payload: dict) -> bytes:
    """The form body Slack posts for an interaction: `payload=<json>`."""
    return urlencode({"payload": json.dumps(payload)}).encode()

