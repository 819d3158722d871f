"""Every command through the real services, wired as `bot.main` wires them: signed Slack requests to
the bot's aiohttp server, the real command service on a SQLite file, feeds and articles from a local
server, and the delivery loop posting alerts with the Slack sender to the stand-in."""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from email.utils import format_datetime

import aiohttp
import pytest

from bot.adapters.slack import SlackAdapter
from bot.adapters.slack.platform import LIMITS as SLACK_LIMITS
from bot.runtime.clock import utcnow
from bot.runtime.http_server import HttpServer
from bot.main import Services, build_services
from bot.services.delivery import DeliveryLoop
from bot.settings import Settings
from tests.support.feedserver import FeedServer
from tests.support.standins.slack import SlackStandIn, app_mention_event, message_event, sign_slack_request

SIGNING_SECRET = "3c5e7a9b1d2f4e6a8c0b2d4f6a8c0e2b"
ADMIN, MEMBER, LISTED = "U0ADMIN", "U0MEMBER", "U0LISTED"
CHANNEL = "C0NEWS"


def rss(*items: tuple[str, str, str]) -> str:
    when = format_datetime(utcnow())
    entries = "".join(f"<item><title>{title}</title><link>{link}</link><guid>{link}</guid>"
                      f"<pubDate>{when}</pubDate><description>{text}</description></item>"
                      for title, link, text in items)
    return (f'<?xml version="1.0"?><rss version="2.0"><channel><title>Hostile &amp; Co &lt;!here&gt;</title>'
            f"<link>https://example.com/</link><description>news</description>{entries}</channel></rss>")


STORIES = [
    # Escaped twice: feedparser strips markup from titles, but text that reads as markup survives.
    ("&amp;lt;!everyone&amp;gt; Climate talks &amp;amp; the &amp;lt;b&amp;gt;deal&amp;lt;/b&amp;gt;",
     "https://example.com/climate",
     "Negotiators reached a climate agreement late on Friday. The deal sets targets for every country. "
     "Observers called it a turning point for the summit."),
    ("Markets rally &amp;lt;https://evil.example|click here&amp;gt; &amp;lt;!channel&amp;gt;",
     "https://example.com/markets",
     "Stocks rose across the region on Monday. Investors welcomed the latest figures. "
     "Trading volumes were higher than usual."),
]
ARTICLE = """<html><head><title>Rivers rise after the storm</title></head><body><article>
<h1>Rivers rise after the storm</h1>
<p>Heavy rain over the weekend pushed rivers across the valley to their highest level in a decade.</p>
<p>Emergency crews worked through the night to reinforce the banks near the old town bridge.</p>
<p>Residents in low-lying streets were asked to move their cars and stay ready to leave their homes.</p>
<p>Forecasters expect the water to fall slowly over the coming days as the weather turns drier.</p>
</article></body></html>"""


@dataclass
class Running:
    services: Services
    adapter: SlackAdapter
    slack: SlackStandIn
    feeds: FeedServer
    url: str
    session: aiohttp.ClientSession

    async def post(self, body: bytes) -> int:
        async with self.session.post(self.url, data=body, headers=sign_slack_request(body, SIGNING_SECRET)) as r:
            await r.read()
            return r.status

    async def command(self, command: str, text: str = "", *, user: str = ADMIN, channel: str = CHANNEL) -> str:
        """Run a slash command; returns the text of the answer posted to its response_url."""
        response_url = self.slack.new_response_url()
        body = self.slack.slash_command_body(command, text, user_id=user, channel_id=channel,
                                            response_url=response_url)
        assert await self.post(body) == 200
        await self.slack.await_calls("response_url", where=lambda c: response_url.endswith(c.params["key"]),
                                     timeout=30)
        return "\n".join(shown(body) for body in self.slack.responses(response_url))

    async def event(self, event: dict, posts_before: int) -> str:
        """Send an event; returns the text of the answer the bot posted with chat.postMessage."""
        assert await self.post(self.slack.event_body(event)) == 200
        calls = await self.slack.await_calls("chat.postMessage", count=posts_before + 1, timeout=30)
        return shown(calls[-1].params)


def shown(body: dict) -> str:
    texts = []
    for block in body["blocks"]:
        if block["type"] in ("section", "header"):
            texts.append(block["text"]["text"])
        elif block["type"] == "context":
            texts += [element["text"] for element in block["elements"]]
    return "\n".join(texts)


@pytest.fixture
def slack():
    with SlackStandIn() as stand_in:
        stand_in.set_user(ADMIN, is_admin=True)
        stand_in.set_user(MEMBER)
        yield stand_in


@pytest.fixture
def feeds():
    with FeedServer() as server:
        server.serve("/feed.xml", rss(*STORIES))
        server.serve("/story.html", ARTICLE, content_type="text/html; charset=utf-8")
        yield server


@pytest.fixture
async def running(slack, feeds, tmp_path):
    settings = Settings(_env_file=None, data_dir=tmp_path, allow_private_networks=True, summarizer_backend="lead",
                        slack_bot_token=slack.token, slack_mode="http", slack_signing_secret=SIGNING_SECRET,
                        slack_api_base_url=slack.api_url, slack_admin_user_ids=[LISTED])
    services = build_services(settings)
    http = HttpServer("127.0.0.1", 0)
    adapter = SlackAdapter.from_settings(settings, services.commands, http)
    await http.start()
    await adapter.start()
    async with aiohttp.ClientSession() as session:
        yield Running(services, adapter, slack, feeds, f"http://127.0.0.1:{http.port}/slack/events", session)
    await adapter.stop()
    await http.stop()
    await services.aclose()


def assert_harmless(text: str) -> None:
    for dangerous in ("<!everyone>", "<!channel>", "<!here>", "<https://evil", "<b>"):
        assert dangerous not in text


async def test_help(running):
    text = await running.command("/briefbot-help", user=MEMBER)
    assert "/subscribe" in text and "/schedule" in text
    assert running.slack.responses()[0]["response_type"] == "ephemeral"


async def test_summary_of_a_link_and_of_pasted_text(running):
    link = await running.command("/summary", running.feeds.url("/story.html"), user=MEMBER)
    pasted = await running.command("/summary", "The council approved the new budget on Monday. It raises "
                                   "spending on schools and roads. Opposition members voted against it.")
    assert link.startswith("*Rivers rise after the storm*") and "highest level in a decade" in link
    assert f"<{running.feeds.url('/story.html')}|" in link
    assert "council approved the new budget" in pasted


async def test_settings_commands_are_for_admins_and_everyone_may_read(running):
    refused = await running.command("/subscribe", "climate", user=MEMBER)
    by_admin = await running.command("/subscribe", "climate", user=ADMIN)
    by_listed = await running.command("/subscribe", "\"North Korea\" missile", user=LISTED)
    listed = await running.command("/alerts", user=MEMBER)
    removed = await running.command("/unsubscribe", "climate", user=ADMIN)
    in_dm = await running.command("/subscribe", "elections", user=MEMBER, channel="D0MEMBER")
    assert "Only the admins" in refused
    assert "Alert set" in by_admin and "Alert set" in by_listed and "Alert set" in in_dm
    assert "climate" in listed and "North Korea" in listed
    assert "removed" in removed


async def test_sources_poll_digest_and_latest_with_hostile_feed_titles(running):
    feed_url = running.feeds.url("/feed.xml")
    refused = await running.command("/sources", f"add {feed_url}", user=MEMBER)
    added = await running.command("/sources", f"add {feed_url}")
    listing = await running.command("/sources", user=MEMBER)
    await running.services.ingestor.poll()
    digest = await running.command("/digest", user=MEMBER)  # groups stories with the real MiniLM model
    latest = await running.command("/summary", user=MEMBER)
    removed = await running.command("/sources", "remove 1")
    assert "Only the admins" in refused
    assert "Now following" in added and "Hostile &amp; Co" in added
    assert feed_url in listing
    for text in (added, listing, digest, latest):
        assert_harmless(text)
    assert "&lt;!everyone&gt; Climate talks &amp; the &lt;b&gt;deal&lt;/b&gt;" in digest
    assert "&lt;!channel&gt;" in latest and "<https://example.com/climate|" in digest
    assert removed == "Stopped following Hostile &amp; Co."


async def test_an_opml_file_shared_with_sources_imports_the_feeds(running):
    opml = (f'<?xml version="1.0"?><opml version="2.0"><head><title>t</title></head><body>'
            f'<outline type="rss" text="Local" xmlUrl="{running.feeds.url("/feed.xml")}"/></body></opml>').encode()
    shared = running.slack.add_file(opml, "feeds.opml")
    event = {**message_event("/sources", channel=CHANNEL, user=ADMIN), "subtype": "file_share", "files": [shared]}
    answer = await running.event(event, posts_before=0)
    listing = await running.command("/sources", user=MEMBER)
    assert "Imported 1 feed" in answer
    assert running.feeds.url("/feed.xml") in listing


async def test_schedule(running):
    refused = await running.command("/schedule", "07:30 Europe/Berlin", user=MEMBER)
    set_ = await running.command("/schedule", "07:30 Europe/Berlin")
    shown_ = await running.command("/schedule", user=MEMBER)  # looking is for everyone
    off = await running.command("/schedule", "off")
    assert "Only the admins" in refused
    assert "07:30 Europe/Berlin" in set_ and "07:30 Europe/Berlin" in shown_
    assert "turned off" in off


async def test_mentions_and_unknown_commands(running):
    unknown = await running.event(app_mention_event("<@U0BRIEFBOT> frobnicate now", channel=CHANNEL), 0)
    helped = await running.event(app_mention_event("<@U0BRIEFBOT> help", channel=CHANNEL), 1)
    assert "I don't know /frobnicate" in unknown
    assert "/subscribe" in helped


async def test_an_unknown_command_however_it_comes_gets_a_short_list_of_the_commands(running):
    help_text = await running.command("/briefbot-help", user=MEMBER)
    answers = {
        "subcommand": await running.command("/briefbot", "frobnicate now", user=MEMBER),
        # A slash command in the app's settings that this version does not know.
        "slash command": await running.command("/frobnicate", "now", user=MEMBER),
        "mention": await running.event(app_mention_event("<@U0BRIEFBOT> frobnicate now", channel=CHANNEL), 0),
        "direct message": await running.event(message_event("frobnicate now", channel="D0MEMBER",
                                                            channel_type="im", user=MEMBER), 1),
    }
    names = ("/summary", "/digest", "/subscribe", "/unsubscribe", "/alerts", "/sources", "/schedule",
             "/briefbot-help")
    for how, answer in answers.items():
        assert "I don't know /frobnicate." in answer and "Did you mean" not in answer, how
        assert all(name in answer for name in names), how  # every command by name, and where the details are
        assert len(answer.splitlines()) <= 2 and "e.g." not in answer, how  # short: the examples stay in the help
    assert all(name in help_text for name in names) and "e.g. /subscribe" in help_text
    assert "/help " not in "".join(answers.values())  # Slack keeps /help for itself
    typo = await running.command("/briefbot", "subscibe climate", user=MEMBER)
    assert "I don't know /subscibe. Did you mean /subscribe?" in typo


async def poll_and_deliver(running) -> None:
    """One poll cycle (alerts matched against its briefs), then every queued message sent to the stand-in."""
    await asyncio.to_thread(running.services.alerts.prepare)
    await running.services.ingestor.poll()
    delivery = DeliveryLoop(store=running.services.store, senders={"slack": running.adapter.sender},
                            limits={"slack": SLACK_LIMITS})
    try:
        await asyncio.wait_for(delivery.drain(), 30)
    finally:
        await delivery.stop()


async def test_an_alert_set_in_a_thread_is_delivered_to_that_thread(running):
    thread = "1700000000.000200"
    await running.event(app_mention_event("<@U0BRIEFBOT> subscribe climate", channel=CHANNEL, user=ADMIN,
                                          thread_ts=thread), 0)
    await running.command("/sources", f"add {running.feeds.url('/feed.xml')}")
    await poll_and_deliver(running)
    alerts = [m for m in running.slack.posted_messages(CHANNEL) if "Climate talks" in shown(m)]
    assert len(alerts) == 1 and alerts[0]["thread_ts"] == thread
    assert_harmless(shown(alerts[0])) and assert_harmless(alerts[0]["text"])


async def test_a_text_too_long_to_summarize_gets_a_short_answer_and_nothing_is_summarized(running):
    # A direct message can carry far more than a slash command; the limit is said, the text is not cut.
    long_text = "The council approved the new budget on Monday after a long debate. " * 400
    answer = await running.event(message_event(f"summary {long_text}", channel="D0MEMBER", channel_type="im",
                                               user=MEMBER), 0)
    assert f"That is {len(long_text.strip()):,} characters; I summarize up to 20,000" in answer
    assert "Send a link to the article instead." in answer and "council approved" not in answer


async def test_alerts_digests_and_briefs_show_the_publication_date_in_the_channel_time_zone(running):
    published = "Tue, 03 Mar 2026 06:30:00 +0000"  # 15:30 in Tokyo
    running.feeds.serve("/dated.xml", re.sub("<pubDate>[^<]*</pubDate>", f"<pubDate>{published}</pubDate>",
                                             rss(*STORIES)))
    await running.command("/schedule", "07:30 Asia/Tokyo")
    await running.command("/subscribe", "climate")
    await running.command("/sources", f"add {running.feeds.url('/dated.xml')}")
    await poll_and_deliver(running)
    [alert] = [m for m in running.slack.posted_messages(CHANNEL) if "Climate talks" in shown(m)]
    when = "Mar 3, 2026, 3:30\u202fPM"
    assert f"<https://example.com/climate|Hostile &amp; Co> · _{when}_" in shown(alert)
    assert when in await running.command("/summary", user=MEMBER)
    digest = await running.command("/digest", user=MEMBER)
    assert digest.count(when) == 2  # each story with its date


async def test_a_direct_message_follows_the_persons_slack_language_asked_once(running):
    running.slack.set_locale(MEMBER, "de-DE")
    help_ = await running.command("/briefbot-help", user=MEMBER, channel="D0MEMBER")
    assert "Ich verdichte Nachrichten zu Kurzfassungen" in help_
    assert "teile die Datei im Kanal mit der Nachricht /sources" in help_  # Slack's own words, translated
    dm = await running.event(message_event("alerts", user=MEMBER, channel="D0MEMBER", channel_type="im"),
                             posts_before=0)
    assert dm.startswith("Hier gibt es noch keine Stichwort-Alarme")
    in_channel = await running.command("/alerts", user=MEMBER)  # a channel is in English until /language
    assert in_channel.startswith("No keyword alerts here yet")
    asked = [c for c in running.slack.calls("users.info") if c.params.get("include_locale")]
    assert [c.params["user"] for c in asked] == [MEMBER]  # once per person, not once per message
