"""Training moves the LoRA weights, the merged weights go into a GGUF file that the local
backend runs, and the workspace keeps versioned models (real model throughout)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest
from typer.testing import CliRunner

from subjectline.assets import smollm2_gguf
from subjectline.errors import SubjectlineError
from subjectline.finetune.dataset import TrainingSet
from subjectline.finetune.export import changed_weights, gguf_name, read_tensor, write_gguf
from subjectline.finetune.models import FinetunedModel, find_model, generator, list_models
from subjectline.finetune.records import FinetuneSettings
from subjectline.generate import PromptSettings, generate_titles, make_backend
from subjectline.workspace import Workspace

from .conftest import RUNNING, running_case


def test_hf_names_map_to_gguf_tensors() -> None:
    assert gguf_name("model.layers.3.mlp.up_proj.weight") == "blk.3.ffn_up.weight"
    assert gguf_name("base_model.model.model.layers.29.self_attn.o_proj.weight") == (
        "blk.29.attn_output.weight"
    )
    # q/k are stored permuted by llama.cpp: never written back.
    assert gguf_name("model.layers.3.self_attn.q_proj.weight") is None


def test_one_training_step_then_export_runs_in_the_local_backend(
    base_model: tuple[Any, Any], tmp_path: Path
) -> None:
    from subjectline.finetune.train import Encoder, sequence_stats, shared_prefix, train

    model, tokenizer = base_model
    case = running_case()
    data = TrainingSet(
        sft=pl.DataFrame(
            {
                "case_key": [case.key, case.key],
                "completion": ["Running shoes for your next trail", "Running shoes from Stride"],
                "weight": [1.0, 0.8],
            }
        ),
        pairs=pl.DataFrame(
            {
                "case_key": [case.key],
                "chosen": ["Running shoes for your next trail"],
                "rejected": ["Running shoes 90% OFF act now"],
                "margin": [0.5],
            }
        ),
        cases={case.key: case},
    )
    settings = FinetuneSettings(lora_layers=2, batch_size=2, max_steps=1, sft_lr=5e-3)

    # The shared few-shot prefix run once through the cache gives the same log-probs.
    encoder = Encoder(tokenizer)
    encoded = [
        encoder.encode(data.prompt(case.key, settings), t)
        for t in ("Running shoes for your next trail", "Running shoes 90% OFF act now")
    ]
    n = shared_prefix(encoded)
    assert n > 100  # system message and few-shot turns
    full = sequence_stats(model, encoder.batch(encoded, "cpu"))[0]
    cut = [(ids[n:], n_prompt - n) for ids, n_prompt in encoded]
    cached = sequence_stats(model, encoder.batch(cut, "cpu"), encoded[0][0][:n])[0]
    assert np.allclose(full.detach().numpy(), cached.detach().numpy(), atol=1e-3)
    trained, log = train(model, tokenizer, data, settings)
    assert log.sft_steps == 1 and log.dpo_steps == 1
    assert np.isfinite(log.sft_loss[0]) and np.isfinite(log.dpo_loss[0])
    assert 0 < log.trainable_parameters < 1_000_000
    lora_b = [p for n, p in trained.named_parameters() if "lora_B" in n]
    assert lora_b and any(float(p.detach().abs().sum()) > 0 for p in lora_b)  # B starts at zero

    merged = trained.merge_and_unload()
    n_layers = int(merged.config.num_hidden_layers)
    changed = changed_weights(merged, range(n_layers - 2, n_layers))
    assert len(changed) == 2 * 5
    out = write_gguf(smollm2_gguf(), tmp_path / "tuned.gguf", changed, "tuned", "test")
    name = f"blk.{n_layers - 1}.ffn_down.weight"
    base = read_tensor(smollm2_gguf(), name)
    back = read_tensor(out, name)
    assert np.abs(back - changed[name]).max() < 0.05  # Q8_0 keeps the merged weights
    assert np.abs(changed[name] - base).max() > 0  # and they did change
    found, _ = generate_titles(
        [RUNNING], make_backend("local", model_path=out), PromptSettings(n_candidates=2)
    )
    assert found[RUNNING.key] and all(c.text.strip() for c in found[RUNNING.key])


def test_models_are_versioned_in_the_workspace(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    with pytest.raises(SubjectlineError, match="finetune run"):
        find_model(ws)
    for stamp in ("a", "b"):
        folder = tmp_path / "ws" / "models" / f"m-{stamp}"
        folder.mkdir(parents=True)
        (folder / f"m-{stamp}.gguf").write_bytes(b"")
        day = 1 if stamp == "a" else 2
        manifest = {"created_at": f"2026-12-0{day}", "settings": FinetuneSettings().to_dict()}
        (folder / "manifest.json").write_text(json.dumps(manifest))
    (tmp_path / "ws" / "models" / "half-written").mkdir()  # no manifest: not a model
    assert [m.id for m in list_models(ws)] == ["m-a", "m-b"]
    assert find_model(ws).id == "m-b" and find_model(ws, "m-a").id == "m-a"
    with pytest.raises(SubjectlineError, match="known: m-a, m-b"):
        find_model(ws, "nope")
    tuned = FinetunedModel("m-b", tmp_path / "ws" / "models" / "m-b")
    assert tuned.settings == FinetuneSettings()
    tuned.update_manifest(settings=FinetuneSettings().to_dict() | {"from_the_future": 1})
    with pytest.raises(SubjectlineError, match="from_the_future"):
        _ = tuned.settings
    tuned.update_manifest(settings=FinetuneSettings().to_dict())
    backend, prompt = generator(tuned)
    assert prompt.prompt_version == "v1" and backend.model_id == "m-b"
    assert generator(None)[1].prompt_version == "v1"


def test_cli_evaluate_without_a_model_is_a_clear_error(tmp_path: Path) -> None:
    from subjectline.cli import app

    result = CliRunner().invoke(app, ["finetune", "evaluate", "-w", str(tmp_path)])
    assert result.exit_code == 1
    assert "finetune run" in result.output


def test_demo_reuses_a_model_trained_with_the_same_settings(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from subjectline.finetune.records import preset_settings
    from subjectline.pipeline.cli import _demo_finetune

    metrics = {"reward_mean": 0.4, "safety_pass_rate": 0.8, "distinct_2": 0.5}
    folder = tmp_path / "models" / "m-demo"
    folder.mkdir(parents=True)
    (folder / "m-demo.gguf").write_bytes(b"")
    manifest = {
        "created_at": "2026-12-01",
        "settings": preset_settings("demo").to_dict(),
        "evaluation": {
            "base": metrics,
            "finetuned": metrics | {"reward_mean": 0.5},
            "reward_difference": {"estimate": 0.1, "ci95": [0.05, 0.15]},
        },
    }
    (folder / "manifest.json").write_text(json.dumps(manifest))
    _demo_finetune(Workspace(tmp_path), "demo")  # would train for minutes if not reused
    printed = capsys.readouterr().out
    assert "reusing m-demo" in printed and "reward 0.4 -> 0.5" in printed
