"""The call the pipeline makes: interactions + catalog -> each user's top-K items."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

import numpy as np
import polars as pl

from subjectline.recommend.filters import Filters, item_mask, new_arrival_boost
from subjectline.recommend.matrix import EVENT_WEIGHTS, InteractionMatrix, as_id_series
from subjectline.recommend.models import (
    DEFAULT_BATCH_USERS,
    Popularity,
    Progress,
    Recommender,
    get_model,
)

RECOMMENDATION_SCHEMA: dict[str, pl.DataType] = {
    "user_id": pl.String(),
    "item_id": pl.String(),
    "rank": pl.Int32(),
    "score": pl.Float64(),
}


def default_as_of(interactions: pl.DataFrame) -> datetime:
    """The latest interaction time (so reruns on the same data agree), else now."""
    latest = interactions["ts"].max() if interactions.height else None
    if isinstance(latest, datetime):
        return latest if latest.tzinfo else latest.replace(tzinfo=UTC)
    return datetime.now(UTC)


def recommend_for_users(
    interactions: pl.DataFrame,
    items: pl.DataFrame,
    k: int = 10,
    model: str | Recommender = "ease",
    *,
    as_of: datetime | None = None,
    filters: Filters | None = None,
    users: Iterable[str] | pl.Series | None = None,
    params: Mapping[str, Any] | None = None,
    weights: Mapping[str, float] = EVENT_WEIGHTS,
    batch_size: int = DEFAULT_BATCH_USERS,
    workers: int = 1,
    progress: Progress | None = None,
    status: Callable[[str], None] | None = None,
) -> pl.DataFrame:
    """Each user's top-``k`` items as ``user_id, item_id, rank (1..k), score``.

    - ``interactions`` and ``items`` are contract frames (``INTERACTION_SCHEMA``,
      ``ITEM_SCHEMA``); every catalog item is a candidate.
    - ``model`` is a registry name (``popularity``, ``als``, ``ease``) built with
      ``params``, or an unfitted :class:`Recommender`; it is fitted on all interactions
      (weights from ``weights``: view 1, cart 3, purchase 5, rating = its value).
    - ``filters`` (default :class:`Filters()`): in stock only, already purchased/rated
      items excluded, optional new-arrivals boost relative to ``as_of`` (default: the
      latest interaction time).
    - ``users``: whom to recommend for (default: every user with an interaction). Users
      without history get the most popular allowed items.
    - Sorted by user then rank; a user gets fewer than ``k`` rows only when fewer items
      pass the filters. ``batch_size`` users are scored at once, ``workers`` batches
      in parallel threads (one batch's scores: ``batch_size * n_items * 4`` bytes).
      ``progress(n)`` is called after each batch of ``n`` users and
      ``status(text)`` when a step starts (for progress bars).
    """
    report = status or (lambda _text: None)
    filters = filters or Filters()
    as_of = as_of or default_as_of(interactions)
    data = InteractionMatrix.from_interactions(
        interactions,
        item_ids=items["item_id"],
        user_ids=users,
        weights=weights,
        owned_events=filters.owned_events,
    )
    recommender = get_model(model, **dict(params or {})) if isinstance(model, str) else model
    n_users, n_items = data.shape
    report(f"fitting {recommender.name} on {n_users:,} users x {n_items:,} items")
    recommender.fit(data.matrix)
    report(f"{recommender.name}: top-{k} per user")

    if users is None:
        rows = np.flatnonzero(np.diff(data.matrix.indptr) > 0)
    else:
        rows = data.user_index(as_id_series(users, "user_id").unique(maintain_order=True))
    allowed = item_mask(items, data.item_ids, filters)
    boost = new_arrival_boost(items, data.item_ids, filters, as_of)
    exclude = data.owned if filters.exclude_owned else None
    options: dict[str, Any] = {
        "exclude": exclude,
        "item_mask": allowed,
        "item_boost": boost,
        "batch_size": batch_size,
        "workers": workers,
        "progress": progress,
    }
    has_history = np.diff(data.matrix.indptr)[rows] > 0
    top_items = np.full((len(rows), k), -1, dtype=np.int32)
    top_scores = np.full((len(rows), k), -np.inf, dtype=np.float32)
    warm = np.flatnonzero(has_history)
    found_items, found_scores = recommender.recommend(rows[warm], data.matrix, k, **options)
    top_items[warm, : found_items.shape[1]] = found_items
    top_scores[warm, : found_scores.shape[1]] = found_scores
    cold = np.flatnonzero(~has_history)
    if cold.size:
        fallback = recommender if isinstance(recommender, Popularity) else Popularity()
        if fallback is not recommender:
            fallback.fit(data.matrix)
        found_items, found_scores = fallback.recommend(rows[cold], data.matrix, k, **options)
        top_items[cold, : found_items.shape[1]] = found_items
        top_scores[cold, : found_scores.shape[1]] = found_scores
    return to_frame(rows, top_items, top_scores, data)


def to_frame(
    rows: np.ndarray, top_items: np.ndarray, top_scores: np.ndarray, data: InteractionMatrix
) -> pl.DataFrame:
    """Index arrays -> the recommendations frame, dropping empty (-1) slots."""
    n_users, k = top_items.shape
    flat_items = top_items.ravel()
    keep = flat_items >= 0
    user_pos = np.repeat(rows, k)[keep]
    frame = pl.DataFrame(
        {
            "user_id": data.user_ids.gather(user_pos),
            "item_id": data.item_ids.gather(flat_items[keep]),
            "rank": np.tile(np.arange(1, k + 1, dtype=np.int32), n_users)[keep],
            "score": top_scores.ravel()[keep].astype(np.float64),
        },
        schema=RECOMMENDATION_SCHEMA,
    )
    return frame
