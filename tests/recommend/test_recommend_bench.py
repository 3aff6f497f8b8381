"""Evaluation protocol, metrics, the ml-100k benchmark and the two commands."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl
import pytest
import scipy.sparse as sp
from typer.testing import CliRunner

from subjectline.cli import app
from subjectline.data.ingest import ingest
from subjectline.data.movielens import load_movielens
from subjectline.recommend.evaluate import bench, ranking_metrics, temporal_split, tune
from subjectline.workspace import Workspace

runner = CliRunner()


@pytest.fixture(scope="module")
def ratings() -> pl.DataFrame:
    return load_movielens()["interactions"]


def test_temporal_split_holds_out_each_users_latest_fifth() -> None:
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    counts = {"a": 1, "b": 2, "c": 9, "d": 10}
    rows = [
        (user, f"i{j}", t0 + timedelta(hours=n - j))  # inserted newest first
        for user, n in counts.items()
        for j in range(n)
    ]
    frame = pl.DataFrame(
        {
            "user_id": [r[0] for r in rows],
            "item_id": [r[1] for r in rows],
            "event": ["view"] * len(rows),
            "value": [None] * len(rows),
            "ts": [r[2] for r in rows],
        },
        schema_overrides={"value": pl.Float64},
    )
    train, test = temporal_split(frame)
    held = dict(test.group_by("user_id").len().iter_rows())
    assert held == {"b": 1, "c": 1, "d": 2}  # max(1, floor(0.2 n)); a single row stays
    assert train.height + test.height == frame.height
    latest_train = train.group_by("user_id").agg(pl.col("ts").max().alias("train_max"))
    earliest_test = test.group_by("user_id").agg(pl.col("ts").min().alias("test_min"))
    both = latest_train.join(earliest_test, on="user_id")
    assert (both["train_max"] < both["test_min"]).all()


def test_ranking_metrics_by_hand() -> None:
    recommended = np.array([[0, 1, 2], [3, 2, -1]])
    relevant = sp.csr_matrix(np.array([[0, 1, 0, 0, 1], [0, 0, 0, 1, 0]], dtype=np.float32))
    recall, ndcg = ranking_metrics(recommended, relevant, 3)
    # user 0: one of two relevant items, at rank 2; user 1: its only item at rank 1.
    assert recall == pytest.approx((0.5 + 1.0) / 2)
    ideal0 = 1 + 1 / np.log2(3)
    assert ndcg == pytest.approx(((1 / np.log2(3)) / ideal0 + 1.0) / 2)


def test_ml100k_bench_shape_and_models_beat_popularity(ratings: pl.DataFrame) -> None:
    result = bench(ratings, "ml-100k")
    assert set(result) == {"dataset", "users", "models"}
    assert result["dataset"] == "ml-100k" and result["users"] == 943
    assert list(result["models"]) == ["popularity", "als", "ease"]
    for scores in result["models"].values():
        assert set(scores) == {"recall@10", "ndcg@10", "fit_seconds"}
        assert 0.0 <= scores["recall@10"] <= 1.0 and 0.0 <= scores["ndcg@10"] <= 1.0
    models = result["models"]
    best = max(models["als"]["recall@10"], models["ease"]["recall@10"])
    assert best >= 1.2 * models["popularity"]["recall@10"]


def test_tuning_reads_only_the_training_part(ratings: pl.DataFrame) -> None:
    train, _ = temporal_split(ratings)
    grid = {"ease": {"lam": [1.0, 2000.0]}}
    best = tune(train, models=["ease"], grid=grid)
    assert best == {"ease": {"lam": 2000.0}}


def test_bench_command_prints_one_json_object(small_market: Path) -> None:
    result = runner.invoke(app, ["bench", "recommend", "--dataset", str(small_market), "--json"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1
    payload = json.loads(lines[0])
    assert payload["dataset"] == str(small_market)
    assert set(payload["models"]) == {"popularity", "als", "ease"}


def test_recommend_command_writes_the_table(small_market: Path, tmp_path: Path) -> None:
    workspace = Workspace(tmp_path / "ws")
    ingest(small_market, workspace)
    args = ["recommend", "--k", "5", "--model", "ease", "--workspace", str(workspace.root)]
    args += ["--new-arrivals-days", "14"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "recommendations:" in result.stdout
    recs = workspace.table("recommendations")
    assert recs.columns == ["user_id", "item_id", "rank", "score"]
    users = workspace.table("interactions")["user_id"].n_unique()
    assert recs.height == 5 * users


def test_recommend_command_without_data_fails_cleanly(tmp_path: Path) -> None:
    result = runner.invoke(app, ["recommend", "--workspace", str(tmp_path / "empty")])
    assert result.exit_code == 1
    assert "run `subjectline ingest` first" in result.stderr
