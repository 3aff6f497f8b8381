"""The engagement model: P(open), P(click | open), P(convert | click) learned from sends.

It learns only from logged sends (what was sent to whom and what happened) and from what
the marketplace knows about its users (their interaction history); it never reads the
simulator's ground truth. Each stage is a HistGradientBoosting classifier calibrated with
isotonic regression (CalibratedClassifierCV); a stage with too few positives falls back to
a calibrated logistic regression. ``report`` holds held-out AUC and expected calibration
error (ECE, 10 equal-width bins) with the reliability table.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from subjectline.themes.contract import THEME_KINDS

# Per-title features (see score.text.title_features plus the relevance objective).
TITLE_FEATURES = (
    "n_chars",
    "n_words",
    "has_cta",
    "pushy",
    "spam_words",
    "personalized",
    "has_number",
    "exclamations",
    "question",
    "broken",
    "sentiment",
    "relevance",
    "off_theme",
)
# Per-user features the marketplace knows from history and its own send log.
USER_FEATURES = (
    "log_events",
    "days_since_active",
    "root_affinity",
    "theme_affinity",
    "recent_sends",
    "past_open_rate",
    "theme_coverage",
)
KIND_FEATURES = tuple(f"kind_{k}" for k in THEME_KINDS)
FEATURES = TITLE_FEATURES + USER_FEATURES + KIND_FEATURES
STAGES = ("open", "click", "convert")
MIN_POSITIVES = 200  # below this a stage uses logistic regression, not boosting
MIN_FIT_POSITIVES = 10  # below this a stage predicts its base rate (3-fold calibration)


def kind_columns(kinds: pl.Series) -> list[pl.Series]:
    return [pl.Series(f"kind_{k}", (kinds == k).cast(pl.Int8).to_numpy()) for k in THEME_KINDS]


def expected_calibration_error(
    y: np.ndarray, p: np.ndarray, bins: int = 10
) -> tuple[float, list[dict[str, float]]]:
    """ECE over equal-width bins and the reliability table (mean predicted vs observed)."""
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(p, edges[1:-1]), 0, bins - 1)
    ece, table = 0.0, []
    for b in range(bins):
        mask = which == b
        if not mask.any():
            continue
        predicted, observed = float(p[mask].mean()), float(y[mask].mean())
        ece += mask.mean() * abs(predicted - observed)
        table.append({"bin": b, "n": int(mask.sum()), "predicted": predicted, "observed": observed})
    return float(ece), table


def _classifier(positives: int) -> Any:
    if positives >= MIN_POSITIVES:
        base: Any = HistGradientBoostingClassifier(
            max_iter=150, learning_rate=0.06, max_leaf_nodes=15, l2_regularization=1.0
        )
        return CalibratedClassifierCV(base, method="isotonic", cv=3)
    base = make_pipeline(StandardScaler(), LogisticRegression(C=0.5, max_iter=500))
    return CalibratedClassifierCV(base, method="sigmoid", cv=3)


@dataclass
class EngagementModel:
    """Three calibrated stage models; ``predict`` returns stage and joint probabilities."""

    models: dict[str, Any] = field(default_factory=dict)
    base_rates: dict[str, float] = field(default_factory=dict)
    report: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def fit(cls, log: pl.DataFrame, seed: int = 0, holdout: float = 0.25) -> EngagementModel:
        """Fit on a send log with ``FEATURES`` and 0/1 ``open``, ``click``, ``convert``.

        A random ``holdout`` share of rows is kept out to report AUC and ECE; the final
        models are then refit on every row."""
        missing = [c for c in (*FEATURES, *STAGES) if c not in log.columns]
        if missing:
            raise ValueError(f"send log lacks column(s): {', '.join(missing)}")
        # One OpenMP thread: on a busy shared machine more threads only spin and wait.
        with threadpool_limits(limits=1):
            return cls._fit(log, seed, holdout)

    @classmethod
    def _fit(cls, log: pl.DataFrame, seed: int, holdout: float) -> EngagementModel:
        rng = np.random.default_rng(seed)
        test = rng.random(log.height) < holdout
        model = cls()
        for stage, parent in zip(STAGES, (None, "open", "click"), strict=True):
            rows = log if parent is None else log.filter(pl.col(parent) == 1)
            mask = test if parent is None else test[log[parent].to_numpy() == 1]
            x = rows.select(FEATURES).to_numpy().astype(np.float64)
            y = rows[stage].to_numpy().astype(np.int64)
            model.base_rates[stage] = float(y.mean()) if y.size else 0.0
            model.report[stage] = _evaluate(x, y, mask)
            if min(y.sum(), (y == 0).sum()) >= MIN_FIT_POSITIVES:
                model.models[stage] = _classifier(int(y.sum())).fit(x, y)
        return model

    def predict(self, frame: pl.DataFrame) -> dict[str, np.ndarray]:
        """``open``, ``click_given_open``, ``convert_given_click``, ``click`` (= open x
        click given open) and ``convert`` per row."""
        x = frame.select(FEATURES).to_numpy().astype(np.float64)
        out: dict[str, np.ndarray] = {}
        with threadpool_limits(limits=1):
            for stage in STAGES:
                fitted = self.models.get(stage)
                out[stage] = (
                    fitted.predict_proba(x)[:, 1]
                    if fitted is not None
                    else np.full(x.shape[0], self.base_rates.get(stage, 0.0))
                )
        return {
            "open": out["open"],
            "click_given_open": out["click"],
            "convert_given_click": out["convert"],
            "click": out["open"] * out["click"],
            "convert": out["open"] * out["click"] * out["convert"],
        }


def _evaluate(x: np.ndarray, y: np.ndarray, test: np.ndarray) -> dict[str, Any]:
    """Held-out AUC and ECE of a stage model fitted on the other rows."""
    train = ~test
    n_pos = int(y[train].sum())
    result: dict[str, Any] = {"rows": int(y.size), "positives": int(y.sum())}
    if min(n_pos, (y[train] == 0).sum()) < MIN_FIT_POSITIVES or len(np.unique(y[test])) < 2:
        return result | {"auc": None, "ece": None, "reliability": []}
    p = _classifier(n_pos).fit(x[train], y[train]).predict_proba(x[test])[:, 1]
    ece, table = expected_calibration_error(y[test], p)
    return result | {
        "auc": round(float(roc_auc_score(y[test], p)), 4),
        "ece": round(ece, 5),
        "reliability": table,
    }
