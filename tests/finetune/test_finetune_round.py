"""A whole (smoke-sized) round through the CLI: run, evaluate, list (slow: real model)."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from subjectline.cli import app

KEYS = {
    "reward_mean",
    "reward_ci95",
    "safety_pass_rate",
    "judge_sendable_rate",
    "distinct_2",
    "cta_rate",
    "sentiment_mean",
    "tokens_per_second",
}


@pytest.mark.slow
def test_smoke_round_trains_exports_and_evaluates(tmp_path: Path) -> None:
    runner = CliRunner()
    ws = str(tmp_path / "ws")
    ran = runner.invoke(app, ["finetune", "run", "--preset", "smoke", "-w", ws, "--json"])
    assert ran.exit_code == 0, ran.output
    model = json.loads(ran.stdout.strip().splitlines()[-1])
    assert model["data"]["sft_targets"] > 0 and model["training"]["sft_steps"] > 0
    card = Path(model["path"]) / "MODEL_CARD.md"
    assert card.is_file()

    again = runner.invoke(
        app, ["finetune", "run", "--preset", "smoke", "--reuse", "-w", ws, "--json"]
    )
    assert json.loads(again.stdout.strip().splitlines()[-1])["model"] == model["model"]

    evaluated = runner.invoke(app, ["finetune", "evaluate", "-w", ws, "--json"])
    assert evaluated.exit_code == 0, evaluated.output
    payload = json.loads(evaluated.stdout.strip().splitlines()[-1])
    assert set(payload["base"]) >= KEYS and set(payload["finetuned"]) >= KEYS
    assert payload["base"]["tokens_per_second"] > 0
    assert {"base", "finetuned", "template"} == set(payload["simulator"]["ctr"])
    assert "Held-out evaluation" in card.read_text()
    scored = pl.read_parquet(Path(model["path"]) / "evaluation.parquet")
    assert set(scored["generator"]) == {"base", "finetuned"}
    assert scored.filter(~pl.col("is_template")).height == sum(
        payload[g]["candidates"] for g in ("base", "finetuned")
    )
