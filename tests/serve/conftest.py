from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from subjectline.data.ingest import ingest
from subjectline.pipeline.campaign import CampaignConfig, run_campaign, write_outputs
from subjectline.workspace import Workspace


@pytest.fixture(scope="session")
def served_workspace(small_market: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An ingested workspace with one template campaign in ``campaigns/c1`` (read-only:
    tests that write copy it with ``workspace_copy``)."""
    root = tmp_path_factory.mktemp("serve") / "ws"
    ws = Workspace(root)
    ingest(small_market, ws)
    result = run_campaign(ws, CampaignConfig(backend="template", campaign_id="c1"))
    write_outputs(result, root / "campaigns" / "c1")
    return root


@pytest.fixture
def workspace_copy(served_workspace: Path, tmp_path: Path) -> Path:
    import shutil

    target = tmp_path / "ws"
    shutil.copytree(served_workspace, target)
    return target


@pytest.fixture
def campaign(served_workspace: Path) -> pl.DataFrame:
    return pl.read_parquet(served_workspace / "campaigns" / "c1" / "campaign.parquet")
