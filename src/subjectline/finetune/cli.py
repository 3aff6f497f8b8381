"""``subjectline finetune run|evaluate|list``."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from subjectline.workspace import DEFAULT_WORKSPACE

out = Console()
err = Console(stderr=True)

# Named sizes: "demo" runs in minutes on 2 CPU cores; "full" is the documented full round.
PRESETS: dict[str, dict[str, Any]] = {
    "smoke": {
        "synth_users": 2_000,
        "synth_themes": 10,
        "movielens_themes": 8,
        "candidates": 4,
        "sft_epochs": 1,
        "dpo_epochs": 1,
        "max_steps": 2,
        "eval_users": 3_000,
        "eval_themes": 6,
    },
    "demo": {
        "synth_users": 4_000,
        "synth_themes": 40,
        "movielens_themes": 16,
        "candidates": 6,
        "eval_users": 10_000,
        "eval_themes": 12,
    },
    "full": {
        "synth_users": 10_000,
        "synth_themes": 80,
        "movielens_themes": 24,
        "candidates": 12,
        "sft_per_theme": 3,
        "sft_epochs": 3,
        "dpo_epochs": 2,
        "eval_users": 50_000,
        "eval_themes": 16,
    },
}


def _lambdas(workspace: Path) -> dict[str, float] | None:
    from subjectline.score.cli import TRADEOFF_FILE
    from subjectline.score.rerank import load_lambdas

    path = workspace / TRADEOFF_FILE
    return load_lambdas(path) if path.exists() else None


def _status(message: str) -> None:
    err.print(f"[bold]finetune[/bold] {message}")


def register(app: typer.Typer, bench: typer.Typer) -> None:
    group = typer.Typer(help="Fine-tune the title generator on the multi-objective reward.")
    app.add_typer(group, name="finetune")

    @group.command("run")
    def run_cmd(
        preset: str = typer.Option("demo", help="smoke, demo or full (sizes of the round)."),
        lam: float | None = typer.Option(
            None, min=0.0, max=1.0, help="Creativity weight (default: per-category lambdas)."
        ),
        entropy_weight: float | None = typer.Option(None, min=0.0, help="Diversity term."),
        dpo_weight: float | None = typer.Option(None, min=0.0),
        sft_weight: float | None = typer.Option(None, min=0.0),
        seed: int = typer.Option(0),
        reuse: bool = typer.Option(
            False, help="Reuse the latest model trained with the same settings, if any."
        ),
        workspace: Path = typer.Option(DEFAULT_WORKSPACE, "--workspace", "-w"),
        as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
    ) -> None:
        """Sample candidates, score them, train LoRA (SFT then DPO), export a GGUF model
        into the workspace with its model card."""
        from subjectline.cli import print_json
        from subjectline.finetune.models import list_models
        from subjectline.finetune.records import FinetuneSettings
        from subjectline.finetune.run import run_round
        from subjectline.workspace import Workspace

        if preset not in PRESETS:
            raise typer.BadParameter(f"unknown preset {preset!r}; known: {', '.join(PRESETS)}")
        values: dict[str, Any] = {**PRESETS[preset], "seed": seed}
        overrides = {
            "lam": lam,
            "entropy_weight": entropy_weight,
            "dpo_weight": dpo_weight,
            "sft_weight": sft_weight,
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        settings = FinetuneSettings(**values)
        ws = Workspace(workspace)
        same = [
            m for m in list_models(ws) if m.manifest["settings"] == dataclasses.asdict(settings)
        ]
        if reuse and same:
            model = same[-1]
            _status(f"reusing {model.id}")
        else:
            model = run_round(settings, ws, _lambdas(workspace), _status)
        payload = {"model": model.id, "path": str(model.path)} | {
            k: model.manifest[k] for k in ("data", "training")
        }
        if as_json:
            print_json(payload)
            return
        out.print(f"model: {model.gguf}")
        out.print(f"card:  {model.path / 'MODEL_CARD.md'}")

    @group.command("evaluate")
    def evaluate_cmd(
        model_ref: str = typer.Option("latest", "--model", help="A model id or 'latest'."),
        simulator: bool = typer.Option(True, help="Also compare in the offline simulator."),
        workspace: Path = typer.Option(DEFAULT_WORKSPACE, "--workspace", "-w"),
        as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
    ) -> None:
        """Base vs fine-tuned generator on held-out themes (reward, safety, diversity, CTA,
        sentiment, speed) and their simulated CTR against the template."""
        from subjectline.cli import print_json
        from subjectline.finetune.evaluate import evaluate
        from subjectline.finetune.models import find_model
        from subjectline.finetune.run import write_card
        from subjectline.workspace import Workspace

        model = find_model(Workspace(workspace), model_ref)
        payload = evaluate(model, _lambdas(workspace), simulator, _status)
        model.update_manifest(evaluation=payload)
        write_card(model)
        if as_json:
            print_json(payload)
            return
        table = Table(title=f"Held-out themes: base vs {model.id}")
        for column in ("metric", "base", "fine-tuned"):
            table.add_column(column)
        for key, value in payload["base"].items():
            table.add_row(key, str(value), str(payload["finetuned"][key]))
        out.print(table)
        diff = payload["reward_difference"]
        out.print(f"reward difference {diff['estimate']:+.4f} (95% CI {diff['ci95']})")

    @group.command("list")
    def list_cmd(workspace: Path = typer.Option(DEFAULT_WORKSPACE, "--workspace", "-w")) -> None:
        """Fine-tuned models in the workspace, oldest first."""
        from subjectline.finetune.models import list_models
        from subjectline.workspace import Workspace

        for model in list_models(Workspace(workspace)):
            evaluation = model.manifest.get("evaluation") or {}
            diff = (evaluation.get("reward_difference") or {}).get("estimate")
            out.print(f"{model.id}  {model.gguf}  reward diff: {diff}")
