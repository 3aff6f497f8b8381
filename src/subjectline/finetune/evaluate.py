"""Base vs fine-tuned generator on held-out themes, and in the offline simulator.

Held-out themes: the evaluation world's (a synthetic marketplace with its own seed,
whose theme keys were kept out of training) plus the held-out hash split of the training
sources (training worlds' and MovieLens themes). Every candidate is scored by the same
reward; intervals are bootstrap intervals over themes (paired for the difference).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import polars as pl

from subjectline.finetune.cases import ThemeCase, world_cases
from subjectline.finetune.dataset import sample_candidates, score_candidates
from subjectline.finetune.models import FinetunedModel, generator
from subjectline.finetune.records import FinetuneSettings
from subjectline.finetune.run import (
    PhaseFn,
    WorldCases,
    collect_sources,
    engagement_by_case,
    eval_config,
    phase_callback,
    workspace_lambdas,
    write_card,
)
from subjectline.generate import GenerationStats
from subjectline.score.text import sentiment, title_features, words
from subjectline.simulate.simulator import World, build_world, simulate
from subjectline.workspace import Workspace

StatusFn = Callable[[str], None]
BOOTSTRAP = 2_000
EVALUATION_CANDIDATES = "evaluation.parquet"


def distinct_n(titles: Sequence[str], n: int = 2) -> float:
    """Distinct n-grams over all n-grams of the titles (pooled)."""
    grams = [tuple(w[i : i + n]) for t in titles for w in [words(t)] for i in range(len(w) - n + 1)]
    return len(set(grams)) / len(grams) if grams else 0.0


def _theme_means(scored: pl.DataFrame) -> pl.DataFrame:
    return (
        scored.filter(~pl.col("is_template"))
        .group_by("case_key")
        .agg(pl.col("reward").mean().alias("reward"))
        .sort("case_key")
    )


def bootstrap_ci(values: np.ndarray, seed: int = 0) -> list[float]:
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, values.size, (BOOTSTRAP, values.size))
    means = values[idx].mean(axis=1)
    return [round(float(np.quantile(means, 0.025)), 5), round(float(np.quantile(means, 0.975)), 5)]


def _share(values: pl.Series) -> float:
    return round(float(values.cast(pl.Float64).to_numpy().mean()), 4) if values.len() else 0.0


def generator_metrics(scored: pl.DataFrame, stats: GenerationStats) -> dict[str, Any]:
    llm = scored.filter(~pl.col("is_template"))
    titles = llm["title"].to_list()
    per_theme = _theme_means(scored)["reward"].to_numpy()
    return {
        "reward_mean": round(float(per_theme.mean()), 5) if per_theme.size else 0.0,
        "reward_ci95": bootstrap_ci(per_theme) if per_theme.size else [0.0, 0.0],
        "safety_pass_rate": _share(llm["safe"]),
        # The quality family (rules and the learned judge): what a marketer would send.
        "judge_sendable_rate": _share(~llm["reasons"].str.contains("quality.", literal=True)),
        "distinct_2": round(distinct_n(titles), 4),
        "cta_rate": _share(title_features(titles)["has_cta"]) if titles else 0.0,
        "sentiment_mean": round(float(sentiment(titles).mean()), 4) if titles else 0.0,
        "tokens_per_second": round(stats.tokens / stats.seconds, 1) if stats.seconds else 0.0,
        "candidates": llm.height,
        "themes": int(per_theme.size),
    }


def paired_difference(base: pl.DataFrame, tuned: pl.DataFrame, seed: int = 0) -> dict[str, Any]:
    joined = _theme_means(base).join(_theme_means(tuned), on="case_key", suffix="_ft")
    diff = (joined["reward_ft"] - joined["reward"]).to_numpy()
    if diff.size == 0:
        return {"estimate": 0.0, "ci95": [0.0, 0.0], "themes": 0}
    return {
        "estimate": round(float(diff.mean()), 5),
        "ci95": bootstrap_ci(diff, seed),
        "themes": int(diff.size),
    }


def _by_theme_key(cases: Sequence[ThemeCase], candidates: Mapping[str, Sequence[str]]) -> dict:
    return {c.theme.key: list(candidates.get(c.key, ())) for c in cases}


def simulator_comparison(
    settings: FinetuneSettings,
    world: World,
    cases: Sequence[ThemeCase],
    base: Mapping[str, Sequence[str]],
    tuned: Mapping[str, Sequence[str]],
    lambdas: Mapping[str, float] | None,
) -> dict[str, Any]:
    """One simulated send per generator to the same audience with the same random
    numbers; each generator's reranked choice vs the template."""
    config = eval_config(settings)
    out: dict[str, Any] = {"users": config.users, "seed": config.seed, "ctr": {}, "lift": {}}
    results = {}
    for name, candidates in (("base", base), ("finetuned", tuned)):
        by_theme = _by_theme_key(cases, candidates)
        payload = simulate(config, None, lambdas, by_theme, world=world).payload
        results[name] = payload
        rerank = payload["policies"]["llm_rerank"]
        out["ctr"][name] = {"ctr": rerank["ctr"], "ci95": rerank["ci95"]["ctr"]}
        out["lift"][f"{name}_vs_template"] = payload["lift"]["ctr_llm_rerank_vs_template"]
    template = results["base"]["policies"]["template"]
    out["ctr"]["template"] = {"ctr": template["ctr"], "ci95": template["ci95"]["ctr"]}
    return out


def evaluate(
    model: FinetunedModel,
    lambdas: Mapping[str, float] | None = None,
    simulator: bool = True,
    status: StatusFn | None = None,
    progress: PhaseFn | None = None,
    scored_out: list[pl.DataFrame] | None = None,
) -> dict[str, Any]:
    """``{"base": metrics, "finetuned": metrics, "reward_difference", "simulator"}``;
    with ``scored_out``, every scored candidate of both generators is appended to it (a
    frame with a ``generator`` column)."""
    say = status or (lambda _s: None)
    settings = model.settings
    say("held-out themes")
    world = build_world(eval_config(settings))
    eval_cases = world_cases(world)
    sources = collect_sources(settings, [t.key for t in world.themes])
    cases = eval_cases + sources.held_out
    worlds = [WorldCases(eval_config(settings), world, eval_cases), *sources.worlds]
    scored: dict[str, pl.DataFrame] = {}
    metrics: dict[str, dict[str, Any]] = {}
    candidates: dict[str, dict[str, list[str]]] = {}
    gen_stats: dict[str, GenerationStats] = {}
    for name, which in (("base", None), ("finetuned", model)):
        say(f"{name}: {settings.candidates} candidates x {len(cases)} themes")
        backend, prompt = generator(
            which, settings.base_prompt_version, n_candidates=settings.candidates
        )
        # No cache: every candidate is generated here, so tokens per second is measured.
        candidates[name], gen_stats[name] = sample_candidates(
            cases, backend, prompt, None, phase_callback(progress, f"candidates: {name}")
        )
    say("reward")
    # One engagement model per world for both generators: fitted on a send of all their
    # titles.
    union = {
        c.key: [*candidates["base"].get(c.key, ()), *candidates["finetuned"].get(c.key, ())]
        for c in cases
    }
    engagement = engagement_by_case(worlds, cases, union)
    for name in ("base", "finetuned"):
        scored[name] = score_candidates(cases, candidates[name], settings.lam, lambdas, engagement)
        metrics[name] = generator_metrics(scored[name], gen_stats[name])
        if scored_out is not None:
            scored_out.append(scored[name].with_columns(pl.lit(name).alias("generator")))
    payload: dict[str, Any] = {
        "model": model.id,
        "base": metrics["base"],
        "finetuned": metrics["finetuned"],
        "reward_difference": paired_difference(scored["base"], scored["finetuned"]),
        "held_out_themes": {
            "evaluation_world": len(eval_cases),
            "training_worlds": sum(c.source == "synthetic" for c in sources.held_out),
            "movielens": sum(c.source == "movielens" for c in sources.held_out),
        },
    }
    if simulator:
        say("simulator")
        payload["simulator"] = simulator_comparison(
            settings, world, eval_cases, candidates["base"], candidates["finetuned"], lambdas
        )
    return payload


def evaluate_and_record(
    model: FinetunedModel,
    workspace: Workspace,
    simulator: bool = True,
    status: StatusFn | None = None,
    progress: PhaseFn | None = None,
) -> dict[str, Any]:
    """:func:`evaluate`, stored in the model's manifest and card; the scored held-out
    candidates go to ``evaluation.parquet`` beside it."""
    scored: list[pl.DataFrame] = []
    payload = evaluate(model, workspace_lambdas(workspace), simulator, status, progress, scored)
    pl.concat(scored, how="vertical").write_parquet(model.path / EVALUATION_CANDIDATES)
    model.update_manifest(evaluation=payload)
    write_card(model)
    return payload
