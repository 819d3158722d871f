"""Block Kit rendering and Slack markup, checked against Slack's limits (the stand-in's validator)."""

from __future__ import annotations

import pytest

from bot.adapters.slack.markup import from_slack, link, split_text, unescape
from bot.adapters.slack.render import MAX_FALLBACK_CHARS, render_message
from bot.domain.models import BriefItem, Link, Message
from tests.support.standins.slack import validate_blocks


def texts(part: dict) -> list[str]:
    found = []
    for block in part["blocks"]:
        if block["type"] in ("section", "header"):
            found.append(block["text"]["text"])
        else:
            found += [element["text"] for element in block["elements"]]
    return found


def test_a_digest_of_sixty_items_becomes_several_valid_messages():
    items = [BriefItem(headline=f"Story {n} & more", points=[f"point {n}.{p} " + "word " * 60 for p in range(3)],
                       links=[Link(f"Source {n}", f"https://example.com/{n}")]) for n in range(60)]
    parts = render_message(Message(kind="digest", heading="Your digest", items=items, footer="60 stories"))
    assert len(parts) >= 2
    for part in parts:
        validate_blocks(part["blocks"])  # 50 blocks, 3,000 characters a section, 150 a header
        assert 0 < len(part["text"]) <= MAX_FALLBACK_CHARS
    every = [text for part in parts for text in texts(part)]
    assert [t.split("*")[1] for t in every if t.startswith("*Story")] == [f"Story {n} &amp; more" for n in range(60)]
    assert parts[0]["blocks"][0]["type"] == "header" and parts[-1]["blocks"][-1]["type"] == "context"


def test_long_text_is_cut_into_sections_without_breaking_an_entity_or_a_link():
    words = ["a&b", "<tag>", "plain", "x>y"] * 1500
    text = " ".join(words)
    item = BriefItem(headline="H", points=["p " * 2000],
                     links=[Link("L", f"https://example.com/{n}") for n in range(80)])
    parts = render_message(Message(kind="reply", text=text, items=[item]))
    sections = [t for part in parts for t in texts(part)]
    for part in parts:
        validate_blocks(part["blocks"])
    first_item = next(i for i, section in enumerate(sections) if section.startswith("*H*"))
    text_sections = sections[:first_item]
    for section in sections:
        assert section.count("<") == section.count(">")  # whole links only
        assert "&" not in section.replace("&amp;", "").replace("&lt;", "").replace("&gt;", "")
    assert unescape(" ".join(text_sections)).split() == words


def test_a_long_heading_is_shortened_within_the_header_limit():
    parts = render_message(Message(kind="reply", heading="Q&A " * 100, text="body"))
    header = parts[0]["blocks"][0]["text"]["text"]
    assert len(header) <= 150 and header.endswith("…") and header.startswith("Q&amp;A Q&amp;A")
    assert "&" not in header.replace("&amp;", "")


def test_an_empty_message_renders_nothing():
    assert render_message(Message(kind="notice")) == []


@pytest.mark.parametrize(("url", "label", "expected"), [
    ("https://example.com/a?b=1&c=2", "A & B", "<https://example.com/a?b=1&amp;c=2|A &amp; B>"),
    ("https://example.com/x|y>z", "pipe | in <label>", "<https://example.com/x%7Cy&gt;z|pipe ¦ in &lt;label&gt;>"),
    ("javascript:alert(1)", "click", "click"),
    ("ftp://example.com/file", "ftp", "ftp"),
    ("https://example.com/" + "a" * 2000, "too long", "too long"),
    ("http://example.com", "multi\nline", "<http://example.com|multi line>"),
    ("https://example.com/a b\tc", "gaps", "<https://example.com/a%20b%09c|gaps>"),
])
def test_links(url, label, expected):
    assert link(url, label) == expected


@pytest.mark.parametrize(("typed", "plain"), [
    ("&lt;b&gt; &amp; co", "<b> & co"),
    ("<https://example.com/a?b=1&amp;c=2|example.com/a>", "https://example.com/a?b=1&c=2"),
    ("<https://example.com>", "https://example.com"),
    ("ask <@U123> in <#C456|general>", "ask @U123 in #general"),
    ("<!here> <!subteam^S1|@team>", "@here @team"),
    ("<mailto:a@example.com|a@example.com>", "a@example.com"),
])
def test_what_slack_puts_into_typed_text_is_undone(typed, plain):
    assert from_slack(typed) == plain


def test_split_text_prefers_line_breaks():
    text = "\n".join(["line " * 100] * 20)
    pieces = split_text(text, 3000)
    assert all(len(p) <= 3000 for p in pieces) and all(p.startswith("line") for p in pieces)
    assert "\n".join(pieces).split() == text.split()
