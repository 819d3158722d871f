"""Which language a chat gets, and what /language accepts."""

from __future__ import annotations

import pytest

from bot.i18n import (LanguageChoice, UnknownLanguage, chat_language, language_list, language_name,
                      parse_language_choice, translator)


@pytest.mark.parametrize(("kind", "saved", "reported", "language"), [
    ("private", None, "de", "de"),         # a German-speaking Telegram user, without asking
    ("private", None, "pt-br", "pt"),
    ("private", None, "ja", "en"),         # a language the bot does not speak
    ("private", None, None, "en"),
    ("private", "es", "de", "es"),         # /language es in a private chat wins over the app's language
    ("group", None, "de", "en"),           # a group is read by many: English until /language
    ("group", "es", "de", "es"),
    ("channel", "ru", None, "ru"),
    ("channel", None, None, "en"),
    ("group", "xx", "de", "en"),           # a saved code no longer served
])
def test_the_chat_language_rule(kind, saved, reported, language):
    assert chat_language(kind, saved, reported) == language


@pytest.mark.parametrize(("text", "code"), [
    ("de", "de"), ("DE", "de"), ("Deutsch", "de"), ("german", "de"), ("pt-BR", "pt"), ("pt_br", "pt"),
    ("Português", "pt"), ("русский", "ru"), ("Russian", "ru"), (" español ", "es"), ("Français", "fr"),
    ("en-US", "en"), ("auto", None), ("AUTO", None),
])
def test_a_language_is_chosen_by_code_tag_or_name(text, code):
    assert parse_language_choice(text) == LanguageChoice(code)


@pytest.mark.parametrize("text", ["klingon", "ja", "", "x-y-z", "deutsch bitte"])
def test_other_languages_are_refused_with_the_list(text):
    with pytest.raises(UnknownLanguage) as refused:
        parse_language_choice(text)
    english = refused.value.message(translator("en"))
    assert english.startswith(f"I can't write in {' '.join(text.split())} yet.")
    assert "Deutsch (de)" in english and "/language auto" in english
    assert refused.value.message(translator("de")).startswith("Auf ")


def test_a_long_refused_choice_is_shortened_when_said_back():
    with pytest.raises(UnknownLanguage) as refused:
        parse_language_choice("x" * 5000)
    assert refused.value.message(translator("en")).startswith("I can't write in " + "x" * 39 + "… yet.")


def test_languages_are_listed_in_their_own_names():
    assert [language_name(code) for code in ("de", "es", "fr", "pt", "ru", "en")] == \
        ["Deutsch", "Español", "Français", "Português", "Русский", "English"]
    assert language_list() == ("Deutsch (de), English (en), Español (es), Français (fr), Português (pt), "
                               "Русский (ru)")
