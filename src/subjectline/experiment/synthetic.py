"""Synthetic sends with known effects, for tests, benchmarks and the A/A simulation."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np
import polars as pl
from scipy.optimize import brentq


@dataclass(frozen=True)
class ArmRates:
    """True per-send rates of one arm; CTR is ``open_rate · click_given_open``."""

    open_rate: float = 0.20
    click_given_open: float = 0.10
    convert_given_click: float = 0.10
    unsub_rate: float = 0.002
    mean_order_value: float = 40.0


@dataclass(frozen=True)
class SendsSpec:
    n: int = 100_000
    arms: dict[str, ArmRates] = field(
        default_factory=lambda: {"template": ArmRates(), "llm": ArmRates()}
    )
    shares: dict[str, float] | None = None
    days: int = 14
    start: datetime = datetime(2026, 1, 5, tzinfo=UTC)
    pre_value: bool = False
    pre_correlation: float = 0.9
    seed: int = 0


_ENGAGEMENT = 2.0  # logit-scale effect of the latent engagement on opening


def _logit_intercept(rate: float, slope: float) -> float:
    """``a`` with E[sigmoid(a + slope·z)] = rate for z ~ N(0, 1) (Gauss-Hermite quadrature).

    Fixed per arm from the population, not rescaled on the sample: a rescale on the sample
    would cancel the chance imbalance of engagement between arms that CUPED corrects.
    """
    nodes, weights = np.polynomial.hermite_e.hermegauss(60)
    weights = weights / weights.sum()

    def gap(a: float) -> float:
        return float(weights @ (1 / (1 + np.exp(-(a + slope * nodes))))) - rate

    return float(brentq(gap, -30, 30))


def synthetic_sends(spec: SendsSpec) -> pl.DataFrame:
    """One row per send, in the ``experiment analyze`` input schema.

    With ``pre_value``, each user has a latent engagement z ~ N(0, 1) that raises the
    open probability (on the logit scale) and, with the given correlation, the pre-period
    covariate, so CUPED has something to remove; the arm's expected open rate is kept.
    """
    rng = np.random.default_rng(spec.seed)
    names = list(spec.arms)
    shares = np.array([(spec.shares or {a: 1.0 for a in names})[a] for a in names], dtype=float)
    arm_index = rng.choice(len(names), size=spec.n, p=shares / shares.sum())
    rates = [spec.arms[a] for a in names]

    def per_send(attr: str) -> np.ndarray:
        return np.array([getattr(r, attr) for r in rates])[arm_index]

    open_p = per_send("open_rate")
    frame: dict[str, object] = {}
    if spec.pre_value:
        z = rng.standard_normal(spec.n)
        rho = spec.pre_correlation
        frame["pre_value"] = rho * z + np.sqrt(1 - rho * rho) * rng.standard_normal(spec.n)
        intercepts = np.array([_logit_intercept(r.open_rate, _ENGAGEMENT) for r in rates])
        open_p = 1 / (1 + np.exp(-(intercepts[arm_index] + _ENGAGEMENT * z)))
    opened = rng.random(spec.n) < open_p
    clicked = opened & (rng.random(spec.n) < per_send("click_given_open"))
    converted = clicked & (rng.random(spec.n) < per_send("convert_given_click"))
    unsubscribed = rng.random(spec.n) < per_send("unsub_rate")
    revenue = np.where(converted, rng.gamma(2.0, per_send("mean_order_value") / 2.0), 0.0)
    seconds = rng.integers(0, spec.days * 86_400, size=spec.n)
    start = np.datetime64(spec.start.replace(tzinfo=None), "us")
    sent_at = start + (seconds * 1_000_000).astype("timedelta64[us]")
    frame = {
        "user_id": np.arange(spec.n, dtype=np.int64),
        "arm": np.array(names)[arm_index],
        "opened": opened.astype(np.int8),
        "clicked": clicked.astype(np.int8),
        "converted": converted.astype(np.int8),
        "unsubscribed": unsubscribed.astype(np.int8),
        "revenue": np.round(revenue, 2),
        **frame,
        "sent_at": sent_at,
    }
    return pl.DataFrame(frame).with_columns(pl.col("sent_at").dt.replace_time_zone("UTC"))
