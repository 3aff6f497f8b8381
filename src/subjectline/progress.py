"""Rich progress bars for anything long; silent when stderr is not a terminal-like sink."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Protocol, TypeVar

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

T = TypeVar("T")
_console = Console(stderr=True)


def _progress() -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=_console,
        transient=False,
    )


def track(items: Iterable[T], description: str, total: int | None = None) -> Iterator[T]:
    """Iterate with a progress bar on stderr."""
    with _progress() as progress:
        yield from progress.track(items, total=total, description=description)


class StepReporter(Protocol):
    def __call__(self, step: str) -> None: ...


@contextmanager
def steps(description: str, names: Sequence[str]) -> Iterator[StepReporter]:
    """A bar over named steps: call the yielded function as each step starts."""
    with _progress() as progress:
        task = progress.add_task(description, total=len(names))
        started: list[str] = []

        def report(step: str) -> None:
            if started:
                progress.advance(task)
            started.append(step)
            progress.update(task, description=f"{description}: {step}")

        yield report
        progress.update(task, completed=len(names), description=description)


def no_steps(step: str) -> None:
    """A StepReporter that reports nothing (library use without a terminal)."""


class PhaseReporter(Protocol):
    def __call__(self, phase: str, done: int, total: int) -> None: ...


@contextmanager
def phases() -> Iterator[PhaseReporter]:
    """One bar per named phase: call the yielded function with (phase, done, total)."""
    with _progress() as progress:
        tasks: dict[str, Any] = {}

        def report(phase: str, done: int, total: int) -> None:
            if phase not in tasks:
                tasks[phase] = progress.add_task(phase, total=total)
            progress.update(tasks[phase], completed=done, total=total)

        yield report
