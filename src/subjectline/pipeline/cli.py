"""``subjectline campaign`` and ``subjectline demo``."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console

from subjectline.workspace import DEFAULT_WORKSPACE, Workspace

out = Console()

CAMPAIGN_STEPS = ("load", "recommend", "arms", "themes", "generate", "safety")


def _run(workspace: Workspace, out_dir: Path, config: object) -> dict[str, Path]:
    from subjectline.pipeline.campaign import CampaignConfig, run_campaign, write_outputs
    from subjectline.progress import steps

    assert isinstance(config, CampaignConfig)
    with steps("campaign", CAMPAIGN_STEPS) as on_step:
        result = run_campaign(workspace, config, on_step)
    paths = write_outputs(result, out_dir)
    report = result.report
    out.print(
        f"users {report['users']:,}  themes {report['themes']}  "
        f"LLM calls {report['llm_calls']} (budget {report['llm_call_budget']})  "
        f"candidates {report['candidates']}  backend {report['backend']}"
    )
    return paths


def register(app: typer.Typer, bench: typer.Typer) -> None:
    @app.command("campaign")
    def campaign_cmd(
        out_dir: Path = typer.Option(
            ..., "--out", help="Where campaign.parquet and report.json go"
        ),
        workspace: Path = typer.Option(DEFAULT_WORKSPACE, "--workspace", "-w"),
        backend: str = typer.Option("local", help="local, openai or template"),
        k: int = typer.Option(8, min=1, help="Items per email"),
        model: str = typer.Option("ease", help="popularity, als or ease"),
        campaign_id: str = typer.Option("campaign", "--id"),
    ) -> None:
        """Run a campaign on an ingested workspace."""
        from subjectline.pipeline.campaign import CampaignConfig

        config = CampaignConfig(campaign_id=campaign_id, backend=backend, k=k, model=model)
        paths = _run(Workspace(workspace), out_dir, config)
        for name, path in paths.items():
            out.print(f"{name}: {path}")

    @app.command("demo")
    def demo_cmd(
        out_dir: Path = typer.Option(Path("out/demo"), "--out"),
        users: int = typer.Option(20_000, min=10),
        items: int = typer.Option(2_000, min=50),
        seed: int = typer.Option(0),
        backend: str = typer.Option("local", help="local, openai or template"),
    ) -> None:
        """Synthetic marketplace -> ingest -> campaign, all on the embedded defaults."""
        from subjectline.data.ingest import ingest
        from subjectline.data.synth import SYNTH_STEPS, SynthConfig, write_marketplace
        from subjectline.pipeline.campaign import CampaignConfig
        from subjectline.progress import steps
        from subjectline.score.cli import run_tradeoff

        data_dir = out_dir / "data"
        ws = Workspace(out_dir / "workspace")
        with steps("synthesize", SYNTH_STEPS) as on_step:
            write_marketplace(
                SynthConfig(users=users, items=items, seed=seed), data_dir, on_step=on_step
            )
        ingest(data_dir, ws)
        # The creativity-vs-conversion weight per category, found at the elbow of a
        # simulated send; the campaign's reranker reads it from the workspace.
        tradeoff = run_tradeoff(users, seed, 16, 6, backend, ws.root)
        config = CampaignConfig(campaign_id=f"demo-{seed}", backend=backend)
        paths = _run(ws, out_dir, config)
        out.print(f"data:      {data_dir}")
        out.print(f"workspace: {ws.db_path}")
        for name, path in paths.items():
            out.print(f"{name + ':':10} {path}")
        out.print(f"tradeoff:  {tradeoff['plot']}  lambda by category {tradeoff['lambda']}")
        report = json.loads(paths["report"].read_text())
        out.print(f"seconds by stage: {report['seconds_by_stage']}")
