"""The campaign job: recommendations -> themes -> titles -> checked subject per user.

Titles are generated per distinct theme, never per user, so LLM calls are bounded by a
budget (a share of the audience) that caps the number of themes that get LLM titles.
Outputs are written atomically: ``campaign.parquet`` and ``report.json`` appear whole
or not at all.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import polars as pl

from subjectline.data.contract import items_from_frame, promotions_from_frame
from subjectline.errors import SubjectlineError
from subjectline.experiment.assignment import assign
from subjectline.experiment.definition import Arm, Experiment
from subjectline.generate import PromptSettings, TitleBackend, generate_titles, make_backend
from subjectline.generate.records import Candidate
from subjectline.generate.template import facts_template_titles, template_titles
from subjectline.pipeline.choose import (
    ArmChoice,
    ThemeContexts,
    choose_for_every_email,
    theme_contexts,
)
from subjectline.recommend.api import default_as_of, recommend_for_users
from subjectline.safety import Rejection, category_words, count_by_check, record_rejections
from subjectline.score.choose import rank_campaign
from subjectline.score.rerank import load_lambdas
from subjectline.simulate.tradeoff import TRADEOFF_FILE
from subjectline.themes.contract import Theme
from subjectline.themes.extract import ThemeAssignment, ThemeConfig, assign_themes
from subjectline.themes.facts import assignment_with_every_email_facts
from subjectline.track import workspace_suppressions
from subjectline.workspace import Workspace

CONTROL_ARM = "template"  # the classic control: "Top picks in X"
FACTS_ARM = "facts"  # the facts-filled control: "Skillets and Dutch ovens, picked for you"
CONTROL_ARMS = (CONTROL_ARM, FACTS_ARM)
LLM_ARM = "llm"
REPRESENTATIVE_ITEMS = 20
CAMPAIGN_FILE = "campaign.parquet"
REPORT_FILE = "report.json"
CAMPAIGN_SCHEMA: dict[str, pl.DataType] = {
    "user_id": pl.String(),
    "theme_key": pl.String(),
    "theme_label": pl.String(),
    "subject": pl.String(),
    "arm": pl.String(),
    "item_ids": pl.List(pl.String()),
    # candidate | theme_template | generic_template: where the shipped subject came from.
    "subject_source": pl.String(),
}


@dataclass(frozen=True)
class CampaignConfig:
    """Everything that shapes a campaign; the defaults are the embedded ones."""

    campaign_id: str = "campaign"
    k: int = 8
    model: str = "ease"
    backend: str | TitleBackend = "local"  # a name for make_backend, or a backend object
    backend_options: dict[str, Any] = field(default_factory=dict)
    prompt: PromptSettings = field(default_factory=PromptSettings)
    themes: ThemeConfig = field(default_factory=ThemeConfig)
    # LLM calls may not exceed this share of the audience (retries included).
    llm_call_share: float = 0.02
    llm_arm_share: float = 0.5
    # The control arms that run (each of CONTROL_ARMS, at least one); they split the
    # non-LLM share of the audience evenly.
    controls: tuple[str, ...] = CONTROL_ARMS
    # rerank: the LLM arm ships the best candidate by the multi-objective score (lambda per
    # root category from the workspace's tradeoff.json); first: the first passing one.
    llm_choice: Literal["rerank", "first"] = "rerank"
    as_of: datetime | None = None
    # The event store whose suppression list (unsubscribes) the campaign honours;
    # default: $SUBJECTLINE_EVENTS_DB, else the workspace's SQLite file when it exists.
    events_db: str | None = None

    def __post_init__(self) -> None:
        unknown = [c for c in self.controls if c not in CONTROL_ARMS]
        if not self.controls or unknown or len(set(self.controls)) != len(self.controls):
            raise SubjectlineError(
                f"controls must be one or more of {', '.join(CONTROL_ARMS)} without "
                f"repeats, not {', '.join(self.controls) or 'none'}"
            )

    def llm_call_budget(self, users: int) -> int:
        per_theme = self.prompt.n_candidates
        return max(per_theme, math.floor(self.llm_call_share * users))

    def max_llm_themes(self, users: int) -> int:
        """Themes that get LLM titles: each needs n candidates plus a reserve for retries
        (a quarter of n); ``generate_titles`` stops at the budget whatever happens."""
        n = self.prompt.n_candidates
        per_theme = n + (math.ceil(n / 4) if self.prompt.max_retries else 0)
        return max(1, self.llm_call_budget(users) // per_theme)


@dataclass
class CampaignResult:
    campaign: pl.DataFrame
    themes: dict[str, Theme]
    report: dict[str, Any]


class StageTimer:
    """Seconds per named stage (a stage entered twice adds up)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            spent = time.perf_counter() - started
            self.seconds[name] = round(self.seconds.get(name, 0.0) + spent, 3)


ProgressFn = Callable[[str], None]


def run_campaign(
    workspace: Workspace, config: CampaignConfig, on_step: ProgressFn | None = None
) -> CampaignResult:
    """Run the campaign on the workspace's tables and return it (nothing written)."""
    step = on_step or (lambda _name: None)
    timer = StageTimer()
    with timer.stage("load"):
        step("load")
        inputs = load_inputs(workspace, config)
    items, users, interactions = inputs.items, inputs.users, inputs.interactions
    promotions, suppressed, as_of = inputs.promotions, inputs.suppressed, inputs.as_of

    with timer.stage("recommend"):
        step("recommend")
        recs = recommend_for_users(
            interactions,
            items,
            k=config.k,
            model=config.model,
            as_of=as_of,
            users=users["user_id"],
        )
    with timer.stage("arms"):
        step("arms")
        experiment = campaign_experiment(config)
        arms = assign(experiment, users.select("user_id")).select("user_id", "arm")
    with timer.stage("themes"):
        step("themes")
        theme_config = replace(config.themes, max_themes=config.max_llm_themes(users.height))
        assignment = assign_themes(recs, items, as_of, theme_config)
        assignment = assignment_with_every_email_facts(assignment, recs, items)

    llm_keys = set(
        assignment.users.join(arms.filter(pl.col("arm") == LLM_ARM), on="user_id")["theme_key"]
    )
    llm_themes = [assignment.themes[k] for k in sorted(llm_keys)]
    with timer.stage("generate"):
        step("generate")
        backend = title_backend(config)
        candidates, stats = generate_titles(
            llm_themes,
            backend,
            config.prompt,
            workspace,
            max_llm_calls=config.llm_call_budget(users.height),
        )

    with timer.stage("safety"):
        step("safety")
        lambdas = workspace_lambdas(workspace)
        counts = theme_item_counts(assignment.users, recs)
        chosen, rejections = choose_titles(
            assignment.themes, counts, items, promotions, candidates, config, as_of, lambdas
        )
        record_rejections(workspace, config.campaign_id, rejections)
        campaign = campaign_frame(assignment.users.join(arms, on="user_id"), chosen)

    report = {
        "campaign_id": config.campaign_id,
        "as_of": as_of.isoformat(),
        "users": campaign.height,
        "suppressed": len(suppressed),
        "themes": len(assignment.themes),
        "llm_themes": len(llm_themes),
        "llm_calls": stats.llm_calls,
        "llm_call_budget": config.llm_call_budget(users.height),
        "candidates": stats.candidates,
        "cache_hits": stats.cache_hits,
        "generation_seconds": stats.seconds,
        "backend": backend.name,
        "model": config.model,
        "k": config.k,
        "arms": dict(campaign.group_by("arm").len().sort("arm").iter_rows()),
        "theme_kinds": _kind_counts(assignment),
        "rejections_by_check": count_by_check(rejections),
        "fallbacks": _fallbacks(campaign),
        "llm_choice": config.llm_choice,
        "lambdas": lambdas,
        "generation": stats.to_dict(),
        "seconds_by_stage": timer.seconds,
        "prompt": asdict(config.prompt),
    }
    return CampaignResult(campaign, assignment.themes, report)


def choose_titles(
    themes: dict[str, Theme],
    counts: pl.DataFrame,
    items: pl.DataFrame,
    promotions: pl.DataFrame | None,
    candidates: dict[str, list[Candidate]],
    config: CampaignConfig,
    as_of: datetime,
    workspace_lambdas: dict[str, float] | None = None,
) -> tuple[pl.DataFrame, list[Rejection]]:
    """Per theme: the checked subject of each arm, with its source (``<arm>_subject``,
    ``<arm>_source`` for template, facts and llm; facts is null unless it runs).

    The facts control ships the first facts-filled title that passes the gate, else the
    classic control's chain; the LLM arm falls back to the classic templates too.

    ``counts`` (see :func:`theme_item_counts`) holds every item recommended to each
    theme's users, so the per-theme checks cover every email of the theme.
    """
    budget = config.prompt.char_budget
    catalog = {item.item_id: item for item in items_from_frame(items)}
    promos = promotions_from_frame(promotions) if promotions is not None else []
    brands = sorted({b for b in items["brand"].drop_nulls().unique()})
    kinds = category_words(items["category"].unique())
    theme_items = counts.group_by("theme_key").agg(pl.col("item_id").unique().sort())
    items_of = dict(theme_items.iter_rows())
    ranked = _rank_llm_candidates(themes, candidates, items, counts, config, workspace_lambdas)
    rows = []
    rejections: list[Rejection] = []
    for key, theme in sorted(themes.items()):
        contexts = theme_contexts(
            theme,
            [catalog[i] for i in items_of.get(key, [])],
            promos,
            as_of,
            brands,
            kinds,
            budget,
        )
        templates = template_titles(theme, char_budget=budget)
        control = choose_for_every_email(templates, contexts)
        facts: tuple[str | None, str | None] = (None, None)
        if FACTS_ARM in config.controls:
            chosen_facts = choose_facts_title(theme, contexts, templates, budget)
            facts = (chosen_facts.text, chosen_facts.source)
        llm_texts, llm_scores = ranked.get(key, ([], None))
        llm = choose_for_every_email(llm_texts, contexts, llm_scores, fallbacks=templates)
        rejections += llm.rejections
        rows.append((key, theme.label, control.text, control.source, *facts, llm.text, llm.source))
    chosen = pl.DataFrame(
        rows,
        schema={
            "theme_key": pl.String,
            "theme_label": pl.String,
            "template_subject": pl.String,
            "template_source": pl.String,
            "facts_subject": pl.String,
            "facts_source": pl.String,
            "llm_subject": pl.String,
            "llm_source": pl.String,
        },
        orient="row",
    )
    return chosen, rejections


def choose_facts_title(
    theme: Theme, contexts: ThemeContexts, templates: list[str], char_budget: int
) -> ArmChoice:
    """The facts control's subject: the first facts-filled title that passes the gate for
    every email of the theme, else the classic control's chain (``templates``).

    Only titles the facts fill in count as its own (source ``candidate``); when the brief
    has no facts, or a fact is poisoned, the arm ships a classic template (a fallback)."""
    filled = [t for t in facts_template_titles(theme, char_budget) if t not in templates]
    return choose_for_every_email(filled, contexts, fallbacks=templates)


def theme_item_counts(users: pl.DataFrame, recs: pl.DataFrame) -> pl.DataFrame:
    """``theme_key, item_id, len``: how often each item is recommended to a theme's users.

    Counts add up across disjoint sets of users, so the shard engine sums them."""
    return (
        recs.select("user_id", "item_id")
        .join(users.select("user_id", "theme_key"), on="user_id")
        .group_by("theme_key", "item_id")
        .len()
    )


def _rank_llm_candidates(
    all_themes: dict[str, Theme],
    candidates: dict[str, list[Candidate]],
    items: pl.DataFrame,
    counts: pl.DataFrame,
    config: CampaignConfig,
    lambdas: dict[str, float] | None,
) -> dict[str, tuple[list[str], list[float] | None]]:
    """Per theme: LLM candidate texts, best first, with their scores (None: keep order)."""
    texts = {key: list(dict.fromkeys(c.text for c in found)) for key, found in candidates.items()}
    if config.llm_choice == "first":
        return {key: (found, None) for key, found in texts.items()}
    # The theme's representative items: those most often recommended to its users.
    shown = (
        counts.sort(["theme_key", "len", "item_id"], descending=[False, True, False])
        .group_by("theme_key", maintain_order=True)
        .agg(pl.col("item_id").head(REPRESENTATIVE_ITEMS))
    )
    themes = {key: all_themes[key] for key in texts}
    ranked = rank_campaign(themes, texts, items, dict(shown.iter_rows()), lambdas)
    out: dict[str, tuple[list[str], list[float] | None]] = {}
    for key, titles in ranked.items():
        # The reranker scores the template too (for novelty); the LLM arm ships LLM text.
        own = [r for r in titles if r.title in set(texts[key])]
        out[key] = ([r.title for r in own], [r.score for r in own])
    return out


def campaign_frame(users: pl.DataFrame, chosen: pl.DataFrame) -> pl.DataFrame:
    """Each user's (``user_id, theme_key, item_ids, arm``) row with their arm's subject."""
    is_llm, is_facts = pl.col("arm") == LLM_ARM, pl.col("arm") == FACTS_ARM

    def of_arm(column: str) -> pl.Expr:
        return (
            pl.when(is_llm)
            .then(f"llm_{column}")
            .when(is_facts)
            .then(f"facts_{column}")
            .otherwise(f"template_{column}")
        )

    return (
        users.join(chosen, on="theme_key")
        .with_columns(of_arm("subject").alias("subject"), of_arm("source").alias("subject_source"))
        .select(*CAMPAIGN_SCHEMA)
        .sort("user_id")
        .cast(CAMPAIGN_SCHEMA)  # type: ignore[arg-type]
    )


@dataclass
class CampaignInputs:
    """The workspace tables a campaign reads, the suppressed users already left out."""

    items: pl.DataFrame
    users: pl.DataFrame
    interactions: pl.DataFrame
    promotions: pl.DataFrame | None
    suppressed: set[str]
    as_of: datetime


def load_inputs(workspace: Workspace, config: CampaignConfig) -> CampaignInputs:
    items = workspace.table("items")
    users = workspace.table("users")
    interactions = workspace.table("interactions")
    promotions = workspace.table("promotions") if workspace.has_table("promotions") else None
    suppressed = _suppressed(workspace, config)
    users = users.filter(
        ~pl.col("user_id").is_in(pl.Series(sorted(suppressed), dtype=pl.String).implode())
    )
    if users.height == 0:
        raise SubjectlineError(f"workspace {workspace.root} has no users to send to")
    as_of = config.as_of or default_as_of(interactions)
    return CampaignInputs(items, users, interactions, promotions, suppressed, as_of)


def campaign_experiment(config: CampaignConfig) -> Experiment:
    """The controls-vs-LLM split; users are assigned by a salted SHA-256 of their id.

    The controls split the non-LLM share evenly and come first, so the LLM arm holds the
    same users whichever controls run (arms take consecutive intervals of the hash)."""
    control_share = (1 - config.llm_arm_share) / len(config.controls)
    return Experiment(
        id=config.campaign_id,
        arms=[
            *(Arm(name=name, share=control_share) for name in config.controls),
            Arm(name=LLM_ARM, share=config.llm_arm_share),
        ],
        control=config.controls[0],
    )


def title_backend(config: CampaignConfig) -> TitleBackend:
    if isinstance(config.backend, str):
        return make_backend(config.backend, **config.backend_options)
    return config.backend


def workspace_lambdas(workspace: Workspace) -> dict[str, float] | None:
    """The per-category creativity weights from the workspace's tradeoff.json, if any."""
    lambdas_file = workspace.root / TRADEOFF_FILE
    return load_lambdas(lambdas_file) if lambdas_file.exists() else None


def _suppressed(workspace: Workspace, config: CampaignConfig) -> set[str]:
    """Users who unsubscribed (or were suppressed by hand) in the event store."""
    return workspace_suppressions(workspace.root, config.events_db)


def _fallbacks(campaign: pl.DataFrame) -> dict[str, dict[str, int]]:
    """Users per arm whose subject is not a candidate of that arm, by fallback kind."""
    fallen = campaign.filter(pl.col("subject_source") != "candidate")
    counts = fallen.group_by("arm", "subject_source").len()
    found: dict[str, dict[str, int]] = {}
    for arm, source, n in counts.sort("arm", "subject_source").iter_rows():
        found.setdefault(arm, {})[source] = n
    return found


def _kind_counts(assignment: ThemeAssignment) -> dict[str, int]:
    kinds = {k: t.kind for k, t in assignment.themes.items()}
    counts: dict[str, int] = {}
    for key, n in assignment.theme_counts().items():
        counts[kinds[key]] = counts.get(kinds[key], 0) + n
    return counts


def write_outputs(result: CampaignResult, out_dir: Path) -> dict[str, Path]:
    """Write ``campaign.parquet`` and ``report.json`` atomically into ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {"campaign": out_dir / CAMPAIGN_FILE, "report": out_dir / REPORT_FILE}
    tmp_campaign = paths["campaign"].with_suffix(".parquet.part")
    tmp_report = paths["report"].with_suffix(".json.part")
    result.campaign.write_parquet(tmp_campaign)
    tmp_report.write_text(json.dumps(result.report, indent=2, default=str) + "\n")
    tmp_campaign.replace(paths["campaign"])
    tmp_report.replace(paths["report"])
    return paths
