"""What the command-line commands do, on services built by the composition root."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import typer
from rich.console import Console

from bot.adapters import registry
from bot.runtime.logs import setup_logging
from bot.main import Services, build_services
from bot.cli.progress import TerminalProgress
from bot.services.feeds import AlreadyFollowed, Followed, Imported, NotFollowed, Refused, Unfollowed
from bot.settings import Settings

err = Console(stderr=True)


def _services() -> Services:
    settings = Settings()
    setup_logging(level="WARNING", json_lines=settings.log_json, secrets=settings.secrets(),
                  patterns=registry.token_patterns())
    return build_services(settings)


def _run(work) -> None:
    """Build the services, run one coroutine on them, and close them whatever happens."""

    async def main() -> None:
        services = _services()
        try:
            await work(services)
        finally:
            await services.aclose()

    asyncio.run(main())


def run_chat() -> None:
    from bot.adapters.console import run_console

    _run(lambda services: run_console(services.commands, log_file=services.settings.data_dir / "briefbot.log"))


def run_poll(*, summarize: bool) -> None:
    async def work(services: Services) -> None:
        with TerminalProgress() as progress:
            report = await services.ingestor.poll(summarize=summarize, progress=progress.stage)
        print(f"{report.feeds} feeds polled: {report.unchanged} unchanged, {report.failed} failed, "
              f"{report.new_articles} new articles, {report.briefs} briefs")
        for reason, count in sorted(report.errors.items()):
            print(f"  {count} x {reason}")

    _run(work)


def run_backfill() -> None:
    async def work(services: Services) -> None:
        with TerminalProgress() as progress:
            made = await services.ingestor.summarize_pending(progress=progress.stage)
        print(f"{made} briefs made")

    _run(work)


def feeds_command(action: str, chat: str, value: str | None) -> None:
    platform, _, chat_key = chat.partition(":")
    if not platform or not chat_key:
        err.print("--chat must look like platform:chat_id, e.g. telegram:-1001234")
        raise typer.Exit(2)

    async def work(services: Services) -> None:
        with services.store.transaction() as tx:
            chat_id = tx.chats.ensure(platform, chat_key).id
        feeds = services.feeds
        if action == "add":
            _tell(await feeds.add(chat_id, value))
        elif action == "remove":
            _tell(feeds.remove(chat_id, value))
        elif action == "list":
            print("\n".join(feeds.describe(chat_id)) or "No feeds.")
        elif action == "import":
            with TerminalProgress() as progress:
                result = await feeds.import_opml(chat_id, Path(value).read_bytes(),
                                                 progress=progress.bar("Importing feeds"))
            _tell(result)
        elif action == "export":
            sys.stdout.write(feeds.export_opml(chat_id).decode())

    try:
        _run(work)
    except (_Refused, OSError) as exc:
        err.print(f"Error: {exc}")
        raise typer.Exit(1) from exc


class _Refused(Exception):
    """The feed service said no: the command exits with the reason."""


def _tell(result: Followed | AlreadyFollowed | Unfollowed | NotFollowed | Imported | Refused) -> None:
    """What the feed service did, said on the command line."""
    match result:
        case Followed(name, url):
            print(f"Now following {name} ({url}). Its stories are fetched with the next poll (`python -m bot poll`).")
        case AlreadyFollowed(name):
            print(f"Already following {name}.")
        case Unfollowed(name):
            print(f"Stopped following {name}.")
        case NotFollowed(ref):
            raise _Refused(f"no feed “{ref}” is followed; `python -m bot feeds list` shows them.")
        case Imported(added, already, skipped):
            print(f"Imported {added} feed{'s' if added != 1 else ''}" + (f", {already} already followed" if already else "")
                  + (f", {len(skipped)} skipped:" + "".join(f"\n{line}" for line in skipped) if skipped else "") + ".")
        case Refused(reason):
            raise _Refused(reason)
