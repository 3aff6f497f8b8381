"""``subjectline data ...``: synthetic and real data sources."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

out = Console()


def register(app: typer.Typer, bench: typer.Typer) -> None:
    data_app = typer.Typer(help="Data sources: synthetic marketplace, MovieLens-100k.")
    app.add_typer(data_app, name="data")

    @data_app.command("synth")
    def synth_cmd(
        users: int = typer.Option(10_000, min=1),
        items: int = typer.Option(2_000, min=10),
        seed: int = typer.Option(0),
        out_dir: Path = typer.Option(..., "--out"),
        fmt: str = typer.Option("parquet", "--format", help="parquet or csv"),
    ) -> None:
        """Write a synthetic marketplace (and its hidden ground truth) to --out."""
        from subjectline.data.synth import SYNTH_STEPS, SynthConfig, write_marketplace
        from subjectline.progress import steps

        cfg = SynthConfig(users=users, items=items, seed=seed)
        with steps("synthesize", SYNTH_STEPS) as on_step:
            counts = write_marketplace(cfg, out_dir, fmt=fmt, on_step=on_step)
        for kind, n in counts.items():
            out.print(f"{kind}: {n:,}")
        out.print(f"written to {out_dir}")

    @data_app.command("load")
    def load_cmd(
        dataset: str = typer.Argument(..., help="ml-100k"),
        out_dir: Path = typer.Option(..., "--out"),
        source: Path | None = typer.Option(None, help="A directory with ml-100k.* files"),
    ) -> None:
        """Write a real dataset mapped to the data contract to --out."""
        from subjectline.data.movielens import write_movielens

        if dataset != "ml-100k":
            raise typer.BadParameter(f"unknown dataset {dataset!r}; known: ml-100k")
        counts = write_movielens(out_dir, source)
        for kind, n in counts.items():
            out.print(f"{kind}: {n:,}")
        out.print(f"written to {out_dir}")
