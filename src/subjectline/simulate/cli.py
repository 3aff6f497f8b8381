"""``subjectline bench ope``: off-policy evaluation checked on real logs."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table

out = Console()

DATASETS = ("obd",)


def register(app: typer.Typer, bench: typer.Typer) -> None:
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
