"""Telegram HTML rendering: every outside string escaped, parts split under 4,096 on safe boundaries.

The parts are also sent through the real python-telegram-bot to the stand-in, whose HTML parser is as
strict as Telegram's: an unescaped `<` or a tag cut in half comes back as "can't parse entities".
"""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

from telegram import Bot

from bot.adapters.telegram.render import MAX_MESSAGE_CHARS, render_message, units
from bot.adapters.telegram.sender import TelegramSender
from bot.domain.models import BriefItem, ChatRef, Link, Message

HOSTILE_TITLE = '<b>Bold</b> & <script>alert("x")</script> <!everyone> &amp; <a href="javascript:x">'
HOSTILE_URL = 'https://example.com/story?a=1&b="2"&c=<3>'


class _Checker(HTMLParser):
    """Collects tags and text so a test can see the markup is balanced and only ours."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.stack.append(tag)
        self.tags.append((tag, dict(attrs)))

    def handle_endtag(self, tag):
        assert self.stack and self.stack[-1] == tag, f"unbalanced </{tag}>"
        self.stack.pop()

    def handle_data(self, data):
        self.text.append(data)


def parse(part_html: str) -> _Checker:
    checker = _Checker()
    checker.feed(part_html)
    checker.close()
    assert checker.stack == [], f"unclosed tags {checker.stack}"
    assert not re.search(r"&(?!(amp|lt|gt|quot|#x27);)", part_html), "a bare & or a cut entity"
    return checker


def hostile_message() -> Message:
    return Message(kind="alert", heading=HOSTILE_TITLE, text="Plain <i>text</i> & more",
                   items=[BriefItem(headline=HOSTILE_TITLE, points=["Point <u>one</u> & \"two\""],
                                    links=[Link("Source <b>", HOSTILE_URL),
                                           Link("Evil", "javascript:alert(1)"),
                                           Link("Data", "data:text/html,<script>")])],
                   footer="<!channel> footer")


def test_hostile_strings_are_escaped_and_only_web_links_become_anchors():
    [part] = render_message(hostile_message())
    checker = parse(part.html)
    assert {tag for tag, _ in checker.tags} <= {"b", "i", "a"}
    anchors = [attrs["href"] for tag, attrs in checker.tags if tag == "a"]
    assert anchors == [HOSTILE_URL]  # parsed back: the quotes and <> of the URL survived escaping
    assert f'href="{html.escape(HOSTILE_URL, quote=True)}"' in part.html
    assert "<script>" not in part.html and "<!everyone>" not in part.html and "<u>" not in part.html
    text = "".join(checker.text)
    assert HOSTILE_TITLE in text  # shown literally, as typed
    assert "javascript:alert(1)" in text and "<!channel> footer" in text


def test_only_a_single_story_gets_a_link_preview():
    single = render_message(Message(kind="alert", items=[BriefItem("One", [], [Link("a", "https://a.example/")])]))
    digest = render_message(Message(kind="digest", items=[BriefItem("One", [], [Link("a", "https://a.example/")]),
                                                          BriefItem("Two", [], [Link("b", "https://b.example/")])]))
    unsafe = render_message(Message(kind="alert", items=[BriefItem("One", [], [Link("a", "javascript:x")])]))
    assert single[0].preview_url == "https://a.example/"
    assert digest[0].preview_url is None and unsafe[0].preview_url is None


def test_long_digest_splits_on_paragraph_boundaries():
    items = [BriefItem(headline=f"Story {n} <&>", points=[f"Point {n}.{k} " + "word " * 30 for k in range(3)],
                       links=[Link("source", f"https://example.com/{n}?q=\"{n}\"")]) for n in range(60)]
    message = Message(kind="digest", heading="Daily digest", items=items)
    parts = render_message(message)
    assert len(parts) > 1
    for part in parts:
        assert units(part.html) <= MAX_MESSAGE_CHARS
        parse(part.html)
    # No story is cut: every part holds whole paragraphs, and together they hold all of them, in order.
    paragraphs = [p for part in parts for p in part.html.split("\n\n")]
    assert paragraphs[0] == "<b>Daily digest</b>"
    assert [re.match(r"<b>Story (\d+)", p)[1] for p in paragraphs[1:]] == [str(n) for n in range(60)]


def test_one_huge_paragraph_splits_on_lines_then_words_never_inside_an_entity():
    # One line of 9,000 characters where every word is an entity-heavy token.
    words = " ".join(f'&<"{n}">' for n in range(1500))
    lines = "\n".join(f"line {n} " + "x" * 50 for n in range(100))
    message = Message(kind="reply", text=words + "\n" + lines)
    parts = render_message(message)
    assert len(parts) >= 3
    for part in parts:
        assert units(part.html) <= MAX_MESSAGE_CHARS
        parse(part.html)
    text = "".join("".join(parse(part.html).text) for part in parts)
    assert [int(n) for n in re.findall(r'&<"(\d+)">', text)] == list(range(1500))  # no token lost or cut


def test_a_word_longer_than_a_message_is_cut_between_characters():
    message = Message(kind="reply", heading="Title", text="&" * 5000 + " 😀" * 3000)
    parts = render_message(message)
    for part in parts:
        assert units(part.html) <= MAX_MESSAGE_CHARS
        parse(part.html)
    text = "".join("".join(parse(part.html).text) for part in parts)
    assert text.count("&") == 5000 and text.count("😀") == 3000


async def test_every_rendered_part_is_accepted_by_the_strict_stand_in(tg):
    long_text = "\n\n".join(f"Paragraph {n}: " + "<tag> & \"quote\" " * 40 for n in range(40))
    messages = [hostile_message(), Message(kind="reply", text=long_text),
                Message(kind="reply", text="&<>" * 3000)]
    chat = ChatRef("telegram", "42")
    counts = []
    async with Bot(tg.token, base_url=tg.base_url, base_file_url=tg.base_file_url) as bot:
        sender = TelegramSender(bot)
        sender.ready = True
        for message in messages:
            parts = sender.render(message)
            for part in parts:
                await sender.send_part(chat, part)
            counts.append(len(parts))
    sent = [m["text"] for m in tg.sent_messages(42)]  # as Telegram shows them: entities parsed
    assert counts[1] > 1 and counts[2] > 1 and len(sent) == sum(counts)
    assert HOSTILE_TITLE in sent[0]
    assert "".join(sent[counts[0]:counts[0] + counts[1]]).count('<tag> & "quote"') == 40 * 40
    assert "".join(sent[-counts[2]:]) == "&<>" * 3000
