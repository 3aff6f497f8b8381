"""The campaign job for large audiences: sharded, bounded in memory, resumable.

Users are split into shards by a SHA-256 of their id (the same on every machine). The
job runs in passes; every pass writes one Parquet file per shard, atomically (a ``.part``
file renamed into place), under ``OUT/shards/RUN_ID/``. A killed run, rerun with the same
command, skips every file already there, so each user is processed and written once.

1. **recommend**: the model is fitted once on every interaction, then each shard's
   users are scored (``recs-N``), and each user's best theme *without* a budget is
   counted (``best-N``).
2. **themes**: the theme budget is global: the most common best themes, summed over
   every shard, are the allowed ones (as :func:`assign_themes` does with
   ``max_themes``). Each shard's users get their best allowed theme and their arm
   (``users-N``), plus counts that add up across shards (``counts-N``, ``themes-N``).
3. **generate + safety**: titles are generated once per theme with an LLM arm user and
   checked once per theme against every item recommended to its users (the summed
   counts), exactly as the in-memory job does; the chosen titles are kept
   (``titles.parquet``, ``titles.json``) so a resumed run asks the LLM nothing.
4. **assemble**: each shard's users get their arm's subject (``campaign-N``); the
   shards are concatenated, sorted by user, into ``OUT/campaign.parquet`` with
   ``OUT/report.json``.

A checkpoint (``checkpoint.json``) records the run id and a hash of the config and the
data; a rerun whose hash differs refuses to reuse the shards. With the same data and
config the output equals :func:`subjectline.pipeline.campaign.run_campaign`'s.
"""

from __future__ import annotations

import hashlib
import json
import math
import resource
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, Literal, Protocol

import duckdb
import numpy as np
import polars as pl

from subjectline.errors import SubjectlineError
from subjectline.experiment.assignment import assign, unit_hash_sql
from subjectline.experiment.definition import Experiment
from subjectline.generate import generate_titles
from subjectline.generate.generate import GenerationStats
from subjectline.pipeline.campaign import (
    CAMPAIGN_FILE,
    LLM_ARM,
    REPORT_FILE,
    CampaignConfig,
    CampaignInputs,
    StageTimer,
    campaign_experiment,
    campaign_frame,
    choose_titles,
    load_inputs,
    theme_item_counts,
    title_backend,
    workspace_lambdas,
)
from subjectline.recommend.api import to_frame
from subjectline.recommend.filters import Filters, item_mask, new_arrival_boost
from subjectline.recommend.matrix import InteractionMatrix
from subjectline.recommend.models import Popularity, Recommender, get_model
from subjectline.safety import count_by_check, record_rejections
from subjectline.themes.contract import Theme
from subjectline.themes.extract import (
    ALL_CATEGORIES,
    MIXED_KEY,
    ThemeConfig,
    _best_per_user,
    _order_items,
    item_features,
)
from subjectline.themes.facts import item_facts, theme_fact_counts, with_every_email_facts
from subjectline.themes.trust import trusted_label, trusted_text
from subjectline.workspace import Workspace

SHARDS_DIR = "shards"
CHECKPOINT_FILE = "checkpoint.json"
TITLES_FILE = "titles.parquet"
TITLES_REPORT = "titles.json"
SHARD_SALT = "subjectline-shard:"
DEFAULT_SHARD_USERS = 100_000
STAGES = ("load", "recommend", "themes", "generate", "safety", "assemble")

# (stage, users done, users in total): called as shards finish, for progress bars.
ShardProgress = Callable[[str, int, int], None]


class ShardRunner(Protocol):
    """Runs one pass's task on shards: ``task(shard=s, **shared, **kwargs)`` per call,
    ``on_done(s)`` as each finishes. Tasks write their own files and return nothing."""

    def run(
        self,
        task: Callable[..., None],
        calls: list[tuple[int, dict[str, Any]]],
        shared: dict[str, Any],
        on_done: Callable[[int], None],
    ) -> None: ...


class LocalRunner:
    """Shard after shard in this process: memory holds one shard at a time."""

    def run(
        self,
        task: Callable[..., None],
        calls: list[tuple[int, dict[str, Any]]],
        shared: dict[str, Any],
        on_done: Callable[[int], None],
    ) -> None:
        for shard, kwargs in calls:
            task(shard=shard, **shared, **kwargs)
            on_done(shard)


@dataclass(frozen=True)
class StreamOptions:
    """How the audience is split and where shards run; none of it changes the content."""

    shards: int | None = None  # default: one per DEFAULT_SHARD_USERS users
    run_id: str | None = None  # default: the config hash's first 12 digits
    engine: Literal["local", "ray"] = "local"
    ray_address: str | None = None  # default: $RAY_ADDRESS, else a Ray started here

    def shard_count(self, users: int) -> int:
        return self.shards or max(1, math.ceil(users / DEFAULT_SHARD_USERS))

    def runner(self) -> ShardRunner:
        if self.engine == "ray":
            from subjectline.pipeline.ray_engine import RayRunner

            return RayRunner(self.ray_address)
        return LocalRunner()


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MiB (Linux reports KiB)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def write_parquet_atomic(frame: pl.DataFrame, path: Path) -> None:
    """A file that exists is whole: write beside it, then rename (atomic on POSIX)."""
    part = path.with_name(path.name + ".part")
    frame.write_parquet(part)
    part.replace(path)


def write_json_atomic(payload: dict[str, Any], path: Path) -> None:
    part = path.with_name(path.name + ".part")
    part.write_text(json.dumps(payload, indent=2, default=str) + "\n")
    part.replace(path)


def shard_of_users(user_ids: pl.Series, shards: int) -> pl.Series:
    """Each user's shard in ``0..shards-1``, from a salted SHA-256 of the id (in DuckDB)."""
    position = unit_hash_sql(f"'{SHARD_SALT}' || user_id")
    con = duckdb.connect()
    try:
        con.register("users", user_ids.rename("user_id").to_frame().to_arrow())
        sql = f"SELECT CAST(floor({position} * {shards}) AS INTEGER) AS shard FROM users"
        return con.sql(sql).pl()["shard"]
    finally:
        con.close()


def config_hash(config: CampaignConfig, shards: int, inputs: CampaignInputs) -> str:
    """What the shards' content depends on: the config, the shard count and the data."""
    backend = config.backend if isinstance(config.backend, str) else config.backend.name
    described = asdict(replace(config, backend=backend))
    data = {
        "users": inputs.users.height,
        "items": inputs.items.height,
        "interactions": inputs.interactions.height,
        "suppressed": sorted(inputs.suppressed),
        "as_of": inputs.as_of,
    }
    text = json.dumps({"config": described, "shards": shards, "data": data}, default=_stable)
    return hashlib.sha256(text.encode()).hexdigest()


def _stable(value: object) -> object:
    """JSON for what json cannot write; sets sorted, since their order varies by process."""
    if isinstance(value, set | frozenset):
        return sorted(value, key=str)
    return str(value)


class FittedRecommender:
    """The model fitted once on every interaction; recommends for any subset of users.

    Same filters, cold-start fallback and output as
    :func:`subjectline.recommend.api.recommend_for_users` with ``users`` = the audience,
    so a user's items do not depend on the shard they fall in. Consumes
    ``inputs.interactions`` (emptied once the matrix is built).
    """

    def __init__(self, inputs: CampaignInputs, config: CampaignConfig) -> None:
        filters = Filters()
        self.k = config.k
        self.data = InteractionMatrix.from_interactions(
            inputs.interactions,
            item_ids=inputs.items["item_id"],
            user_ids=inputs.users["user_id"],
            owned_events=filters.owned_events,
        )
        # The matrix holds all the model needs; dropping the raw events before the fit
        # takes their memory (hundreds of MiB at a million users) off the peak.
        inputs.interactions = inputs.interactions.clear()
        self.model: Recommender = get_model(config.model)
        self.model.fit(self.data.matrix)
        self.cold: Recommender = self.model
        if not isinstance(self.model, Popularity):
            self.cold = Popularity().fit(self.data.matrix)
        self.options: dict[str, Any] = {
            "exclude": self.data.owned if filters.exclude_owned else None,
            "item_mask": item_mask(inputs.items, self.data.item_ids, filters),
            "item_boost": new_arrival_boost(
                inputs.items, self.data.item_ids, filters, inputs.as_of
            ),
        }

    def recommend(
        self, user_ids: pl.Series, progress: Callable[[int], None] | None = None
    ) -> pl.DataFrame:
        rows = self.data.user_index(user_ids.unique(maintain_order=True))
        matrix = self.data.matrix
        has_history = np.diff(matrix.indptr)[rows] > 0
        top_items = np.full((len(rows), self.k), -1, dtype=np.int32)
        top_scores = np.full((len(rows), self.k), -np.inf, dtype=np.float32)
        for model, which in ((self.model, has_history), (self.cold, ~has_history)):
            picked = np.flatnonzero(which)
            if not picked.size:
                continue
            found, scores = model.recommend(
                rows[picked], matrix, self.k, progress=progress, **self.options
            )
            top_items[picked, : found.shape[1]] = found
            top_scores[picked, : scores.shape[1]] = scores
        return to_frame(rows, top_items, top_scores, self.data)


def feature_scores(
    recs: pl.DataFrame, pairs: pl.DataFrame, table: pl.DataFrame, config: ThemeConfig
) -> pl.DataFrame:
    """Per (user, feature covering enough of their items): coverage and weighted score.

    The scoring step of :func:`subjectline.themes.extract.assign_themes`, per shard."""
    n_items = recs.group_by("user_id").agg(pl.len().alias("n_items"))
    return (
        recs.select("user_id", "item_id")
        .join(pairs, on="item_id")
        .group_by("user_id", "key")
        .agg(pl.len().alias("hits"))
        .join(n_items, on="user_id")
        .with_columns((pl.col("hits") / pl.col("n_items")).alias("coverage"))
        .filter(pl.col("coverage") >= config.min_coverage)
        .join(table.select("key", "weight"), on="key")
        .with_columns((pl.col("weight") * pl.col("coverage")).alias("score"))
    )


def themes_from_counts(
    coverage: pl.DataFrame,
    counts: pl.DataFrame,
    pairs: pl.DataFrame,
    table: pl.DataFrame,
    items: pl.DataFrame,
    config: ThemeConfig,
) -> dict[str, Theme]:
    """Theme records from counts summed over shards (``theme_key, coverage`` and
    ``theme_key, item_id, len``), as :func:`assign_themes` builds them from every user."""
    members = (
        counts.join(pairs.rename({"key": "theme_key"}), on=["item_id", "theme_key"])
        .join(items.select("item_id", "title", "brand"), on="item_id")
        .sort(["theme_key", "len", "item_id"], descending=[False, True, False])
        .group_by("theme_key", maintain_order=True)
        .agg(
            pl.col("title").head(config.example_titles).alias("titles"),
            pl.col("brand").unique(maintain_order=True).head(5).alias("brands"),
        )
    )
    shown = {key: (titles, brands) for key, titles, brands in members.iter_rows()}
    info = table.rows_by_key("key", named=True, unique=True)
    themes: dict[str, Theme] = {}
    for key, mean_coverage in coverage.sort("theme_key").iter_rows():
        if key == MIXED_KEY:
            themes[key] = Theme(key, "mixed", "Picks for you", ALL_CATEGORIES, mean_coverage)
            continue
        titles, brands = shown.get(key, ([], []))
        feature = info[key]
        attributes: dict[str, str] = {}
        if feature["kind"] == "attribute":
            name, value = key.removeprefix("attribute:").split("=", 1)
            attributes[name] = value
        themes[key] = Theme(
            key=key,
            kind=feature["kind"],
            label=feature["label"],
            root_category=feature["root"],
            coverage=float(mean_coverage),
            example_titles=tuple(t for t in titles if trusted_text(t)),
            brands=tuple(b for b in brands if b and trusted_label(b)),
            attributes=attributes,
        )
    return themes


class _Stages(StageTimer):
    """Seconds per stage and a progress callback per stage (users done / total)."""

    def __init__(self, progress: ShardProgress | None) -> None:
        super().__init__()
        self.progress = progress or (lambda _stage, _done, _total: None)


@dataclass
class _Shards:
    """The state directory of one run and the file of each shard in each pass."""

    root: Path
    count: int

    def path(self, kind: str, shard: int) -> Path:
        return self.root / f"{kind}-{shard:05d}.parquet"

    def done(self, kind: str, shard: int) -> bool:
        return self.path(kind, shard).exists()

    def scan(self, kind: str) -> pl.LazyFrame:
        return pl.scan_parquet([self.path(kind, s) for s in range(self.count)])


def _open_run(out_dir: Path, run_id: str | None, digest: str, shards: int) -> _Shards:
    """The run's state directory; a checkpoint from another config or data is refused."""
    run_id = run_id or digest[:12]
    root = out_dir / SHARDS_DIR / run_id
    checkpoint = root / CHECKPOINT_FILE
    if checkpoint.exists():
        recorded = json.loads(checkpoint.read_text())
        if recorded.get("config_hash") != digest:
            raise SubjectlineError(
                f"run {run_id!r} in {root} was started with another config or data "
                f"(hash {recorded.get('config_hash', '?')[:12]}, now {digest[:12]}); "
                "use another --run-id or another --out"
            )
    else:
        root.mkdir(parents=True, exist_ok=True)
        write_json_atomic({"run_id": run_id, "config_hash": digest, "shards": shards}, checkpoint)
    return _Shards(root, shards)


def run_streaming_campaign(
    workspace: Workspace,
    config: CampaignConfig,
    out_dir: Path,
    options: StreamOptions | None = None,
    progress: ShardProgress | None = None,
) -> dict[str, Any]:
    """Run (or resume) the sharded campaign; writes ``campaign.parquet`` and
    ``report.json`` into ``out_dir`` and returns the report."""
    options = options or StreamOptions()
    stages = _Stages(progress)
    started = time.perf_counter()
    with stages.stage("load"):
        inputs = load_inputs(workspace, config)
        n_users = inputs.users.height
        shards_total = options.shard_count(n_users)
        digest = config_hash(config, shards_total, inputs)
        shards = _open_run(out_dir, options.run_id, digest, shards_total)
        shard_ids = shard_of_users(inputs.users["user_id"], shards_total)
        audience = inputs.users.select("user_id").with_columns(shard_ids)
        pairs, table = item_features(inputs.items, inputs.as_of, config.themes)
        facts = item_facts(inputs.items)
    runner = options.runner()
    resumed: dict[str, int] = {}

    def by_shard(shard: int) -> dict[str, Any]:
        return {"users": audience.filter(pl.col("shard") == shard)["user_id"]}

    with stages.stage("recommend"):
        resumed["recs"] = _run_pass(
            runner,
            "recommend",
            "best",
            recommend_shard,
            lambda: {
                "recommender": FittedRecommender(inputs, config),
                "pairs": pairs,
                "table": table,
                "theme_config": config.themes,
            },
            audience,
            shards,
            stages,
            per_shard=by_shard,
        )

    with stages.stage("themes"):
        max_themes = config.max_llm_themes(n_users)
        allowed = (
            shards.scan("best")
            .group_by("key")
            .agg(pl.col("len").sum())
            .sort(["len", "key"], descending=[True, False])
            .head(max(max_themes - 1, 0))  # one slot stays for "mixed", as assign_themes
            .select("key")
            .collect()
        )
        resumed["users"] = _run_pass(
            runner,
            "themes",
            "themes",
            theme_shard,
            lambda: {
                "pairs": pairs,
                "table": table,
                "allowed": allowed,
                "facts": facts,
                "theme_config": config.themes,
                "experiment": campaign_experiment(config),
            },
            audience,
            shards,
            stages,
        )

    chosen, titles_report = _titles(workspace, inputs, config, shards, pairs, table, stages)

    with stages.stage("assemble"):
        resumed["campaign"] = _run_pass(
            runner,
            "assemble",
            "campaign",
            campaign_shard,
            lambda: {"chosen": chosen},
            audience,
            shards,
            stages,
        )
        summary = _assemble(shards, out_dir / CAMPAIGN_FILE)

    report = {
        "campaign_id": config.campaign_id,
        "as_of": inputs.as_of.isoformat(),
        "users": summary["users"],
        "suppressed": len(inputs.suppressed),
        **titles_report,
        "llm_call_budget": config.llm_call_budget(n_users),
        "model": config.model,
        "k": config.k,
        "arms": summary["arms"],
        "fallbacks": summary["fallbacks"],
        "llm_choice": config.llm_choice,
        "seconds_by_stage": stages.seconds,
        "seconds": round(time.perf_counter() - started, 3),
        "peak_rss_mb": peak_rss_mb(),
        "engine": options.engine,
        "shards": shards_total,
        "run_id": shards.root.name,
        "config_hash": digest,
        "resumed_shards": resumed,
        "prompt": asdict(config.prompt),
    }
    write_json_atomic(report, out_dir / REPORT_FILE)
    return report


def recommend_shard(
    shard: int,
    shards: _Shards,
    users: pl.Series,
    recommender: FittedRecommender,
    pairs: pl.DataFrame,
    table: pl.DataFrame,
    theme_config: ThemeConfig,
) -> None:
    """Pass 1 for one shard: its users' items, and how many have each best theme."""
    recs = recommender.recommend(users)
    write_parquet_atomic(recs, shards.path("recs", shard))
    best = _best_per_user(feature_scores(recs, pairs, table, theme_config))
    # Written last: its presence marks the shard's pass as done.
    write_parquet_atomic(best.group_by("key").len(), shards.path("best", shard))


def theme_shard(
    shard: int,
    shards: _Shards,
    pairs: pl.DataFrame,
    table: pl.DataFrame,
    allowed: pl.DataFrame,
    facts: pl.DataFrame,
    theme_config: ThemeConfig,
    experiment: Experiment,
) -> None:
    """Pass 2 for one shard: each user's best allowed theme and arm, and counts to sum."""
    recs = pl.read_parquet(shards.path("recs", shard))
    scored = feature_scores(recs, pairs, table, theme_config).join(allowed, on="key")
    best = _best_per_user(scored)
    users = (
        recs.select("user_id")
        .unique()
        .join(best.select("user_id", "key", "coverage"), on="user_id", how="left")
        .with_columns(
            pl.col("key").fill_null(MIXED_KEY).alias("theme_key"),
            pl.col("coverage").fill_null(0.0),
        )
        .drop("key")
    )
    users = users.join(_order_items(recs, pairs, users), on="user_id")
    arms = assign(experiment, users.select("user_id")).select("user_id", "arm")
    users = users.join(arms, on="user_id").sort("user_id")
    write_parquet_atomic(users, shards.path("users", shard))
    write_parquet_atomic(theme_item_counts(users, recs), shards.path("counts", shard))
    write_parquet_atomic(theme_fact_counts(users, recs, facts), shards.path("facts", shard))
    per_theme = users.group_by("theme_key", "arm").agg(
        pl.len().alias("users"), pl.col("coverage").sum().alias("coverage_sum")
    )
    write_parquet_atomic(per_theme, shards.path("themes", shard))


def campaign_shard(shard: int, shards: _Shards, chosen: pl.DataFrame) -> None:
    """Pass 3 for one shard: each user's arm's subject."""
    users = pl.read_parquet(shards.path("users", shard))
    write_parquet_atomic(campaign_frame(users, chosen), shards.path("campaign", shard))


def _run_pass(
    runner: ShardRunner,
    stage: str,
    marker: str,
    task: Callable[..., None],
    shared: Callable[[], dict[str, Any]],
    audience: pl.DataFrame,
    shards: _Shards,
    stages: _Stages,
    per_shard: Callable[[int], dict[str, Any]] = lambda _shard: {},
) -> int:
    """Run ``task`` on every shard whose ``marker`` file is missing; returns the skipped.

    ``shared`` is called only when some shard is left to do (a resumed run past the
    recommend pass never fits the model)."""
    sizes = dict(audience.group_by("shard").len().iter_rows())
    todo = [s for s in range(shards.count) if not shards.done(marker, s)]
    total = audience.height
    done = total - sum(sizes.get(s, 0) for s in todo)
    stages.progress(stage, done, total)

    def finished(shard: int) -> None:
        nonlocal done
        done += sizes.get(shard, 0)
        stages.progress(stage, done, total)

    if todo:
        calls = [(s, {"shards": shards, **per_shard(s)}) for s in todo]
        runner.run(task, calls, shared(), finished)
    return shards.count - len(todo)


def _titles(
    workspace: Workspace,
    inputs: CampaignInputs,
    config: CampaignConfig,
    shards: _Shards,
    pairs: pl.DataFrame,
    table: pl.DataFrame,
    stages: _Stages,
) -> tuple[pl.DataFrame, dict[str, Any]]:
    """Each theme's checked subjects per arm, generated and checked once per run."""
    titles_path, report_path = shards.root / TITLES_FILE, shards.root / TITLES_REPORT
    if titles_path.exists() and report_path.exists():
        return pl.read_parquet(titles_path), json.loads(report_path.read_text())
    with stages.stage("generate"):
        per_theme = shards.scan("themes").collect()
        counts = (
            shards.scan("counts")
            .group_by("theme_key", "item_id")
            .agg(pl.col("len").sum())
            .collect()
        )
        coverage = per_theme.group_by("theme_key").agg(
            (pl.col("coverage_sum").sum() / pl.col("users").sum()).alias("coverage")
        )
        themes = themes_from_counts(coverage, counts, pairs, table, inputs.items, config.themes)
        fact_counts = (
            shards.scan("facts")
            .group_by("theme_key", "fact", "value")
            .agg(pl.col("len").sum())
            .collect()
        )
        theme_users = dict(per_theme.group_by("theme_key").agg(pl.col("users").sum()).iter_rows())
        themes = with_every_email_facts(themes, fact_counts, theme_users)
        llm_keys = sorted(set(per_theme.filter(pl.col("arm") == LLM_ARM)["theme_key"]))
        backend = title_backend(config)
        n_users = inputs.users.height
        candidates, stats = generate_titles(
            [themes[k] for k in llm_keys],
            backend,
            config.prompt,
            workspace,
            progress=lambda done, total: stages.progress("generate", done, total),
            max_llm_calls=config.llm_call_budget(n_users),
        )
    with stages.stage("safety"):
        chosen, rejections = choose_titles(
            themes,
            counts,
            inputs.items,
            inputs.promotions,
            candidates,
            config,
            inputs.as_of,
            workspace_lambdas(workspace),
        )
        record_rejections(workspace, config.campaign_id, rejections)
    kinds = per_theme.with_columns(
        pl.col("theme_key").replace_strict({k: t.kind for k, t in themes.items()}).alias("kind")
    )
    report = {
        "themes": len(themes),
        "llm_themes": len(llm_keys),
        **_generation_report(stats),
        "backend": backend.name,
        "theme_kinds": dict(
            kinds.group_by("kind").agg(pl.col("users").sum()).sort("kind").iter_rows()
        ),
        "rejections_by_check": count_by_check(rejections),
        "lambdas": workspace_lambdas(workspace),
    }
    # The report goes first: the titles file is the marker that this step is done.
    write_json_atomic(report, report_path)
    write_parquet_atomic(chosen, titles_path)
    return chosen, report


def _generation_report(stats: GenerationStats) -> dict[str, Any]:
    return {
        "llm_calls": stats.llm_calls,
        "candidates": stats.candidates,
        "cache_hits": stats.cache_hits,
        "generation_seconds": stats.seconds,
        "generation": stats.to_dict(),
    }


def _assemble(shards: _Shards, target: Path) -> dict[str, Any]:
    """Concatenate the shards, sorted by user, into ``target``; check each user once."""
    part = target.with_name(target.name + ".part")
    target.parent.mkdir(parents=True, exist_ok=True)
    shards.scan("campaign").sort("user_id").sink_parquet(part)
    written = pl.scan_parquet(part)
    counts = written.select(pl.len(), pl.col("user_id").n_unique().alias("unique")).collect()
    if counts["len"][0] != counts["unique"][0]:
        raise SubjectlineError(f"{part}: {counts['len'][0]} rows for {counts['unique'][0]} users")
    arms = written.group_by("arm").len().sort("arm").collect()
    fallen = (
        written.filter(pl.col("subject_source") != "candidate")
        .group_by("arm", "subject_source")
        .len()
        .sort("arm", "subject_source")
        .collect()
    )
    fallbacks: dict[str, dict[str, int]] = {}
    for arm, source, n in fallen.iter_rows():
        fallbacks.setdefault(arm, {})[source] = n
    part.replace(target)
    return {"users": int(counts["len"][0]), "arms": dict(arms.iter_rows()), "fallbacks": fallbacks}
