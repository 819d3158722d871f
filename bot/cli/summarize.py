"""`python -m bot summarize`: the brief of one file or of standard input, or JSON lines in and out.

In --jsonl mode the length budget does not apply: `points` and `summary` are the whole sentences the
backend chose (what a benchmark scores). Printed briefs keep the configured budget.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Iterator
from itertools import islice
from pathlib import Path
from typing import IO

import typer
from pydantic import ValidationError
from rich.console import Console, Group
from rich.panel import Panel
from rich.text import Text

from bot.sources.pages import PageError, extract_page
from summarizer import ArticleText, Brief, Summarizer, SummarizerConfig, SummarizerError
from summarizer.page import decode
from summarizer.text import looks_like_page

NO_BUDGET = sys.maxsize


def run_summarize(file: str = "-", jsonl: str | None = None, backend: str | None = None,
                  sentences: int | None = None, model: str | None = None) -> None:
    try:
        config = SummarizerConfig(**{key: value for key, value in
                                     {"backend": backend, "model": model, "sentences": sentences}.items()
                                     if value is not None})
    except ValidationError as exc:
        error = exc.errors()[0]
        _fail(f"Invalid --{error['loc'][0]}: {error['msg']}")
    summarizer = _summarizer(config)
    try:
        if jsonl is not None:
            with _open(jsonl) as stream:
                for line in summarize_jsonl(summarizer, stream):
                    sys.stdout.write(line + "\n")
                    sys.stdout.flush()
        else:
            [brief] = summarizer.summarize([read_input(file)])
            Console().print(render_brief(brief))
    except typer.Exit:
        raise  # a RuntimeError too: the failure was reported already
    except SummarizerError as exc:
        _fail(f"Cannot summarize: {exc}")
    except (RuntimeError, ValueError) as exc:  # a model that is not available offline, a missing --model
        _fail(str(exc))


def _summarizer(config: SummarizerConfig) -> Summarizer:
    """The backend asked for; `llm` talks to the server in the LLM_* settings (environment or .env)."""
    if config.backend != "llm":
        return Summarizer(config)
    from bot.services.briefs import llm_summarizer
    from bot.settings import Settings

    try:
        settings = Settings()
        summarizer, _ = llm_summarizer(settings, config.model_copy(update={"language": settings.llm_language}))
    except (ValidationError, ValueError) as exc:
        _fail(f"Cannot use the llm backend: {exc}")
    return summarizer


def summarize_jsonl(summarizer: Summarizer, lines: Iterable[str], batch_size: int | None = None) -> Iterator[str]:
    """One JSON line out per JSON line in, in order; a bad line gets an `error` field instead of a brief."""
    numbered = enumerate(lines, start=1)
    size = batch_size or summarizer.config.batch_size
    while batch := list(islice(numbered, size)):
        parsed = [_parse_line(number, line) for number, line in batch if line.strip()]
        articles = [item for item in parsed if isinstance(item, tuple)]
        outcomes = iter(summarizer.summarize_each([article for _, article in articles], max_chars=NO_BUDGET))
        for item in parsed:
            if isinstance(item, dict):  # the line could not be read
                yield json.dumps(item, ensure_ascii=False)
                continue
            record_id, _ = item
            outcome = next(outcomes)
            if isinstance(outcome, SummarizerError):
                yield json.dumps({"id": record_id, "error": str(outcome)}, ensure_ascii=False)
            else:
                yield json.dumps(_record(record_id, outcome), ensure_ascii=False)


def read_input(name: str) -> ArticleText:
    """The article in a file (or "-"): a page is read from its bytes, as `/summary <url>` reads it (its
    character set from the page itself, its title and date from its metadata); text as UTF-8, else in the
    character set detected."""
    if name == "-":
        raw = sys.stdin.buffer.read()
    else:
        path = Path(name)
        if not path.is_file():
            _fail(f"No such file: {name}")
        raw = path.read_bytes()
    text = decode(raw)
    if looks_like_page(text):
        try:
            page = extract_page(raw, url=None, min_chars=1)  # the reader `/summary <url>` and feeds use
        except PageError:
            pass  # no main text: the whole page is read as text
        else:
            return ArticleText(text=page.text, title=page.title, published=page.date)
    return ArticleText(text=text)


def render_brief(brief: Brief) -> Panel:
    """A brief as a rich panel: headline on top, one bullet per point, date and link underneath."""
    body = [Text(brief.headline, style="bold"), *(Text(f"• {point}") for point in brief.points)]
    footer = " · ".join(str(part) for part in (brief.published, brief.url) if part)
    if footer:
        body.append(Text(footer, style="dim"))
    if brief.notice:
        body.append(Text(brief.notice, style="yellow"))
    return Panel(Group(*body), subtitle=brief.backend, subtitle_align="right")


def _record(record_id: object, brief: Brief) -> dict:
    record = {"id": record_id, "headline": brief.headline, "points": brief.points, "summary": brief.summary}
    if brief.notice:
        record["notice"] = brief.notice
    return record


def _parse_line(number: int, line: str) -> tuple[object, ArticleText] | dict:
    try:
        record = json.loads(line)
    except json.JSONDecodeError as exc:
        return {"id": None, "line": number, "error": f"not JSON: {exc.msg}"}
    if not isinstance(record, dict) or not isinstance(record.get("text"), str):
        record_id = record.get("id") if isinstance(record, dict) else None
        return {"id": record_id, "line": number, "error": "no text field"}
    title, url = record.get("title"), record.get("url")
    return record.get("id"), ArticleText(text=record["text"], title=title if isinstance(title, str) else None,
                                         url=url if isinstance(url, str) else None)


def _open(name: str) -> IO[str]:
    if name == "-":
        return open(sys.stdin.fileno(), encoding="utf-8", errors="replace", closefd=False)
    path = Path(name)
    if not path.is_file():
        _fail(f"No such file: {name}")
    return path.open(encoding="utf-8", errors="replace")


def _fail(message: str) -> None:
    Console(stderr=True).print(Text(message, style="red"), soft_wrap=True)  # a long path stays whole
    raise typer.Exit(1)
