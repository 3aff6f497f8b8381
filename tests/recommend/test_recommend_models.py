"""Models, filters and top-K on small data (a 500-user synthetic marketplace and toys)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl
import pytest
import scipy.sparse as sp

from subjectline.data.ingest import load_dir
from subjectline.errors import DataError, SubjectlineError
from subjectline.recommend import (
    EASE,
    MODELS,
    Filters,
    InteractionMatrix,
    Popularity,
    get_model,
    recommend_for_users,
)
from subjectline.recommend.models import apply_boost, top_k

T0 = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def market(small_market: Path) -> dict[str, pl.DataFrame]:
    return load_dir(small_market)


def _interactions(rows: list[tuple[str, str, str, float | None]]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "user_id": [r[0] for r in rows],
            "item_id": [r[1] for r in rows],
            "event": [r[2] for r in rows],
            "value": [r[3] for r in rows],
            "ts": [T0 + timedelta(minutes=i) for i in range(len(rows))],
        },
        schema={
            "user_id": pl.String,
            "item_id": pl.String,
            "event": pl.String,
            "value": pl.Float64,
            "ts": pl.Datetime("us", "UTC"),
        },
    )


def _catalog(ids: list[str], in_stock: list[bool], added_days_ago: list[int]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "item_id": ids,
            "in_stock": in_stock,
            "added_at": [T0 - timedelta(days=d) for d in added_days_ago],
        }
    )


def test_event_weights_sum_per_pair_and_mark_owned_items() -> None:
    rows = [
        ("u1", "a", "view", None),
        ("u1", "a", "view", None),
        ("u1", "b", "cart", None),
        ("u1", "c", "purchase", None),
        ("u2", "a", "rating", 4.0),
    ]
    data = InteractionMatrix.from_interactions(_interactions(rows), item_ids=["a", "b", "c", "d"])
    assert data.user_ids.to_list() == ["u1", "u2"]
    assert data.item_ids.to_list() == ["a", "b", "c", "d"]
    assert data.matrix.toarray().tolist() == [[2, 3, 5, 0], [4, 0, 0, 0]]
    assert data.owned.toarray().tolist() == [[0, 0, 1, 0], [1, 0, 0, 0]]


def test_event_without_weight_is_rejected() -> None:
    with pytest.raises(DataError, match="click"):
        InteractionMatrix.from_interactions(_interactions([("u", "a", "click", None)]))


def test_top_k_matches_a_full_sort() -> None:
    rng = np.random.default_rng(0)
    scores = rng.integers(0, 5, size=(50, 40)).astype(np.float32)  # many ties
    scores[rng.random(scores.shape) < 0.2] = -np.inf
    items, best = top_k(scores.copy(), 7)
    for row in range(scores.shape[0]):
        expected = np.lexsort((np.arange(40), -scores[row]))[:7]
        assert np.array_equal(best[row], scores[row, expected])
        finite = np.isfinite(best[row])
        assert np.array_equal(items[row][finite], expected[finite])
        assert (items[row][~finite] == -1).all()


def test_boost_raises_positive_and_negative_scores() -> None:
    scores = np.array([[2.0, -2.0, 1.0]], dtype=np.float32)
    apply_boost(scores, np.array([0, 1]), np.array([2.0, 2.0], dtype=np.float32))
    assert scores.tolist() == [[4.0, -1.0, 1.0]]


def test_ease_matches_the_closed_form() -> None:
    rng = np.random.default_rng(1)
    dense = (rng.random((30, 8)) < 0.4).astype(np.float32)
    model = EASE(lam=2.0).fit(sp.csr_matrix(dense))
    p = np.linalg.inv(dense.T @ dense + 2.0 * np.eye(8))
    expected = -p / np.diag(p)
    np.fill_diagonal(expected, 0.0)
    np.testing.assert_allclose(model.weights, expected, rtol=1e-4, atol=1e-6)
    assert model.weights.flags["C_CONTIGUOUS"]  # scoring reads rows of B


@pytest.mark.parametrize("name", sorted(MODELS))
def test_each_model_recommends_k_distinct_allowed_items(
    name: str, market: dict[str, pl.DataFrame]
) -> None:
    items, interactions = market["items"], market["interactions"]
    recs = recommend_for_users(interactions, items, 10, name)
    assert recs.columns == ["user_id", "item_id", "rank", "score"]
    assert recs["user_id"].n_unique() == interactions["user_id"].n_unique()
    per_user = recs.group_by("user_id").agg(
        pl.len().alias("n"),
        pl.col("item_id").n_unique().alias("distinct"),
        (pl.col("rank").sort() == pl.int_range(1, pl.len() + 1)).all().alias("ranks_ok"),
        (pl.col("score").diff().drop_nulls() <= 0).all().alias("sorted"),
    )
    assert (per_user["n"] == 10).all() and (per_user["distinct"] == 10).all()
    assert per_user["ranks_ok"].all() and per_user["sorted"].all()
    out_of_stock = items.filter(~pl.col("in_stock"))["item_id"]
    assert out_of_stock.len() > 0
    assert not recs["item_id"].is_in(out_of_stock.implode()).any()
    owned = interactions.filter(pl.col("event").is_in(["purchase", "rating"])).select(
        "user_id", "item_id"
    )
    assert owned.height > 0
    assert recs.join(owned, on=["user_id", "item_id"], how="semi").height == 0


def test_filters_can_be_switched_off() -> None:
    rows = [("u1", "a", "purchase", None), ("u2", "a", "view", None), ("u2", "b", "view", None)]
    catalog = _catalog(["a", "b", "c"], [True, False, True], [100, 100, 100])
    recs = recommend_for_users(_interactions(rows), catalog, 3, "popularity")
    assert recs.filter(pl.col("user_id") == "u1")["item_id"].to_list() == ["c"]
    everything = Filters(in_stock_only=False, exclude_owned=False)
    recs = recommend_for_users(_interactions(rows), catalog, 3, "popularity", filters=everything)
    assert recs.filter(pl.col("user_id") == "u1")["item_id"].to_list() == ["a", "b", "c"]


def test_new_arrivals_boost_moves_new_items_up() -> None:
    rows = [("u1", "a", "view", None), ("u2", "a", "view", None), ("u2", "b", "view", None)]
    rows += [("u3", "b", "view", None), ("u3", "c", "view", None)]
    catalog = _catalog(["a", "b", "c"], [True, True, True], [400, 400, 3])
    plain = recommend_for_users(_interactions(rows), catalog, 3, "popularity", users=["new"])
    assert plain["item_id"].to_list() == ["a", "b", "c"]  # popularity 2, 2, 1 (tie: lower id)
    boosted = Filters(new_arrivals_days=7, new_arrivals_boost=3.0)
    recs = recommend_for_users(
        _interactions(rows), catalog, 3, "popularity", users=["new"], as_of=T0, filters=boosted
    )
    assert recs["item_id"].to_list() == ["c", "a", "b"]
    assert recs["score"].to_list() == [3.0, 2.0, 2.0]
    too_old = Filters(new_arrivals_days=2, new_arrivals_boost=3.0)
    recs = recommend_for_users(
        _interactions(rows), catalog, 3, "popularity", users=["new"], as_of=T0, filters=too_old
    )
    assert recs["item_id"].to_list() == ["a", "b", "c"]


def test_users_without_history_get_popular_items(market: dict[str, pl.DataFrame]) -> None:
    items, interactions = market["items"], market["interactions"]
    known = interactions["user_id"][0]
    recs = recommend_for_users(interactions, items, 5, "ease", users=[known, "nobody"])
    assert recs["user_id"].unique().sort().to_list() == sorted([known, "nobody"])
    popular = recommend_for_users(interactions, items, 5, "popularity", users=["nobody"])
    cold = recs.filter(pl.col("user_id") == "nobody")
    assert cold["item_id"].to_list() == popular["item_id"].to_list()


def test_batching_does_not_change_results(market: dict[str, pl.DataFrame]) -> None:
    items, interactions = market["items"], market["interactions"]
    whole = recommend_for_users(interactions, items, 10, "ease")
    batched = recommend_for_users(interactions, items, 10, "ease", batch_size=37)
    assert whole.equals(batched)
    threaded = recommend_for_users(interactions, items, 10, "ease", batch_size=37, workers=3)
    assert whole.equals(threaded)


def test_fixed_seed_gives_identical_recommendations(market: dict[str, pl.DataFrame]) -> None:
    items, interactions = market["items"], market["interactions"]
    first = recommend_for_users(interactions, items, 10, "als", params={"seed": 3})
    again = recommend_for_users(interactions, items, 10, "als", params={"seed": 3})
    assert first.equals(again)


def test_registry() -> None:
    assert {"popularity", "als", "ease"} <= set(MODELS)
    assert isinstance(get_model("popularity"), Popularity)
    assert get_model("ease", lam=10.0).params == {"lam": 10.0, "binary": False}
    with pytest.raises(SubjectlineError, match="unknown model"):
        get_model("svd")
