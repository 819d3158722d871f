"""Hostile text: what outside strings and requests can do to the bot's own messages, logs and time.

Regexes get 1 MB of the input that would make a backtracking pattern quadratic (the timeout is a
failure bound, not a benchmark); invisible and formatting characters never reach a message as such;
a private address is never named; malformed webhook requests get 4xx, not 500.

Run alone with `pytest -m hostile`."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

import aiohttp
import pytest

from bot.adapters.registry import token_patterns
from bot.adapters.slack import SlackAdapter
from bot.adapters.slack.markup import escape_text, from_slack, remove_mention
from bot.adapters.slack.render import render_message as render_slack
from bot.adapters.telegram import WEBHOOK_PATH, TelegramAdapter
from bot.adapters.telegram.handlers import parse_command
from bot.adapters.telegram.render import render_message as render_telegram
from bot.domain.dedupe import canonical_url, content_fingerprint
from bot.domain.matching import SubscriptionIndex, parse_query, tokenize
from bot.domain.models import BriefItem, Link, Message
from bot.domain.neutral import neutral_text
from bot.runtime.http_server import HttpServer
from bot.runtime.logs import REDACTED, protect_secrets, redact
from bot.services.briefs import BriefMaker
from bot.services.ingest import Ingestor
from bot.services.pages import PageProblem, PageService
from bot.settings import Settings
from bot.sources.feeds import FeedEntry, discover_feed_links, is_teaser, parse_feed
from bot.sources.fetcher import SafeFetcher
from bot.sources.markup import link_tags, plain_text
from bot.sources.pages import PageError, extract_page
from summarizer import ArticleText, SummarizerConfig, SummarizerError, get_summarizer
from summarizer.budget import headline_from, shorten
from summarizer.prepare import prepare
from summarizer.sentences import ends_like_sentence, split_sentences
from summarizer.text import looks_english, read_document, strip_furniture, word_count
from tests.support.feedserver import FeedServer
from tests.support.news import rss, story_items
from tests.support.standins.slack import SlackStandIn, sign_slack_request
from tests.sources.test_fetcher_addresses import _resolving

pytestmark = pytest.mark.hostile

MB = 1_000_000
RLO, ZWSP, ZWJ, ZWNJ, LRI, PDI = "\u202e", "\u200b", "\u200d", "\u200c", "\u2066", "\u2069"


# ----- every regex that sees outside input is linear ---------------------------------------------------

def _page(body: str) -> bytes:
    return f"<html><head><title>t</title></head><body>{body}</body></html>".encode()


def _extract(html: bytes) -> None:
    try:
        extract_page(html, url="https://news.example/a")
    except PageError:
        pass


ADVERSARIAL = {
    # bot/sources/markup.py (and the feed-link discovery and canonical-link search built on it)
    "link tag of one long word": lambda: list(link_tags("<link " + "a" * MB)),
    "link tag of name characters": lambda: list(link_tags("<link " + "_:-" * (MB // 3))),
    "link tag of unclosed values": lambda: list(link_tags("<link " + 'a="b ' * (MB // 5))),
    "link tags unclosed": lambda: list(link_tags("<link " * (MB // 6))),
    "feed links of a word run": lambda: discover_feed_links(b"<link " + b"rel" * (MB // 3), base_url="https://e.x/"),
    "plain text of unclosed tags": lambda: plain_text("<a " * (MB // 3)),
    "plain text of unclosed scripts": lambda: plain_text("<script " * (MB // 8)),
    "teaser check of a word run": lambda: is_teaser(FeedEntry(guid="g", url=None, title=None,
                                                               summary="a" * MB, content=None, published=None)),
    # bot/sources/pages.py and feeds.py
    "page of unclosed scripts": lambda: _extract(_page("<script " * (MB // 8))),
    "page with a long link tag": lambda: _extract(b"<html><head><link " + b"a" * MB + b"></head><p>story</p></html>"),
    "feed of unclosed items": lambda: pytest.raises(Exception, parse_feed, b"<rss>" + b"<item><title>" * (MB // 13),
                                                    url="https://e.x/"),
    # summarizer/
    "sentences of one long word": lambda: split_sentences("a" * MB + "! Then another sentence."),
    "sentences of a long run of spaces": lambda: split_sentences("a" + " " * MB + "b."),
    # blingfire (C code, the GIL released) is linear but slow on dense punctuation, about 8 us a character:
    # it sees at most MAX_INPUT_CHARS of an article, which is how the summarizer reads one.
    "article of periods and closers": lambda: pytest.raises(SummarizerError, prepare,
                                                            ArticleText(text=".)" * (MB // 2))),
    "sentence end of closers": lambda: ends_like_sentence(".)" * (MB // 2) + "x"),
    "shortened text with a run of spaces": lambda: shorten("a" + " " * MB + "bbb cccccccccc", MB + 6),
    "headline of one long word": lambda: headline_from("a" * MB),
    "document of bylines": lambda: read_document("By " + "Ann " * (MB // 4)),
    "furniture of related links": lambda: strip_furniture("RELATED: " * (MB // 9)),
    "furniture of follow lines": lambda: strip_furniture("Follow @a " * (MB // 10)),
    "english check and word count": lambda: (looks_english("a" * MB), word_count("a-" * (MB // 2))),
    # bot/domain/
    "fingerprint of unclosed tags": lambda: content_fingerprint("t", "<style " * (MB // 7)),
    "canonical URL with a long query": lambda: canonical_url("https://e.x/?" + "a=&" * (MB // 3)),
    "tokens of combining marks": lambda: tokenize("e\u0301" * (MB // 2)),
    "alert matching of a long text": lambda: SubscriptionIndex([(1, parse_query("a b"))]).match("mis " * (MB // 4)),
    "neutral text of joiners": lambda: neutral_text((ZWJ + "a" + ZWNJ) * (MB // 3)),
    # bot/adapters/
    "slack markup of unclosed links": lambda: from_slack("<" + "|" * MB),
    "slack markup of mentions": lambda: remove_mention("<@U1|" * (MB // 5), None),
    "slack escape of formatting": lambda: escape_text("*_~`" * (MB // 4) + "https://" * (MB // 8)),
    "slack render of a long headline": lambda: render_slack(Message(kind="reply", items=[BriefItem("*" * MB, [])])),
    "telegram render of blank lines": lambda: render_telegram(Message(kind="reply", text="\n \t" * (MB // 3))),
    "telegram command of one long word": lambda: parse_command("/" + "a" * MB, "briefbot"),
    # bot/runtime/logs.py
    "log redaction of URL starts": lambda: redact("http://" * (MB // 7) + "?a=b"),
    "log redaction of digits": lambda: redact("1" * MB + ":", patterns=token_patterns()),
    "log redaction of token prefixes": lambda: redact("xoxb-" * (MB // 5), patterns=token_patterns()),
    "log redaction of passwords": lambda: redact("://a:" * (MB // 5)),
}


@pytest.mark.timeout(10)
@pytest.mark.parametrize("case", sorted(ADVERSARIAL))
def test_a_megabyte_of_adversarial_input_is_read_in_linear_time(case):
    ADVERSARIAL[case]()


# ----- /summary never tells what an internal name resolves to --------------------------------------------

async def test_summary_of_an_internal_name_does_not_reveal_its_address(store, monkeypatch):
    _resolving(monkeypatch, {"internal-name": ["10.0.0.1"]})
    briefs = BriefMaker(get_summarizer(SummarizerConfig(backend="lead")))
    async with SafeFetcher(timeout_s=2) as fetcher:
        pages = PageService(store=store, fetcher=fetcher, briefs=briefs, max_chars=600)
        with pytest.raises(PageProblem) as caught:
            await pages.brief_for_url("http://internal-name/")
    briefs.close()
    assert "private" in str(caught.value) and "internal-name" in str(caught.value)
    assert "10.0.0.1" not in str(caught.value)


# ----- a feed's query string is never logged whole --------------------------------------------------------

async def test_a_feed_token_in_the_query_never_reaches_the_log(store, caplog):
    protect_secrets([])  # the process-wide redactor, as setup_logging installs it
    briefs = BriefMaker(get_summarizer(SummarizerConfig(backend="lead")))
    async with SafeFetcher(timeout_s=2, allow_private=True) as fetcher:
        ingestor = Ingestor(store=store, fetcher=fetcher, briefs=briefs, interval=timedelta(minutes=15),
                            new_feed_items=3)
        with FeedServer() as server:
            url = server.serve("/feed", b"gone", status=404) + "?token=s3cret-feed-token&user=ada"
            with store.transaction() as tx:
                tx.sources.follow(tx.chats.ensure("slack", "C1").id, tx.sources.ensure(url).id)
            with caplog.at_level(logging.DEBUG):
                report = await ingestor.poll()
    briefs.close()
    assert report.errors == {"http_404": 1}
    assert "failed" in caplog.text and "/feed" in caplog.text
    assert "s3cret-feed-token" not in caplog.text and "ada" not in caplog.text


def test_query_values_in_any_logged_url_are_redacted():
    line = "GET https://feeds.example/rss?token=abc123&page=2#top and http://x.example/?secret done"
    assert redact(line) == (f"GET https://feeds.example/rss?token={REDACTED}&page={REDACTED}#top and "
                            f"http://x.example/?{REDACTED} done")


# ----- Slack formatting characters in outside text -----------------------------------------------------

def test_a_bold_title_cannot_nest_into_the_bots_own_bold_headline():
    item = BriefItem(headline="*Breaking* _news_ ~gone~ `code` 5 * 3", points=["a *point*", "snake_case stays"],
                     links=[Link("*Feed* _title_", "https://news.example/a_b?x=*y*")])
    [part] = render_slack(Message(kind="digest", heading="*Digest*", items=[item], footer="_by_ ~bot~"))
    headline, first, second, links = part["blocks"][1]["text"]["text"].split("\n")
    assert headline == "*\u2217Breaking\u2217 \u02cdnews\u02cd \u223cgone\u223c \u02cbcode\u02cb 5 \u2217 3*"
    assert headline.count("*") == 2  # the bot's own bold, and only it
    assert (first, second) == ("• a \u2217point\u2217", "• snake_case stays")
    assert links == "<https://news.example/a_b?x=*y*|\u2217Feed\u2217 \u02cdtitle\u02cd>"  # the URL is left whole
    assert part["blocks"][0]["text"]["text"] == "*Digest*"  # a header is plain text: Slack formats nothing there
    assert part["blocks"][2]["elements"][0]["text"] == "\u02cdby\u02cd \u223cbot\u223c"
    assert part["text"].startswith("*\u2217Digest\u2217*")  # the mrkdwn fallback is escaped too


# ----- invisible characters never reach a message -------------------------------------------------------

def test_bidi_controls_and_zero_width_characters_are_removed_from_every_outside_string():
    spoof = f"invoice{RLO}gpj.exe mis{ZWSP}sile {LRI}x{PDI}\x00\x1b[31m\u00ad\ufeff"
    item = BriefItem(headline=spoof, points=[spoof], links=[Link(spoof, "https://e.x/")])
    message = Message(kind="alert", heading=spoof, text=spoof, items=[item], footer=spoof)
    clean = "invoicegpj.exe missile x[31m"
    assert (message.heading, message.text, message.footer) == (clean, clean, clean)
    assert (item.headline, item.points, item.links[0].label) == (clean, [clean], clean)
    for text in [render_telegram(message)[0].html, render_slack(message)[0]["text"]]:
        assert not any(char in text for char in (RLO, ZWSP, LRI, PDI, "\x00", "\x1b"))
    # A stored message read back from the outbox is cleaned the same way.
    assert Message.from_dict({**message.to_dict(), "heading": spoof}).heading == clean


def test_joiners_that_spell_emoji_or_persian_are_kept():
    family = f"\U0001F469{ZWJ}\U0001F4BB"  # woman technologist
    persian = f"\u0645\u06cc{ZWNJ}\u062e\u0648\u0627\u0647\u0645"  # "mi-khaham": the ZWNJ is correct spelling
    assert neutral_text(f"{family} {persian}") == f"{family} {persian}"
    assert neutral_text(f"pay{ZWJ}pal {ZWNJ}x{ZWJ}") == "paypal x"


async def test_a_feed_title_with_a_direction_override_reaches_the_store_clean(store):
    briefs = BriefMaker(get_summarizer(SummarizerConfig(backend="lead")))
    items = story_items(range(1))
    items[0]["title"] = f"Council {RLO}etov{ZWSP} approves"
    async with SafeFetcher(timeout_s=2, allow_private=True) as fetcher:
        ingestor = Ingestor(store=store, fetcher=fetcher, briefs=briefs, interval=timedelta(minutes=15),
                            new_feed_items=3)
        with FeedServer() as server:
            url = server.serve("/feed", rss(items, title=f"News{RLO} feed"))
            with store.transaction() as tx:
                chat_id = tx.chats.ensure("slack", "C1").id
                tx.sources.follow(chat_id, tx.sources.ensure(url).id)
            await ingestor.poll()
    briefs.close()
    with store.transaction() as tx:
        [brief] = tx.articles.briefs_for_chat(chat_id)
        [followed] = tx.sources.followed_by(chat_id)
    assert followed.source.title == "News feed"
    assert brief.title == "Council etov approves"
    assert not any(RLO in text or ZWSP in text for text in [brief.headline, *brief.points])


# ----- Telegram webhook bodies that are not updates -------------------------------------------------------

WEBHOOK_SECRET = "webhook-Secret_0123456789"


@pytest.fixture
async def webhook(tg):
    class Handler:
        async def handle(self, incoming):
            return [Message(kind="reply", text="ok")]

    settings = Settings(_env_file=None, telegram_bot_token=tg.token, telegram_api_base_url=tg.base_url,
                        telegram_mode="webhook", telegram_webhook_url="https://bot.example.org/telegram/webhook",
                        telegram_webhook_secret=WEBHOOK_SECRET)
    http = HttpServer("127.0.0.1", 0)
    adapter = TelegramAdapter.from_settings(settings, Handler(), http)
    await http.start()
    await adapter.start()
    async with aiohttp.ClientSession() as session:
        yield session, f"http://127.0.0.1:{http.port}{WEBHOOK_PATH}"
    await adapter.stop()
    await http.stop()


@pytest.mark.parametrize("body", [
    b'{"message": "x"}',
    b'{"update_id": 1, "message": "x"}',
    b'{"update_id": 1, "message": {"message_id": 1, "date": "x", "chat": {"id": 1, "type": "private"}}}',
    b'{"update_id": "1"}',
    b'{"update_id": true}',
    b"[" * 100_000 + b"]" * 100_000,
    b'{"update_id": 1, "message": ' + b'{"a": ' * 100_000 + b"1" + b"}" * 100_001,
], ids=["no_update_id", "message_a_string", "date_a_string", "update_id_a_string", "update_id_a_bool",
        "nested_100k_deep", "update_nested_100k_deep"])
async def test_a_webhook_body_that_is_not_an_update_is_a_400(webhook, body):
    session, url = webhook
    headers = {"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET, "Content-Type": "application/json"}
    async with session.post(url, data=body, headers=headers) as response:
        assert response.status == 400


# ----- a Slack timestamp that is not a number ---------------------------------------------------------

SIGNING_SECRET = "5d1f7c0e9a2b4c6d8e0f1a3b5c7d9e1f"


@pytest.fixture
async def slack_http():
    class Handler:
        seen: list = []

        async def handle(self, incoming):
            self.seen.append(incoming)
            return [Message(kind="reply", text="ok")]

    with SlackStandIn() as slack:
        http = HttpServer("127.0.0.1", 0)
        handler = Handler()
        adapter = SlackAdapter(handler, bot_token=slack.token, mode="http", signing_secret=SIGNING_SECRET,
                               api_base_url=slack.api_url, http=http, timeout_s=5)
        await http.start()
        await adapter.start()
        async with aiohttp.ClientSession() as session:
            yield slack, handler, session, f"http://127.0.0.1:{http.port}/slack/events"
        await adapter.stop()
        await http.stop()


@pytest.mark.parametrize("timestamp", ["abc", "", "1e9", "-1", "\u00b2", " 12"])
async def test_a_non_numeric_slack_timestamp_is_a_401_from_the_real_bolt_app(slack_http, timestamp):
    slack, handler, session, url = slack_http
    body = slack.slash_command_body("/digest")
    headers = {**sign_slack_request(body, SIGNING_SECRET), "X-Slack-Request-Timestamp": timestamp}
    async with session.post(url, data=body, headers=headers) as response:
        assert response.status == 401
    async with session.post(url, data=body, headers=sign_slack_request(body, SIGNING_SECRET)) as response:
        assert response.status == 200  # the same request, correctly signed, is served
    await asyncio.sleep(0.1)
    assert len(handler.seen) == 1
