"""``subjectline finetune run|evaluate|list``."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from subjectline.progress import phases
from subjectline.workspace import DEFAULT_WORKSPACE

out = Console()
err = Console(stderr=True)


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
        from subjectline.finetune.records import PRESETS, preset_settings
        from subjectline.finetune.run import reuse_or_run
        from subjectline.workspace import Workspace

        if preset not in PRESETS:
            raise typer.BadParameter(f"unknown preset {preset!r}; known: {', '.join(PRESETS)}")
        settings = preset_settings(
            preset,
            seed=seed,
            lam=lam,
            entropy_weight=entropy_weight,
            dpo_weight=dpo_weight,
            sft_weight=sft_weight,
        )
        with phases() as progress:
            model = reuse_or_run(settings, Workspace(workspace), reuse, _status, progress)
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
        from subjectline.finetune.evaluate import evaluate_and_record
        from subjectline.finetune.models import find_model
        from subjectline.workspace import Workspace

        ws = Workspace(workspace)
        with phases() as progress:
            payload = evaluate_and_record(
                find_model(ws, model_ref), ws, simulator, _status, progress
            )
        if as_json:
            print_json(payload)
            return
        table = Table(title=f"Held-out themes: base vs {payload['model']}")
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
