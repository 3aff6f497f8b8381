"""``subjectline campaign`` and ``subjectline demo``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

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


def _run_stream(workspace: Workspace, out_dir: Path, config: object, options: object) -> None:
    from subjectline.pipeline.campaign import CampaignConfig
    from subjectline.pipeline.stage_bars import stage_bars
    from subjectline.pipeline.stream import StreamOptions, run_streaming_campaign

    assert isinstance(config, CampaignConfig) and isinstance(options, StreamOptions)
    with stage_bars("campaign") as on_progress:
        report = run_streaming_campaign(workspace, config, out_dir, options, on_progress)
    out.print(
        f"users {report['users']:,}  themes {report['themes']}  "
        f"LLM calls {report['llm_calls']} (budget {report['llm_call_budget']})  "
        f"shards {report['shards']} (resumed {report['resumed_shards']})  "
        f"peak RSS {report['peak_rss_mb']:,.0f} MiB"
    )
    seconds = "  ".join(f"{k} {v:.1f}s" for k, v in report["seconds_by_stage"].items())
    out.print(f"seconds by stage: {seconds}")
    out.print(f"campaign: {out_dir / 'campaign.parquet'}")
    out.print(f"report: {out_dir / 'report.json'}")


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
        engine: str = typer.Option(
            "memory",
            help="memory: all users at once; local: sharded, bounded memory, resumable; "
            "ray: the local engine's shards as Ray tasks ($RAY_ADDRESS or a local Ray)",
        ),
        shards: int | None = typer.Option(
            None, min=1, help="local engine: shards (default one per 100,000 users)"
        ),
        run_id: str | None = typer.Option(
            None, "--run-id", help="local engine: the run to resume (default: config hash)"
        ),
        llm_call_share: float = typer.Option(
            0.02, min=0.0, help="LLM calls allowed per user of the audience (retries included)"
        ),
        finetuned: str | None = typer.Option(
            None,
            help="Titles from a fine-tuned model of the workspace (an id or 'latest'), "
            "run by the local backend with the prompt it was trained on",
        ),
        controls: str = typer.Option(
            "template,facts",
            help="Control arms, comma-separated: template (Top picks in X), facts (the "
            "theme's facts in a fixed pattern) or both; they split the non-LLM half evenly",
        ),
        prompt_version: str | None = typer.Option(
            None,
            help="Prompt of the LLM arm: v1 (free text) or v2 (grounded: phrasings of the "
            "theme's facts); default the package's default",
        ),
    ) -> None:
        """Run a campaign on an ingested workspace (rerun a killed local run to resume it)."""
        from subjectline.generate import PromptSettings
        from subjectline.pipeline.campaign import CampaignConfig
        from subjectline.pipeline.stream import StreamOptions

        ws = Workspace(workspace)
        extra: dict[str, Any] = {}
        if finetuned is not None:
            from subjectline.finetune import find_model

            tuned = find_model(ws, finetuned)
            backend = "local"
            extra = {
                "backend_options": {"model_path": str(tuned.gguf)},
                "prompt": PromptSettings(prompt_version=tuned.prompt_version),
            }
        if prompt_version is not None:
            if finetuned is not None:
                raise typer.BadParameter("--finetuned runs the prompt it was trained on")
            extra["prompt"] = PromptSettings(prompt_version=prompt_version)
        config = CampaignConfig(
            campaign_id=campaign_id,
            backend=backend,
            k=k,
            model=model,
            llm_call_share=llm_call_share,
            controls=tuple(c.strip() for c in controls.split(",") if c.strip()),
            **extra,
        )
        if engine in ("local", "ray"):
            options = StreamOptions(shards, run_id, "ray" if engine == "ray" else "local")
            _run_stream(ws, out_dir, config, options)
            return
        if engine != "memory":
            raise typer.BadParameter(f"unknown engine {engine!r}: memory, local or ray")
        paths = _run(ws, out_dir, config)
        for name, path in paths.items():
            out.print(f"{name}: {path}")

    @bench.command("campaign")
    def bench_campaign_cmd(
        users: int = typer.Option(100_000, min=10),
        items: int = typer.Option(10_000, min=50),
        titles: str = typer.Option("template", help="llm (the local model) or template"),
        engine: str = typer.Option("local", help="local or ray"),
        model: str = typer.Option("ease", help="popularity, als or ease"),
        max_llm_calls: int = typer.Option(5_000, min=1, help="LLM call budget of the run"),
        shards: int | None = typer.Option(None, min=1),
        data_dir: Path | None = typer.Option(
            None, help="Keep the synthetic marketplace here (reused when present)"
        ),
        seed: int = typer.Option(0),
        as_json: bool = typer.Option(False, "--json"),
    ) -> None:
        """Synthesize a marketplace of N users, run the campaign in a child process, time it."""
        from subjectline.pipeline.bench import bench_campaign

        result = bench_campaign(
            users=users,
            items=items,
            titles=titles,
            engine=engine,
            model=model,
            max_llm_calls=max_llm_calls,
            shards=shards,
            data_dir=data_dir,
            seed=seed,
        )
        if as_json:
            print(json.dumps(result))
        else:
            out.print_json(data=result)

    @app.command("demo")
    def demo_cmd(
        out_dir: Path = typer.Option(Path("out/demo"), "--out"),
        users: int = typer.Option(20_000, min=10),
        items: int = typer.Option(2_000, min=50),
        seed: int = typer.Option(0),
        backend: str = typer.Option("local", help="local, openai or template"),
        finetune: str = typer.Option(
            "none",
            help="Also run a fine-tuning round of the generator: smoke, demo or full "
            "(`make finetune` asks for demo); a model trained with the same settings is reused",
        ),
    ) -> None:
        """Synthetic marketplace -> ingest -> lambda trade-off -> campaign, all on the
        embedded defaults (and a fine-tuning round with ``--finetune``)."""
        from subjectline.data.ingest import ingest
        from subjectline.data.synth import SYNTH_STEPS, SynthConfig, write_marketplace
        from subjectline.pipeline.campaign import CampaignConfig
        from subjectline.progress import steps
        from subjectline.simulate.tradeoff import run_tradeoff

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
        if finetune != "none" and backend == "local":
            _demo_finetune(ws, finetune)


def _demo_finetune(ws: Workspace, preset: str) -> None:
    """A fine-tuning round (or the cached model of an earlier one) and its evaluation."""
    from subjectline.finetune.evaluate import evaluate_and_record
    from subjectline.finetune.records import preset_settings
    from subjectline.finetune.run import reuse_or_run
    from subjectline.progress import phases

    def status(message: str) -> None:
        out.print(f"finetune: {message}")

    with phases() as progress:
        model = reuse_or_run(preset_settings(preset), ws, True, status, progress)
        evaluation = model.manifest.get("evaluation") or evaluate_and_record(
            model, ws, True, status, progress
        )
    base, tuned = evaluation["base"], evaluation["finetuned"]
    diff = evaluation["reward_difference"]
    out.print(
        f"finetune:  reward {base['reward_mean']} -> {tuned['reward_mean']} "
        f"(difference {diff['estimate']:+}, 95% CI {diff['ci95']}); safety pass "
        f"{base['safety_pass_rate']} -> {tuned['safety_pass_rate']}; judge sendable "
        f"{base.get('judge_sendable_rate', 'n/a')} -> {tuned.get('judge_sendable_rate', 'n/a')}"
        f"; distinct-2 "
        f"{base['distinct_2']} -> {tuned['distinct_2']}"
    )
    out.print(f"model:     {model.gguf}")
    out.print(f"card:      {model.path / 'MODEL_CARD.md'}")
