"""Whole campaigns with a deliberately misbehaving backend: nothing unsafe ships."""

from __future__ import annotations

import itertools
import json
from collections.abc import Sequence
from pathlib import Path

import polars as pl
import pytest

from subjectline.data.contract import items_from_frame, promotions_from_frame
from subjectline.data.ingest import ingest
from subjectline.generate import PromptSettings
from subjectline.generate.records import Prompt
from subjectline.pipeline.campaign import FACTS_ARM, LLM_ARM, CampaignConfig, run_campaign
from subjectline.safety import CheckContext, category_words, check_title
from subjectline.workspace import Workspace

REDTEAM = Path(__file__).parents[1] / "safety" / "redteam.jsonl"


def _redteam() -> list[dict]:
    return [json.loads(line) for line in REDTEAM.read_text().splitlines() if line.strip()]


class RedTeamBackend:
    """Answers every prompt with the next red-team title: a fake for the failure path."""

    name = "redteam"
    model_id = "redteam-v1"
    calls_llm = True

    def __init__(self, titles: Sequence[str]):
        self._titles = itertools.cycle(titles)

    def complete(self, prompts: Sequence[Prompt]) -> list[str]:
        return [next(self._titles) for _ in prompts]


def _user_contexts(ws: Workspace, campaign: pl.DataFrame, themes: dict, as_of) -> list:
    catalog = {i.item_id: i for i in items_from_frame(ws.table("items"))}
    promos = promotions_from_frame(ws.table("promotions"))
    brands = tuple(sorted(ws.table("items")["brand"].drop_nulls().unique()))
    kinds = category_words(ws.table("items")["category"])
    for row in campaign.iter_rows(named=True):
        # Generic fallbacks are checked without the theme requirement, as choose_safe does.
        generic = row["subject_source"] == "generic_template"
        ctx = CheckContext(
            items=[catalog[i] for i in row["item_ids"]],
            promotions=promos,
            theme=None if generic else themes[row["theme_key"]],
            now=as_of,
            known_brands=brands,
            catalog_words=kinds,
        )
        yield row, ctx


@pytest.fixture
def workspace(small_market: Path, tmp_path: Path) -> Workspace:
    ws = Workspace(tmp_path / "ws")
    ingest(small_market, ws)
    return ws


def test_no_redteam_title_ships(workspace: Workspace) -> None:
    cases = _redteam()
    titles = [c["title"] for c in cases]
    # The free-text prompt: nothing but the gate stands between these titles and a send.
    config = CampaignConfig(
        backend=RedTeamBackend(titles),
        llm_call_share=1.0,
        prompt=PromptSettings(prompt_version="v1"),
    )
    result = run_campaign(workspace, config)
    campaign = result.campaign
    # Enough themes asked for enough candidates that every red-team title was offered.
    assert result.report["llm_calls"] >= len(titles)
    portable = {c["title"] for c in cases if c.get("portable")}
    shipped = set(campaign["subject"])
    assert not shipped & portable
    assert result.report["rejections_by_check"]
    assert result.report["fallbacks"][LLM_ARM]
    as_of = pl.Series([result.report["as_of"]]).str.to_datetime(time_zone="UTC").item()
    for row, ctx in _user_contexts(workspace, campaign, result.themes, as_of):
        verdict = check_title(row["subject"], ctx)
        assert verdict.ok, (row["subject"], verdict.reasons)


def test_shipped_subjects_pass_check_for_their_own_email(workspace: Workspace) -> None:
    result = run_campaign(workspace, CampaignConfig(backend="template"))
    as_of = pl.Series([result.report["as_of"]]).str.to_datetime(time_zone="UTC").item()
    for row, ctx in _user_contexts(workspace, result.campaign, result.themes, as_of):
        verdict = check_title(row["subject"], ctx)
        assert verdict.ok, (row["subject"], verdict.reasons)
    stored = workspace.table("rejections")
    assert set(stored.columns) >= {"candidate", "theme_key", "check", "detail"}


def test_facts_control_subjects_pass_check_for_their_own_email(workspace: Workspace) -> None:
    # A theme budget for many themes, so that the facts control has facts to fill in.
    result = run_campaign(workspace, CampaignConfig(backend="template", llm_call_share=0.5))
    facts = result.campaign.filter(pl.col("arm") == FACTS_ARM)
    own = facts.filter(pl.col("subject_source") == "candidate")
    assert own.height and own["theme_key"].n_unique() >= 3
    assert result.report["fallbacks"][FACTS_ARM]  # themes without facts: the classic one
    as_of = pl.Series([result.report["as_of"]]).str.to_datetime(time_zone="UTC").item()
    for row, ctx in _user_contexts(workspace, facts, result.themes, as_of):
        verdict = check_title(row["subject"], ctx)
        assert verdict.ok, (row["subject"], verdict.reasons)
