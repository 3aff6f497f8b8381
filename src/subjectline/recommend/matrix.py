"""User x item confidence matrix built from the contract's interactions frame.

Each interaction adds a confidence weight to its (user, item) cell:

====================  ================================
event                 weight
====================  ================================
``view``              1
``cart``              3
``purchase``          5
``rating``            the rating itself (``value``)
====================  ================================

Repeated events on the same pair add up (three views weigh 3). Users and items get
contiguous indices in sorted id order, so the same data always gives the same matrix.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
import polars as pl
import scipy.sparse as sp

from subjectline.errors import DataError

EVENT_WEIGHTS: dict[str, float] = {"view": 1.0, "cart": 3.0, "purchase": 5.0}
# Events whose value *is* the weight rather than a fixed one.
VALUE_EVENTS = frozenset({"rating"})
# Items a user already has for good: never recommended back to them.
OWNED_EVENTS = ("purchase", "rating")


def weight_expr(weights: Mapping[str, float] = EVENT_WEIGHTS) -> pl.Expr:
    """The confidence weight of one interaction row, as a Polars expression."""
    fixed = pl.col("event").replace_strict(
        {event: float(w) for event, w in weights.items()}, default=0.0, return_dtype=pl.Float64
    )
    from_value = pl.col("event").is_in(list(VALUE_EVENTS))
    return (
        pl.when(from_value).then(pl.col("value").fill_null(1.0)).otherwise(fixed).cast(pl.Float32)
    )


@dataclass
class InteractionMatrix:
    """A CSR user x item matrix plus the id <-> index mappings.

    ``user_ids[i]`` is the id of row ``i``; ``item_ids[j]`` of column ``j``.
    ``owned`` marks (user, item) pairs that must not be recommended (purchases, ratings).
    """

    matrix: sp.csr_matrix
    user_ids: pl.Series
    item_ids: pl.Series
    owned: sp.csr_matrix
    weights: dict[str, float] = field(default_factory=lambda: dict(EVENT_WEIGHTS))

    @property
    def shape(self) -> tuple[int, int]:
        return (len(self.user_ids), len(self.item_ids))

    @classmethod
    def from_interactions(
        cls,
        interactions: pl.DataFrame,
        item_ids: Iterable[str] | pl.Series | None = None,
        user_ids: Iterable[str] | pl.Series | None = None,
        weights: Mapping[str, float] = EVENT_WEIGHTS,
        owned_events: Iterable[str] = OWNED_EVENTS,
    ) -> InteractionMatrix:
        """Build the matrix.

        ``item_ids``/``user_ids`` fix the columns/rows (e.g. the whole catalog, or users
        without any interaction); ids found only in ``interactions`` are added. An
        interaction whose event has no weight (and is not a rating) raises DataError.
        """
        unknown = interactions.filter(~pl.col("event").is_in([*weights, *VALUE_EVENTS]))
        if unknown.height:
            raise DataError("interactions", f"no weight for event {unknown['event'][0]!r}")
        users = _index(interactions["user_id"], user_ids, "user_id")
        items = _index(interactions["item_id"], item_ids, "item_id")
        coded = (
            interactions.lazy()
            .select(
                "user_id",
                "item_id",
                weight_expr(weights).alias("w"),
                pl.col("event").is_in(list(owned_events)).alias("owned"),
            )
            .join(users.lazy(), on="user_id", how="inner")
            .join(items.lazy(), on="item_id", how="inner")
            .group_by("user_idx", "item_idx")
            .agg(pl.col("w").sum(), pl.col("owned").any())
            .sort("user_idx", "item_idx")
            .collect()
        )
        shape = (users.height, items.height)
        rows = coded["user_idx"].to_numpy()
        cols = coded["item_idx"].to_numpy()
        matrix = sp.csr_matrix((coded["w"].to_numpy(), (rows, cols)), shape=shape, dtype=np.float32)
        own = coded["owned"].to_numpy()
        owned = sp.csr_matrix(
            (np.ones(int(own.sum()), dtype=np.float32), (rows[own], cols[own])), shape=shape
        )
        return cls(matrix, users["user_id"], items["item_id"], owned, dict(weights))

    def user_index(self, user_ids: Iterable[str] | pl.Series) -> np.ndarray:
        """Row index of each id, -1 for ids not in the matrix."""
        return _lookup(self.user_ids, user_ids, "user_id")

    def item_index(self, item_ids: Iterable[str] | pl.Series) -> np.ndarray:
        """Column index of each id, -1 for ids not in the matrix."""
        return _lookup(self.item_ids, item_ids, "item_id")


def _index(seen: pl.Series, extra: Iterable[str] | pl.Series | None, name: str) -> pl.DataFrame:
    ids = seen.cast(pl.String).rename(name)
    if extra is not None:
        ids = pl.concat([ids, as_id_series(extra, name)])
    unique = ids.unique().sort()
    index_col = name.replace("_id", "_idx")
    return pl.DataFrame({name: unique, index_col: np.arange(len(unique), dtype=np.int64)})


def as_id_series(ids: Iterable[str] | pl.Series, name: str) -> pl.Series:
    """Ids as a String series called ``name``."""
    if isinstance(ids, pl.Series):
        return ids.cast(pl.String).rename(name)
    return pl.Series(name, list(ids), dtype=pl.String)


def _lookup(index: pl.Series, ids: Iterable[str] | pl.Series, name: str) -> np.ndarray:
    query = as_id_series(ids, name)
    table = pl.DataFrame({name: index, "idx": np.arange(len(index), dtype=np.int64)})
    found = (
        pl.DataFrame({name: query})
        .join(table, on=name, how="left", maintain_order="left")
        .get_column("idx")
        .fill_null(-1)
    )
    return found.to_numpy()
