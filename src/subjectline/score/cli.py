"""``subjectline simulate`` and ``subjectline tradeoff``: offline policy comparison and the
per-category creativity-vs-conversion weight."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from subjectline.workspace import DEFAULT_WORKSPACE

out = Console()
TRADEOFF_FILE = "tradeoff.json"
TRADEOFF_PLOT = "tradeoff.png"


def run_tradeoff(
    users: int,
    seed: int,
    themes: int,
    candidates: int,
    backend: str,
    workspace: Path,
    out_dir: Path | None = None,
) -> dict[str, Any]:
    """Sweep lambda on a simulated send, write tradeoff.json and tradeoff.png; the payload."""
    from subjectline.progress import steps
    from subjectline.score.tradeoff import ScoredTheme, elbows, plot_curves, sweep, write_lambdas
    from subjectline.simulate.simulator import PREPARE_STEPS, SimulationConfig, prepare
    from subjectline.workspace import Workspace

    config = SimulationConfig(
        users=users, seed=seed, max_themes=themes, n_candidates=candidates, backend=backend
    )
    with steps("tradeoff", PREPARE_STEPS) as report:
        prepared = prepare(config, Workspace(workspace), on_step=report)
    scored = [ScoredTheme(s.theme.root_category, s.objectives) for s in prepared.scores]
    curves = sweep(scored)
    chosen = elbows(curves)
    target = out_dir or workspace
    json_path = write_lambdas(target / TRADEOFF_FILE, chosen, curves)
    png_path = plot_curves(curves, chosen, target / TRADEOFF_PLOT)
    return {
        "lambda": chosen,
        "json": str(json_path),
        "plot": str(png_path),
        "curves": curves.to_dicts(),
    }


def register(app: typer.Typer, bench: typer.Typer) -> None:
    @app.command("simulate")
    def simulate_cmd(
        users: int = typer.Option(50_000, min=500, help="Synthetic audience size."),
        seed: int = typer.Option(0),
        themes: int = typer.Option(16, min=2, help="Most distinct themes (LLM budget)."),
        candidates: int = typer.Option(6, min=1, help="LLM candidates per theme."),
        backend: str = typer.Option("local", help="local, openai or template."),
        lambdas: Path | None = typer.Option(
            None, help="tradeoff.json with the lambda per category (default: workspace's)."
        ),
        workspace: Path = typer.Option(DEFAULT_WORKSPACE, "--workspace", "-w"),
        as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
    ) -> None:
        """Simulate a send to a synthetic audience: both controls (template, facts) vs first
        LLM title vs reranked LLM title vs an oracle, with 95% intervals and the CTR lift of
        reranking over each control."""
        from subjectline.cli import print_json
        from subjectline.progress import steps
        from subjectline.score.rerank import load_lambdas
        from subjectline.simulate.simulator import SIM_STEPS, SimulationConfig, simulate
        from subjectline.workspace import Workspace

        config = SimulationConfig(
            users=users,
            seed=seed,
            max_themes=themes,
            n_candidates=candidates,
            backend=backend,
        )
        # An explicit --lambdas must exist; the workspace's file is used when present.
        path = lambdas or (workspace / TRADEOFF_FILE)
        chosen = load_lambdas(path) if lambdas is not None or path.exists() else None
        with steps("simulate", SIM_STEPS) as report:
            result = simulate(config, Workspace(workspace), lambdas=chosen, on_step=report)
        payload = result.payload | {"lambdas_from": str(path) if chosen else None}
        if as_json:
            print_json(payload)
            return
        table = Table(title=f"Simulated send to {payload['users']:,} users")
        for column in ("policy", "open rate", "CTR", "CVR", "unsub rate"):
            table.add_column(column)
        for name, m in payload["policies"].items():
            table.add_row(
                name,
                f"{m['open_rate']:.4f}",
                f"{m['ctr']:.4f}",
                f"{m['cvr']:.5f}",
                f"{m['unsub_rate']:.4f}",
            )
        out.print(table)
        for control in ("template", "facts"):
            lift = payload["lift"].get(f"ctr_llm_rerank_vs_{control}")
            if lift is None:
                continue
            lo, hi = lift["ci95"]
            out.print(
                f"CTR lift llm_rerank vs {control}: {lift['estimate']:+.2%} "
                f"(95% CI {lo:+.2%} .. {hi:+.2%})"
            )
        out.print("the paper reports +12.5% (against its own control)")

    @app.command("tradeoff")
    def tradeoff_cmd(
        users: int = typer.Option(20_000, min=500, help="Synthetic audience size."),
        seed: int = typer.Option(0),
        themes: int = typer.Option(16, min=2),
        candidates: int = typer.Option(6, min=1),
        backend: str = typer.Option("local"),
        workspace: Path = typer.Option(DEFAULT_WORKSPACE, "--workspace", "-w"),
        out_dir: Path | None = typer.Option(None, "--out", help="Default: the workspace."),
        as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
    ) -> None:
        """Sweep lambda, find the elbow of the creativity-vs-conversion curve per root
        category, draw the curves to a PNG and write the chosen lambdas to tradeoff.json."""
        from subjectline.cli import print_json

        payload = run_tradeoff(users, seed, themes, candidates, backend, workspace, out_dir)
        chosen = payload["lambda"]
        if as_json:
            print_json(payload)
            return
        for category, lam in chosen.items():
            out.print(f"{category}: lambda = {lam:.2f}")
        out.print(f"written {payload['json']} and {payload['plot']}")
