"""``subjectline experiment ...`` and ``subjectline bench aa``."""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import typer
from rich.console import Console
from rich.table import Table

from subjectline.errors import DataError, SubjectlineError
from subjectline.workspace import DEFAULT_WORKSPACE, Workspace

if TYPE_CHECKING:
    from subjectline.experiment.group_sequential import Spending

out = Console()
WorkspaceOption = typer.Option(DEFAULT_WORKSPACE, "--workspace", "-w", help="Workspace directory.")
JsonOption = typer.Option(False, "--json", help="Print one JSON object.")


def _print_json(payload: Any) -> None:
    sys.stdout.write(json.dumps(payload, default=str) + "\n")


def _parse_shares(text: str, option: str) -> dict[str, float]:
    """``a=0.5,b=0.5`` -> {"a": 0.5, "b": 0.5}."""
    shares: dict[str, float] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, sep, value = part.partition("=")
        try:
            shares[name.strip()] = float(value) if sep else 1.0
        except ValueError:
            raise typer.BadParameter(f"{option}: {part!r} is not NAME=SHARE") from None
    if not shares:
        raise typer.BadParameter(f"{option}: no arms given")
    return shares


def _parse_spending(text: str) -> Spending:
    from subjectline.experiment.group_sequential import SPENDING_NAMES

    if text not in SPENDING_NAMES:
        raise typer.BadParameter(f"--spending must be one of {', '.join(SPENDING_NAMES)}")
    return cast("Spending", text)


def register(app: typer.Typer, bench: typer.Typer) -> None:
    exp_app = typer.Typer(help="Experiments: definitions, assignment, analysis, reports, power.")
    app.add_typer(exp_app, name="experiment")

    @exp_app.command("define")
    def define_cmd(
        experiment_id: str = typer.Option(..., "--id"),
        arms: str = typer.Option(..., help="Arms and shares: template=0.5,llm=0.5"),
        control: str = typer.Option("template"),
        holdout: float = typer.Option(0.0, help="Share of all users held out globally."),
        salt: str = typer.Option(""),
        start: datetime | None = typer.Option(None),
        end: datetime | None = typer.Option(None),
        primary: str = typer.Option("ctr", help="Primary metric."),
        guardrails: str = typer.Option("unsub_rate", help="Comma-separated guardrail metrics."),
        mde: float = typer.Option(0.05, help="Minimum detectable relative lift."),
        workspace: Path = WorkspaceOption,
        as_json: bool = JsonOption,
    ) -> None:
        """Store an experiment definition in the workspace (table ``experiments``)."""
        from pydantic import ValidationError

        from subjectline.experiment.definition import Arm, Experiment, save_experiment

        try:
            experiment = Experiment.model_validate(
                {
                    "id": experiment_id,
                    "arms": [
                        Arm(name=n, share=s) for n, s in _parse_shares(arms, "--arms").items()
                    ],
                    "control": control,
                    "holdout_share": holdout,
                    "salt": salt,
                    "start": start,
                    "end": end,
                    "primary_metric": primary,
                    "guardrail_metrics": [g.strip() for g in guardrails.split(",") if g.strip()],
                    "mde": mde,
                }
            )
        except ValidationError as exc:
            raise SubjectlineError(f"invalid experiment: {exc}") from exc
        save_experiment(Workspace(workspace), experiment)
        if as_json:
            _print_json(json.loads(experiment.model_dump_json()))
        else:
            out.print(f"experiment {experiment.id} saved in {Workspace(workspace).db_path}")

    @exp_app.command("assign")
    def assign_cmd(
        experiment_id: str = typer.Option(..., "--experiment"),
        users: Path = typer.Option(..., help="CSV/Parquet with a user_id column."),
        out_file: Path = typer.Option(..., "--out", help="Assignments (.parquet or .csv)."),
        log: bool = typer.Option(True, "--log/--no-log", help="Log exposures in the workspace."),
        workspace: Path = WorkspaceOption,
        as_json: bool = JsonOption,
    ) -> None:
        """Assign users to arms by salted hashing; write them and log exposures."""
        from subjectline.data.validate import read_raw
        from subjectline.experiment.assignment import assign, log_exposures
        from subjectline.experiment.definition import load_experiment

        ws = Workspace(workspace)
        experiment = load_experiment(ws, experiment_id)
        frame = read_raw(users)
        if "user_id" not in frame.columns:
            raise DataError(str(users), "missing column user_id", column="user_id")
        assignments = assign(experiment, frame)
        out_file.parent.mkdir(parents=True, exist_ok=True)
        if out_file.suffix.lower() == ".csv":
            assignments.write_csv(out_file)
        else:
            assignments.write_parquet(out_file)
        logged = log_exposures(ws, experiment.id, assignments) if log else 0
        counts = dict(assignments["arm"].value_counts().sort("arm").iter_rows())
        if as_json:
            _print_json({"experiment": experiment.id, "arms": counts, "exposures_logged": logged})
        else:
            for arm, n in counts.items():
                out.print(f"{arm}: {n:,}")
            out.print(f"written to {out_file}; {logged:,} new exposures logged")

    def _run_analysis(
        sends: Path,
        control: str | None,
        expected: str | None,
        experiment_id: str | None,
        correction: str,
        cuped: bool,
        workspace: Path,
        spending: str = "obrien_fleming",
        planned_looks: int | None = None,
    ) -> tuple[Any, str]:
        from subjectline.experiment.analysis import analyze
        from subjectline.experiment.definition import load_experiment

        if correction not in ("holm", "bh", "none"):
            raise typer.BadParameter("--correction must be holm, bh or none")
        method: Any = "fdr_bh" if correction == "bh" else correction
        shares = _parse_shares(expected, "--expected") if expected else None
        mixture, alpha = 0.10, 0.05
        if experiment_id:
            experiment = load_experiment(Workspace(workspace), experiment_id)
            control = control or experiment.control
            shares = shares or experiment.expected_shares(include_holdout=True)
            mixture, alpha = experiment.mde, experiment.alpha
        control = control or "template"
        analysis = analyze(
            sends,
            control,
            shares,
            method,
            cuped,
            mixture,
            alpha=alpha,
            spending=_parse_spending(spending),
            planned_looks=planned_looks,
        )
        return analysis, control

    SendsOption = typer.Option(..., "--sends", help="CSV/Parquet, one row per send.")
    ControlOption = typer.Option(None, help="Control arm (default: the experiment's, or template).")
    ExpectedOption = typer.Option(None, help="Planned shares for SRM: template=0.5,llm=0.5.")
    ExperimentOption = typer.Option(None, "--experiment", help="Stored experiment id.")
    CorrectionOption = typer.Option("holm", help="holm, bh (Benjamini-Hochberg) or none.")
    CupedOption = typer.Option(True, "--cuped/--no-cuped", help="CUPED when pre_value exists.")
    SpendingOption = typer.Option(
        "obrien_fleming", help="Group-sequential alpha spending: obrien_fleming or pocock."
    )
    PlannedLooksOption = typer.Option(
        None,
        min=1,
        help="Daily looks planned for the group-sequential test (default: the days in the "
        "sends, i.e. a final reading).",
    )

    @exp_app.command("analyze")
    def analyze_cmd(
        sends: Path = SendsOption,
        control: str | None = ControlOption,
        expected: str | None = ExpectedOption,
        experiment_id: str | None = ExperimentOption,
        correction: str = CorrectionOption,
        cuped: bool = CupedOption,
        spending: str = SpendingOption,
        planned_looks: int | None = PlannedLooksOption,
        workspace: Path = WorkspaceOption,
        as_json: bool = JsonOption,
    ) -> None:
        """Per-arm metrics, lifts with intervals, p-values, SRM and sequential results."""
        analysis, _ = _run_analysis(
            sends,
            control,
            expected,
            experiment_id,
            correction,
            cuped,
            workspace,
            spending,
            planned_looks,
        )
        result = analysis.to_dict()
        if as_json:
            _print_json(result)
            return
        _print_tables(result)

    @exp_app.command("report")
    def report_cmd(
        sends: Path = SendsOption,
        out_dir: Path = typer.Option(..., "--out", help="Directory for report.html/json."),
        control: str | None = ControlOption,
        expected: str | None = ExpectedOption,
        experiment_id: str | None = ExperimentOption,
        correction: str = CorrectionOption,
        cuped: bool = CupedOption,
        spending: str = SpendingOption,
        planned_looks: int | None = PlannedLooksOption,
        workspace: Path = WorkspaceOption,
        as_json: bool = JsonOption,
    ) -> None:
        """Write report.html (plots: lift, results over time, SRM) and report.json."""
        from subjectline.experiment.report import write_report

        analysis, control_arm = _run_analysis(
            sends,
            control,
            expected,
            experiment_id,
            correction,
            cuped,
            workspace,
            spending,
            planned_looks,
        )
        paths = write_report(analysis, control_arm, out_dir, title=experiment_id or "")
        if as_json:
            _print_json({k: str(v) for k, v in paths.items()})
        else:
            out.print(f"report: {paths['html']}\nresults: {paths['json']}")

    @exp_app.command("power")
    def power_cmd(
        baseline: float = typer.Option(..., help="Control rate, e.g. 0.02 for a 2% CTR."),
        mde: float = typer.Option(..., help="Relative lift to detect, e.g. 0.05."),
        alpha: float = typer.Option(0.05),
        power: float = typer.Option(0.8),
        arms: int = typer.Option(2, min=2, help="Arms sharing traffic equally."),
        as_json: bool = JsonOption,
    ) -> None:
        """Sends per arm to detect a relative lift on a rate (pooled two-sided z-test)."""
        from dataclasses import asdict

        from subjectline.experiment.stats import sample_size_proportions

        try:
            result = sample_size_proportions(baseline, mde, alpha, power, arms)
        except ValueError as exc:
            raise SubjectlineError(str(exc)) from exc
        if as_json:
            _print_json(asdict(result))
        else:
            out.print(
                f"{result.n_per_arm:,} sends per arm ({result.total_n:,} in total) detect "
                f"{100 * mde:+.1f}% on a {100 * baseline:.2f}% rate with power {power:.0%} "
                f"at alpha {alpha}"
            )

    @exp_app.command("list")
    def list_cmd(workspace: Path = WorkspaceOption, as_json: bool = JsonOption) -> None:
        """Experiments stored in the workspace."""
        from subjectline.experiment.definition import list_experiments

        frame = list_experiments(Workspace(workspace))
        if as_json:
            _print_json({"experiments": frame.to_dicts()})
        else:
            out.print(frame)

    @bench.command("aa")
    def bench_aa(
        runs: int = typer.Option(1000, min=10),
        days: int = typer.Option(14, min=1),
        sends_per_day: int = typer.Option(10_000, min=100, help="Per arm and day."),
        rate: float = typer.Option(0.02, help="True CTR of both arms."),
        alpha: float = typer.Option(0.05),
        spending: str = typer.Option(
            "obrien_fleming", help="Group-sequential alpha spending: obrien_fleming or pocock."
        ),
        seed: int = typer.Option(0),
        as_json: bool = JsonOption,
    ) -> None:
        """A/A false-positive rates: fixed horizon, daily peeking, group-sequential, mSPRT."""
        from subjectline.experiment.aa import AAConfig, simulate_aa

        config = AAConfig(
            runs,
            days,
            sends_per_day,
            rate,
            alpha,
            spending=_parse_spending(spending),
            seed=seed,
        )
        result = simulate_aa(config)
        if as_json:
            _print_json(result)
            return
        for name in ("fixed_horizon", "naive_daily_peeking", "sequential", "always_valid_msprt"):
            r = result[name]
            low, high = r["ci95"]
            out.print(f"{name}: {r['false_positive_rate']:.3f} (95% CI {low:.3f}-{high:.3f})")


def _print_tables(result: dict[str, Any]) -> None:
    from subjectline.experiment.group_sequential import verdict

    arms = Table("arm", "n", "open", "CTR", "CTOR", "CVR", "unsub", "rev/send")
    for arm, s in result["arms"].items():
        arms.add_row(
            arm,
            f"{s['n']:,}",
            *(f"{s[k]:.4%}" for k in ("open_rate", "ctr", "ctor", "cvr", "unsub_rate")),
            f"{s['revenue_per_send']:.4f}",
        )
    out.print(arms)
    comps = Table(
        "metric", "treatment", "lift", "95% CI", "p", "p adj", "mSPRT p", "group seq.", "method"
    )
    for c in result["comparisons"]:
        low, high = c["relative_lift_ci95"]
        comps.add_row(
            c["metric"],
            c["treatment"],
            f"{c['relative_lift']:+.2%}",
            f"[{low:+.2%}, {high:+.2%}]",
            f"{c['p_value']:.3g}",
            f"{c['p_value_adjusted']:.3g}",
            f"{c['sequential']['p_value']:.3g}",
            verdict(c["group_sequential"], compact=True) if c["group_sequential"] else "-",
            c["method"],
        )
    out.print(comps)
    srm = result["srm"]
    status = "[red]MISMATCH[/red]" if srm["mismatch"] else "[green]ok[/green]"
    out.print(f"sample ratio: {status} (p = {srm['p_value']:.3g})")
