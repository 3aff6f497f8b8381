"""Facts every email of a theme holds: the product kinds and brands of its users' items
that each one of those users' emails contains. A theme's subject goes to all of its
users, so only these may be named in it (``Theme.every_email_kinds`` / ``_brands``)."""

from __future__ import annotations

from dataclasses import replace

import polars as pl

from subjectline.themes.brief import product_kind
from subjectline.themes.contract import Theme
from subjectline.themes.extract import ThemeAssignment
from subjectline.themes.trust import trusted_label, trusted_text

_FACT_SCHEMA = {"item_id": pl.String, "fact": pl.String, "value": pl.String}


def item_facts(items: pl.DataFrame) -> pl.DataFrame:
    """``item_id, fact, value``: each item's product kind and brand, the facts a subject
    may name when every email of a theme holds them."""
    brands = tuple(items["brand"].drop_nulls().unique().sort())
    rows: list[tuple[str, str, str]] = []
    for item_id, title, brand in items.select("item_id", "title", "brand").iter_rows():
        # Seller text: a poisoned title or brand grounds nothing, however common.
        kind = product_kind(title, brands) if title and trusted_text(title) else None
        if kind:
            rows.append((item_id, "kind", kind))
        if brand and trusted_label(brand):
            rows.append((item_id, "brand", brand))
    return pl.DataFrame(rows, schema=_FACT_SCHEMA, orient="row")


def theme_fact_counts(users: pl.DataFrame, recs: pl.DataFrame, facts: pl.DataFrame) -> pl.DataFrame:
    """``theme_key, fact, value, len``: how many of a theme's users have an email holding
    the fact. Counts of disjoint users add up, so the shard engine sums them."""
    return (
        recs.select("user_id", "item_id")
        .join(facts, on="item_id")
        .select("user_id", "fact", "value")
        .unique()
        .join(users.select("user_id", "theme_key"), on="user_id")
        .group_by("theme_key", "fact", "value")
        .len()
    )


def with_every_email_facts(
    themes: dict[str, Theme], fact_counts: pl.DataFrame, theme_users: dict[str, int]
) -> dict[str, Theme]:
    """Each theme with the kinds and brands that every one of its users' emails holds."""
    full = fact_counts.join(
        pl.DataFrame(
            {"theme_key": list(theme_users), "users": list(theme_users.values())},
            schema={"theme_key": pl.String, "users": pl.Int64},
        ),
        on="theme_key",
    ).filter(pl.col("len") >= pl.col("users"))
    found: dict[tuple[str, str], list[str]] = {}
    for key, fact, value in (
        full.sort("theme_key", "fact", "value").select("theme_key", "fact", "value").iter_rows()
    ):
        found.setdefault((key, fact), []).append(value)
    return {
        key: replace(
            theme,
            every_email_kinds=tuple(found.get((key, "kind"), [])),
            every_email_brands=tuple(found.get((key, "brand"), [])),
        )
        for key, theme in themes.items()
    }


def assignment_with_every_email_facts(
    assignment: ThemeAssignment, recs: pl.DataFrame, items: pl.DataFrame
) -> ThemeAssignment:
    """``assignment`` whose themes carry their every-email facts, counted from ``recs``
    (each user's email) in one pass; the shard engine sums the counts itself."""
    counts = theme_fact_counts(assignment.users, recs, item_facts(items))
    themes = with_every_email_facts(assignment.themes, counts, assignment.theme_counts())
    return replace(assignment, themes=themes)
