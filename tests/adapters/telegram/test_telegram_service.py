"""Every command through Telegram and the real command service.

The real python-telegram-bot polls the Telegram stand-in; the services are built by the composition
root (`bot.main.build_services`) on a SQLite file, with the real summarizer, fetching feeds and pages
from a local server. One bot serves the whole module (the summarizer loads once); each test uses chats
of its own.
"""

from __future__ import annotations

import html
import itertools
import re
from datetime import timedelta

import pytest
import pytest_asyncio

from bot.adapters.telegram import TelegramAdapter
from bot.main import build_services
from bot.settings import Settings
from tests.support.feedserver import FeedServer
from tests.support.news import rss, story, story_items
from tests.support.standins.telegram import (
    TelegramStandIn,
    channel_chat,
    private_chat,
    supergroup_chat,
    user,
)

pytestmark = pytest.mark.asyncio(loop_scope="module")

HOSTILE_TITLE = '<b>Breaking</b> & <script>alert("x")</script> <!everyone> council'
HOSTILE_LINK = 'https://news.example/story/hostile?a=1&b="2"'
_ids = itertools.count(1000)
SUMMARIZER_BACKEND = "extractive"  # the default; the assertions hold whichever sentences it keeps


def new_user(name: str = "Reader") -> dict:
    return user(next(_ids), name)


def new_group(title: str = "Newsroom", *, forum: bool = False) -> dict:
    return supergroup_chat(-1001000000000 - next(_ids), title, is_forum=forum)


@pytest.fixture(scope="module")
def feeds():
    items = story_items(range(3))
    hostile_body = ("Astronomers at the Vellmark observatory reported a bright comet on Tuesday night. "
                    "The comet will be visible to the naked eye for about two weeks, they said. "
                    "Amateur observers are asked to send photographs to the observatory's archive. "
                    "The last comet this bright was seen from the region in 1997, records show. "
                    "Clear skies are forecast for most of the coming week across the north.")
    items.append({"title": HOSTILE_TITLE, "link": HOSTILE_LINK, "guid": "hostile",  # the newest item
                  "body": hostile_body,
                  "published": items[-1]["published"] + timedelta(hours=1)})
    with FeedServer() as server:
        server.serve("/feed.xml", rss(items, title="Kessford Courier"), content_type="application/rss+xml")
        server.serve("/other.xml", rss(story_items(range(10, 12), base="https://other.example/"), title="Other Post"),
                     content_type="application/rss+xml")
        title, body = story(42)
        page = (f"<html><head><title>{html.escape(title)}</title></head><body><article><h1>{html.escape(title)}"
                f"</h1>{''.join(f'<p>{html.escape(s)}.</p>' for s in body.split('. '))}</article></body></html>")
        server.serve("/news/42.html", page, content_type="text/html")
        yield server


@pytest.fixture(scope="module")
def tg():
    with TelegramStandIn() as server:
        yield server


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def bot(tg, tmp_path_factory):
    settings = Settings(_env_file=None, data_dir=tmp_path_factory.mktemp("telegram-service"),
                        allow_private_networks=True, telegram_bot_token=tg.token,
                        telegram_api_base_url=tg.base_url, summarizer_backend=SUMMARIZER_BACKEND)
    services = build_services(settings)
    adapter = TelegramAdapter.from_settings(settings, services.commands, poll_timeout_s=1)
    await adapter.start()
    yield services
    await adapter.stop()
    await services.aclose()


async def ask(tg, chat: dict, text: str | None = None, *, parts: int = 1, **push) -> list[dict]:
    """Push a message; return the sendMessage calls answering it (params), once `parts` arrived."""
    pushed = tg.push_message(chat, text, **push)
    message = pushed.get("message") or pushed["channel_post"]

    def answers(call) -> bool:
        return (call.params.get("chat_id") == chat["id"]
                and call.params.get("reply_parameters", {}).get("message_id") == message["message_id"])

    calls = await tg.await_calls("sendMessage", parts, timeout=60, where=answers)
    assert all(c.status == 200 for c in calls), [c.response for c in calls]
    assert all(c.params["parse_mode"] == "HTML" for c in calls)
    return [c.params for c in calls]


def text_of(replies: list[dict]) -> str:
    """What the person sees: the HTML as Telegram shows it."""
    return html.unescape("\n".join(r["text"] for r in replies))


async def test_start_and_help_list_every_command(tg, bot):
    chat = private_chat(new_user())
    for command in ("/start", "/help"):
        shown = text_of(await ask(tg, chat, command))
        for name in ("/summary", "/digest", "/subscribe", "/unsubscribe", "/alerts", "/sources", "/schedule"):
            assert name in shown


async def test_unknown_commands_get_a_short_answer_naming_every_command(tg, bot):
    shown = text_of(await ask(tg, private_chat(new_user()), "/frobnicate now"))
    assert shown.startswith("I don't know /frobnicate.") and "Did you mean" not in shown
    for name in ("/summary", "/digest", "/subscribe", "/unsubscribe", "/alerts", "/sources", "/schedule", "/help"):
        assert name in shown
    assert len(shown.splitlines()) <= 2  # the examples stay in /help
    typo = text_of(await ask(tg, private_chat(new_user()), "/subscibe climate"))
    assert typo.startswith("I don't know /subscibe. Did you mean /subscribe?")


async def test_missing_arguments_and_bad_times_get_a_short_answer_with_an_example(tg, bot):
    chat = private_chat(new_user())
    answers = {text: text_of(await ask(tg, chat, text)) for text in (
        "/subscribe", "/unsubscribe", "/sources add", "/sources remove", "/sources frobnicate",
        "/subscribe -sports", "/subscribe gold OR silver", "/unsubscribe gold",
        "/schedule 25:00", "/schedule 7.30pm", "/schedule 07:30 Mars/Olympus", "/schedule 07:30 Europe Berlin",
        "/schedule empty", "/sources remove 3")}
    expected = {
        "/subscribe": "/subscribe climate -sports", "/unsubscribe": "/unsubscribe all",
        "/sources add": "/sources add https://", "/sources remove": "/sources remove 2",
        "/sources frobnicate": "/sources add <feed url>", "/subscribe -sports": "at least one word",
        "/subscribe gold OR silver": "OR is not supported", "/unsubscribe gold": "No alert for gold",
        "/schedule 25:00": "for example 07:30", "/schedule 7.30pm": "for example 07:30",
        "/schedule 07:30 Mars/Olympus": "Europe/Berlin", "/schedule 07:30 Europe Berlin": "/schedule 07:30 Europe/Berlin",
        "/schedule empty": "/schedule empty say", "/sources remove 3": "3",
    }
    for text, answer in answers.items():
        assert expected[text] in answer, (text, answer)
        assert len(answer) < 200 and "wrong on my side" not in answer, (text, answer)
    assert "No daily digest yet" in text_of(await ask(tg, chat, "/schedule"))  # nothing bad was kept


async def test_alert_words_are_said_back_and_the_same_words_in_another_order_are_one_alert(tg, bot):
    chat = private_chat(new_user())
    set_ = text_of(await ask(tg, chat, '/subscribe "North Korea" missile -drill'))
    assert 'Alert set for "North Korea" missile -drill' in set_
    assert 'mentions "North Korea" and missile but not drill' in set_
    again = text_of(await ask(tg, chat, '/subscribe missile -DRILL "north  korea"'))
    assert "already has an alert" in again
    assert '1. "North Korea" missile -drill' in text_of(await ask(tg, chat, "/alerts"))
    assert "removed" in text_of(await ask(tg, chat, '/unsubscribe missile "North Korea" -drill'))


async def test_summary_of_pasted_text(tg, bot):
    title, body = story(8)
    [reply] = await ask(tg, private_chat(new_user()), f"/summary {body}")
    assert reply["text"].startswith("<b>") and "• " in reply["text"]
    assert title.split()[0] in text_of([reply])  # the town


async def test_hostile_pasted_markup_is_read_as_text_and_escaped(tg, bot):
    # Every sentence carries markup, so whichever sentences the summarizer keeps, some is shown.
    hostile = ('The <b>council</b> of Dunlow & Osterby met on <script>alert("x")</script> Monday to vote. '
               "Members of the <b>council</b> & <!everyone> should read the plan before the meeting. "
               'The mayor of the <b>council</b> said the "bridge & tunnel" budget of 3 < 4 million was fair. '
               "A final decision by the <b>council</b> & <!everyone> is expected within two weeks, officials said.")
    replies = await ask(tg, private_chat(new_user()), f"/summary {hostile}")
    raw = "\n".join(r["text"] for r in replies)
    # Inline tags are read as markup (their words kept, the script dropped); nothing reaches Telegram as HTML.
    assert "<script>" not in raw and "<!everyone>" not in raw and "<b>council</b>" not in raw
    assert "alert(" not in raw and " &amp; " in raw
    assert "council & should" in text_of(replies) and "<b>council</b>" not in text_of(replies)


async def test_summary_of_a_link_links_the_article(tg, bot, feeds):
    url = feeds.url("/news/42.html")
    [reply] = await ask(tg, private_chat(new_user()), f"/summary {url}")
    assert f'<a href="{html.escape(url, quote=True)}">' in reply["text"] or f'href="{url}"' in reply["text"]
    assert "42" in text_of([reply])


async def test_sources_add_list_latest_and_remove_with_hostile_titles_escaped(tg, bot, feeds):
    chat = private_chat(new_user())
    added = text_of(await ask(tg, chat, f"/sources add {feeds.url('/feed.xml')}"))
    assert "Kessford Courier" in added
    listed = text_of(await ask(tg, chat, "/sources"))
    assert "1. Kessford Courier" in listed

    await bot.ingestor.summarize_pending()  # what the scheduler's next poll does
    latest = await ask(tg, chat, "/summary")
    raw = "\n".join(r["text"] for r in latest)
    assert "<script>" not in raw and "<!everyone>" not in raw and "<b>Breaking</b>" not in raw
    # A new feed's newest items are summarized when it is added; the hostile one is the newest.
    assert f'href="{html.escape(HOSTILE_LINK, quote=True)}"' in raw
    # The feed layer reads a title as HTML (tags dropped); what is left is shown as plain text.
    assert "<b>Breaking &amp; council</b>" in raw and "Vellmark observatory" in raw

    removed = text_of(await ask(tg, chat, "/sources remove 1"))
    assert "Stopped following Kessford Courier" in removed
    assert "follows no feeds" in text_of(await ask(tg, chat, "/sources"))


async def test_opml_document_imports_feeds_in_a_forum_topic(tg, bot, feeds):
    group = new_group("Feeds desk", forum=True)
    admin = new_user("Admin")
    tg.set_member(group["id"], admin, "administrator")
    opml = (f'<?xml version="1.0"?><opml version="2.0"><head><title>x</title></head><body>'
            f'<outline type="rss" text="Courier" xmlUrl="{feeds.url("/feed.xml")}"/>'
            f'<outline type="rss" text="Other" xmlUrl="{feeds.url("/other.xml")}"/></body></opml>').encode()
    [reply] = await ask(tg, group, None, document=tg.add_file(opml, "feeds.opml"), caption="/sources",
                        sender=admin, thread_id=12)
    assert "Imported 2 feeds" in text_of([reply]) and reply["message_thread_id"] == 12
    with bot.store.transaction() as tx:
        chat = tx.chats.ensure("telegram", str(group["id"]), kind="group")
        followed = tx.sources.followed_by(chat.id)
    assert len(followed) == 2


async def test_alerts_in_a_forum_topic_are_kept_for_that_topic(tg, bot):
    group = new_group("Climate desk", forum=True)
    admin, member = new_user("Admin"), new_user("Member")
    tg.set_member(group["id"], admin, "administrator")
    tg.set_member(group["id"], member, "member")

    set_reply = await ask(tg, group, "/subscribe climate -sports", sender=admin, thread_id=77)
    assert "Alert set" in text_of(set_reply) and set_reply[0]["message_thread_id"] == 77
    with bot.store.transaction() as tx:
        chat = tx.chats.ensure("telegram", str(group["id"]), kind="group")
        [subscription] = tx.chats.subscriptions(chat.id)
    assert subscription.thread_id == "77"

    assert "Only the admins" in text_of(await ask(tg, group, "/unsubscribe all", sender=member, thread_id=77))
    assert "climate" in text_of(await ask(tg, group, "/alerts", sender=member, thread_id=77))
    assert "removed" in text_of(await ask(tg, group, "/unsubscribe climate -sports", sender=admin, thread_id=77))
    assert "No keyword alerts" in text_of(await ask(tg, group, "/alerts", sender=member))


async def test_who_may_change_settings(tg, bot, feeds):
    group = new_group("Mixed")
    member, admin, owner = new_user("Member"), new_user("Admin"), new_user("Owner")
    tg.set_member(group["id"], member, "member")
    tg.set_member(group["id"], admin, "administrator")
    tg.set_member(group["id"], owner, "creator")

    denied = [text_of(await ask(tg, group, text, sender=member)) for text in (
        "/subscribe rates", f"/sources add {feeds.url('/other.xml')}", "/schedule 08:00", "/unsubscribe all")]
    assert all("Only the admins" in answer for answer in denied)
    assert "No keyword alerts" in text_of(await ask(tg, group, "/alerts", sender=member))  # reading is for all
    assert "follows no feeds" in text_of(await ask(tg, group, "/sources", sender=member))
    assert "Alert set" in text_of(await ask(tg, group, "/subscribe rates", sender=admin))
    assert "Alert set" in text_of(await ask(tg, group, "/subscribe bonds", sender=owner))
    assert "Alert set" in text_of(await ask(tg, group, "/subscribe gold", anonymous_admin=True))
    channel = channel_chat(-1002000000000 - next(_ids), "Wire")
    assert "Daily digest set" in text_of(await ask(tg, channel, "/schedule 06:00 UTC"))
    assert "Daily digest set" in text_of(await ask(tg, private_chat(new_user()), "/schedule 06:30 UTC"))


async def test_schedule_and_digest(tg, bot, feeds):
    chat = private_chat(new_user())
    assert "No daily digest yet" in text_of(await ask(tg, chat, "/schedule"))
    set_ = text_of(await ask(tg, chat, "/schedule 07:30 Europe/Berlin"))
    assert "Daily digest set for 07:30 Europe/Berlin; the next one comes" in set_
    assert "/sources add" in set_  # without feeds there would be nothing to send
    assert "Daily digest at 07:30 Europe/Berlin" in text_of(await ask(tg, chat, "/schedule"))
    assert "On a quiet day I will say so" in text_of(await ask(tg, chat, "/schedule empty say"))
    assert "turned off" in text_of(await ask(tg, chat, "/schedule off"))
    assert "follows none yet" in text_of(await ask(tg, chat, "/digest"))

    await ask(tg, chat, f"/sources add {feeds.url('/feed.xml')}")
    await bot.ingestor.summarize_pending()
    digest = await ask(tg, chat, "/digest")  # no schedule: the last day's stories
    raw = "\n".join(r["text"] for r in digest)
    assert "Your digest for" in text_of(digest) and "Vellmark observatory" in text_of(digest)
    assert f'href="{html.escape(HOSTILE_LINK, quote=True)}"' in raw and "<script>" not in raw
    assert "/sources add" not in text_of(await ask(tg, chat, "/schedule 06:00"))


async def test_summary_with_words_lists_the_latest_matching_briefs(tg, bot, feeds):
    chat = private_chat(new_user())
    await ask(tg, chat, f"/sources add {feeds.url('/feed.xml')}")
    await bot.ingestor.summarize_pending()
    comet = text_of(await ask(tg, chat, "/summary comet"))
    assert "Latest on comet" in comet and "Vellmark observatory" in comet and "Alderbrook" not in comet
    bridges = text_of(await ask(tg, chat, "/summary bridge -Alderbrook"))
    listed = bridges.partition("\n")[2]  # under the heading, which repeats the words
    assert "Port Anvel" in listed and "Alderbrook" not in listed and "Vellmark" not in listed
    phrase = text_of(await ask(tg, chat, '/summary "bridge repairs number 2"'))
    assert "Port Anvel" in phrase and "Kessford approves" not in phrase and "Alderbrook" not in phrase
    nothing = text_of(await ask(tg, chat, "/summary Volcano erupts."))
    assert "No recent brief matches Volcano erupts. To summarize a text" in nothing  # one period, and a way on


async def test_plain_text_in_a_private_chat_is_summarized(tg, bot):
    title, body = story(9)
    [reply] = await ask(tg, private_chat(new_user()), body)
    assert "• " in reply["text"]


async def test_briefs_show_their_date_in_the_chat_time_zone_and_a_second_digest_repeats_nothing(tg, bot, feeds):
    chat = private_chat(new_user())
    await ask(tg, chat, "/schedule 07:30 America/New_York")
    await ask(tg, chat, f"/sources add {feeds.url('/feed.xml')}")
    await bot.ingestor.summarize_pending()
    # The hostile item was published 01:02 UTC on 1 January: the evening before in New York.
    latest = text_of(await ask(tg, chat, "/summary"))
    assert "Dec 31, 2025, 8:02\u202fPM" in latest
    first = text_of(await ask(tg, chat, "/digest"))
    assert "New in the last 24 hours (since " in first and "Vellmark observatory" in first
    assert "Dec 31, 2025, 8:02\u202fPM" in first
    again = text_of(await ask(tg, chat, "/digest"))  # minutes later: nothing is told twice
    assert "No new stories since " in again and "today." in again and "Vellmark" not in again
    recap = text_of(await ask(tg, chat, "/digest recap"))
    assert "those already sent included" in recap and "Vellmark observatory" in recap
    assert "/digest recap" in text_of(await ask(tg, chat, "/digest everything"))


# ----- languages -------------------------------------------------------------------------------------

async def test_a_person_whose_telegram_is_in_german_gets_german_answers_without_asking(tg, bot, feeds):
    person = user(next(_ids), "Leserin", language_code="de")
    chat = private_chat(person)
    help_ = text_of(await ask(tg, chat, "/help", sender=person))
    assert help_.startswith("<b>briefbot</b>\n\nIch verdichte Nachrichten zu Kurzfassungen")
    assert "/subscribe <Stichwörter> - alarmiert diesen Chat" in help_ and "z. B. /summary Zinsen" in help_
    assert "sende die Datei mit der Bildunterschrift /sources" in help_  # Telegram's own words, translated
    assert text_of(await ask(tg, chat, "/frobnicate", sender=person)).startswith("/frobnicate kenne ich nicht.")
    refused = text_of(await ask(tg, chat, "/subscribe gold OR silver", sender=person))
    assert refused == "OR wird nicht unterstützt: Alle Wörter müssen vorkommen. Abonniere jede Alternative einzeln."
    set_ = text_of(await ask(tg, chat, "/schedule 07:30 Europe/Berlin", sender=person))
    assert set_.startswith("Täglicher Nachrichtenüberblick auf 07:30 Europe/Berlin gestellt; der nächste kommt am ")

    await ask(tg, chat, f"/sources add {feeds.url('/feed.xml')}", sender=person)
    await bot.ingestor.summarize_pending()
    digest = text_of(await ask(tg, chat, "/digest", sender=person))
    assert digest.startswith("<b>Dein Nachrichtenüberblick für ")
    assert "Vellmark observatory" in digest  # the briefs as their articles wrote them
    assert "\n\nNeu in den letzten 24 Stunden (seit " in digest
    assert re.search(r"<i>\d\d\.\d\d\.\d{4}, \d\d:\d\d</i>", digest)  # the renderer's dates in German too


async def test_language_es_by_an_admin_switches_a_group_to_spanish_and_a_member_is_refused(tg, bot):
    group = new_group("Redacción")
    member, admin = user(next(_ids), "Miembro", language_code="es"), user(next(_ids), "Admin", language_code="de")
    tg.set_member(group["id"], member, "member")
    tg.set_member(group["id"], admin, "administrator")
    # A group is in English until its admins choose, whatever its members' apps say.
    assert text_of(await ask(tg, group, "/help", sender=admin)).startswith("<b>briefbot</b>\n\nI condense news")
    refused = text_of(await ask(tg, group, "/language es", sender=member))
    assert refused.startswith("Only the admins of this chat can change")
    assert text_of(await ask(tg, group, "/language es", sender=admin)) == "A partir de ahora escribo aquí en Español."
    assert text_of(await ask(tg, group, "/help", sender=admin)).startswith("<b>briefbot</b>\n\nCondenso las noticias")
    again = text_of(await ask(tg, group, "/language fr", sender=member))
    assert again.startswith("Solo los administradores de este chat pueden cambiar")
    assert text_of(await ask(tg, group, "/alerts", sender=member)).startswith("Aquí todavía no hay alertas")
