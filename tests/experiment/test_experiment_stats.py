"""Analysis results against statsmodels and tea-tasting on the same data."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
import tea_tasting as tt
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import confint_proportions_2indep, proportions_ztest

from subjectline.experiment.analysis import analyze
from subjectline.experiment.stats import (
    adjust_p_values,
    msprt,
    power_proportions,
    sample_ratio_mismatch,
    sample_size_proportions,
)

FLAG_OF = {"open_rate": "opened", "ctr": "clicked", "cvr": "converted"}


def _comparison(result, metric: str, treatment: str) -> dict:
    return next(
        c for c in result["comparisons"] if c["metric"] == metric and c["treatment"] == treatment
    )


@pytest.mark.parametrize("metric", ["open_rate", "ctr", "cvr"])
@pytest.mark.parametrize("treatment", ["llm_a", "llm_b"])
def test_rates_equal_statsmodels(sends: pl.DataFrame, metric: str, treatment: str) -> None:
    result = analyze(sends.drop("pre_value"), "template").to_dict()
    comp = _comparison(result, metric, treatment)
    flag = FLAG_OF[metric]
    t = sends.filter(pl.col("arm") == treatment)[flag]
    c = sends.filter(pl.col("arm") == "template")[flag]
    _, p_value = proportions_ztest([t.sum(), c.sum()], [t.len(), c.len()])
    low, high = confint_proportions_2indep(t.sum(), t.len(), c.sum(), c.len(), method="wald")
    assert comp["method"] == "z-test"
    assert comp["p_value"] == pytest.approx(p_value, abs=1e-6, rel=1e-6)
    assert comp["ci95"] == pytest.approx([low, high], abs=1e-6)
    assert comp["difference"] == pytest.approx(t.mean() - c.mean(), abs=1e-12)


def _tea(metric, data: pl.DataFrame, treatment: str):
    return metric.analyze(data, control="template", treatment=treatment, variant="arm")


def test_equal_tea_tasting(sends: pl.DataFrame) -> None:
    data = sends.drop("pre_value").filter(pl.col("arm").is_in(["template", "llm_a"]))
    result = analyze(data, "template").to_dict()

    ctr = _comparison(result, "ctr", "llm_a")
    pooled = _tea(tt.Proportion("clicked", method="norm", correction=False), data, "llm_a")
    unpooled = _tea(
        tt.Proportion("clicked", method="norm", correction=False, equal_var=False), data, "llm_a"
    )
    assert ctr["p_value"] == pytest.approx(pooled.pvalue, rel=1e-9)
    assert ctr["ci95"] == pytest.approx(
        [unpooled.effect_size_ci_lower, unpooled.effect_size_ci_upper], rel=1e-9
    )
    assert ctr["relative_lift_ci95"] == pytest.approx(
        [unpooled.rel_effect_size_ci_lower, unpooled.rel_effect_size_ci_upper], rel=1e-9
    )

    revenue = _comparison(result, "revenue_per_send", "llm_a")
    mean = _tea(tt.Mean("revenue"), data, "llm_a")
    assert revenue["p_value"] == pytest.approx(mean.pvalue, rel=1e-6)
    assert revenue["ci95"] == pytest.approx(
        [mean.effect_size_ci_lower, mean.effect_size_ci_upper], rel=1e-6
    )
    assert revenue["relative_lift_ci95"] == pytest.approx(
        [mean.rel_effect_size_ci_lower, mean.rel_effect_size_ci_upper], rel=1e-6
    )

    ctor = _comparison(result, "ctor", "llm_a")
    ratio = _tea(tt.RatioOfMeans("clicked", "opened"), data, "llm_a")
    assert ctor["relative_lift"] == pytest.approx(ratio.rel_effect_size, rel=1e-9)
    assert ctor["p_value"] == pytest.approx(ratio.pvalue, rel=1e-6)
    assert ctor["ci95"] == pytest.approx(
        [ratio.effect_size_ci_lower, ratio.effect_size_ci_upper], rel=1e-6
    )


def test_cuped_equals_tea_tasting(sends: pl.DataFrame) -> None:
    data = sends.filter(pl.col("arm").is_in(["template", "llm_a"]))
    result = analyze(data, "template").to_dict()
    for metric, column in (("open_rate", "opened"), ("revenue_per_send", "revenue")):
        comp = _comparison(result, metric, "llm_a")
        cuped = _tea(tt.Mean(column, covariate="pre_value"), data, "llm_a")
        assert comp["method"] == "cuped welch t-test"
        assert comp["difference"] == pytest.approx(cuped.effect_size, rel=1e-9)
        assert comp["p_value"] == pytest.approx(cuped.pvalue, rel=1e-6)
        assert comp["ci95"] == pytest.approx(
            [cuped.effect_size_ci_lower, cuped.effect_size_ci_upper], rel=1e-6
        )


@pytest.mark.parametrize(("correction", "method"), [("holm", "holm"), ("fdr_bh", "fdr_bh")])
def test_adjustment_equals_multipletests(sends: pl.DataFrame, correction, method) -> None:
    comparisons = analyze(sends, "template", correction=correction).to_dict()["comparisons"]
    raw = [c["p_value"] for c in comparisons]
    assert len(raw) == 12  # 6 metrics x 2 treatments form one family
    expected = multipletests(raw, method=method)[1]
    assert [c["p_value_adjusted"] for c in comparisons] == pytest.approx(list(expected))


@pytest.mark.parametrize("method", ["holm", "fdr_bh"])
def test_adjust_p_values_equals_multipletests(method) -> None:
    rng = np.random.default_rng(3)
    for size in (1, 2, 7, 30):
        p = np.round(rng.random(size) ** 3, 3)  # rounding makes ties
        expected = multipletests(p, method=method)[1]
        assert adjust_p_values(list(p), method) == pytest.approx(list(expected), abs=1e-15)
    with_nan = adjust_p_values([0.01, float("nan"), 0.04], method)
    assert np.isnan(with_nan[1])
    assert [with_nan[0], with_nan[2]] == pytest.approx(
        list(multipletests([0.01, 0.04], method=method)[1])
    )


def test_srm_flags_a_small_imbalance_on_a_large_sample() -> None:
    flagged = sample_ratio_mismatch({"a": 101_000, "b": 99_000}, {"a": 0.5, "b": 0.5})
    assert flagged.mismatch and flagged.p_value < 1e-5
    fine = sample_ratio_mismatch({"a": 100_150, "b": 99_850}, {"a": 0.5, "b": 0.5})
    assert not fine.mismatch
    planned = sample_ratio_mismatch({"a": 30_000, "b": 70_000}, {"a": 0.3, "b": 0.7})
    assert not planned.mismatch


def test_srm_in_analysis_uses_expected_shares(sends: pl.DataFrame) -> None:
    data = pl.concat(
        [
            sends.filter(pl.col("arm") == "template").head(101_000 // 3),
            sends.filter(pl.col("arm") == "llm_b").head(99_000 // 3),
        ]
    )
    srm = analyze(data, "template").srm
    assert srm.expected_shares == {"llm_b": 0.5, "template": 0.5}
    planned = {"template": 101 / 200, "llm_b": 99 / 200}
    assert not analyze(data, "template", expected_shares=planned).srm.mismatch


def test_sample_size_reaches_the_power_statsmodels_computes() -> None:
    from statsmodels.stats.proportion import power_proportions_2indep

    plan = sample_size_proportions(0.02, 0.10, alpha=0.05, power=0.8)
    achieved = power_proportions_2indep(0.002, 0.02, plan.n_per_arm, alpha=0.05).power
    assert achieved == pytest.approx(0.8, abs=0.005)
    assert power_proportions(0.02, 0.10, plan.n_per_arm) == pytest.approx(achieved, abs=1e-3)
    assert sample_size_proportions(0.02, 0.05).n_per_arm > 3.9 * plan.n_per_arm


def test_msprt_confidence_sequence_is_valid_and_shrinks() -> None:
    variance = 1.0 / np.arange(1, 201)
    p, low, high = msprt(np.full(200, 0.5), variance, tau2=0.05)
    assert np.all(np.diff(p) <= 0) and p[0] == 1.0 and p[-1] < 0.01
    assert np.all(np.diff(high - low) <= 1e-12)
    assert low[-1] > 0 and low[0] < 0
