"""Benchmark: experiment analysis of 10 million sends, ours vs pandas + statsmodels.

Generates the sends with numpy into Parquet (three arms, a pre-period covariate, two weeks
of send times), then times, from the same file:

- ``subjectline``: ``analyze()`` (DuckDB sufficient statistics: six metrics, z-tests and
  Welch tests, CUPED, Holm, SRM, mSPRT over daily looks);
- ``pandas + statsmodels``: ``pd.read_parquet``, a groupby for the counts, then
  ``proportions_ztest`` + ``confint_proportions_2indep`` per rate and arm and scipy's Welch
  ``ttest_ind`` on revenue (no CUPED, no sequential results: less work than ours).

Also runs the A/A simulation (``bench aa``). Writes benchmarks/results/experiment.json.

    .venv/bin/python benchmarks/bench_experiment.py [--sends 10000000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from subjectline.experiment.aa import AAConfig, simulate_aa
from subjectline.experiment.analysis import analyze
from subjectline.experiment.synthetic import ArmRates, SendsSpec, synthetic_sends

RESULTS = Path(__file__).parent / "results" / "experiment.json"
RATES = {"open_rate": "opened", "ctr": "clicked", "cvr": "converted", "unsub_rate": "unsubscribed"}


def _pandas_statsmodels(path: Path) -> dict[str, Any]:
    import pandas as pd
    from scipy import stats
    from statsmodels.stats.proportion import confint_proportions_2indep, proportions_ztest

    frame = pd.read_parquet(path)
    counts = frame.groupby("arm")[list(RATES.values())].agg(["sum", "count"])
    control = "template"
    results: dict[str, Any] = {}
    for treatment in (a for a in counts.index if a != control):
        for metric, col in RATES.items():
            k = [counts.loc[treatment, (col, "sum")], counts.loc[control, (col, "sum")]]
            n = [counts.loc[treatment, (col, "count")], counts.loc[control, (col, "count")]]
            _, p_value = proportions_ztest(k, n)
            ci = confint_proportions_2indep(k[0], n[0], k[1], n[1], method="wald")
            results[f"{metric}:{treatment}"] = (float(p_value), [float(ci[0]), float(ci[1])])
        revenue = frame.loc[frame["arm"] == treatment, "revenue"].to_numpy()
        base = frame.loc[frame["arm"] == control, "revenue"].to_numpy()
        welch = stats.ttest_ind(revenue, base, equal_var=False)
        results[f"revenue_per_send:{treatment}"] = (float(welch.pvalue), None)
    sizes = frame["arm"].value_counts()
    results["srm_p"] = float(stats.chisquare(sizes.to_numpy()).pvalue)
    return results


def _best_of(repeat: int, fn: Any) -> tuple[float, Any]:
    times, value = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        value = fn()
        times.append(time.perf_counter() - started)
    return min(times), value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sends", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--aa-runs", type=int, default=1000)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "sends.parquet"
        started = time.perf_counter()
        spec = SendsSpec(
            n=args.sends,
            arms={
                "template": ArmRates(),
                "llm_reranked": ArmRates(click_given_open=0.103),
                "llm_first": ArmRates(),
            },
            pre_value=True,
            seed=1,
        )
        synthetic_sends(spec).write_parquet(path)
        generate_s = time.perf_counter() - started
        size_mb = path.stat().st_size / 1e6

        ours_s, ours = _best_of(args.repeat, lambda: analyze(path, "template"))
        no_cuped_s, plain = _best_of(args.repeat, lambda: analyze(path, "template", cuped=False))
        theirs_s, theirs = _best_of(args.repeat, lambda: _pandas_statsmodels(path))

    # Same numbers from both (on the rates, where the methods coincide without CUPED).
    max_p_gap = max_ci_gap = 0.0
    for comp in plain.comparisons:
        key = f"{comp.metric}:{comp.treatment}"
        if comp.metric in RATES:
            p_value, ci = theirs[key]
            max_p_gap = max(max_p_gap, abs(comp.result.p_value - p_value))
            max_ci_gap = max(max_ci_gap, *np.abs(np.subtract(comp.result.ci95, ci)))

    aa = simulate_aa(AAConfig(runs=args.aa_runs))
    ctr = next(c for c in ours.comparisons if c.metric == "ctr" and c.treatment == "llm_reranked")
    report = {
        "sends": args.sends,
        "arms": 3,
        "parquet_mb": round(size_mb, 1),
        "generate_seconds": round(generate_s, 2),
        "subjectline_seconds": round(ours_s, 3),
        "subjectline_no_cuped_seconds": round(no_cuped_s, 3),
        "pandas_statsmodels_seconds": round(theirs_s, 3),
        "speedup": round(theirs_s / ours_s, 1),
        "max_abs_p_value_difference_vs_statsmodels": max_p_gap,
        "max_abs_ci_difference_vs_statsmodels": max_ci_gap,
        "example_ctr_lift": {
            "relative_lift": ctr.result.relative_lift,
            "relative_lift_ci95": list(ctr.result.relative_ci95),
            "p_value": ctr.result.p_value,
            "method": ctr.result.method,
        },
        "srm_p_value": ours.srm.p_value,
        "aa": {
            k: aa[k]
            for k in (
                "fixed_horizon",
                "naive_daily_peeking",
                "sequential",
                "always_valid_msprt",
                "config",
            )
        },
        "aa_seconds": aa["seconds"],
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            # The machine may be shared: the load says how much CPU the timings had.
            "load_average_1min": round(os.getloadavg()[0], 2),
        },
        "repeat": f"best of {args.repeat}",
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
