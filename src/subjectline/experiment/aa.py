"""A/A simulation: how often each way of reading a test declares a difference that is not there.

Two identical arms at a realistic email click rate send every day for two weeks; we look
once a day. Vectorised over runs (one binomial draw per run, day and arm), so 1,000 runs
take well under a second.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from subjectline.experiment.stats import msprt, pooled_ztest_p


@dataclass(frozen=True)
class AAConfig:
    runs: int = 1000
    days: int = 14
    sends_per_arm_per_day: int = 10_000
    rate: float = 0.02
    alpha: float = 0.05
    mixture_lift: float = 0.10
    seed: int = 0


def _rate_summary(rejections: Any) -> dict[str, Any]:
    """False-positive rate with a 95% Wilson interval for it (binomial over runs)."""
    from statsmodels.stats.proportion import proportion_confint

    k, n = int(rejections.sum()), int(rejections.size)
    low, high = proportion_confint(k, n, alpha=0.05, method="wilson")
    return {"false_positive_rate": k / n, "rejections": k, "ci95": [float(low), float(high)]}


def simulate_aa(config: AAConfig) -> dict[str, Any]:
    """False-positive rates of three readings of the same A/A tests on CTR.

    - ``fixed_horizon``: one pooled z-test at the planned end (day ``days``);
    - ``naive_daily_peeking``: the same z-test every day, stop at the first p < alpha;
    - ``sequential``: mSPRT every day, stop when the always-valid p-value < alpha.
    """
    started = time.perf_counter()
    rng = np.random.default_rng(config.seed)
    daily = rng.binomial(
        config.sends_per_arm_per_day, config.rate, size=(config.runs, config.days, 2)
    )
    clicks = daily.cumsum(axis=1).astype(float)
    sends = config.sends_per_arm_per_day * np.arange(1, config.days + 1, dtype=float)
    sends = np.broadcast_to(sends, clicks.shape[:2])
    control, treatment = clicks[..., 0], clicks[..., 1]
    z_p = pooled_ztest_p(control, sends, treatment, sends)

    p_c, p_t = control / sends, treatment / sends
    variance = (p_c * (1 - p_c) + p_t * (1 - p_t)) / sends
    tau = config.mixture_lift * p_c[:, -1:]
    seq_p, _, _ = msprt(p_t - p_c, variance, np.maximum(tau * tau, 1e-12), config.alpha)

    result: dict[str, Any] = {
        "fixed_horizon": _rate_summary(z_p[:, -1] < config.alpha),
        "naive_daily_peeking": _rate_summary((z_p < config.alpha).any(axis=1)),
        "sequential": _rate_summary(seq_p[:, -1] < config.alpha),
        "config": asdict(config),
        "seconds": round(time.perf_counter() - started, 4),
    }
    result["sequential"]["method"] = "mSPRT, normal mixture, tau = mixture_lift x control CTR"
    return result
