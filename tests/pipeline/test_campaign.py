from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from subjectline.data.ingest import ingest
from subjectline.errors import SubjectlineError
from subjectline.pipeline.campaign import (
    CAMPAIGN_SCHEMA,
    CONTROL_ARM,
    FACTS_ARM,
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
    # Both controls run by default and split the non-LLM half: about 25/25/50.
    assert set(campaign["arm"]) == {CONTROL_ARM, FACTS_ARM, LLM_ARM}
    shares = {arm: n / campaign.height for arm, n in result.report["arms"].items()}
    assert 0.4 < shares[LLM_ARM] < 0.6
    assert 0.17 < shares[CONTROL_ARM] < 0.33 and 0.17 < shares[FACTS_ARM] < 0.33
    assert result.report["llm_calls"] == 0
    # The theme's items come first in every email.
    assert (campaign["item_ids"].list.len() == 8).all()
    paths = write_outputs(result, tmp_path / "out")
    assert pl.read_parquet(paths["campaign"]).equals(campaign)
    assert not list((tmp_path / "out").glob("*.part"))


def test_one_control_gives_the_two_arms_of_old_with_the_same_llm_users(
    workspace: Workspace,
) -> None:
    both = run_campaign(workspace, CampaignConfig(backend="template")).campaign
    classic = run_campaign(workspace, CampaignConfig(backend="template", controls=("template",)))
    campaign = classic.campaign
    assert set(campaign["arm"]) == {CONTROL_ARM, LLM_ARM}
    assert set(classic.report["arms"]) == {CONTROL_ARM, LLM_ARM}
    # The LLM arm holds the same users, with the same subjects, whichever controls run.
    llm = pl.col("arm") == LLM_ARM
    assert campaign.filter(llm).equals(both.filter(llm))
    # Every control user of the classic run is a template or facts user of the other.
    controls = both.filter(~llm).select("user_id")
    assert campaign.filter(~llm).select("user_id").equals(controls)
    facts_only = run_campaign(workspace, CampaignConfig(backend="template", controls=("facts",)))
    assert set(facts_only.campaign["arm"]) == {FACTS_ARM, LLM_ARM}


@pytest.mark.parametrize("controls", [(), ("template", "template"), ("random",)])
def test_controls_must_be_known_and_at_least_one(controls: tuple[str, ...]) -> None:
    with pytest.raises(SubjectlineError, match="controls"):
        CampaignConfig(controls=controls)


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


def test_campaign_cli_runs_the_controls_it_is_given(workspace: Workspace, tmp_path: Path) -> None:
    import json

    from typer.testing import CliRunner

    from subjectline.cli import app

    def run(*extra: str) -> dict:
        out = tmp_path / "-".join(extra or ("default",))
        args = ["campaign", "-w", str(workspace.root), "--out", str(out), "--backend", "template"]
        done = CliRunner().invoke(app, [*args, *extra])
        assert done.exit_code == 0, done.output
        return json.loads((out / "report.json").read_text())

    assert set(run()["arms"]) == {CONTROL_ARM, FACTS_ARM, LLM_ARM}
    assert set(run("--controls", "template")["arms"]) == {CONTROL_ARM, LLM_ARM}
    streamed = run("--controls", "facts", "--engine", "local")
    assert set(streamed["arms"]) == {FACTS_ARM, LLM_ARM}
    done = CliRunner().invoke(
        app, ["campaign", "-w", str(workspace.root), "--out", str(tmp_path), "--controls", "x"]
    )
    assert done.exit_code != 0
