"""The sharded campaign engine: same result as the in-memory job, resumable, exactly once."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from subjectline.data.ingest import ingest
from subjectline.errors import SubjectlineError
from subjectline.pipeline.campaign import CAMPAIGN_SCHEMA, CampaignConfig, run_campaign
from subjectline.pipeline.stream import (
    SHARDS_DIR,
    StreamOptions,
    run_streaming_campaign,
    shard_of_users,
)
from subjectline.workspace import Workspace

# A budget large enough for ~20 themes on 500 users, so the global theme cut matters.
CONFIG = CampaignConfig(backend="template", llm_call_share=0.5)


@pytest.fixture(scope="module")
def workspace(small_market: Path, tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    ws = Workspace(tmp_path_factory.mktemp("stream") / "ws")
    ingest(small_market, ws)
    return ws


@pytest.fixture(scope="module")
def in_memory(workspace: Workspace) -> pl.DataFrame:
    return run_campaign(workspace, CONFIG).campaign


def test_shards_equal_the_in_memory_campaign(
    workspace: Workspace, in_memory: pl.DataFrame, tmp_path: Path
) -> None:
    report = run_streaming_campaign(workspace, CONFIG, tmp_path, StreamOptions(shards=5))
    streamed = pl.read_parquet(tmp_path / "campaign.parquet")
    assert streamed.schema == pl.Schema(CAMPAIGN_SCHEMA)
    assert streamed.equals(in_memory)
    assert report["themes"] > 10  # the theme budget cut is global, not per shard
    assert report["users"] == streamed.height == 500
    assert report["shards"] == 5
    assert set(report["seconds_by_stage"]) >= {"recommend", "themes", "generate", "assemble"}
    assert report["peak_rss_mb"] > 0
    assert json.loads((tmp_path / "report.json").read_text())["config_hash"]
    # Every shard file of every pass is whole; no half-written file is left behind.
    state = tmp_path / SHARDS_DIR / report["run_id"]
    assert len(list(state.glob("campaign-*.parquet"))) == 5
    assert not list(tmp_path.rglob("*.part"))


def test_shard_split_is_stable_and_covers_every_shard() -> None:
    users = pl.Series([f"u{i:06d}" for i in range(2000)])
    shards = shard_of_users(users, 8)
    assert shards.equals(shard_of_users(users, 8))
    assert set(shards) == set(range(8))
    assert shards.value_counts()["count"].min() > 150  # about 250 each
    # A user's shard does not depend on who else is in the audience.
    assert shard_of_users(users.tail(10), 8).equals(shards.tail(10))


def test_rerun_resumes_and_another_config_is_refused(workspace: Workspace, tmp_path: Path) -> None:
    first = run_streaming_campaign(workspace, CONFIG, tmp_path, StreamOptions(shards=3))
    again = run_streaming_campaign(workspace, CONFIG, tmp_path, StreamOptions(shards=3))
    assert again["resumed_shards"] == {"recs": 3, "users": 3, "campaign": 3}
    assert again["run_id"] == first["run_id"]
    other = CampaignConfig(backend="template", llm_call_share=0.5, k=5)
    with pytest.raises(SubjectlineError, match="another config"):
        run_streaming_campaign(
            workspace, other, tmp_path, StreamOptions(shards=3, run_id=first["run_id"])
        )
    # Without a run id the other config gets its own state directory: no mixing.
    report = run_streaming_campaign(workspace, other, tmp_path, StreamOptions(shards=3))
    assert report["run_id"] != first["run_id"]
    assert report["resumed_shards"] == {"recs": 0, "users": 0, "campaign": 0}
    campaign = pl.read_parquet(tmp_path / "campaign.parquet")
    assert (campaign["item_ids"].list.len() == 5).all()


def test_bench_campaign_measures_a_synthetic_run(tmp_path: Path) -> None:
    from subjectline.pipeline.bench import bench_campaign

    result = bench_campaign(
        users=300, items=120, titles="template", shards=2, data_dir=tmp_path, max_llm_calls=40
    )
    assert result["users"] == 300
    assert result["shards"] == 2
    assert result["llm_calls"] == 0
    assert result["llm_call_budget"] == 40
    assert result["peak_rss_mb"] > 0
    assert result["users_per_second"] == pytest.approx(300 / result["seconds"], rel=0.05)
    assert set(result["seconds_by_stage"]) >= {"load", "recommend", "themes", "assemble"}
    # The marketplace stays for the next run; the run's own copy is gone.
    assert (tmp_path / "workspace").exists()
    assert not list(tmp_path.glob("campaign-*"))
