"""Answers in the chat's language, through the real command service on a real store (SQLite and
PostgreSQL): /help, errors, a digest, alerts and buttons; /language; what is queued for later."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from sqlalchemy import select

from bot.domain.models import ChatRef
from bot.i18n import translator
from bot.i18n.dates import weekday_date
from bot.i18n.messages import ADMINS_ONLY, LANGUAGE_SET, SOMETHING_WENT_WRONG
from bot.services.actions import schedule_buttons, sources_buttons
from bot.services.alerts import AlertService
from bot.services.briefs import BriefMaker
from bot.services.chat_io import Incoming
from bot.services.commands import COMMANDS, Command, CommandService
from bot.services.commands.help import INTRO
from bot.services.digests import DigestService
from bot.services.feeds import FeedService
from bot.services.ingest import Ingestor
from bot.services.pages import PageService
from bot.sources.fetcher import SafeFetcher
from bot.store.articles import NewArticle
from bot.store.tables import Delivery
from summarizer import SummarizerConfig, get_summarizer

TRANSLATED = ["de", "es", "fr", "pt", "ru"]
NOW = datetime(2026, 3, 3, 9, 0, tzinfo=UTC)  # a Tuesday: the scheduled digest's run
FEED = "https://courier.example/feed.xml"


def flat(texts: list[str]) -> np.ndarray:
    return np.eye(len(texts))  # every brief its own story: grouping is not what is tested here


async def yes() -> bool:
    return True


async def no() -> bool:
    return False


@pytest.fixture
async def service(store):
    fetcher = SafeFetcher(timeout_s=5, allow_private=True)
    briefs = BriefMaker(get_summarizer(SummarizerConfig(backend="lead")))
    ingestor = Ingestor(store=store, fetcher=fetcher, briefs=briefs, interval=timedelta(minutes=15), new_feed_items=2)

    async def boom(tools, incoming, chat):
        raise RuntimeError("a bug nobody foresaw")

    registry = COMMANDS.with_command(Command("boom", "/boom", "fails", "Fails", boom))
    yield CommandService(store=store, briefs=briefs, pages=PageService(store=store, fetcher=fetcher, briefs=briefs,
                                                                       max_chars=600),
                         feeds=FeedService(store=store, fetcher=fetcher, ingestor=ingestor),
                         digests=DigestService(store=store, embed=flat), default_timezone="Europe/Berlin",
                         commands=registry)
    await fetcher.aclose()


def said(text: str, *, chat: str = "1", kind: str = "private", locale: str | None = None, admin=yes,
         platform: str = "telegram") -> Incoming:
    name, _, args = text[1:].partition(" ")
    return Incoming(chat=ChatRef(platform, chat), command=name, args=args, chat_kind=kind, is_admin=admin,
                    user_locale=locale)


async def answer(service: CommandService, incoming: Incoming) -> str:
    messages = await service.handle(incoming)
    return "\n".join(filter(None, (part for m in messages for part in (m.text, m.footer))))


def follow_with_a_story(store, chat_key: str, *, at: datetime = NOW - timedelta(hours=2)) -> int:
    with store.transaction() as tx:
        chat = tx.chats.ensure("telegram", chat_key, kind="private", timezone="Europe/Berlin")
        source = tx.sources.ensure(FEED, title="Kessford Courier", now=at)
        tx.sources.follow(chat.id, source.id)
        article_id, _ = tx.articles.add(NewArticle(fingerprint="ferry", text="t", url="https://courier.example/ferry",
                                                   title="Ferry resumes"), source_id=source.id, guid="ferry", now=at)
        tx.articles.save_brief(article_id, headline="Ferry resumes after the storm",
                               points=["The ferry sails again on Tuesday."], backend="lead", now=at)
    return chat.id


@pytest.mark.parametrize("code", TRANSLATED)
async def test_a_person_gets_help_errors_and_a_digest_in_their_own_language(store, service, code):
    tr = translator(code)
    help_ = await answer(service, said("/help", locale=code))
    assert help_.startswith(tr.gettext(INTRO)) and tr.gettext(INTRO) != str(INTRO)
    assert "/language" in help_ and "(admins, in groups)" not in help_
    assert tr.gettext("e.g. {example}", example="/digest") in help_

    refused = await answer(service, said("/subscribe gold OR silver", locale=code))
    english = "OR is not supported: all words must match. Subscribe to each alternative separately."
    assert refused == tr.gettext(english) != english
    unknown = await answer(service, said("/frobnicate", locale=code))
    assert unknown.startswith(tr.gettext("I don't know /{typed}.", typed="frobnicate"))
    assert await answer(service, said("/boom", locale=code)) == tr.gettext(SOMETHING_WENT_WRONG)

    before = datetime.now(UTC)
    follow_with_a_story(store, f"person-{code}", at=before - timedelta(hours=2))
    [digest] = await service.handle(said("/digest recap", chat=f"person-{code}", locale=code))
    days = {tr.gettext("Your digest for {date}", date=weekday_date(at, code, "Europe/Berlin"))
            for at in (before, datetime.now(UTC))}
    assert digest.heading in days and digest.language == code
    assert digest.items[0].headline == "Ferry resumes after the storm"  # briefs stay in their article's language
    assert digest.text != "Recap of every story in the last 24 hours" and "{" not in digest.text


@pytest.mark.parametrize("code,limit,count", [("en", "20,000", "25,000"), ("de", "20.000", "25.000"),
                                              ("fr", "20\u202f000", "25\u202f000"), ("ru", "20\xa0000", "25\xa0000")])
async def test_numbers_in_answers_are_written_the_languages_way(store, service, code, limit, count):
    refused = await answer(service, said("/summary " + "a" * 25_000, locale=code))
    assert limit in refused and count in refused, refused


async def test_english_stays_as_it_was(store, service):
    help_ = await answer(service, said("/help"))
    assert help_.startswith(str(INTRO)) and "/subscribe <keywords> - alert this chat when a story matches" in help_
    scheduled = await answer(service, said("/schedule 07:30 Europe/Berlin", locale="ja"))  # a language not spoken
    assert scheduled.startswith("Daily digest set for 07:30 Europe/Berlin; the next one comes ")


async def test_language_in_a_group_is_for_its_admins_and_switches_every_answer(store, service):
    refused = await answer(service, said("/language es", chat="-100", kind="group", admin=no, locale="de"))
    assert refused.startswith("Only the admins of this chat")  # a group is in English until it chooses
    switched = await answer(service, said("/language Español", chat="-100", kind="group", locale="de"))
    assert switched == translator("es").gettext(LANGUAGE_SET, language="Español")
    assert (await answer(service, said("/help", chat="-100", kind="group"))).startswith(translator("es").gettext(INTRO))
    listed = await answer(service, said("/language", chat="-100", kind="group", admin=no))
    assert listed.startswith("Idioma de este chat: Español.") and "Deutsch (de)" in listed
    again = await answer(service, said("/language fr", chat="-100", kind="group", admin=no))
    assert again == translator("es").gettext(ADMINS_ONLY, commands="/summary, /digest, /alerts y /boom")
    back = await answer(service, said("/language auto", chat="-100", kind="group"))
    assert back.startswith("From now on I write in English here")
    unknown = await answer(service, said("/language klingon", chat="-100", kind="group"))
    assert unknown.startswith("I can't write in klingon yet.")


async def test_a_chosen_language_wins_over_the_persons_own(store, service):
    assert (await answer(service, said("/language ru", locale="de"))).startswith("Теперь я пишу здесь")
    assert (await answer(service, said("/alerts", locale="de"))).startswith("Здесь пока нет оповещений")
    assert (await answer(service, said("/language auto", locale="de"))) == \
        "Ab jetzt schreibe ich in der Sprache, auf die deine App eingestellt ist."
    assert (await answer(service, said("/alerts", locale="pt-BR"))).startswith("Ainda não há alertas")


def test_digests_and_alerts_queued_for_later_are_in_the_chats_language(store):
    chat_id = follow_with_a_story(store, "later")
    with store.transaction() as tx:
        tx.chat_language.note_user_locale(chat_id, "fr-CA")  # what the person's last command reported
        tx.chats.set_schedule(chat_id, local_time="07:30", timezone="Europe/Berlin", thread_id=None,
                              next_run_at=NOW - timedelta(minutes=5), covered_until=NOW - timedelta(days=1))
        tx.chats.subscribe(chat_id, "ferry", "ferry")
        group = tx.chats.ensure("telegram", "-200", kind="group")
        tx.chat_language.note_user_locale(group.id, "de")  # a group does not follow its members
        tx.chats.subscribe(group.id, "ferry", "ferry")
    assert DigestService(store=store, embed=flat).run_due(chat_id, NOW, grace=timedelta(hours=1)).outcome == "sent"
    with store.transaction() as tx:
        AlertService(store=store).on_new_briefs(tx, tx.articles.briefs_for_chat(chat_id), NOW)
    with store.transaction() as tx:
        queued = {(row.kind, row.chat_id): row.payload for row in tx.session.scalars(select(Delivery))}
    digest = queued[("digest", chat_id)]
    assert digest["language"] == "fr" and digest["heading"] == "Votre résumé du mardi 3 mars 2026"
    assert digest["text"] == "Nouveautés depuis hier à 10:00\u00a0:"  # 10:00 in Berlin, in French words
    assert queued[("alert", chat_id)]["heading"] == "Alerte\u00a0: ferry"
    assert queued[("alert", group.id)]["heading"] == "Alert: ferry" and queued[("alert", group.id)]["language"] == "en"


def test_buttons_are_labelled_in_the_chats_language(store):
    chat_id = follow_with_a_story(store, "buttons")
    with store.transaction() as tx:
        tx.chat_language.set_language(chat_id, "de")
        [[pause, remove], [add]] = sources_buttons(tx, chat_id)
        rows = schedule_buttons(tx, chat_id)
    assert (pause.label, remove.label, add.label) == ("1 pausieren", "1 entfernen", "Feed hinzufügen")
    assert rows[1][-1].label == "Aus" and [b.label for b in rows[-1]] == ["Leere Tage: melden", "Leere Tage: auslassen"]


async def test_a_command_that_reports_no_language_gets_the_last_one_reported(store, service):
    # A listing rendered again after a button press carries no locale: the person's last one holds.
    await answer(service, said("/alerts", chat="7", locale="pt-BR"))
    assert (await answer(service, said("/alerts", chat="7"))).startswith("Ainda não há alertas")
    assert (await answer(service, said("/help", chat="7"))).startswith(translator("pt").gettext(INTRO))


async def test_a_press_is_answered_in_the_chats_language(store):
    from bot.services.actions import ActionService

    chat_pk = follow_with_a_story(store, "press")
    with store.transaction() as tx:
        tx.chat_language.set_language(chat_pk, "ru")
        [[pause, _], _] = sources_buttons(tx, chat_pk)
    result = await ActionService(store=store).press(ChatRef("telegram", "press"), pause.token, presser_is_admin=yes,
                                                    chat_kind="private", presser_locale="de")
    assert result.toast == "Kessford Courier приостановлена: пересказов из неё здесь не будет, пока вы её не возобновите."
    assert [b.label for b in result.buttons[0]] == ["Возобновить 1", "Удалить 1"]
    stale = await ActionService(store=store).press(ChatRef("telegram", "press"), "x" * 22, presser_is_admin=yes,
                                                   chat_kind="private", presser_locale="de")
    assert stale.toast.startswith("Diese Schaltfläche ist abgelaufen")  # no chat known yet: the presser's own
