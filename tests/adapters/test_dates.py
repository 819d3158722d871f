"""A brief's publication date, in the chat's time zone, through the real Telegram, Slack and console renderers."""

from __future__ import annotations

import html
from datetime import UTC, date, datetime, timedelta, timezone

from rich.console import Console

from bot.adapters.console import show
from bot.adapters.slack.render import render_message as slack_render
from bot.adapters.telegram.render import render_message as telegram_render
from bot.domain.models import BriefItem, Link, Message
from bot.domain.render import message_text, published_label

MORNING = datetime(2026, 3, 3, 6, 30, tzinfo=UTC)  # 07:30 in Berlin, 01:30 in New York
NNBSP = "\u202f"  # CLDR keeps "7:30 AM" on one line with a narrow no-break space


def brief(published) -> BriefItem:
    return BriefItem(headline="Ferry crosses the lake", points=["The first electric ferry left at dawn."],
                     links=[Link("Kessford Courier", "https://courier.example/ferry")], published=published)


def message(published, timezone: str | None = "Europe/Berlin", kind: str = "reply") -> Message:
    return Message(kind=kind, items=[brief(published)], timezone=timezone)


def test_a_time_is_shown_in_the_chat_zone_and_a_day_alone_as_a_day():
    assert published_label(MORNING, "Europe/Berlin") == f"Mar 3, 2026, 7:30{NNBSP}AM"
    assert published_label(MORNING, "America/New_York") == f"Mar 3, 2026, 1:30{NNBSP}AM"
    assert published_label(MORNING, None) == f"Mar 3, 2026, 6:30{NNBSP}AM"  # no zone known: UTC
    tokyo = MORNING.astimezone(timezone(timedelta(hours=9)))
    assert published_label(tokyo, "UTC") == f"Mar 3, 2026, 6:30{NNBSP}AM"
    # Only the day is known: never moved into a zone where it would become the day before.
    assert published_label(date(2026, 3, 3), "America/Los_Angeles") == "Mar 3, 2026"
    assert published_label(datetime(2026, 3, 3, tzinfo=UTC), "America/Los_Angeles") == "Mar 3, 2026"
    assert published_label(None, "Europe/Berlin") is None
    assert published_label(MORNING, "Mars/Olympus") == f"Mar 3, 2026, 6:30{NNBSP}AM"  # a zone this system lacks


def test_the_date_and_the_zone_survive_the_outbox():
    for published in (MORNING, date(2026, 3, 3)):
        stored = Message.from_dict(message(published).to_dict())
        assert stored.items[0].published == published and type(stored.items[0].published) is type(published)
        assert stored.timezone == "Europe/Berlin"
    assert Message.from_dict({"kind": "digest", "items": []}).timezone is None  # queued before dates were shown


def test_telegram_shows_the_date_after_the_links():
    [part] = telegram_render(message(MORNING))
    assert part.html.endswith('<a href="https://courier.example/ferry">Kessford Courier</a> · '
                              f"<i>Mar 3, 2026, 7:30{NNBSP}AM</i>")
    [alone] = telegram_render(Message(kind="alert", items=[BriefItem("Headline", ["A point."],
                                                                     published=date(2026, 3, 3))]))
    assert alone.html.endswith("• A point.\n<i>Mar 3, 2026</i>")
    [undated] = telegram_render(message(None))
    assert "2026" not in undated.html


def test_slack_shows_the_date_after_the_links():
    [part] = slack_render(message(MORNING, "America/New_York", kind="digest"))
    section = part["blocks"][0]["text"]["text"]
    assert section.endswith(f"<https://courier.example/ferry|Kessford Courier> · _Mar 3, 2026, 1:30{NNBSP}AM_")
    assert f"Mar 3, 2026, 1:30{NNBSP}AM" in part["text"]  # the notification fallback too


def test_the_console_shows_the_date():
    assert message_text(message(date(2026, 3, 3))).endswith("Kessford Courier: https://courier.example/ferry\n"
                                                          "  Mar 3, 2026")
    console = Console(record=True, width=200)
    show(console, message(MORNING, kind="alert"))
    assert f"Mar 3, 2026, 7:30{NNBSP}AM" in console.export_text()


def test_every_brief_of_a_digest_shows_its_own_date():
    items = [brief(MORNING), brief(None), brief(date(2026, 3, 1))]
    digest = Message(kind="digest", heading="Your digest", items=items, timezone="Asia/Tokyo")
    shown = html.unescape("\n".join(part.html for part in telegram_render(digest)))
    assert f"Mar 3, 2026, 3:30{NNBSP}PM" in shown and "Mar 1, 2026" in shown and shown.count("2026") == 2
