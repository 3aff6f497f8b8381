"""The Ray engine runs the local engine's shard tasks as Ray tasks: same files, same result."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest

from subjectline.data.ingest import ingest
from subjectline.pipeline.campaign import CampaignConfig, run_campaign
from subjectline.pipeline.stream import StreamOptions, run_streaming_campaign
from subjectline.workspace import Workspace

ray = pytest.importorskip("ray")

CONFIG = CampaignConfig(backend="template", llm_call_share=0.5)


@pytest.fixture(scope="module")
def local_ray() -> Iterator[None]:
    # Two worker processes at most: the test machines have two cores.
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    yield
    ray.shutdown()


def test_ray_shards_equal_the_in_memory_campaign_and_resume_locally(
    local_ray: None, small_market: Path, tmp_path: Path
) -> None:
    ws = Workspace(tmp_path / "ws")
    ingest(small_market, ws)
    options = StreamOptions(shards=4, engine="ray")
    report = run_streaming_campaign(ws, CONFIG, tmp_path / "out", options)
    assert report["engine"] == "ray"
    campaign = pl.read_parquet(tmp_path / "out" / "campaign.parquet")
    assert campaign.equals(run_campaign(ws, CONFIG).campaign)
    # Shards written by Ray tasks are the local engine's shards: a local rerun reuses them.
    again = run_streaming_campaign(ws, CONFIG, tmp_path / "out", StreamOptions(shards=4))
    assert again["resumed_shards"] == {"recs": 4, "users": 4, "campaign": 4}
    assert pl.read_parquet(tmp_path / "out" / "campaign.parquet").equals(campaign)
