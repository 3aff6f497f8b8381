"""CUPED, the A/A false-positive rates, the HTML/JSON report."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import polars as pl

from subjectline.experiment.aa import AAConfig, simulate_aa
from subjectline.experiment.analysis import analyze
from subjectline.experiment.report import write_report
from subjectline.experiment.synthetic import ArmRates, SendsSpec, synthetic_sends


def test_cuped_reduces_variance_and_is_unbiased() -> None:
    """Over repeated experiments with a known open-rate lift of 0.01."""
    arms = {"template": ArmRates(open_rate=0.20), "llm": ArmRates(open_rate=0.21)}
    plain, adjusted, widths = [], [], []
    for seed in range(30):
        data = synthetic_sends(SendsSpec(n=10_000, arms=arms, pre_value=True, seed=seed))
        with_cuped = analyze(data, "template").comparisons[0].result
        without = analyze(data, "template", cuped=False).comparisons[0].result
        plain.append(without.difference)
        adjusted.append(with_cuped.difference)
        widths.append(
            (with_cuped.ci95[1] - with_cuped.ci95[0]) / (without.ci95[1] - without.ci95[0])
        )
    assert np.var(adjusted) < 0.9 * np.var(plain)
    assert max(widths) < 0.95
    standard_error = np.std(adjusted) / np.sqrt(len(adjusted))
    assert abs(np.mean(adjusted) - 0.01) < 3 * standard_error


def test_aa_false_positive_rates() -> None:
    result = simulate_aa(AAConfig(runs=3000, seed=11))
    tolerance = 4 * np.sqrt(0.05 * 0.95 / 3000)
    assert abs(result["fixed_horizon"]["false_positive_rate"] - 0.05) < tolerance
    assert result["naive_daily_peeking"]["false_positive_rate"] > 0.12
    assert abs(result["sequential"]["false_positive_rate"] - 0.05) < tolerance
    assert result["always_valid_msprt"]["false_positive_rate"] <= 0.05 + tolerance


def test_report_writes_html_with_plots_and_json(sends: pl.DataFrame, tmp_path: Path) -> None:
    analysis = analyze(sends, "template")
    paths = write_report(analysis, "template", tmp_path, title="exp-1")
    html = paths["html"].read_text()
    assert html.count("data:image/png;base64,") == 3
    assert "No sample ratio mismatch" in html
    assert "reject at look" in html and "not rejected after 14 of 14 looks" in html
    payload = json.loads(paths["json"].read_text())
    assert len(payload["comparisons"]) == 12
    assert {r["metric"] for r in payload["timeline"]} == {
        "open_rate",
        "ctr",
        "ctor",
        "cvr",
        "unsub_rate",
        "revenue_per_send",
    }
    assert len(payload["timeline"]) == 12 * 14
