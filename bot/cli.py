"""The command line: `python -m bot <command>`."""

from __future__ import annotations

import typer

app = typer.Typer(add_completion=False, no_args_is_help=True, help=__doc__)


@app.command()
def summarize(
    file: str = typer.Argument("-", help="A text, HTML or sample file; - reads standard input."),
    jsonl: str | None = typer.Option(None, "--jsonl", help="JSON lines with id and text; one JSON line out per input."),
    backend: str | None = typer.Option(None, "--backend", help="extractive, abstractive or lead."),
    sentences: int | None = typer.Option(None, "--sentences", min=1, max=10, help="Key points per brief."),
    model: str | None = typer.Option(None, "--model", help="Seq2seq model id or folder (abstractive)."),
) -> None:
    """Print the brief of a file or standard input."""
    from bot.summarize_cmd import run_summarize

    run_summarize(file=file, jsonl=jsonl, backend=backend, sentences=sentences, model=model)
