"""Group-sequential boundaries against published values, scipy and simulation."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from scipy import stats

from subjectline.experiment.aa import AAConfig, simulate_aa
from subjectline.experiment.analysis import analyze
from subjectline.experiment.group_sequential import (
    alpha_spent,
    group_sequential_test,
    spending_boundaries,
    verdict,
)

EQUAL_5 = np.arange(1, 6) / 5


def test_obrien_fleming_boundaries_match_published_values() -> None:
    """Lan-DeMets O'Brien-Fleming-type spending, K = 5 equal looks, two-sided 0.05.

    Published (Lan & DeMets 1983; R ldbounds/gsDesign): 4.877, 3.357, 2.680, 2.290, 2.031.
    """
    boundaries = spending_boundaries(EQUAL_5, alpha=0.05, spending="obrien_fleming")
    assert boundaries == pytest.approx([4.877, 3.357, 2.680, 2.290, 2.031], abs=1e-3)


def test_pocock_boundaries_match_published_values() -> None:
    """Lan-DeMets Pocock-type spending, K = 5 equal looks, two-sided 0.05 (R ldbounds)."""
    boundaries = spending_boundaries(EQUAL_5, alpha=0.05, spending="pocock")
    assert boundaries == pytest.approx([2.438, 2.427, 2.410, 2.397, 2.386], abs=1e-3)


def test_one_final_look_is_the_fixed_horizon_test() -> None:
    for spending in ("obrien_fleming", "pocock"):
        assert spending_boundaries([1.0], 0.05, spending)[0] == pytest.approx(
            stats.norm.isf(0.025), abs=1e-12
        )
    assert alpha_spent([1.0], 0.05)[0] == pytest.approx(0.05, abs=1e-15)


@pytest.mark.parametrize("spending", ["obrien_fleming", "pocock"])
def test_crossing_probabilities_equal_scipy_multivariate_normal(spending) -> None:
    """Unequal looks: P(crossed by look k) from scipy's multivariate normal = alpha spent.

    scipy is exact in two dimensions and quasi-Monte Carlo (error ~1e-6 here) beyond.
    """
    fractions = np.array([0.12, 0.3, 0.33, 0.7, 1.0])
    boundaries = spending_boundaries(fractions, 0.05, spending)
    spent = alpha_spent(fractions, 0.05, spending)
    correlation = np.sqrt(
        np.minimum.outer(fractions, fractions) / np.maximum.outer(fractions, fractions)
    )
    for k in range(2, fractions.size + 1):
        c = boundaries[:k]
        normal = stats.multivariate_normal(cov=correlation[:k, :k], abseps=1e-6, releps=1e-6)
        crossed = 1 - normal.cdf(c, lower_limit=-c, rng=0)
        assert crossed == pytest.approx(spent[k - 1], abs=1e-10 if k == 2 else 5e-6)


def test_type_one_error_by_brownian_motion_simulation() -> None:
    """Z_k = B(t_k)/sqrt(t_k): the first crossing happens at each look as often as planned."""
    rng = np.random.default_rng(5)
    fractions = np.array([0.2, 0.45, 0.5, 0.8, 1.0])
    runs = 400_000
    increments = rng.standard_normal((runs, fractions.size)) * np.sqrt(
        np.diff(fractions, prepend=0)
    )
    z = increments.cumsum(axis=1) / np.sqrt(fractions)
    crossed = np.abs(z) >= spending_boundaries(fractions, 0.05)
    first = np.where(crossed.any(axis=1), crossed.argmax(axis=1), -1)
    by_look = np.array([(first == k).mean() for k in range(fractions.size)])
    planned = np.diff(alpha_spent(fractions, 0.05), prepend=0.0)
    tolerance = 4 * np.sqrt(planned * (1 - planned) / runs) + 1e-5
    assert np.all(np.abs(by_look - planned) < tolerance)
    assert by_look.sum() == pytest.approx(0.05, abs=4 * np.sqrt(0.05 * 0.95 / runs))


@pytest.mark.parametrize("spending", ["obrien_fleming", "pocock"])
def test_aa_group_sequential_spends_about_alpha(spending) -> None:
    result = simulate_aa(AAConfig(runs=4000, seed=3, spending=spending))
    tolerance = 4 * np.sqrt(0.05 * 0.95 / 4000)  # 0.014: the 0.03-0.07 window and more
    assert abs(result["sequential"]["false_positive_rate"] - 0.05) < tolerance
    assert result["always_valid_msprt"]["false_positive_rate"] < 0.03
    assert result["naive_daily_peeking"]["false_positive_rate"] > 0.12
    assert len(result["sequential"]["boundaries"]) == 14


def test_looks_without_new_sends_do_not_count() -> None:
    result = group_sequential_test(
        z=np.array([np.nan, 0.5, 0.5, 1.0, 2.2]),
        information=np.array([0.0, 100.0, 100.0, 200.0, 300.0]),
    )
    assert result is not None
    assert result.looks == 3
    assert result.information_fractions == pytest.approx([1 / 3, 2 / 3, 1.0])
    assert result.boundaries == pytest.approx(list(spending_boundaries([1 / 3, 2 / 3, 1.0])))
    assert result.reject and result.crossed_at_look == 3
    assert group_sequential_test(np.array([np.nan]), np.array([0.0])) is None


def test_planned_looks_project_the_information() -> None:
    z, information = np.array([1.0, 3.0]), np.array([10.0, 20.0])
    final = group_sequential_test(z, information)
    interim = group_sequential_test(z, information, planned_looks=8)
    assert final is not None and interim is not None
    assert interim.information_fractions == pytest.approx([0.125, 0.25])
    assert interim.planned_looks == 8
    # Early in the plan the boundary is far stricter: 3.0 rejects at the end, not at 2 of 8.
    assert final.reject and not interim.reject
    assert interim.boundaries[1] > 3.0 > final.boundaries[1]
    assert verdict(final.to_dict()) == "reject at look 2 of 2"
    assert verdict(interim.to_dict(), compact=True) == "continue 2/8"
    ended = group_sequential_test(np.array([0.1, 0.2]), information)
    assert ended is not None and verdict(ended.to_dict()) == "not rejected after 2 of 2 looks"


def test_analyze_reports_group_sequential_next_to_msprt(sends: pl.DataFrame) -> None:
    result = analyze(sends, "template").to_dict()
    by_key = {(c["metric"], c["treatment"]): c for c in result["comparisons"]}
    lift = by_key["ctr", "llm_a"]["group_sequential"]  # +21% CTR on llm_a
    assert lift["looks"] == lift["planned_looks"] == 14
    assert lift["reject"] and 1 <= lift["crossed_at_look"] <= 14
    crossed = lift["crossed_at_look"] - 1
    assert abs(lift["z"][crossed]) >= lift["boundaries"][crossed]
    assert all(abs(z) < b for z, b in zip(lift["z"][:crossed], lift["boundaries"], strict=False))
    assert lift["information_fractions"][-1] == 1.0
    assert "sequential" in by_key["ctr", "llm_a"]
    no_effect = by_key["open_rate", "llm_b"]["group_sequential"]
    assert not no_effect["reject"] and no_effect["crossed_at_look"] is None
    timeline = analyze(sends, "template").timeline
    assert {"z", "gs_boundary"} <= set(timeline.columns)
    without_times = analyze(sends.drop("sent_at"), "template").to_dict()
    assert all(c["group_sequential"] is None for c in without_times["comparisons"])
