"""The offline simulator: a synthetic audience answers emails; policies are compared.

One run:

1. Build the world: a synthetic marketplace, each user's recommendations and theme, the
   user's latent relevance for the email's items (ground truth, simulator-only).
2. Title book: per theme the template, the facts-filled template (the second control)
   and the embedded LLM's candidates (generated per theme and cached in the workspace),
   each checked by safety.
3. Exploration send: every user gets a uniformly random title of their theme; the log
   (LoggedFeedback: context, action, reward, propensity) trains the engagement model.
4. Evaluation send: each policy (template, facts, llm_first, llm_rerank, oracle) is sent
   to the same users with common random numbers, so paired differences have small
   variance; the LLM policies' lifts are reported against each control.

Only steps 1 and 4 read the ground truth; the reranker sees logs and history only.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

import numpy as np
import polars as pl

from subjectline.data.contract import Item, Promotion
from subjectline.data.synth import Marketplace, SynthConfig, synthesize
from subjectline.data.vocab import roots
from subjectline.generate import PromptSettings, generate_titles, make_backend
from subjectline.generate.template import facts_template_titles, template_titles
from subjectline.recommend.api import default_as_of, recommend_for_users
from subjectline.score.choose import catalog_vocabulary, theme_context
from subjectline.score.engagement import (
    FEATURES,
    USER_FEATURES,
    EngagementModel,
    kind_columns,
)
from subjectline.score.objectives import (
    ThemeContext,
    off_theme_words,
    relevance_objective,
    score_objectives,
)
from subjectline.score.rerank import lambda_for, rank_scored
from subjectline.score.text import title_features
from subjectline.simulate.feedback import LoggedFeedback
from subjectline.simulate.response import (
    Probabilities,
    ResponseModel,
    TitleTraits,
    probabilities,
    title_traits,
)
from subjectline.themes.contract import Theme
from subjectline.themes.extract import (
    ThemeAssignment,
    ThemeConfig,
    assign_themes,
    representative_items,
)
from subjectline.themes.facts import assignment_with_every_email_facts
from subjectline.workspace import Workspace

POLICIES = ("template", "facts", "llm_first", "llm_rerank", "oracle")
# The controls the LLM policies are measured against; "template" always runs (it is every
# policy's fallback and the engagement objective's reference), "facts" when asked.
CONTROLS = ("template", "facts")
LLM_POLICIES = ("llm_first", "llm_rerank", "oracle")
PAPER_CTR_LIFT = 0.125  # arXiv 2505.23809, online A/B tests
ITEMS_PER_THEME = 6
HISTORY_SENDS = 8
Z95 = 1.959963984540054
StepFn = Callable[[str], None]
PREPARE_STEPS = ("world", "titles", "explore", "engagement model", "objectives")
SIM_STEPS = (*PREPARE_STEPS, "evaluate")


@dataclass(frozen=True)
class SimulationConfig:
    users: int = 50_000
    seed: int = 0
    items: int = 2_000
    k: int = 8
    recommender: str = "ease"
    max_themes: int = 16
    n_candidates: int = 6
    backend: str = "local"
    safety: bool = True
    mean_recent_sends: float = 1.5
    response: ResponseModel = field(default_factory=ResponseModel)
    controls: tuple[str, ...] = CONTROLS

    def __post_init__(self) -> None:
        if "template" not in self.controls or not set(self.controls) <= set(CONTROLS):
            raise ValueError(f"controls must hold 'template' and may hold 'facts': {self.controls}")

    @property
    def policies(self) -> tuple[str, ...]:
        return tuple(p for p in POLICIES if p != "facts" or "facts" in self.controls)


@dataclass
class World:
    """The audience with its hidden state, aligned row by row with ``users``."""

    market: Marketplace
    as_of: datetime
    assignment: ThemeAssignment
    users: pl.DataFrame  # user_id, theme_key, theme_idx, coverage, history features
    themes: list[Theme]
    contexts: dict[str, ThemeContext]
    theme_items: dict[str, list[Item]]
    relevance: np.ndarray  # ground truth
    open_propensity: np.ndarray  # ground truth
    days_since_active: np.ndarray
    recent_sends: np.ndarray
    response: ResponseModel = field(default_factory=ResponseModel)


@dataclass
class TitleBook:
    """Every title the policies may send: per theme, the template first, then the facts
    control's title (source ``facts``, when it runs), then the LLM candidates."""

    titles: pl.DataFrame  # title_id, theme_key, theme_idx, text, source, index, safe
    features: pl.DataFrame  # per title_id: TITLE_FEATURES
    traits: TitleTraits  # per title_id: what the world reads

    def of_theme(self, theme_key: str, safe_only: bool = True) -> pl.DataFrame:
        rows = self.titles.filter(pl.col("theme_key") == theme_key)
        return rows.filter(pl.col("safe")) if safe_only else rows


def _user_history(
    market: Marketplace, users: pl.DataFrame, themes: Mapping[str, Theme], as_of: datetime
) -> pl.DataFrame:
    """What the marketplace knows per user: activity, recency, affinity to the theme."""
    events = market.interactions.join(
        market.items.select("item_id", "category", "brand"), on="item_id"
    ).with_columns(pl.col("category").str.split(" > ").list.first().alias("root"))
    theme_rows = pl.DataFrame(
        {
            "theme_key": list(themes),
            "theme_root": [t.root_category for t in themes.values()],
            "theme_path": [
                t.key.removeprefix("category:") if t.kind == "category" else None
                for t in themes.values()
            ],
            "theme_brand": [t.label if t.kind == "brand" else None for t in themes.values()],
        },
        schema={
            "theme_key": pl.String,
            "theme_root": pl.String,
            "theme_path": pl.String,
            "theme_brand": pl.String,
        },
    )
    per_user = (
        events.join(users.select("user_id", "theme_key"), on="user_id")
        .join(theme_rows, on="theme_key")
        .group_by("user_id")
        .agg(
            pl.len().alias("events"),
            (pl.col("root") == pl.col("theme_root")).mean().alias("root_affinity"),
            (
                pl.col("category").str.starts_with(pl.col("theme_path")).fill_null(False)
                | (pl.col("brand") == pl.col("theme_brand")).fill_null(False)
            )
            .mean()
            .alias("theme_affinity"),
        )
    )
    recency = market.users.select(
        "user_id",
        ((pl.lit(as_of) - pl.col("last_active_at")).dt.total_seconds() / 86_400.0).alias(
            "days_since_active"
        ),
    )
    return (
        users.join(per_user, on="user_id", how="left")
        .join(recency, on="user_id", how="left")
        .with_columns(
            pl.col("events").fill_null(0).add(1).log().alias("log_events"),
            pl.col("root_affinity").fill_null(0.0),
            pl.col("theme_affinity").fill_null(0.0),
            pl.col("days_since_active").fill_null(365.0),
        )
        .drop("events")
    )


def _true_relevance(market: Marketplace, users: pl.DataFrame) -> np.ndarray:
    """Mean latent affinity of each user for the items in their email (ground truth).

    Item affinity = 0.6 x the user's weight on the item's root category (relative to the
    user's top root) + 0.25 if the item's leaf is a favourite + 0.15 for the favourite brand.
    """
    prefs = market.preferences
    root_names = roots()
    top = prefs.select(pl.max_horizontal([f"pref:{r}" for r in root_names])).to_series()
    root_pref = pl.coalesce(
        [pl.when(pl.col("root") == r).then(pl.col(f"pref:{r}")) for r in root_names]
    )
    exploded = (
        users.select("user_id", "item_ids")
        .explode("item_ids")
        .rename({"item_ids": "item_id"})
        .join(market.items.select("item_id", "category", "brand"), on="item_id")
        .with_columns(pl.col("category").str.split(" > ").list.first().alias("root"))
        .join(prefs.with_columns(top.alias("top_pref")), on="user_id")
        .with_columns(
            (
                0.6 * root_pref / pl.col("top_pref")
                + 0.25
                * (
                    (pl.col("category") == pl.col("fav_leaf_1"))
                    | (pl.col("category") == pl.col("fav_leaf_2"))
                ).cast(pl.Float64)
                + 0.15 * (pl.col("brand") == pl.col("fav_brand")).cast(pl.Float64)
            ).alias("affinity")
        )
        .group_by("user_id")
        .agg(pl.col("affinity").mean())
    )
    return (
        users.select("user_id")
        .join(exploded, on="user_id", how="left")["affinity"]
        .fill_null(0.0)
        .to_numpy()
    )


def _neutral_traits(n: int) -> TitleTraits:
    """A plain title that says nothing in particular (for the users' send history)."""
    return TitleTraits(**{k: np.zeros(n) for k in TitleTraits.__dataclass_fields__})


def build_world(config: SimulationConfig) -> World:
    """Marketplace, recommendations, themes, history features and the hidden state."""
    market = synthesize(SynthConfig(users=config.users, items=config.items, seed=config.seed))
    as_of = default_as_of(market.interactions)
    recs = recommend_for_users(
        market.interactions,
        market.items,
        k=config.k,
        model=config.recommender,
        as_of=as_of,
        users=market.users["user_id"],
    )
    assignment = assign_themes(recs, market.items, as_of, ThemeConfig(max_themes=config.max_themes))
    # As the campaign does: a theme's titles name only what every email of it holds.
    assignment = assignment_with_every_email_facts(assignment, recs, market.items)
    themes = sorted(assignment.themes.values(), key=lambda t: t.key)
    theme_index = {t.key: i for i, t in enumerate(themes)}
    users = (
        market.users.select("user_id")
        .join(assignment.users, on="user_id")
        .with_columns(
            pl.col("theme_key")
            .replace_strict(theme_index, return_dtype=pl.Int64)
            .alias("theme_idx")
        )
    )
    rng = np.random.default_rng([config.seed, 1])
    recent = rng.poisson(config.mean_recent_sends, users.height).astype(np.float64)
    users = _user_history(
        market, users.with_columns(pl.Series("recent_sends", recent)), assignment.themes, as_of
    )
    catalog_vocab = catalog_vocabulary(market.items)
    theme_items = representative_items(users, market.items, ITEMS_PER_THEME)
    contexts = {t.key: theme_context(t, theme_items.get(t.key, []), catalog_vocab) for t in themes}
    truth = users.select("user_id").join(market.preferences, on="user_id", how="left")
    open_propensity = truth["open_propensity"].to_numpy()
    days_since_active = users["days_since_active"].to_numpy()
    # The ESP's own record: opens among the user's last HISTORY_SENDS generic emails.
    past_p = probabilities(
        config.response,
        open_propensity,
        days_since_active,
        np.ones(users.height),
        np.full(users.height, config.response.relevance_center),
        _neutral_traits(users.height),
    ).open
    past_opens = rng.binomial(HISTORY_SENDS, past_p)
    users = users.with_columns(
        pl.Series("past_open_rate", (past_opens + 1.0) / (HISTORY_SENDS + 4.0))
    )
    return World(
        market=market,
        as_of=as_of,
        assignment=assignment,
        users=users,
        themes=themes,
        contexts=contexts,
        theme_items=theme_items,
        relevance=_true_relevance(market, users),
        open_propensity=open_propensity,
        days_since_active=days_since_active,
        recent_sends=recent,
        response=config.response,
    )


def _safety_checker(world: World) -> Callable[[str, Theme], bool] | None:
    try:
        from subjectline.safety import CheckContext, check_title
    except ImportError:  # the safety stage is optional for the simulator
        return None
    promotions = [Promotion.from_row(r) for r in world.market.promotions.iter_rows(named=True)]
    brands = tuple(sorted(set(world.market.items["brand"].drop_nulls())))

    def is_safe(title: str, theme: Theme) -> bool:
        ctx = CheckContext(
            items=world.theme_items.get(theme.key, []),
            promotions=promotions,
            theme=theme,
            now=world.as_of,
            known_brands=brands,
        )
        return check_title(title, ctx).ok

    return is_safe


def facts_title(theme: Theme, is_safe: Callable[[str, Theme], bool] | None = None) -> str | None:
    """The facts control's title: the first facts-filled title that passes safety, or
    None when the theme has no facts (the control then sends the classic template)."""
    classic = set(template_titles(theme))
    for text in facts_template_titles(theme):
        if text not in classic and (is_safe is None or is_safe(text, theme)):
            return text
    return None


def build_title_book(
    world: World,
    candidates: Mapping[str, Sequence[str]],
    is_safe: Callable[[str, Theme], bool] | None = None,
    facts: bool = False,
) -> TitleBook:
    """Template (and with ``facts`` the facts control's title) plus candidates per theme,
    with safety flags, features and world traits."""
    rows: list[tuple[str, int, str, str, int, bool]] = []
    for t_idx, theme in enumerate(world.themes):
        ctx = world.contexts[theme.key]
        rows.append((theme.key, t_idx, ctx.template, "template", -1, True))
        controls = {ctx.template}
        filled = facts_title(theme, is_safe) if facts else None
        if filled is not None and filled != ctx.template:
            rows.append((theme.key, t_idx, filled, "facts", -1, True))
            controls.add(filled)
        for i, text in enumerate(candidates.get(theme.key, ())):
            if text in controls:
                continue
            safe = True if is_safe is None else is_safe(text, theme)
            rows.append((theme.key, t_idx, text, "llm", i, safe))
    titles = pl.DataFrame(
        rows,
        schema={
            "theme_key": pl.String,
            "theme_idx": pl.Int64,
            "text": pl.String,
            "source": pl.String,
            "index": pl.Int64,
            "safe": pl.Boolean,
        },
        orient="row",
    ).with_row_index("title_id")
    texts = titles["text"].to_list()
    relevance = np.empty(len(texts))
    off_theme = np.empty(len(texts))
    trait_parts: list[TitleTraits] = []
    catalog = next(iter(world.contexts.values())).catalog_vocab
    for theme in world.themes:
        ctx = world.contexts[theme.key]
        ids = titles.filter(pl.col("theme_key") == theme.key)["title_id"].to_numpy()
        theme_texts = [texts[i] for i in ids]
        relevance[ids] = relevance_objective(theme_texts, ctx)
        off_theme[ids] = [off_theme_words(t, ctx) for t in theme_texts]
        trait_parts.append(
            title_traits(theme_texts, theme.label, ctx.item_texts, catalog, theme.is_mixed)
        )
    traits = TitleTraits(
        **{
            name: np.concatenate([getattr(p, name) for p in trait_parts])
            for name in TitleTraits.__dataclass_fields__
        }
    )
    features = title_features(texts).with_columns(
        pl.Series("relevance", relevance), pl.Series("off_theme", off_theme)
    )
    return TitleBook(titles=titles, features=features, traits=traits)


def true_probabilities(
    world: World, book: TitleBook, title_ids: np.ndarray, rows: np.ndarray | None = None
) -> Probabilities:
    """The response model's probabilities for sending ``title_ids`` to users ``rows``."""
    rows = np.arange(world.users.height) if rows is None else rows
    return probabilities(
        world.response,
        world.open_propensity[rows],
        world.days_since_active[rows],
        world.recent_sends[rows],
        world.relevance[rows],
        book.traits.take(title_ids),
    )


@dataclass(frozen=True)
class Outcomes:
    open: np.ndarray
    click: np.ndarray
    convert: np.ndarray
    unsubscribe: np.ndarray


def draw_outcomes(p: Probabilities, uniforms: np.ndarray) -> Outcomes:
    """Outcomes from probabilities and a ``(n, 4)`` block of uniforms (common numbers)."""
    opened = uniforms[:, 0] < p.open
    clicked = opened & (uniforms[:, 1] < p.click_given_open)
    converted = clicked & (uniforms[:, 2] < p.convert_given_click)
    unsub = uniforms[:, 3] < p.unsubscribe
    return Outcomes(opened, clicked, converted, unsub)


def send_frame(world: World, book: TitleBook, title_ids: np.ndarray) -> pl.DataFrame:
    """The system-side features of sending ``title_ids`` (one per user row)."""
    features = book.features[title_ids]
    users = world.users.select(*USER_FEATURES[:-1], pl.col("coverage").alias("theme_coverage"))
    kinds = pl.Series([world.themes[i].kind for i in world.users["theme_idx"].to_numpy()])
    return pl.concat([features, users, pl.DataFrame(kind_columns(kinds))], how="horizontal")


def exploration_send(
    world: World, book: TitleBook, rng: np.random.Generator
) -> tuple[pl.DataFrame, LoggedFeedback]:
    """Every user gets a uniformly random safe title of their theme (a previous send)."""
    safe = book.titles.filter(pl.col("safe"))
    per_theme = safe.group_by("theme_idx").agg(pl.col("title_id")).sort("theme_idx")
    options = dict(zip(per_theme["theme_idx"], per_theme["title_id"].to_list(), strict=True))
    theme_idx = world.users["theme_idx"].to_numpy()
    counts = np.array([len(options[t]) for t in range(len(world.themes))])
    pick = np.floor(rng.random(theme_idx.size) * counts[theme_idx]).astype(np.int64)
    offsets = np.concatenate([[0], np.cumsum(counts)[:-1]])
    flat = np.concatenate([np.asarray(options[t], dtype=np.int64) for t in range(len(counts))])
    title_ids = flat[offsets[theme_idx] + pick]
    pscore = 1.0 / counts[theme_idx]
    outcomes = draw_outcomes(
        true_probabilities(world, book, title_ids), rng.random((theme_idx.size, 4))
    )
    log = send_frame(world, book, title_ids).with_columns(
        pl.Series("user_id", world.users["user_id"]),
        pl.Series("theme_key", world.users["theme_key"]),
        pl.Series("title_id", title_ids),
        pl.Series("pscore", pscore),
        pl.Series("open", outcomes.open.astype(np.int8)),
        pl.Series("click", outcomes.click.astype(np.int8)),
        pl.Series("convert", outcomes.convert.astype(np.int8)),
        pl.Series("unsubscribe", outcomes.unsubscribe.astype(np.int8)),
    )
    feedback = LoggedFeedback(
        n_rounds=log.height,
        n_actions=book.titles.height,
        context=log.select(USER_FEATURES).to_numpy(),
        action=title_ids,
        reward=outcomes.click.astype(np.float64),
        pscore=pscore,
        action_context=book.features.to_numpy().astype(np.float64),
    )
    return log, feedback


def first_passing(book: TitleBook) -> dict[int, int]:
    """Per theme: the first safe LLM candidate, else the template."""
    out: dict[int, int] = {}
    for row in book.titles.sort("theme_idx", "index").iter_rows(named=True):
        t = row["theme_idx"]
        if row["source"] == "template":
            out.setdefault(t, row["title_id"])
        elif (
            row["source"] == "llm"
            and row["safe"]
            and (t not in out or book.titles["source"][out[t]] == "template")
        ):
            out[t] = row["title_id"]
    return out


def facts_choice(book: TitleBook) -> dict[int, int]:
    """Per theme: the facts control's title, else the template (as the campaign falls back)."""
    out = _template_ids(book)
    rows = book.titles.filter(pl.col("source") == "facts")
    out.update({int(t): int(i) for t, i in zip(rows["theme_idx"], rows["title_id"], strict=True)})
    return out


@dataclass(frozen=True)
class ThemeScores:
    """One theme's safe titles (template first) with every objective scored."""

    theme: Theme
    title_ids: np.ndarray
    sources: list[str]
    objectives: pl.DataFrame  # score_objectives output, aligned with title_ids
    predicted_ctr: np.ndarray


def theme_scores(
    world: World,
    book: TitleBook,
    model: EngagementModel,
    recent_titles: Mapping[str, Sequence[str]] | None = None,
) -> list[ThemeScores]:
    """Objectives of every safe title per theme but the facts control's (the reranker
    chooses among the LLM's and the template); the engagement objective is the model's
    predicted CTR averaged over the theme's audience, relative to the template's."""
    theme_idx = world.users["theme_idx"].to_numpy()
    safe = book.titles.filter(pl.col("safe") & (pl.col("source") != "facts"))
    out: list[ThemeScores] = []
    for t, theme in enumerate(world.themes):
        rows = safe.filter(pl.col("theme_idx") == t)
        ids = rows["title_id"].to_numpy()
        members = np.flatnonzero(theme_idx == t)
        # Every candidate for every member of the audience, predicted in one batch.
        users = send_frame(world, book, np.full(world.users.height, ids[0]))[members]
        users = users.drop(book.features.columns)
        batch = pl.concat(
            [
                pl.concat([book.features[[int(i)] * members.size], users], how="horizontal")
                for i in ids
            ]
        )
        predicted = model.predict(batch)["click"].reshape(ids.size, members.size).mean(axis=1)
        ctx = world.contexts[theme.key]
        if recent_titles:
            ctx = replace(ctx, recent_titles=tuple(recent_titles.get(theme.key, ())))
        others = safe.filter(pl.col("theme_idx") != t)["text"].to_list()
        objectives = score_objectives(
            rows["text"].to_list(), ctx, predicted, float(predicted[0]), others
        )
        out.append(ThemeScores(theme, ids, rows["source"].to_list(), objectives, predicted))
    return out


def reranked(
    scores: Sequence[ThemeScores], lambdas: Mapping[str, float] | None = None
) -> tuple[dict[int, int], list[dict[str, Any]]]:
    """Per theme: the reranked choice among its safe titles (template included)."""
    choice: dict[int, int] = {}
    details: list[dict[str, Any]] = []
    for t, entry in enumerate(scores):
        lam = lambda_for(entry.theme.root_category, lambdas)
        best = rank_scored(entry.objectives, lam)[0]
        j = entry.objectives["title"].to_list().index(best.title)
        choice[t] = int(entry.title_ids[j])
        details.append(
            {
                "theme_key": entry.theme.key,
                "lambda": lam,
                "chosen": best.title,
                "source": entry.sources[j],
                "template_predicted_ctr": round(float(entry.predicted_ctr[0]), 5),
                "chosen_predicted_ctr": round(float(entry.predicted_ctr[j]), 5),
            }
        )
    return choice, details


def oracle_choice(world: World, book: TitleBook) -> dict[int, int]:
    """Per theme: the safe title with the highest true expected click rate (upper bound)."""
    theme_idx = world.users["theme_idx"].to_numpy()
    safe = book.titles.filter(pl.col("safe"))
    choice: dict[int, int] = {}
    for t in range(len(world.themes)):
        ids = safe.filter(pl.col("theme_idx") == t)["title_id"].to_numpy()
        members = np.flatnonzero(theme_idx == t)
        value = [
            true_probabilities(world, book, np.full(members.size, i), members).click.mean()
            for i in ids
        ]
        choice[t] = int(ids[int(np.argmax(value))])
    return choice


def _rate(x: np.ndarray) -> dict[str, Any]:
    p = float(x.mean())
    half = Z95 * math.sqrt(max(p * (1 - p), 0.0) / x.size)
    return {"estimate": p, "ci95": [p - half, p + half]}


def policy_metrics(outcomes: Outcomes) -> dict[str, Any]:
    rates = {
        "open_rate": _rate(outcomes.open),
        "ctr": _rate(outcomes.click),
        "cvr": _rate(outcomes.convert),
        "unsub_rate": _rate(outcomes.unsubscribe),
    }
    return {k: v["estimate"] for k, v in rates.items()} | {
        "ci95": {k: v["ci95"] for k, v in rates.items()}
    }


def relative_lift(treatment: np.ndarray, control: np.ndarray) -> dict[str, Any]:
    """``mean(t) / mean(c) - 1`` on paired per-user outcomes, delta-method 95% interval."""
    t, c = treatment.astype(np.float64), control.astype(np.float64)
    ratio = t.mean() / c.mean()
    se = math.sqrt(np.var(t - ratio * c, ddof=1) / t.size) / c.mean()
    return {
        "estimate": float(ratio - 1),
        "ci95": [float(ratio - 1 - Z95 * se), float(ratio - 1 + Z95 * se)],
    }


@dataclass
class Prepared:
    """Everything before the evaluation send: world, titles, exploration log, model."""

    world: World
    book: TitleBook
    log: pl.DataFrame
    exploration: LoggedFeedback
    model: EngagementModel
    scores: list[ThemeScores]
    generation: dict[str, Any]
    seconds: dict[str, float]


@dataclass
class SimulationResult:
    payload: dict[str, Any]
    prepared: Prepared


class _Laps:
    def __init__(self, on_step: StepFn | None) -> None:
        self.on_step = on_step or (lambda _s: None)
        self.seconds: dict[str, float] = {}
        self._name: str | None = None
        self._started = time.perf_counter()

    def __call__(self, name: str | None) -> None:
        now = time.perf_counter()
        if self._name is not None:
            self.seconds[self._name] = round(now - self._started, 2)
        self._name, self._started = name, now
        if name is not None:
            self.on_step(name)


def prepare(
    config: SimulationConfig,
    workspace: Workspace | None = None,
    candidates: Mapping[str, Sequence[str]] | None = None,
    on_step: StepFn | None = None,
    world: World | None = None,
) -> Prepared:
    """World (``build_world(config)`` unless given), title book (``candidates`` given, or
    generated per theme with the cache), exploration send and the engagement model
    trained on its log, objectives per theme."""
    lap = _Laps(on_step)
    lap("world")
    world = world or build_world(config)
    lap("titles")
    generation: dict[str, Any] = {}
    if candidates is None:
        backend = make_backend(config.backend)
        found, stats = generate_titles(
            world.themes, backend, PromptSettings(n_candidates=config.n_candidates), workspace
        )
        candidates = {k: [c.text for c in v] for k, v in found.items()}
        generation = {"llm_calls": stats.llm_calls, "cache_hits": stats.cache_hits}
    checker = _safety_checker(world) if config.safety else None
    book = build_title_book(world, candidates, checker, facts="facts" in config.controls)
    lap("explore")
    log, feedback = exploration_send(world, book, np.random.default_rng([config.seed, 2]))
    lap("engagement model")
    model = EngagementModel.fit(log, seed=config.seed)
    lap("objectives")
    recent = (
        log.join(book.titles.select("title_id", "text"), on="title_id")
        .group_by("theme_key")
        .agg(pl.col("text").unique())
    )
    recent_titles = dict(zip(recent["theme_key"], recent["text"].to_list(), strict=True))
    scores = theme_scores(world, book, model, recent_titles)
    lap(None)
    return Prepared(world, book, log, feedback, model, scores, generation, lap.seconds)


def simulate(
    config: SimulationConfig,
    workspace: Workspace | None = None,
    lambdas: Mapping[str, float] | None = None,
    candidates: Mapping[str, Sequence[str]] | None = None,
    on_step: StepFn | None = None,
    world: World | None = None,
) -> SimulationResult:
    """Prepare, then send every policy to the same users with common random numbers."""
    prepared = prepare(config, workspace, candidates, on_step, world)
    world, book = prepared.world, prepared.book
    lap = _Laps(on_step)
    lap("evaluate")
    choices = {
        "template": _template_ids(book),
        "facts": facts_choice(book),
        "llm_first": first_passing(book),
        "oracle": oracle_choice(world, book),
    }
    choices["llm_rerank"], rerank_details = reranked(prepared.scores, lambdas)
    uniforms = np.random.default_rng([config.seed, 3]).random((world.users.height, 4))
    theme_idx = world.users["theme_idx"].to_numpy()
    outcomes: dict[str, Outcomes] = {}
    for name in config.policies:
        lookup = np.array([choices[name][t] for t in range(len(world.themes))], dtype=np.int64)
        outcomes[name] = draw_outcomes(true_probabilities(world, book, lookup[theme_idx]), uniforms)
    lap(None)
    click = {name: o.click for name, o in outcomes.items()}
    lift = relative_lift(click["llm_rerank"], click["template"])
    llm = book.titles.filter(pl.col("source") == "llm")
    payload: dict[str, Any] = {
        "users": world.users.height,
        "seed": config.seed,
        "themes": len(world.themes),
        "policies": {name: policy_metrics(o) for name, o in outcomes.items()},
        "lift": {
            "ctr_llm_rerank_vs_template": lift,
            "ctr_llm_first_vs_template": relative_lift(click["llm_first"], click["template"]),
            "ctr_llm_rerank_vs_llm_first": relative_lift(click["llm_rerank"], click["llm_first"]),
            "ctr_oracle_vs_template": relative_lift(click["oracle"], click["template"]),
            "cvr_llm_rerank_vs_template": relative_lift(
                outcomes["llm_rerank"].convert, outcomes["template"].convert
            ),
            **_lifts_vs_facts(outcomes),
        },
        "paper_ctr_lift": PAPER_CTR_LIFT,
        "gap_to_paper_ctr_lift": lift["estimate"] - PAPER_CTR_LIFT,
        "titles": {
            "facts_themes": book.titles.filter(pl.col("source") == "facts").height,
            "candidates": llm.height,
            "safe_candidates": int(llm["safe"].sum()),
            "rerank_chose_template": sum(d["source"] == "template" for d in rerank_details),
            "rerank": rerank_details,
        },
        "engagement_model": {
            stage: {k: v for k, v in r.items() if k != "reliability"}
            for stage, r in prepared.model.report.items()
        },
        "exploration": {
            "rounds": prepared.exploration.n_rounds,
            "actions": prepared.exploration.n_actions,
            "ctr": float(prepared.exploration.reward.mean()),
        },
        "generation": prepared.generation,
        "seconds": prepared.seconds | lap.seconds,
    }
    return SimulationResult(payload, prepared)


def _lifts_vs_facts(outcomes: Mapping[str, Outcomes]) -> dict[str, dict[str, Any]]:
    """The LLM policies' (and the classic template's) lifts over the facts control."""
    if "facts" not in outcomes:
        return {}
    facts = outcomes["facts"]
    out = {
        f"ctr_{name}_vs_facts": relative_lift(outcomes[name].click, facts.click)
        for name in LLM_POLICIES
    }
    out["cvr_llm_rerank_vs_facts"] = relative_lift(outcomes["llm_rerank"].convert, facts.convert)
    out["ctr_facts_vs_template"] = relative_lift(facts.click, outcomes["template"].click)
    return out


def _template_ids(book: TitleBook) -> dict[int, int]:
    rows = book.titles.filter(pl.col("source") == "template")
    return {int(t): int(i) for t, i in zip(rows["theme_idx"], rows["title_id"], strict=True)}


__all__ = [
    "FEATURES",
    "POLICIES",
    "PREPARE_STEPS",
    "SIM_STEPS",
    "Prepared",
    "SimulationConfig",
    "SimulationResult",
    "TitleBook",
    "World",
    "build_title_book",
    "build_world",
    "draw_outcomes",
    "exploration_send",
    "facts_title",
    "prepare",
    "relative_lift",
    "simulate",
    "true_probabilities",
]
