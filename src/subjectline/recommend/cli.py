"""``subjectline recommend`` and ``subjectline bench recommend``."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from subjectline.errors import SubjectlineError
from subjectline.workspace import DEFAULT_WORKSPACE, Workspace

out = Console()
err = Console(stderr=True)


@contextmanager
def _progress_bar(label: str, total: int) -> Iterator[Progress]:
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=err, transient=True) as bar:
        bar.add_task(label, total=total)
        yield bar


def _workspace_table(workspace: Workspace, name: str) -> pl.DataFrame:
    try:
        return workspace.table(name)
    except FileNotFoundError as exc:
        raise SubjectlineError(str(exc)) from None


def load_dataset(dataset: str) -> tuple[pl.DataFrame, pl.DataFrame | None]:
    """``ml-100k`` or a directory of contract files -> ``(interactions, items or None)``."""
    if dataset == "ml-100k":
        from subjectline.data.movielens import load_movielens

        frames = load_movielens()
    else:
        from subjectline.data.ingest import load_dir

        frames = load_dir(Path(dataset))
    if "interactions" not in frames:
        raise SubjectlineError(f"{dataset}: no interactions file")
    return frames["interactions"], frames.get("items")


def register(app: typer.Typer, bench: typer.Typer) -> None:
    @app.command("recommend")
    def recommend_cmd(
        k: int = typer.Option(10, "--k", min=1, help="Items per user."),
        model: str = typer.Option("ease", help="popularity, als or ease."),
        workspace: Path = typer.Option(DEFAULT_WORKSPACE, "--workspace", "-w"),
        as_of: datetime | None = typer.Option(
            None, help="Reference date for new arrivals (default: latest interaction)."
        ),
        new_arrivals_days: int | None = typer.Option(
            None, min=0, help="Boost items added within this many days before --as-of."
        ),
        new_arrivals_boost: float = typer.Option(1.5, min=0.01, help="Score multiplier."),
        include_out_of_stock: bool = typer.Option(False, help="Also recommend items out of stock."),
        include_owned: bool = typer.Option(False, help="Also recommend purchased/rated items."),
        workers: int = typer.Option(1, min=1, help="Batches of users scored in parallel."),
    ) -> None:
        """Write each user's top-K items to the workspace table ``recommendations``."""
        from subjectline.recommend.api import recommend_for_users
        from subjectline.recommend.filters import Filters
        from subjectline.recommend.models import MODELS

        if model not in MODELS:
            raise typer.BadParameter(f"unknown model {model!r}; known: {', '.join(MODELS)}")
        ws = Workspace(workspace)
        interactions = _workspace_table(ws, "interactions")
        items = _workspace_table(ws, "items")
        filters = Filters(
            in_stock_only=not include_out_of_stock,
            exclude_owned=not include_owned,
            new_arrivals_days=new_arrivals_days,
            new_arrivals_boost=new_arrivals_boost,
        )
        if as_of is not None and as_of.tzinfo is None:
            as_of = as_of.replace(tzinfo=UTC)
        started = time.perf_counter()
        n_users = interactions["user_id"].n_unique()
        with _progress_bar(f"{model}: reading", n_users) as bar:
            task = bar.task_ids[0]
            recs = recommend_for_users(
                interactions,
                items,
                k,
                model,
                as_of=as_of,
                filters=filters,
                workers=workers,
                progress=lambda n: bar.advance(task, n),
                status=lambda text: bar.update(task, description=text),
            )
        ws.write_tables({"recommendations": recs})
        elapsed = time.perf_counter() - started
        users = recs["user_id"].n_unique()
        distinct = recs["item_id"].n_unique()
        out.print(
            f"recommendations: {recs.height:,} rows for {users:,} users "
            f"({model}, k={k}) in {elapsed:.1f}s"
        )
        out.print(
            f"distinct items: {distinct:,} of {items.height:,} "
            f"({distinct / max(1, items.height):.1%} catalog coverage)"
        )
        out.print(f"workspace: {ws.db_path} (table recommendations)")

    @bench.command("recommend")
    def bench_recommend_cmd(
        dataset: str = typer.Option("ml-100k", help="ml-100k or a directory of contract files."),
        k: int = typer.Option(10, "--k", min=1),
        as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
        tune_params: bool = typer.Option(
            False, "--tune", help="Grid-search each model on a validation split first."
        ),
    ) -> None:
        """Per-user temporal hold-out: recall@K, NDCG@K and fit time of each model."""
        from subjectline.cli import print_json
        from subjectline.recommend.evaluate import BENCH_MODELS, PARAM_GRID, bench, tune

        interactions, items = load_dataset(dataset)
        item_ids = items["item_id"] if items is not None else None
        params = None
        if tune_params:
            from subjectline.recommend.evaluate import temporal_split

            train, _ = temporal_split(interactions)
            total = sum(_grid_size(PARAM_GRID.get(m, {})) for m in BENCH_MODELS)
            with _progress_bar("tuning on the validation split", total) as bar:
                params = tune(train, k=k, on_result=lambda *_: bar.advance(bar.task_ids[0], 1))
            err.print(f"tuned parameters: {params}")
        result = bench(interactions, dataset, k=k, params=params, item_ids=item_ids)
        if as_json:
            print_json(result)
            return
        table = Table(title=f"{dataset}: {result['users']:,} users, temporal hold-out")
        for column in ("model", f"recall@{k}", f"ndcg@{k}", "fit_seconds"):
            table.add_column(column, justify="left" if column == "model" else "right")
        for name, scores in result["models"].items():
            table.add_row(name, *(f"{value}" for value in scores.values()))
        out.print(table)


def _grid_size(axes: dict[str, list[object]]) -> int:
    size = 1
    for values in axes.values():
        size *= len(values)
    return size
