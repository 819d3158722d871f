"""Progress bars in the terminal for long command-line work: importing an OPML file, the first poll of
many feeds, backfilling summaries.

The services report progress through plain callbacks and know nothing of terminals:
`Ingestor.poll(progress=...)` and `summarize_pending(progress=...)` call `(stage, done, total)`,
`FeedService.import_opml(progress=...)` calls `(done, total)`. `TerminalProgress` turns both into
rich bars, one per stage. When stderr is not a terminal (a pipe, a log file, systemd) it draws
nothing: the command's closing report says what happened, and logs stay free of bar fragments.
"""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

STAGE_LABELS = {"feeds": "Polling feeds", "summaries": "Summarizing articles"}


class TerminalProgress:
    """`with TerminalProgress() as progress: await ingestor.poll(progress=progress.stage)`."""

    def __init__(self, console: Console | None = None) -> None:
        self.console = console or Console(stderr=True)
        self._bars = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                              TimeElapsedColumn(), console=self.console, disable=not self.console.is_terminal)
        self._tasks: dict[str, TaskID] = {}

    def __enter__(self) -> TerminalProgress:
        self._bars.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self._bars.stop()

    def stage(self, stage: str, done: int, total: int) -> None:
        """The `(stage, done, total)` callback: one bar per stage, created when the stage first reports."""
        task = self._tasks.get(stage)
        if task is None:
            task = self._tasks[stage] = self._bars.add_task(STAGE_LABELS.get(stage, stage), total=total)
        self._bars.update(task, completed=done, total=total)

    def bar(self, description: str) -> Callable[[int, int], None]:
        """A `(done, total)` callback drawing one bar, e.g. `import_opml(..., progress=progress.bar("Importing feeds"))`."""
        return lambda done, total: self.stage(description, done, total)
