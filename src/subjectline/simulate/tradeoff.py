"""The per-category creativity-vs-conversion weight, found on a simulated send.

``run_tradeoff`` is ``subjectline tradeoff`` (and the demo's trade-off step) without the
command line: it prepares a simulated send, sweeps lambda with ``score.tradeoff`` and
writes ``tradeoff.json`` and ``tradeoff.png``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

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
