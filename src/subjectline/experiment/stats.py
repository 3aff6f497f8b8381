"""Tests and intervals from sufficient statistics (counts, means, variances).

Every function takes per-arm summaries, never rows, so the same code serves a 1,000-row CSV
and 10 million sends aggregated in DuckDB. Conventions follow statsmodels and tea-tasting:

- rates: two-sided two-proportion z-test with pooled variance (``proportions_ztest``);
  interval for the difference: unpooled Wald, ``d ± z·sqrt(p_t(1-p_t)/n_t + p_c(1-p_c)/n_c)``;
- means (revenue, CUPED-adjusted metrics, ratio metrics): Welch t-test with
  Welch-Satterthwaite degrees of freedom (tea-tasting ``Mean``, ``use_t=True``);
- relative lift ``m_t/m_c - 1``: delta method on the log of the ratio,
  ``Var(log m_t/m_c) ≈ v_t/(n_t m_t²) + v_c/(n_c m_c²)``, interval
  ``(m_t/m_c)·exp(±q·sd) - 1`` (tea-tasting's form: it never crosses -100%).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt
from scipy import stats

FloatArray = npt.NDArray[np.float64]
Correction = Literal["holm", "fdr_bh", "none"]


@dataclass(frozen=True)
class Comparison:
    """One treatment-vs-control result for one metric."""

    control_mean: float
    treatment_mean: float
    difference: float
    ci95: tuple[float, float]
    relative_lift: float
    relative_ci95: tuple[float, float]
    p_value: float
    method: str


def _relative(
    mc: float, vc: float, nc: float, mt: float, vt: float, nt: float, quantile: float
) -> tuple[float, tuple[float, float]]:
    if mc == 0 or mt == 0:
        return (math.inf if mc == 0 else -1.0), (math.nan, math.nan)
    ratio = mt / mc
    log_sd = math.sqrt(vt / (nt * mt * mt) + vc / (nc * mc * mc))
    half = math.exp(quantile * log_sd)
    return ratio - 1, (ratio / half - 1, ratio * half - 1)


def proportion_ztest(
    successes_c: float, n_c: float, successes_t: float, n_t: float, level: float = 0.95
) -> Comparison:
    """Pooled two-proportion z-test, unpooled Wald interval (= statsmodels' defaults)."""
    pc, pt = successes_c / n_c, successes_t / n_t
    pooled = (successes_c + successes_t) / (n_c + n_t)
    diff = pt - pc
    se_pooled = math.sqrt(pooled * (1 - pooled) * (1 / n_c + 1 / n_t))
    p_value = 1.0 if se_pooled == 0 else float(2 * stats.norm.sf(abs(diff) / se_pooled))
    q = float(stats.norm.ppf((1 + level) / 2))
    vc, vt = pc * (1 - pc), pt * (1 - pt)
    half = q * math.sqrt(vt / n_t + vc / n_c)
    rel, rel_ci = _relative(pc, vc, n_c, pt, vt, n_t, q)
    return Comparison(pc, pt, diff, (diff - half, diff + half), rel, rel_ci, p_value, "z-test")


def welch_test(
    mean_c: float,
    var_c: float,
    n_c: float,
    mean_t: float,
    var_t: float,
    n_t: float,
    level: float = 0.95,
    method: str = "welch t-test",
) -> Comparison:
    """Welch t-test on two means; ``var_*`` are per-observation sample variances."""
    se2_c, se2_t = var_c / n_c, var_t / n_t
    se = math.sqrt(se2_c + se2_t)
    diff = mean_t - mean_c
    df = _welch_df(se2_c, n_c, se2_t, n_t)
    q = float(stats.t.ppf((1 + level) / 2, df))
    p_value = 1.0 if se == 0 else float(2 * stats.t.sf(abs(diff) / se, df))
    if mean_c != 0 and mean_t != 0:
        log_df = _welch_df(se2_c / mean_c**2, n_c, se2_t / mean_t**2, n_t)
        q_log = float(stats.t.ppf((1 + level) / 2, log_df))
    else:
        q_log = q
    rel, rel_ci = _relative(mean_c, var_c, n_c, mean_t, var_t, n_t, q_log)
    return Comparison(
        mean_c, mean_t, diff, (diff - q * se, diff + q * se), rel, rel_ci, p_value, method
    )


def _welch_df(se2_c: float, n_c: float, se2_t: float, n_t: float) -> float:
    denominator = se2_c**2 / (n_c - 1) + se2_t**2 / (n_t - 1)
    return math.inf if denominator == 0 else (se2_c + se2_t) ** 2 / denominator


def ratio_variance(
    mean_num: float, var_num: float, mean_den: float, var_den: float, cov: float
) -> float:
    """Per-unit variance of ``mean(num)/mean(den)`` by the delta method (times n)."""
    ratio = mean_num / mean_den
    return (var_num - 2 * ratio * cov + ratio * ratio * var_den) / (mean_den * mean_den)


def adjust_p_values(p_values: list[float], method: Correction = "holm") -> list[float]:
    """Holm (family-wise) or Benjamini-Hochberg (false discovery rate) adjusted p-values.

    The same numbers as ``statsmodels.stats.multitest.multipletests`` (which is avoided
    here because it forces a garbage collection on every call). NaN p-values stay NaN and
    do not count towards the family size.
    """
    values = np.asarray(p_values, dtype=float)
    adjusted = values.copy()
    finite = np.flatnonzero(np.isfinite(values))
    m = finite.size
    if method == "none" or m == 0:
        return [float(v) for v in adjusted]
    order = finite[np.argsort(values[finite], kind="stable")]
    ranked = values[order]
    if method == "holm":
        steps = np.maximum.accumulate((m - np.arange(m)) * ranked)
    elif method == "fdr_bh":
        steps = np.minimum.accumulate(m / np.arange(m, 0, -1) * ranked[::-1])[::-1]
    else:
        raise ValueError(f"unknown correction {method!r}")
    adjusted[order] = np.minimum(steps, 1.0)
    return [float(v) for v in adjusted]


@dataclass(frozen=True)
class SampleRatio:
    observed: dict[str, int]
    expected_shares: dict[str, float]
    p_value: float
    mismatch: bool


def sample_ratio_mismatch(
    counts: dict[str, int], expected_shares: dict[str, float], threshold: float = 0.001
) -> SampleRatio:
    """Chi-square goodness of fit of arm counts to the planned shares.

    The conventional threshold is p < 0.001: an SRM check runs on every experiment, so it
    must rarely fire by chance, and a true mismatch on email-sized samples has tiny p.
    """
    arms = list(counts)
    total_share = sum(expected_shares[a] for a in arms)
    shares = {a: expected_shares[a] / total_share for a in arms}
    observed = np.array([counts[a] for a in arms], dtype=float)
    expected = np.array([shares[a] for a in arms]) * observed.sum()
    p_value = float(stats.chisquare(observed, expected).pvalue) if len(arms) > 1 else 1.0
    return SampleRatio(counts, shares, p_value, p_value < threshold)


def msprt(
    difference: FloatArray, variance: FloatArray, tau2: float | FloatArray, alpha: float = 0.05
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Mixture SPRT with a normal mixture N(0, tau2) over the effect (Johari et al. 2017).

    ``difference`` and ``variance`` are the estimate and its variance at successive looks
    (last axis). Likelihood ratio of the mixture against H0 for an approximately normal
    estimate: ``Λ = sqrt(V/(V+τ²)) · exp(τ² d² / (2V(V+τ²)))``. The always-valid p-value is
    the running minimum of ``min(1, 1/Λ)``; the confidence sequence is the running
    intersection of ``d ± sqrt(V(V+τ²)/τ² · log((V+τ²)/(V α²)))``. Returns
    (p-values, lower, upper) with the input's shape.
    """
    d = np.asarray(difference, dtype=float)
    v = np.fmax(np.asarray(variance, dtype=float), np.finfo(float).tiny)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_lr = 0.5 * np.log(v / (v + tau2)) + tau2 * d * d / (2 * v * (v + tau2))
    # fmin/fmax skip NaN: a look before both arms have data changes nothing.
    p_values = np.fmin.accumulate(np.fmin(1.0, np.exp(-log_lr)), axis=-1)
    half = np.sqrt(v * (v + tau2) / tau2 * np.log((v + tau2) / (v * alpha * alpha)))
    lower = np.fmax.accumulate(d - half, axis=-1)
    upper = np.fmin.accumulate(d + half, axis=-1)
    return p_values, lower, upper


def pooled_ztest_z(
    successes_c: FloatArray, n_c: FloatArray, successes_t: FloatArray, n_t: FloatArray
) -> FloatArray:
    """Vectorised signed z statistics of the pooled two-proportion z-test (0 when se is 0)."""
    pooled = (successes_c + successes_t) / (n_c + n_t)
    se = np.sqrt(pooled * (1 - pooled) * (1 / n_c + 1 / n_t))
    diff = successes_t / n_t - successes_c / n_c
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.asarray(np.where(se > 0, diff / se, 0.0), dtype=float)


@dataclass(frozen=True)
class PowerResult:
    baseline: float
    relative_mde: float
    alpha: float
    power: float
    n_per_arm: int
    total_n: int


def sample_size_proportions(
    baseline: float,
    relative_mde: float,
    alpha: float = 0.05,
    power: float = 0.8,
    arms: int = 2,
) -> PowerResult:
    """Sends per arm for the pooled two-sided z-test to detect ``baseline·(1+mde)``.

    ``n = (z_{1-α/2}·sqrt(2·p̄(1-p̄)) + z_{power}·sqrt(p1(1-p1) + p2(1-p2)))² / (p2-p1)²``
    (Fleiss), with ``p̄`` the mean of the two rates; equal allocation.
    """
    if not 0 < baseline < 1:
        raise ValueError("baseline rate must be in (0, 1)")
    p1, p2 = baseline, baseline * (1 + relative_mde)
    if not 0 < p2 < 1 or p2 == p1:
        raise ValueError("baseline·(1 + mde) must be in (0, 1) and differ from the baseline")
    p_bar = (p1 + p2) / 2
    z_a = stats.norm.isf(alpha / 2)
    z_b = stats.norm.ppf(power)
    root = z_a * math.sqrt(2 * p_bar * (1 - p_bar)) + z_b * math.sqrt(p1 * (1 - p1) + p2 * (1 - p2))
    n = math.ceil(root * root / (p2 - p1) ** 2)
    return PowerResult(baseline, relative_mde, alpha, power, n, n * arms)


def power_proportions(
    baseline: float, relative_mde: float, n_per_arm: int, alpha: float = 0.05
) -> float:
    """Power of the pooled two-sided z-test with ``n_per_arm`` sends in each of two arms."""
    p1, p2 = baseline, baseline * (1 + relative_mde)
    p_bar = (p1 + p2) / 2
    se0 = math.sqrt(2 * p_bar * (1 - p_bar) / n_per_arm)
    se1 = math.sqrt((p1 * (1 - p1) + p2 * (1 - p2)) / n_per_arm)
    z_a = stats.norm.isf(alpha / 2)
    delta = abs(p2 - p1)
    return float(
        stats.norm.sf((z_a * se0 - delta) / se1) + stats.norm.cdf((-z_a * se0 - delta) / se1)
    )
