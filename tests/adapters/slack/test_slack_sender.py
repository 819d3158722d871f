"""The Slack `Sender` (alerts and digests from the delivery loop) against the Slack stand-in."""

from __future__ import annotations

import socket

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters.slack import SlackAdapter, SlackSender
from bot.adapters.slack.sender import FORBIDDEN_ERRORS
from bot.domain.models import BriefItem, ChatRef, Link, Message
from bot.services.sending import SendError
from tests.support.standins.slack import SlackFault, SlackLimits, SlackStandIn

SIGNING_SECRET = "0b6f2a1c9d8e7f6a5b4c3d2e1f0a9b8c"


class NoCommands:
    async def handle(self, incoming):
        raise AssertionError("the sender tests send no commands")


@pytest.fixture
def slack():
    with SlackStandIn() as stand_in:
        yield stand_in


@pytest.fixture
def sender(slack) -> SlackSender:
    adapter = SlackAdapter(NoCommands(), bot_token=slack.token, mode="http", signing_secret=SIGNING_SECRET,
                           api_base_url=slack.api_url, timeout_s=1)
    return adapter.sender


def chat(channel: str = "C0NEWS", thread: str | None = None) -> ChatRef:
    return ChatRef("slack", channel, thread)


ALERT = Message(kind="alert", heading="Alert: climate",
                items=[BriefItem(headline="Heat record", points=["It was hot."],
                                 links=[Link("Example", "https://example.com/heat")])])


async def send(sender: SlackSender, message: Message, where: ChatRef) -> list[str | None]:
    return [await sender.send_part(where, part) for part in sender.render(message)]


async def test_a_sixty_item_digest_goes_out_as_several_valid_messages(slack, sender):
    items = [BriefItem(headline=f"Story {n}", points=["A point. " * 30] * 2,
                       links=[Link(f"Source {n}", f"https://example.com/{n}")]) for n in range(60)]
    ids = await send(sender, Message(kind="digest", heading="Digest", items=items), chat(thread="1700.0001"))
    posted = slack.posted_messages("C0NEWS")
    assert len(posted) == len(ids) >= 2 and ids == [m["ts"] for m in posted]
    assert all(m["thread_ts"] == "1700.0001" for m in posted)
    sections = [b["text"]["text"] for m in posted for b in m["blocks"] if b["type"] == "section"]
    assert len(sections) == 60 and max(len(s) for s in sections) <= 3000
    assert all(len(m["blocks"]) <= 50 for m in posted)
    (first, *_) = slack.calls("chat.postMessage")
    assert first.params["unfurl_links"] in (False, "false", "0", 0)


@pytest.mark.parametrize("error", sorted(FORBIDDEN_ERRORS))
async def test_errors_meaning_the_bot_cannot_post_there_are_forbidden(slack, sender, error):
    slack.fail_next("C0GONE", SlackFault.error_code(error))
    with pytest.raises(SendError) as raised:
        await send(sender, ALERT, chat("C0GONE"))
    assert (raised.value.outcome, raised.value.detail) == ("forbidden", error)


async def test_removed_and_archived_channels_are_forbidden(slack, sender):
    slack.add_channel("C0LEFT", "left", is_member=False)
    slack.add_channel("C0OLD", "old", is_archived=True)
    outcomes = []
    for channel in ("C0LEFT", "C0OLD", "X0NOWHERE"):
        with pytest.raises(SendError) as raised:
            await send(sender, ALERT, chat(channel))
        outcomes.append((raised.value.outcome, raised.value.detail))
    assert outcomes == [("forbidden", "not_in_channel"), ("forbidden", "is_archived"),
                        ("forbidden", "channel_not_found")]


async def test_ratelimited_carries_retry_after(slack, sender):
    slack.fail_next("C0NEWS", SlackFault.ratelimited(retry_after=7))
    with pytest.raises(SendError) as raised:
        await send(sender, ALERT, chat())
    assert (raised.value.outcome, raised.value.retry_after) == ("rate_limited", 7.0)
    assert len(slack.calls("chat.postMessage")) == 1  # delivery waits, not the client


async def test_a_burst_over_the_channel_limit_is_rate_limited(slack, sender):
    slack.enforce_limits(SlackLimits())
    outcomes = []
    for _ in range(6):
        try:
            await send(sender, ALERT, chat())
            outcomes.append("sent")
        except SendError as exc:
            outcomes.append(exc.outcome)
            assert exc.retry_after and exc.retry_after >= 1
    assert outcomes[:3] == ["sent"] * 3 and "rate_limited" in outcomes


async def test_rejected_content_is_final(slack, sender):
    too_many = {"text": "x", "blocks": [{"type": "divider"}] * 51}
    too_long = {"text": "x" * 40_001, "blocks": []}
    outcomes = []
    for part in (too_many, too_long):
        with pytest.raises(SendError) as raised:
            await sender.send_part(chat(), part)
        outcomes.append((raised.value.outcome, raised.value.detail))
    assert outcomes == [("final", "invalid_blocks"), ("final", "msg_too_long")]


async def test_a_bad_token_is_final_not_forbidden(slack):
    sender = SlackSender(AsyncWebClient(token="xoxb-revoked-long-ago", base_url=slack.api_url, retry_handlers=[]))
    with pytest.raises(SendError) as raised:
        await send(sender, ALERT, chat())
    assert (raised.value.outcome, raised.value.detail) == ("final", "invalid_auth")


async def test_a_server_error_is_retried_by_delivery_not_by_the_client(slack, sender):
    slack.fail_next("C0NEWS", SlackFault.server_error())
    with pytest.raises(SendError) as raised:
        await send(sender, ALERT, chat())
    assert raised.value.outcome == "retry"
    assert len(slack.calls("chat.postMessage")) == 1 and slack.posted_messages() == []


async def test_no_connection_is_retry():
    with socket.socket() as closed:  # a port nobody listens on
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    sender = SlackSender(AsyncWebClient(token="xoxb-x", base_url=f"http://127.0.0.1:{port}/api/", retry_handlers=[]))
    with pytest.raises(SendError) as raised:
        await send(sender, ALERT, chat())
    assert raised.value.outcome == "retry"


async def test_a_timeout_after_sending_is_unknown(slack, sender):
    slack.fail_next("C0NEWS", SlackFault.slow(3, deliver=True))  # posted at once, answered too late
    with pytest.raises(SendError) as raised:
        await send(sender, ALERT, chat())
    assert raised.value.outcome == "unknown"
    assert len(slack.posted_messages("C0NEWS")) == 1  # which is why delivery must not resend blindly
