"""Training data from the reward: sample candidates per theme from the current
generator, score them, keep the best passing ones (SFT) and best-vs-worst pairs (DPO)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence

import polars as pl

from subjectline.finetune.cases import ThemeCase
from subjectline.finetune.records import FinetuneSettings
from subjectline.finetune.reward import AudienceEngagement, score_case
from subjectline.generate import (
    GenerationStats,
    PromptSettings,
    TitleBackend,
    build_prompt,
    generate_titles,
)
from subjectline.score.text import words
from subjectline.workspace import Workspace

ProgressCallback = Callable[[int, int], None]


def sample_candidates(
    cases: Sequence[ThemeCase],
    backend: TitleBackend,
    settings: PromptSettings,
    workspace: Workspace | None = None,
    progress: ProgressCallback | None = None,
) -> tuple[dict[str, list[str]], GenerationStats]:
    """Candidates per case key. Themes are renamed to the case key for the call, so two
    sources' themes with the same key (``new_arrivals``) get titles of their own."""
    themes = [dataclasses.replace(c.theme, key=c.key) for c in cases]
    found, stats = generate_titles(themes, backend, settings, workspace, progress)
    return {key: [c.text for c in found.get(key, [])] for key in (c.key for c in cases)}, stats


def score_candidates(
    cases: Sequence[ThemeCase],
    candidates: Mapping[str, Sequence[str]],
    lam: float | None = None,
    lambdas: Mapping[str, float] | None = None,
    engagement: Mapping[str, AudienceEngagement] | None = None,
) -> pl.DataFrame:
    """Every candidate of every case scored: ``case_key, source, theme_key, title,
    safe, reasons, reward`` plus the objectives. The template is scored too
    (``is_template``), as the bar a candidate must clear to become a target.
    ``engagement`` maps a case key to its audience's engagement model (none: neutral)."""
    frames = []
    everything = [t for titles in candidates.values() for t in titles]
    for case in cases:
        titles = list(dict.fromkeys(candidates.get(case.key, ())))
        pool = [case.score_ctx.template, *[t for t in titles if t != case.score_ctx.template]]
        others = [t for t in everything if t not in set(titles)]
        scorer = (engagement or {}).get(case.key)
        scored = score_case(case, pool, lam, lambdas, scorer, others)
        frames.append(
            scored.with_columns(
                pl.lit(case.key).alias("case_key"),
                pl.lit(case.source).alias("source"),
                pl.lit(case.theme.key).alias("theme_key"),
                pl.Series("is_template", [True] + [False] * (len(pool) - 1)),
            )
        )
    return pl.concat(frames, how="vertical") if frames else pl.DataFrame()


# Two targets of one theme sharing this share of their word pairs teach one title twice.
NEAR_DUPLICATE = 0.5


def _bigrams(title: str) -> set[tuple[str, ...]]:
    tokens = words(title)
    return {tuple(tokens[i : i + 2]) for i in range(len(tokens) - 1)}


def _diverse_best(ranked: pl.DataFrame, n: int) -> list[tuple[str, float]]:
    """Up to ``n`` of the (best first) candidates, skipping near-duplicates of those kept."""
    kept: list[tuple[str, float, set[tuple[str, ...]]]] = []
    for row in ranked.iter_rows(named=True):
        grams = _bigrams(row["title"])
        if any(len(grams & g) > NEAR_DUPLICATE * max(len(grams | g), 1) for *_, g in kept):
            continue
        kept.append((row["title"], float(row["reward"]), grams))
        if len(kept) == n:
            break
    return [(title, reward) for title, reward, _ in kept]


@dataclasses.dataclass(frozen=True)
class TrainingSet:
    """SFT targets (``case_key, completion, weight``) and DPO pairs (``case_key,
    chosen, rejected, margin``), with the cases they came from."""

    sft: pl.DataFrame
    pairs: pl.DataFrame
    cases: dict[str, ThemeCase]

    def prompt(self, case_key: str, settings: FinetuneSettings) -> list[dict[str, str]]:
        """The chat the fine-tuned model answers (``settings.prompt_version``)."""
        prompt_settings = PromptSettings(prompt_version=settings.prompt_version)
        return build_prompt(self.cases[case_key].theme, prompt_settings, 0).chat()


def build_training_set(
    scored: pl.DataFrame, cases: Sequence[ThemeCase], settings: FinetuneSettings
) -> TrainingSet:
    """Rejection sampling: per theme the ``sft_per_theme`` best passing candidates that
    score at least the template and do not repeat a better one's wording, weighted by
    reward / best reward; DPO pairs: the best
    passing candidate against each of the ``pairs_per_theme`` worst (failing ones first,
    as they earn 0), when the margin is large enough."""
    sft_rows: list[tuple[str, str, float]] = []
    pair_rows: list[tuple[str, str, str, float]] = []
    for (case_key,), group in scored.group_by("case_key", maintain_order=True):
        template = group.filter(pl.col("is_template"))["score"]
        bar = float(template[0]) if template.len() else 0.0
        llm = group.filter(~pl.col("is_template")).sort("reward", descending=True)
        passing = llm.filter(pl.col("safe") & (pl.col("reward") >= bar))
        for title, reward in _diverse_best(passing, settings.sft_per_theme):
            sft_rows.append((str(case_key), title, reward))
        if passing.height == 0 or llm.height < 2:
            continue
        best = passing.row(0, named=True)
        for worst in llm.tail(settings.pairs_per_theme).iter_rows(named=True):
            margin = float(best["reward"] - worst["reward"])
            if worst["title"] != best["title"] and margin >= settings.min_pair_margin:
                pair_rows.append((str(case_key), best["title"], worst["title"], margin))
    sft = pl.DataFrame(
        sft_rows,
        schema={"case_key": pl.String, "completion": pl.String, "weight": pl.Float64},
        orient="row",
    )
    if sft.height:
        sft = sft.with_columns(pl.col("weight") / pl.col("weight").max())
    pairs = pl.DataFrame(
        pair_rows,
        schema={
            "case_key": pl.String,
            "chosen": pl.String,
            "rejected": pl.String,
            "margin": pl.Float64,
        },
        orient="row",
    )
    return TrainingSet(sft, pairs, {c.key: c for c in cases})
