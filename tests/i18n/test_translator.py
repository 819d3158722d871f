"""Translators: a language per tag, English where a language or a message is missing, placeholders filled after."""

from __future__ import annotations

import logging

import pytest

from bot.i18n import LazyText, lazy, translator
from bot.i18n.catalogs import Translator
from bot.i18n.messages import DATABASE_BUSY, SOMETHING_WENT_WRONG

WRONG = "Sorry, something went wrong on my side. Please try again in a minute."


@pytest.mark.parametrize(("tag", "language"), [
    ("de", "de"), ("de-DE", "de"), ("pt_BR", "pt"), ("pt-br", "pt"), ("RU", "ru"), ("es-LA", "es"),
    ("fr-CA", "fr"), ("en-GB", "en"), ("ja", "en"), ("", "en"), (None, "en"), ("!!", "en"),
])
def test_a_tag_finds_the_language_that_serves_it(tag, language):
    assert translator(tag).language == language


def test_each_language_says_the_error_its_own_way():
    said = {code: translator(code).gettext(SOMETHING_WENT_WRONG) for code in ("en", "de", "es", "fr", "pt", "ru")}
    assert said["en"] == WRONG
    assert said["de"].startswith("Entschuldigung") and said["ru"].startswith("Извините")
    assert said["es"].startswith("Lo siento") and said["fr"].startswith("Désolé") and said["pt"].startswith("Desculpe")


def test_placeholders_are_filled_after_translation():
    assert translator("en").gettext(DATABASE_BUSY, seconds="2.5").startswith(
        "The database is busy (it stayed locked for 2.5 s).")
    assert "{seconds}" not in translator("fr").gettext(DATABASE_BUSY, seconds="2.5")
    assert "2.5 s" in translator("fr").gettext(DATABASE_BUSY, seconds="2.5")
    # Russian puts the time before the date, where English puts it after.
    assert translator("ru").gettext("since {date}, {time}", date="понедельник, 2 марта", time="07:30") \
        == "с 07:30 (понедельник, 2 марта)"


def test_a_message_no_catalog_holds_stays_english():
    assert translator("de").gettext("Nobody translated {thing}", thing="this") == "Nobody translated this"
    assert translator("ru").ngettext("{n} cat", "{n} cats", 1) == "1 cat"
    assert translator("ru").ngettext("{n} cat", "{n} cats", 5) == "5 cats"


def test_a_lazy_message_is_english_until_translated():
    marked = lazy("Sorry, something went wrong on my side. Please try again in a minute.")
    assert isinstance(marked, LazyText) and str(marked) == WRONG and marked == SOMETHING_WENT_WRONG
    assert translator("pt").gettext(marked).startswith("Desculpe")


def test_the_translator_of_a_language_is_read_once():
    assert translator("de") is translator("de-AT")


def _catalog(tmp_path, entries: str):
    path = tmp_path / "briefbot.po"
    path.write_text('msgid ""\nmsgstr ""\n"Language: de\\n"\n"Content-Type: text/plain; charset=utf-8\\n"\n'
                    '"Plural-Forms: nplurals=2; plural=(n != 1);\\n"\n\n' + entries, encoding="utf-8")
    return Translator.from_po(path, "de")


def test_a_translation_that_breaks_its_placeholders_is_sent_in_english(tmp_path, caplog):
    tr = _catalog(tmp_path, 'msgid "Alert for {query} removed."\nmsgstr "Alarm für {suche} entfernt."\n')
    with caplog.at_level(logging.WARNING, logger="bot.i18n.catalogs"):
        assert tr.gettext("Alert for {query} removed.", query="climate") == "Alert for climate removed."
    assert "de translation" in caplog.text


def test_fuzzy_and_empty_translations_are_not_used(tmp_path):
    tr = _catalog(tmp_path, '#, fuzzy\nmsgid "Sources"\nmsgstr "Quellen?"\n\nmsgid "Alerts"\nmsgstr ""\n\n'
                            'msgid "Schedule"\nmsgstr "Zeitplan"\n')
    assert [tr.gettext(m) for m in ("Sources", "Alerts", "Schedule")] == ["Sources", "Alerts", "Zeitplan"]
