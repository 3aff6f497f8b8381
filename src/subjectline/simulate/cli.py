"""``subjectline simulate`` and ``subjectline tradeoff``: offline policy comparison and the
per-category creativity-vs-conversion weight; ``subjectline bench ope``: off-policy
evaluation checked on real logs."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from subjectline.simulate.tradeoff import TRADEOFF_FILE, run_tradeoff
from subjectline.workspace import DEFAULT_WORKSPACE

out = Console()

DATASETS = ("obd",)


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

    @bench.command("ope")
    def bench_ope_cmd(
        dataset: str = typer.Option("obd", help="Logged dataset: obd (Open Bandit Dataset)."),
        campaign: list[str] = typer.Option(
            ["all", "men", "women"], help="OBD campaign(s); repeat the option for several."
        ),
        n_sim: int = typer.Option(100_000, min=1_000, help="Thompson-sampling Monte Carlo draws."),
        n_bootstrap: int = typer.Option(2_000, min=100, help="Bootstrap resamples per interval."),
        folds: int = typer.Option(3, min=1, help="Cross-fitting folds of the DR reward model."),
        seed: int = typer.Option(0),
        as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
    ) -> None:
        """Estimate Bernoulli Thompson Sampling's click rate from the uniform-random logs
        (IPS, SNIPS, DR) and compare with its on-policy value from its own logs."""
        from subjectline.cli import print_json
        from subjectline.progress import steps
        from subjectline.simulate.obd import CAMPAIGNS, OPE_ESTIMATORS, STEPS, obd_check

        if dataset not in DATASETS:
            raise typer.BadParameter(f"unknown dataset {dataset!r}; known: {', '.join(DATASETS)}")
        unknown = sorted(set(campaign) - set(CAMPAIGNS))
        if unknown:
            raise typer.BadParameter(f"unknown campaign(s) {unknown}; known: {CAMPAIGNS}")
        campaigns = tuple(dict.fromkeys(campaign))
        names = [f"{c}: {s}" for c in campaigns for s in STEPS]
        with steps("OPE on OBD", names) as report:
            results = obd_check(
                campaigns,
                on_step=report,
                n_sim=n_sim,
                n_bootstrap=n_bootstrap,
                n_folds=folds,
                seed=seed,
            )
        if as_json:
            print_json({"campaigns": {name: r.to_dict() for name, r in results.items()}})
            return
        table = Table(title="BTS click rate: on-policy vs estimated from the random logs")
        for column in ("campaign", "estimator", "value", "95% CI", "rel. error", "CI overlaps"):
            table.add_column(column)
        for name, result in results.items():
            truth = result.on_policy
            table.add_row(name, "on-policy", f"{truth.value:.4f}", _ci(truth.ci95), "", "")
            errors = result.relative_error()
            for estimator in OPE_ESTIMATORS:
                est = result.estimates[estimator]
                overlap = "yes" if est.overlaps(truth) else "[red]no[/red]"
                row = (f"{est.value:.4f}", _ci(est.ci95), f"{errors[estimator]:.0%}", overlap)
                table.add_row("", estimator, *row)
        out.print(table)


def _ci(interval: tuple[float, float]) -> str:
    return f"[{interval[0]:.4f}, {interval[1]:.4f}]"
