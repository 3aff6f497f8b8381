"""Reranking: creativity vs conversion, weighted by lambda per root category; Pareto front.

``creativity`` = mean of novelty, diversity and sentiment; ``conversion`` = 0.4 engagement
+ 0.25 quality (the sendability judge) + 0.15 relevance + 0.1 CTA + 0.1 readability.
A candidate's score is ``lam * creativity + (1 - lam) * conversion``: lam = 0 ranks for
conversion only, lam = 1 for creativity only (the trade-off weight of arXiv 2505.23809).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from subjectline.errors import DataError
from subjectline.score.objectives import ThemeContext, score_objectives

CREATIVITY_WEIGHTS: dict[str, float] = {"novelty": 1 / 3, "diversity": 1 / 3, "sentiment": 1 / 3}
# A title nobody would send converts nobody: the judge weighs as much as relevance did.
CONVERSION_WEIGHTS: dict[str, float] = {
    "engagement": 0.4,
    "quality": 0.25,
    "relevance": 0.15,
    "cta": 0.10,
    "readability": 0.10,
}
DEFAULT_LAMBDA = 0.3


@dataclass(frozen=True)
class RankedTitle:
    title: str
    score: float
    creativity: float
    conversion: float
    pareto: bool
    objectives: dict[str, float]


def add_tradeoff_scores(scores: pl.DataFrame, lam: float) -> pl.DataFrame:
    """Add ``creativity``, ``conversion`` and ``score`` columns for weight ``lam``."""
    if not 0.0 <= lam <= 1.0:
        raise ValueError(f"lambda must be within [0, 1], not {lam}")
    creativity = pl.sum_horizontal([pl.col(k) * w for k, w in CREATIVITY_WEIGHTS.items()])
    conversion = pl.sum_horizontal([pl.col(k) * w for k, w in CONVERSION_WEIGHTS.items()])
    return scores.with_columns(
        creativity.alias("creativity"), conversion.alias("conversion")
    ).with_columns((lam * pl.col("creativity") + (1 - lam) * pl.col("conversion")).alias("score"))


def pareto_front(points: np.ndarray) -> np.ndarray:
    """Boolean mask of the rows not dominated by any other row (all columns maximised)."""
    points = np.asarray(points, dtype=np.float64)
    ge = (points[:, None, :] >= points[None, :, :]).all(axis=2)
    gt = (points[:, None, :] > points[None, :, :]).any(axis=2)
    dominated = np.asarray((ge & gt).any(axis=0), dtype=bool)
    return np.logical_not(dominated)


def rerank(
    candidates: Sequence[str],
    ctx: ThemeContext,
    lam: float = DEFAULT_LAMBDA,
    predicted_ctr: np.ndarray | None = None,
    template_ctr: float | None = None,
    campaign_titles: Sequence[str] = (),
) -> list[RankedTitle]:
    """Candidates best first, each with its score, its two aggregates, its objectives and
    whether it is on the (creativity, conversion) Pareto front. Ties keep input order."""
    if not candidates:
        return []
    return rank_scored(
        score_objectives(candidates, ctx, predicted_ctr, template_ctr, campaign_titles), lam
    )


def rank_scored(objectives: pl.DataFrame, lam: float) -> list[RankedTitle]:
    """Rank a ``score_objectives`` frame (``title`` plus objective columns) for ``lam``."""
    scores = add_tradeoff_scores(objectives, lam)
    front = pareto_front(scores.select("creativity", "conversion").to_numpy())
    order = np.argsort(-scores["score"].to_numpy(), kind="stable")
    rows = scores.to_dicts()
    names = [c for c in objectives.columns if c != "title"]
    return [
        RankedTitle(
            title=rows[i]["title"],
            score=float(rows[i]["score"]),
            creativity=float(rows[i]["creativity"]),
            conversion=float(rows[i]["conversion"]),
            pareto=bool(front[i]),
            objectives={k: float(rows[i][k]) for k in names},
        )
        for i in order
    ]


def load_lambdas(path: Path) -> dict[str, float]:
    """The per-category lambdas written by ``subjectline tradeoff`` (``{"lambda": {...}}``)."""
    if not path.exists():
        raise DataError(str(path), "no such file; run `subjectline tradeoff` first")
    try:
        payload = json.loads(path.read_text())
        lambdas = {str(k): float(v) for k, v in payload["lambda"].items()}
    except (json.JSONDecodeError, KeyError, TypeError, ValueError, AttributeError) as exc:
        raise DataError(str(path), f"not a tradeoff file ({exc})") from exc
    bad = [k for k, v in lambdas.items() if not 0.0 <= v <= 1.0]
    if bad:
        raise DataError(str(path), f"lambda outside [0, 1] for {', '.join(bad)}")
    return lambdas


def lambda_for(root_category: str, lambdas: Mapping[str, float] | None) -> float:
    if not lambdas:
        return DEFAULT_LAMBDA
    return lambdas.get(root_category, lambdas.get("All", DEFAULT_LAMBDA))
