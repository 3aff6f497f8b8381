"""A rich progress bar per campaign stage, counting users and users per second."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.text import Text

from subjectline.pipeline.stream import ShardProgress


class RateColumn(ProgressColumn):
    """Units per second, measured by rich over the last moments of the task."""

    def __init__(self, unit: str) -> None:
        super().__init__()
        self.unit = unit

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text(f"{speed:,.0f} {self.unit}/s" if speed else "", style="cyan")


@contextmanager
def stage_bars(description: str) -> Iterator[ShardProgress]:
    """Yields a ``(stage, done, total)`` callback; each new stage gets its own bar."""
    progress = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        RateColumn("users"),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=False,
    )
    tasks: dict[str, TaskID] = {}

    def report(stage: str, done: int, total: int) -> None:
        if stage not in tasks:
            tasks[stage] = progress.add_task(f"{description}: {stage}", total=total)
        progress.update(tasks[stage], completed=done, total=total)

    with progress:
        yield report
