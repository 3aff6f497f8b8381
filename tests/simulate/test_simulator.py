"""The offline simulator: base rates, fairness to templates, logs, policies, determinism."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from subjectline.generate import template_titles
from subjectline.score.engagement import FEATURES
from subjectline.simulate.feedback import LoggedFeedback
from subjectline.simulate.simulator import (
    POLICIES,
    SimulationConfig,
    World,
    build_title_book,
    build_world,
    exploration_send,
    facts_title,
    simulate,
    true_probabilities,
)
from subjectline.workspace import Workspace

CONFIG = SimulationConfig(users=3_000, items=600, seed=3, max_themes=6, safety=False)
VAGUE = "Something special just for you"
OFF_THEME = "Cold brew coffee and lipstick deals"


@pytest.fixture(scope="module")
def world() -> World:
    return build_world(CONFIG)


def _candidates(world: World) -> dict[str, list[str]]:
    out = {}
    for theme in world.themes:
        label = theme.label
        out[theme.key] = [*template_titles(theme, 3)[1:], f"Shop {label} for you", VAGUE, OFF_THEME]
    return out


def _expected_ctr(world: World, book, theme_key: str, text: str) -> float:
    titles = book.titles
    title_id = titles.filter((pl.col("theme_key") == theme_key) & (pl.col("text") == text))[
        "title_id"
    ][0]
    members = np.flatnonzero(world.users["theme_key"].to_numpy() == theme_key)
    ids = np.full(members.size, title_id)
    return float(true_probabilities(world, book, ids, members).click.mean())


def test_base_rates_match_typical_ecommerce_email(world: World) -> None:
    book = build_title_book(world, {})
    ids = book.titles.filter(pl.col("source") == "template")["title_id"].to_numpy()
    p = true_probabilities(world, book, ids[world.users["theme_idx"].to_numpy()])
    assert 0.18 <= p.open.mean() <= 0.32
    assert 0.01 <= p.click.mean() <= 0.04
    assert 0.001 <= p.unsubscribe.mean() <= 0.005


def test_vague_or_off_theme_titles_lose_to_the_template(world: World) -> None:
    book = build_title_book(world, _candidates(world))
    for theme in world.themes:
        if theme.is_mixed:
            continue
        template = _expected_ctr(world, book, theme.key, template_titles(theme, 1)[0])
        assert _expected_ctr(world, book, theme.key, VAGUE) < template, theme.key
        assert _expected_ctr(world, book, theme.key, OFF_THEME) < template, theme.key


def test_exploration_log_follows_the_feedback_contract(world: World) -> None:
    book = build_title_book(world, _candidates(world))
    log, feedback = exploration_send(world, book, np.random.default_rng(0))
    assert isinstance(feedback, LoggedFeedback)
    assert feedback.n_rounds == world.users.height
    assert feedback.n_actions == book.titles.height
    per_theme = book.titles.group_by("theme_idx").len()
    expected = dict(zip(per_theme["theme_idx"], 1.0 / per_theme["len"], strict=True))
    logged = world.users["theme_idx"].map_elements(expected.get, return_dtype=pl.Float64)
    assert np.allclose(feedback.pscore, logged.to_numpy())
    # The model's inputs hold nothing of the hidden ground truth.
    hidden = set(world.market.preferences.columns) - {"user_id"}
    assert not hidden & set(FEATURES)
    assert not hidden & set(log.columns)
    assert {"open", "click", "convert", "unsubscribe"} <= set(log.columns)


def test_policies_are_compared_on_the_same_users() -> None:
    world = build_world(CONFIG)
    result = simulate(CONFIG, candidates=_candidates(world))
    payload = result.payload
    assert set(payload["policies"]) == set(POLICIES)
    for metrics in payload["policies"].values():
        assert set(metrics) == {"open_rate", "ctr", "cvr", "unsub_rate", "ci95"}
        low, high = metrics["ci95"]["ctr"]
        assert low <= metrics["ctr"] <= high
    lift = payload["lift"]["ctr_llm_rerank_vs_template"]
    assert lift["ci95"][0] <= lift["estimate"] <= lift["ci95"][1]
    assert payload["gap_to_paper_ctr_lift"] == pytest.approx(lift["estimate"] - 0.125)
    # The reranker never ships the vague or off-theme title (the mixed theme has no topic).
    chosen = {d["chosen"] for d in payload["titles"]["rerank"] if d["theme_key"] != "mixed"}
    assert VAGUE not in chosen and OFF_THEME not in chosen
    again = simulate(CONFIG, candidates=_candidates(world)).payload
    assert again["policies"] == payload["policies"]


def test_the_llm_policies_are_measured_against_each_control() -> None:
    world = build_world(CONFIG)
    payload = simulate(CONFIG, candidates=_candidates(world), world=world).payload
    assert "facts" in payload["policies"] and payload["titles"]["facts_themes"] > 0
    lifts = payload["lift"]
    for name in ("ctr_llm_rerank_vs_facts", "ctr_llm_first_vs_facts", "ctr_facts_vs_template"):
        low, high = lifts[name]["ci95"]
        assert low <= lifts[name]["estimate"] <= high
    # The reranker chooses among the LLM's titles and the template, never the facts control's.
    facts = set(facts_title(t) for t in world.themes) - {None}
    assert not {d["chosen"] for d in payload["titles"]["rerank"]} & facts
    # With the classic control alone the payload is the old one: no facts policy or lift.
    classic = replace(CONFIG, controls=("template",))
    old = simulate(classic, candidates=_candidates(world), world=world).payload
    assert set(old["policies"]) == set(POLICIES) - {"facts"}
    assert not [k for k in old["lift"] if "facts" in k]
    assert old["titles"]["facts_themes"] == 0


def test_real_model_candidates_are_generated_per_theme_and_cached(tmp_path: Path) -> None:
    config = SimulationConfig(users=800, items=300, seed=1, max_themes=2, n_candidates=1)
    workspace = Workspace(tmp_path / "ws")
    first = simulate(config, workspace).payload
    calls = first["generation"]["llm_calls"]
    assert 0 < calls <= first["themes"] * config.n_candidates * 3
    again = simulate(config, workspace).payload
    assert again["generation"]["llm_calls"] == 0
    assert again["policies"] == first["policies"]


@pytest.mark.slow
def test_fifty_thousand_users_rerank_beats_template_and_first() -> None:
    # A workspace with a warm title cache saves ~100 LLM calls (about 20 minutes here).
    workspace = Workspace(os.environ.get("SUBJECTLINE_SIM_WORKSPACE", ".subjectline"))
    payload = simulate(SimulationConfig(users=50_000, seed=0), workspace).payload
    lift = payload["lift"]["ctr_llm_rerank_vs_template"]
    assert lift["ci95"][0] > 0
    policies = payload["policies"]
    assert policies["llm_rerank"]["ctr"] > policies["llm_first"]["ctr"]
    assert policies["llm_rerank"]["ctr"] <= policies["oracle"]["ctr"]
