"""Business filters: what may be recommended, and what gets a nudge.

- ``in_stock_only``: out-of-stock items (and items missing from the catalog) are never
  recommended.
- ``exclude_owned``: items the user already purchased (for ratings data: already rated)
  are never recommended back. Views and carts are not excluded: recommending an item
  left in a cart is fine.
- ``new_arrivals_days`` / ``new_arrivals_boost``: items added within ``days`` before the
  ``as_of`` date get their score boosted by ``boost`` (see :func:`models.apply_boost`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
import polars as pl

from subjectline.recommend.matrix import OWNED_EVENTS


@dataclass(frozen=True)
class Filters:
    in_stock_only: bool = True
    exclude_owned: bool = True
    owned_events: tuple[str, ...] = OWNED_EVENTS
    new_arrivals_days: int | None = None
    new_arrivals_boost: float = 1.5

    def __post_init__(self) -> None:
        if self.new_arrivals_days is not None and self.new_arrivals_days < 0:
            raise ValueError("new_arrivals_days must be >= 0")
        if self.new_arrivals_boost <= 0:
            raise ValueError("new_arrivals_boost must be > 0")


def _catalog_column(items: pl.DataFrame, item_ids: pl.Series, column: str) -> pl.Series:
    """``items[column]`` aligned to ``item_ids`` (null where the item is not in the catalog)."""
    return (
        pl.DataFrame({"item_id": item_ids})
        .join(items.select("item_id", column), on="item_id", how="left", maintain_order="left")
        .get_column(column)
    )


def item_mask(items: pl.DataFrame, item_ids: pl.Series, filters: Filters) -> np.ndarray:
    """True for items that may be recommended (in the catalog and, if asked, in stock)."""
    in_stock = _catalog_column(items, item_ids, "in_stock")
    if not filters.in_stock_only:
        return in_stock.is_not_null().to_numpy()
    return in_stock.fill_null(False).to_numpy().astype(bool)


def new_arrival_boost(
    items: pl.DataFrame, item_ids: pl.Series, filters: Filters, as_of: datetime
) -> np.ndarray | None:
    """Per-item score multipliers (1.0 = none), or None when the boost is off."""
    if filters.new_arrivals_days is None or filters.new_arrivals_boost == 1.0:
        return None
    as_of = as_of if as_of.tzinfo else as_of.replace(tzinfo=UTC)
    since = as_of - timedelta(days=filters.new_arrivals_days)
    added = _catalog_column(items, item_ids, "added_at")
    is_new = ((added > since) & (added <= as_of)).fill_null(False).to_numpy().astype(bool)
    return np.where(is_new, np.float32(filters.new_arrivals_boost), np.float32(1.0))
