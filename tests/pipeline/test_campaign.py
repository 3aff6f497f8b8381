from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from subjectline.data.ingest import ingest
from subjectline.pipeline.campaign import (
    CAMPAIGN_SCHEMA,
    CONTROL_ARM,
    LLM_ARM,
    CampaignConfig,
    run_campaign,
    write_outputs,
)
from subjectline.workspace import Workspace


@pytest.fixture
def workspace(small_market: Path, tmp_path: Path) -> Workspace:
    ws = Workspace(tmp_path / "ws")
    ingest(small_market, ws)
    return ws


def _assert_shippable(campaign: pl.DataFrame, budget: int) -> None:
    assert campaign.schema == pl.Schema(CAMPAIGN_SCHEMA)
    subjects = campaign["subject"]
    assert subjects.null_count() == 0
    assert (subjects.str.strip_chars().str.len_chars() > 0).all()
    assert not subjects.str.contains("\n").any()
    assert (subjects.str.len_chars() <= budget).all()
    assert campaign["user_id"].is_unique().all()


def test_template_campaign_covers_every_user_once(workspace: Workspace, tmp_path: Path) -> None:
    result = run_campaign(workspace, CampaignConfig(backend="template"))
    campaign = result.campaign
    assert campaign.height == 500
    _assert_shippable(campaign, 60)
    assert set(campaign["arm"]) == {CONTROL_ARM, LLM_ARM}
    share = (campaign["arm"] == LLM_ARM).mean()
    assert share is not None and 0.4 < float(share) < 0.6
    assert result.report["llm_calls"] == 0
    # The theme's items come first in every email.
    assert (campaign["item_ids"].list.len() == 8).all()
    paths = write_outputs(result, tmp_path / "out")
    assert pl.read_parquet(paths["campaign"]).equals(campaign)
    assert not list((tmp_path / "out").glob("*.part"))


def test_arms_are_deterministic_by_user(workspace: Workspace) -> None:
    first = run_campaign(workspace, CampaignConfig(backend="template")).campaign
    again = run_campaign(workspace, CampaignConfig(backend="template")).campaign
    assert first.select("user_id", "arm").equals(again.select("user_id", "arm"))


def test_local_llm_campaign_is_bounded_and_cached(workspace: Workspace) -> None:
    config = CampaignConfig(backend="local")
    result = run_campaign(workspace, config)
    report = result.report
    _assert_shippable(result.campaign, config.prompt.char_budget)
    assert 0 < report["llm_calls"] <= report["llm_call_budget"]
    assert report["llm_calls"] <= report["llm_themes"] * config.prompt.n_candidates * (
        1 + config.prompt.max_retries
    )
    llm = result.campaign.filter(pl.col("arm") == LLM_ARM)
    templates = result.campaign.filter(pl.col("arm") == CONTROL_ARM)
    assert llm.height and templates.height
    again = run_campaign(workspace, config)
    assert again.report["llm_calls"] == 0
    assert again.campaign.equals(result.campaign)


def test_unsubscribed_users_are_left_out(workspace: Workspace) -> None:
    from subjectline.track.store import SQLITE_FILE, add_suppressions, open_store

    engine = open_store(f"sqlite:///{workspace.root / SQLITE_FILE}")
    add_suppressions(engine, ["u000003", "u000042"], reason="unsubscribe")
    result = run_campaign(workspace, CampaignConfig(backend="template"))
    assert result.report["suppressed"] == 2
    assert result.campaign.height == 498
    assert not result.campaign["user_id"].is_in(["u000003", "u000042"]).any()
