"""A/A simulation: how often each way of reading a test declares a difference that is not there.

Two identical arms at a realistic email click rate send every day for two weeks; we look
once a day. Vectorised over runs (one binomial draw per run, day and arm; the
group-sequential boundaries depend only on the sample sizes, so they are computed once),
so 1,000 runs take well under a second.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from scipy import stats

from subjectline.experiment.group_sequential import (
    SPENDING_NAMES,
    Spending,
    information_fractions,
    spending_boundaries,
)
from subjectline.experiment.stats import msprt, pooled_ztest_z


@dataclass(frozen=True)
class AAConfig:
    runs: int = 1000
    days: int = 14
    sends_per_arm_per_day: int = 10_000
    rate: float = 0.02
    alpha: float = 0.05
    mixture_lift: float = 0.10
    spending: Spending = "obrien_fleming"
    seed: int = 0


def _rate_summary(rejections: Any) -> dict[str, Any]:
    """False-positive rate with a 95% Wilson interval for it (binomial over runs)."""
    from statsmodels.stats.proportion import proportion_confint

    k, n = int(rejections.sum()), int(rejections.size)
    low, high = proportion_confint(k, n, alpha=0.05, method="wilson")
    return {"false_positive_rate": k / n, "rejections": k, "ci95": [float(low), float(high)]}


def simulate_aa(config: AAConfig) -> dict[str, Any]:
    """False-positive rates of four readings of the same A/A tests on CTR.

    - ``fixed_horizon``: one pooled z-test at the planned end (day ``days``);
    - ``naive_daily_peeking``: the same z-test every day, stop at the first p < alpha;
    - ``sequential``: a group-sequential design over the ``days`` daily looks, Lan-DeMets
      alpha spending (``spending``) with information fractions from the sends at each look;
    - ``always_valid_msprt``: mSPRT every day, stop when the always-valid p-value < alpha
      (valid under any monitoring, hence conservative with 14 looks).
    """
    started = time.perf_counter()
    rng = np.random.default_rng(config.seed)
    daily = rng.binomial(
        config.sends_per_arm_per_day, config.rate, size=(config.runs, config.days, 2)
    )
    clicks = daily.cumsum(axis=1).astype(float)
    sends_per_look = config.sends_per_arm_per_day * np.arange(1, config.days + 1, dtype=float)
    sends = np.broadcast_to(sends_per_look, clicks.shape[:2])
    control, treatment = clicks[..., 0], clicks[..., 1]
    z = pooled_ztest_z(control, sends, treatment, sends)
    z_p = 2 * stats.norm.sf(np.abs(z))

    # Information of a difference of two arms: n_c·n_t/(n_c + n_t), here n/2 at each look.
    fractions = information_fractions(sends_per_look / 2)
    boundaries = spending_boundaries(fractions, config.alpha, config.spending)

    p_c, p_t = control / sends, treatment / sends
    variance = (p_c * (1 - p_c) + p_t * (1 - p_t)) / sends
    tau = config.mixture_lift * p_c[:, -1:]
    seq_p, _, _ = msprt(p_t - p_c, variance, np.maximum(tau * tau, 1e-12), config.alpha)

    result: dict[str, Any] = {
        "fixed_horizon": _rate_summary(z_p[:, -1] < config.alpha),
        "naive_daily_peeking": _rate_summary((z_p < config.alpha).any(axis=1)),
        "sequential": _rate_summary((np.abs(z) >= boundaries).any(axis=1)),
        "always_valid_msprt": _rate_summary(seq_p[:, -1] < config.alpha),
        "config": asdict(config),
        "seconds": round(time.perf_counter() - started, 4),
    }
    result["sequential"] |= {
        "method": f"group sequential, Lan-DeMets {SPENDING_NAMES[config.spending]} alpha "
        f"spending over {config.days} daily looks",
        "boundaries": [round(float(b), 4) for b in boundaries],
    }
    result["always_valid_msprt"]["method"] = (
        "mSPRT, normal mixture, tau = mixture_lift x control CTR"
    )
    return result
