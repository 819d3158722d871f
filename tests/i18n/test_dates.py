"""Dates and times as each language writes them, in the chat's zone; English as the bot writes it today."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from bot.i18n import dates, translator

MORNING = datetime(2026, 3, 2, 6, 30, tzinfo=UTC)  # 07:30 in Berlin, a Monday


@pytest.mark.parametrize(("code", "expected"), [
    ("en", "Monday 2 March 2026"), ("de", "Montag, 2. März 2026"), ("es", "lunes, 2 de marzo de 2026"),
    ("fr", "lundi 2 mars 2026"), ("pt", "segunda-feira, 2 de março de 2026"), ("ru", "понедельник, 2 марта 2026\u202fг."),
])
def test_the_weekday_and_date(code, expected):
    assert dates.weekday_date(MORNING.date(), code) == expected


def test_english_keeps_the_forms_the_digest_writes_today():
    """As bot.domain.digest.period_phrase and bot.services.digests.heading write them (strftime)."""
    earlier = MORNING - timedelta(days=3)
    assert dates.weekday_date(earlier, "en", "Europe/Berlin", year=False) == "Friday 27 February"
    assert dates.clock(earlier, "en", "Europe/Berlin") == "07:30"
    assert dates.weekday_date(datetime(2025, 12, 31, 9, tzinfo=UTC), "en") == "Wednesday 31 December 2025"


def test_times_are_shown_in_the_chat_zone():
    assert dates.clock(MORNING, "en", "Europe/Berlin") == "07:30"
    assert dates.clock(MORNING, "es", "America/New_York") == "1:30"
    assert dates.clock(MORNING, "ru", None) == "06:30"
    assert dates.weekday_date(datetime(2026, 3, 2, 23, 30, tzinfo=UTC), "de", "Asia/Tokyo", year=False) \
        == "Dienstag, 3. März"
    assert dates.format_time(MORNING, "en", "Europe/Berlin") == "7:30\u202fAM"


def test_a_zone_the_system_lacks_is_utc():
    assert dates.clock(MORNING, "de", "Mars/Olympus") == "06:30"


@pytest.mark.parametrize(("published", "label"), [
    (MORNING, "Mar 2, 2026, 7:30\u202fAM"), (datetime(2026, 3, 2, tzinfo=UTC), "Mar 2, 2026"),  # only the day known
    (date(2026, 3, 2), "Mar 2, 2026"), (datetime(2026, 3, 2, 6, 30), "Mar 2, 2026, 7:30\u202fAM"), (None, None),
])
def test_the_english_publication_label_is_the_one_briefs_show(published, label):
    """As bot.domain.render.published_label writes it."""
    assert dates.published_label(published, "en", "Europe/Berlin") == label


def test_a_publication_label_in_each_language():
    assert dates.published_label(MORNING, "de", "Europe/Berlin") == "02.03.2026, 07:30"
    assert dates.published_label(MORNING, "pt", "Europe/Berlin") == "2 de mar. de 2026 07:30"
    assert dates.published_label(date(2026, 3, 2), "ru", "Asia/Tokyo") == "2 мар. 2026\u202fг."
    assert dates.format_date(MORNING, "fr", form="long") == "2 mars 2026"


@pytest.mark.parametrize(("code", "expected"), [
    ("en", "Your digest for Monday 2 March 2026"), ("de", "Dein Nachrichtenüberblick für Montag, 2. März 2026"),
    ("es", "Tu resumen del lunes, 2 de marzo de 2026"), ("fr", "Votre résumé du lundi 2 mars 2026"),
    ("pt", "Seu resumo de segunda-feira, 2 de março de 2026"), ("ru", "Ваша сводка: понедельник, 2 марта 2026\u202fг."),
])
def test_each_language_writes_the_digest_heading(code, expected):
    tr = translator(code)
    assert tr.gettext("Your digest for {date}", date=dates.weekday_date(MORNING, code, "Europe/Berlin")) == expected


@pytest.mark.parametrize(("code", "expected"), [
    ("en", "New in the last 24 hours (since 07:30 yesterday):"),
    ("de", "Neu in den letzten 24 Stunden (seit gestern 07:30 Uhr):"),
    ("es", "Novedades en las últimas 24 horas (desde ayer a las 7:30):"),
    ("fr", "Nouveautés au cours des 24 dernières heures (depuis hier à 07:30)\u00a0:"),
    ("pt", "Novidades nas últimas 24 horas (desde ontem às 07:30):"),
    ("ru", "Новое за последние 24 часа (с 07:30 вчерашнего дня):"),
])
def test_each_language_writes_the_digest_period(code, expected):
    tr = translator(code)
    since = tr.gettext("since {time} yesterday", time=dates.clock(MORNING, code, "Europe/Berlin"))
    period = tr.ngettext("in the last {n} hour ({period})", "in the last {n} hours ({period})", 24, period=since)
    assert tr.gettext("New {period}:", period=period) == expected
