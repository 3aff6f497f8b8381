"""Themes to learn from and to evaluate on, each with its items and both contexts.

A :class:`ThemeCase` carries what the reward needs (the scorer's ``ThemeContext``) and
what the guardrails need (the safety ``CheckContext``). Cases come from a synthetic
marketplace (the simulator's world, so its engagement model and ground truth exist) and
from MovieLens-100k (real titles; no send log, so the engagement objective is neutral).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import polars as pl

from subjectline.data.contract import Promotion
from subjectline.recommend.api import default_as_of, recommend_for_users
from subjectline.safety import CheckContext
from subjectline.score.choose import catalog_vocabulary, theme_context
from subjectline.score.objectives import ThemeContext
from subjectline.simulate.simulator import ITEMS_PER_THEME, World
from subjectline.themes.contract import Theme
from subjectline.themes.extract import ThemeConfig, assign_themes, representative_items

# Category campaigns: a category needs this many items, and each user's recommendations
# this deep a pool, to fill an email of its own.
CAMPAIGN_MIN_ITEMS = 20
CAMPAIGN_POOL = 100


@dataclass(frozen=True)
class ThemeCase:
    theme: Theme
    source: str  # "synthetic" or "movielens"
    score_ctx: ThemeContext
    check_ctx: CheckContext

    @property
    def key(self) -> str:
        return f"{self.source}/{self.theme.key}"


def is_holdout(theme_key: str, share: float) -> bool:
    """A stable split by theme key (same answer on every machine and run)."""
    digest = hashlib.sha256(theme_key.encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < share


def world_cases(world: World) -> list[ThemeCase]:
    """The simulator world's themes (mixed picks left out: nothing to name)."""
    promotions = [Promotion.from_row(r) for r in world.market.promotions.iter_rows(named=True)]
    brands = tuple(sorted(set(world.market.items["brand"].drop_nulls())))
    return [
        ThemeCase(
            theme=theme,
            source="synthetic",
            score_ctx=world.contexts[theme.key],
            check_ctx=CheckContext(
                items=world.theme_items.get(theme.key, []),
                promotions=promotions,
                theme=theme,
                now=world.as_of,
                known_brands=brands,
            ),
        )
        for theme in world.themes
        if not theme.is_mixed
    ]


def marketplace_cases(
    frames: dict[str, pl.DataFrame], source: str, max_themes: int, k: int = 8
) -> list[ThemeCase]:
    """Themes of a marketplace given as contract frames (items, interactions, ...): the
    themes its users' recommendations share, then (where those are few, as on
    MovieLens, whose users' emails nearly all say "Movies") one campaign per category,
    sent to the users with the most of that category among their recommendations."""
    items, interactions = frames["items"], frames["interactions"]
    as_of = default_as_of(interactions)
    recs = recommend_for_users(interactions, items, k=CAMPAIGN_POOL, model="ease", as_of=as_of)
    top = recs.filter(pl.col("rank") <= k)
    assignments = [assign_themes(top, items, as_of, ThemeConfig(max_themes=max_themes))]
    categories = (
        items.group_by("category")
        .len()
        .filter(pl.col("len") >= CAMPAIGN_MIN_ITEMS)
        .sort(["len", "category"], descending=[True, False])["category"]
    )
    for category in categories:
        campaign = _category_recommendations(recs, items, category, k)
        if campaign.height:
            assignments.append(assign_themes(campaign, items, as_of, ThemeConfig(max_themes=2)))
    vocab = catalog_vocabulary(items)
    promotions = [
        Promotion.from_row(r)
        for r in frames.get("promotions", pl.DataFrame()).iter_rows(named=True)
    ]
    brands = tuple(sorted(set(items["brand"].drop_nulls())))
    cases: dict[str, ThemeCase] = {}
    for assignment in assignments:
        by_theme = representative_items(assignment.users, items, ITEMS_PER_THEME)
        for key in sorted(assignment.themes):
            theme = assignment.themes[key]
            if theme.is_mixed or key in cases or len(cases) >= max_themes:
                continue
            theme_items = by_theme.get(key, [])
            cases[key] = ThemeCase(
                theme=theme,
                source=source,
                score_ctx=theme_context(theme, theme_items, vocab),
                check_ctx=CheckContext(
                    items=theme_items,
                    promotions=promotions,
                    theme=theme,
                    now=as_of,
                    known_brands=brands,
                ),
            )
    return list(cases.values())


def _category_recommendations(
    recs: pl.DataFrame, items: pl.DataFrame, category: str, k: int
) -> pl.DataFrame:
    """Each user's top-``k`` recommended items of ``category``, for the users with at
    least ``k // 2`` of them (a category campaign's audience)."""
    members = items.filter(pl.col("category") == category).select("item_id")
    return (
        recs.join(members, on="item_id")
        .sort(["user_id", "rank"])
        .group_by("user_id", maintain_order=True)
        .head(k)
        .filter(pl.len().over("user_id") >= max(1, k // 2))
        .with_columns(pl.int_range(1, pl.len() + 1).over("user_id").alias("rank"))
    )


def movielens_cases(max_themes: int) -> list[ThemeCase]:
    from subjectline.data.movielens import load_movielens

    return marketplace_cases(load_movielens(), "movielens", max_themes)


def split_cases(
    cases: Iterable[ThemeCase], share: float, exclude: Sequence[str] = ()
) -> tuple[list[ThemeCase], list[ThemeCase]]:
    """(train, held-out) by key hash; cases whose theme key is in ``exclude`` (the
    evaluation world's themes) are left out of both."""
    excluded = set(exclude)
    train, held = [], []
    for case in cases:
        if case.theme.key in excluded:
            continue
        if is_holdout(case.key, share):
            held.append(case)
        else:
            train.append(case)
    return train, held
