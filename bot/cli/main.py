"""The command line: `python -m bot <command>`."""

from __future__ import annotations

import sys

import typer

app = typer.Typer(add_completion=False, no_args_is_help=True, help=__doc__)


def main() -> None:
    """The command line, with a plain message instead of a traceback for a wrong setting or a taken port."""
    from pydantic import ValidationError

    try:
        app()
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, error['loc'])).upper() or 'settings'}: {error['msg']}"
                             for error in exc.errors())
        _exit_with(f"Invalid setting ({problems}). Check .env and the environment; .env.example lists them all.")
    except Exception as exc:
        # Only a started HTTP server raises ListenError: importing it here (aiohttp) would slow every command.
        http_server = sys.modules.get("bot.runtime.http_server")
        if http_server is None or not isinstance(exc, http_server.ListenError):
            raise
        _exit_with(str(exc))


def _exit_with(message: str) -> None:
    from rich.console import Console
    from rich.text import Text

    Console(stderr=True).print(Text(message, style="red"))
    raise SystemExit(2)


@app.command()
def summarize(
    file: str = typer.Argument("-", help="A text, HTML or sample file; - reads standard input."),
    jsonl: str | None = typer.Option(None, "--jsonl", help="JSON lines with id and text; one JSON line out per input."),
    backend: str | None = typer.Option(None, "--backend", help="extractive, abstractive, lead or llm (LLM_* settings)."),
    sentences: int | None = typer.Option(None, "--sentences", min=1, max=10, help="Key points per brief."),
    model: str | None = typer.Option(None, "--model", help="Seq2seq model id or folder (abstractive)."),
) -> None:
    """Print the brief of a file or standard input."""
    from bot.cli.summarize import run_summarize

    run_summarize(file=file, jsonl=jsonl, backend=backend, sentences=sentences, model=model)


@app.command()
def run() -> None:
    """Start everything configured: Telegram, Slack, or the console when no token is set."""
    from bot.main import run as run_bot

    run_bot()


@app.command()
def worker() -> None:
    """Poll feeds, summarize and deliver, without receiving commands: run as many beside `run` as needed."""
    from bot.main import run as run_bot

    run_bot(role="worker")


@app.command()
def chat() -> None:
    """The bot's commands in this terminal, against the configured store and model."""
    from bot.cli.runners import run_chat

    run_chat()


@app.command()
def poll(summarize: bool = typer.Option(True, help="Summarize the new articles too.")) -> None:
    """Run one poll cycle: fetch the due feeds, store new articles, summarize them."""
    from bot.cli.runners import run_poll

    run_poll(summarize=summarize)


@app.command()
def backfill() -> None:
    """Summarize every stored article that has no brief yet (after an import or a model change)."""
    from bot.cli.runners import run_backfill

    run_backfill()


feeds_app = typer.Typer(no_args_is_help=True, help="Manage a chat's feeds (the console chat unless --chat).")
app.add_typer(feeds_app, name="feeds")
CHAT_OPTION = typer.Option("console:local", "--chat", help="platform:chat_id, e.g. telegram:-1001234")


@feeds_app.command("add")
def feeds_add(url: str, chat: str = CHAT_OPTION) -> None:
    """Follow a feed (it is fetched and checked first)."""
    from bot.cli.runners import feeds_command

    feeds_command("add", chat, url)


@feeds_app.command("remove")
def feeds_remove(ref: str = typer.Argument(..., help="The number `feeds list` shows, or the URL."),
                 chat: str = CHAT_OPTION) -> None:
    """Stop following a feed."""
    from bot.cli.runners import feeds_command

    feeds_command("remove", chat, ref)


@feeds_app.command("list")
def feeds_list(chat: str = CHAT_OPTION) -> None:
    """The feeds a chat follows, with their health."""
    from bot.cli.runners import feeds_command

    feeds_command("list", chat, None)


@feeds_app.command("import")
def feeds_import(file: str = typer.Argument(..., help="An OPML file."), chat: str = CHAT_OPTION) -> None:
    """Follow every feed of an OPML file."""
    from bot.cli.runners import feeds_command

    feeds_command("import", chat, file)


@feeds_app.command("export")
def feeds_export(chat: str = CHAT_OPTION) -> None:
    """Print a chat's feeds as OPML."""
    from bot.cli.runners import feeds_command

    feeds_command("export", chat, None)
