"""The one command registry: /help, the unknown-command reply and the README are made from it or checked
against it, and a command added in a module of its own is listed, guarded and answered like the others.

The service runs on a real store; the new command is a module-level `Command`, as a feature module has.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest

from bot.domain.models import ChatRef, ChatSettings, Message
from bot.services.briefs import BriefMaker
from bot.services.chat_io import Incoming
from bot.services.commands import COMMANDS, Command, CommandService, Registry
from bot.services.commands.registry import Tools, always, reply, unless_bare
from bot.services.feeds import FeedService
from bot.services.ingest import Ingestor
from bot.services.pages import PageService
from bot.sources.fetcher import SafeFetcher
from summarizer import SummarizerConfig, get_summarizer

README = Path(__file__).resolve().parents[2] / "README.md"
COMMAND_MODULES = Path(__file__).resolve().parents[2] / "bot" / "services" / "commands"


async def echo(tools: Tools, incoming: Incoming, chat: ChatSettings) -> list[Message]:
    """The new command: says back what it got, and which chat it is in (the handler sees settings, not rows)."""
    return reply(f"echo {incoming.args} in {chat.chat_key} ({chat.kind}, {chat.timezone})")


ECHO = Command("echo", "/echo <words>", "say the words back", "Say the words back", echo,
               examples=("/echo hello",), changes_settings=always)


async def _not_admin() -> bool:
    return False


def incoming(text: str | None, *, chat: str = "1", kind: str = "private", platform: str = "telegram",
             **words) -> Incoming:
    """'/name args' as a command, or None-and-text for a message without one."""
    if text is not None and text.startswith("/"):
        name, _, args = text[1:].partition(" ")
    else:
        name, args = None, text or ""
    return Incoming(chat=ChatRef(platform, chat), command=name, args=args, chat_kind=kind, is_admin=_not_admin,
                    **words)


def text_of(messages: list[Message]) -> str:
    return "\n".join(m.text or "" for m in messages)


@pytest.fixture
async def build(store):
    made = []

    def make(registry: Registry = COMMANDS) -> CommandService:
        fetcher = SafeFetcher(timeout_s=5, allow_private=True)
        briefs = BriefMaker(get_summarizer(SummarizerConfig(backend="lead")))
        ingestor = Ingestor(store=store, fetcher=fetcher, briefs=briefs, interval=timedelta(minutes=15),
                            new_feed_items=2)
        feeds = FeedService(store=store, fetcher=fetcher, ingestor=ingestor)
        pages = PageService(store=store, fetcher=fetcher, briefs=briefs, max_chars=600)
        made.append((fetcher, briefs))
        return CommandService(store=store, briefs=briefs, feeds=feeds, pages=pages, digests=None,
                              default_timezone="Europe/Berlin", commands=registry)

    yield make
    for fetcher, briefs in made:
        await fetcher.aclose()
        briefs.close()


def test_names_and_aliases_are_unique_and_the_help_is_registered():
    assert COMMANDS.names() == ["summary", "digest", "subscribe", "unsubscribe", "alerts", "sources", "schedule",
                                "language", "help"]
    assert COMMANDS.get("start") is COMMANDS.get("help") and COMMANDS.get("feeds") is COMMANDS.get("sources")
    with pytest.raises(ValueError, match="two commands are called 'summary'"):
        COMMANDS.with_command(Command("summary", "/summary", "again", "again", echo))
    with pytest.raises(ValueError, match="no 'help' command"):
        Registry((ECHO,))


def test_who_may_change_settings_follows_the_arguments():
    sources, schedule, alerts = COMMANDS.get("sources"), COMMANDS.get("schedule"), COMMANDS.get("alerts")
    assert sources.changes_settings is unless_bare and schedule.changes_settings is unless_bare
    assert not sources.changes_settings("", None) and sources.changes_settings("add https://x.example/feed", None)
    assert not alerts.for_admins and COMMANDS.get("subscribe").for_admins
    assert [c.name for c in COMMANDS if c.takes_attachment] == ["sources"]


def test_no_command_module_names_a_platform():
    for module in COMMAND_MODULES.glob("*.py"):
        text = module.read_text().lower()
        for platform in ("telegram", "slack", "console"):
            assert platform not in text, f"{module.name} names {platform}"


async def test_help_lists_every_registered_command_in_the_platforms_words(build):
    service = build()
    words = {"help_command": "/briefbot-help", "attachment_hint": "share the file with the message /sources"}
    text = text_of(await service.handle(incoming("/help", platform="slack", **words)))
    for command in COMMANDS.listed():
        assert f"{command.usage} - {command.description}" in text
        assert all(f"e.g. {example}" in text for example in command.examples)
    assert "An OPML list of feeds: share the file with the message /sources" in text
    assert text.endswith("/briefbot-help - this message")
    unknown = text_of(await service.handle(incoming("/summry", **words)))
    assert unknown == ("I don't know /summry. Did you mean /summary?\nCommands: /summary /digest /subscribe "
                       "/unsubscribe /alerts /sources /schedule /language. /briefbot-help shows each with examples.")


async def test_a_message_without_a_command_is_decided_by_the_service(build):
    service = build()
    looked_up = text_of(await service.handle(incoming("volcano erupts")))
    assert looked_up.startswith("No recent brief matches volcano erupts.")  # a few words: a search
    refused = text_of(await service.handle(incoming("ftp://example.com/story")))
    assert refused == "I can only read http and https links."  # a bare link: its summary


async def test_a_command_added_in_its_own_module_is_listed_guarded_and_answered(build):
    service = build(COMMANDS.with_command(ECHO))
    help_text = text_of(await service.handle(incoming("/help")))
    assert "/echo <words> - say the words back (admins, in groups)\n    e.g. /echo hello" in help_text
    assert help_text.index("/schedule HH:MM") < help_text.index("/echo") < help_text.index("/help - this message")
    assert text_of(await service.handle(incoming("/echo hi there", chat="7"))) == \
        "echo hi there in 7 (private, Europe/Berlin)"
    in_group = text_of(await service.handle(incoming("/echo hi", chat="-8", kind="group")))
    assert in_group == ("Only the admins of this chat can change its sources, alerts and schedule. "
                        "Everyone can use /summary, /digest and /alerts.")
    assert "/echo" in text_of(await service.handle(incoming("/ech")))
    assert "echo" not in text_of(await build().handle(incoming("/help")))  # the default registry is untouched


def test_the_readme_command_table_documents_every_registered_command():
    table = re.search(r"\| Command \| What it does \|\n\| --- \| --- \|\n((?:\|.*\n)+)", README.read_text())
    assert table, "the README's command table is missing"
    first_cells = [row.split("|")[1] for row in table.group(1).splitlines()]
    documented = {name for cell in first_cells for name in re.findall(r"`/([a-z_]+)", cell)}
    assert documented == set(COMMANDS.names())
    for name in documented:
        assert COMMANDS.get(name) is not None
