"""Offline evaluation: per-user temporal hold-out, recall@K and NDCG@K.

Protocol
--------
- **Split** (:func:`temporal_split`): each user's interactions are ordered by time (ties by
  item id, then event); the last ``max(1, floor(0.2 * n))`` are held out. Users with
  fewer than 2 interactions stay wholly in training and are not evaluated.
- **Relevant items** of a user: the distinct items of their held-out interactions.
- **Candidates**: every item of the data; items the user already owns in training
  (purchased or rated) are excluded, as in production. Stock is ignored: it measures
  the model, not today's catalog.
- **recall@K** = hits in the top K / number of relevant items; **NDCG@K** uses binary
  gains, ``1/log2(rank+1)``, normalised by the ideal ``min(K, n_relevant)`` hits. Both are
  averaged over evaluated users.
- **Tuning** (:func:`tune`): the training part is split again the same way; each grid
  point is fitted on the inner part and scored on the validation part; the best recall
  wins. The test part is never looked at while tuning.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl
import scipy.sparse as sp

from subjectline.recommend.matrix import EVENT_WEIGHTS, InteractionMatrix
from subjectline.recommend.models import Recommender, get_model

HOLDOUT_FRACTION = 0.2
BENCH_MODELS = ("popularity", "als", "ease")

# Grids searched by `subjectline bench recommend --tune`. The models' default parameters
# are the winners of this grid on the MovieLens-100k validation split (docs/recommend.md).
PARAM_GRID: dict[str, dict[str, list[Any]]] = {
    "popularity": {"weighted": [False, True]},
    "als": {
        "factors": [32, 64, 128],
        "regularization": [0.1, 1.0, 10.0, 50.0],
        "alpha": [0.25, 1.0, 4.0],
        "iterations": [15],
    },
    "ease": {
        "lam": [50.0, 100.0, 200.0, 500.0, 1000.0, 2000.0, 5000.0],
        "binary": [False, True],
    },
}


def temporal_split(
    interactions: pl.DataFrame, fraction: float = HOLDOUT_FRACTION
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """``(train, test)``: each user's last ``max(1, floor(fraction * n))`` interactions."""
    ordered = interactions.sort("user_id", "ts", "item_id", "event")
    position = pl.int_range(pl.len()).over("user_id")
    count = pl.len().over("user_id")
    held = pl.max_horizontal((count * fraction).floor().cast(pl.Int64), pl.lit(1))
    is_test = (count >= 2) & (position >= count - held)
    marked = ordered.with_columns(is_test.alias("__test"))
    train = marked.filter(~pl.col("__test")).drop("__test")
    test = marked.filter(pl.col("__test")).drop("__test")
    return train, test


@dataclass(frozen=True)
class Scores:
    recall: float
    ndcg: float
    users: int
    fit_seconds: float

    def as_dict(self, k: int) -> dict[str, float]:
        return {
            f"recall@{k}": round(self.recall, 4),
            f"ndcg@{k}": round(self.ndcg, 4),
            "fit_seconds": round(self.fit_seconds, 3),
        }


def ranking_metrics(
    recommended: np.ndarray, relevant: sp.csr_matrix, k: int
) -> tuple[float, float]:
    """Mean recall@k and NDCG@k; row ``i`` of both arguments is the same user."""
    n_users = recommended.shape[0]
    n_relevant = np.diff(relevant.indptr)
    rows = np.repeat(np.arange(n_users), recommended.shape[1])
    cols = recommended.ravel()
    valid = cols >= 0
    hit = np.zeros(rows.shape, dtype=bool)
    hit[valid] = np.asarray(relevant[rows[valid], cols[valid]]).ravel() > 0
    hits = hit.reshape(recommended.shape)[:, :k]
    discounts = 1.0 / np.log2(np.arange(2, k + 2))
    dcg = (hits * discounts[: hits.shape[1]]).sum(axis=1)
    ideal = np.cumsum(discounts)[np.minimum(n_relevant, k) - 1]
    recall = hits.sum(axis=1) / n_relevant
    return float(recall.mean()), float((dcg / ideal).mean())


class Holdout:
    """A train matrix and the held-out relevant items, in one index space."""

    def __init__(
        self,
        train: pl.DataFrame,
        test: pl.DataFrame,
        item_ids: Iterable[str] | pl.Series | None = None,
        weights: Mapping[str, float] = EVENT_WEIGHTS,
    ):
        all_items = pl.concat([train["item_id"], test["item_id"]])
        if item_ids is not None:
            all_items = pl.concat([all_items, pl.Series("item_id", list(item_ids), pl.String)])
        self.data = InteractionMatrix.from_interactions(
            train, item_ids=all_items, user_ids=test["user_id"], weights=weights
        )
        self.users = np.unique(self.data.user_index(test["user_id"]))
        test_rows = self.data.user_index(test["user_id"])
        test_cols = self.data.item_index(test["item_id"])
        relevant = sp.csr_matrix(
            (np.ones(len(test_rows), dtype=np.float32), (test_rows, test_cols)),
            shape=self.data.shape,
        )
        relevant.data[:] = 1.0  # duplicates summed; relevance is binary
        self.relevant = relevant[self.users]

    def evaluate(self, model: Recommender, k: int = 10) -> Scores:
        model.fit(self.data.matrix)
        items, _ = model.recommend(self.users, self.data.matrix, k, exclude=self.data.owned)
        recall, ndcg = ranking_metrics(items, self.relevant, k)
        return Scores(recall, ndcg, len(self.users), model.fit_seconds)


def tune(
    interactions: pl.DataFrame,
    models: Iterable[str] = BENCH_MODELS,
    k: int = 10,
    grid: Mapping[str, Mapping[str, list[Any]]] = PARAM_GRID,
    on_result: Callable[[str, dict[str, Any], Scores], None] | None = None,
) -> dict[str, dict[str, Any]]:
    """Best parameters per model by recall@k on a validation split of ``interactions``.

    Pass the *training* part of the evaluation split so that its test part stays unseen.
    """
    inner, validation = temporal_split(interactions)
    holdout = Holdout(inner, validation, item_ids=interactions["item_id"])
    best: dict[str, dict[str, Any]] = {}
    for name in models:
        axes = grid.get(name, {})
        best_recall = -1.0
        for values in itertools.product(*axes.values()):
            params = dict(zip(axes, values, strict=True))
            scores = holdout.evaluate(get_model(name, **params), k)
            if on_result is not None:
                on_result(name, params, scores)
            if scores.recall > best_recall:
                best_recall, best[name] = scores.recall, params
    return best


def bench(
    interactions: pl.DataFrame,
    dataset: str,
    models: Iterable[str] = BENCH_MODELS,
    k: int = 10,
    params: Mapping[str, Mapping[str, Any]] | None = None,
    item_ids: Iterable[str] | pl.Series | None = None,
) -> dict[str, Any]:
    """``{"dataset", "users", "models": {name: {"recall@k", "ndcg@k", "fit_seconds"}}}``.

    ``params`` maps a model name to its hyperparameters (default: the model's defaults).
    """
    params = params or {}
    train, test = temporal_split(interactions)
    holdout = Holdout(train, test, item_ids=item_ids)
    results = {
        name: holdout.evaluate(get_model(name, **dict(params.get(name, {}))), k).as_dict(k)
        for name in models
    }
    return {"dataset": dataset, "users": len(holdout.users), "models": results}
