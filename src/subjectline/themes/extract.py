"""Find what each user's recommended items share and name it (in the spirit of CARTS).

Every item yields candidate features: each level of its category path, its brand, its
theme-worthy attributes, "new arrival", its price band. For each user we count how many
of their items carry each feature (coverage) and take the feature with the best
``weight(kind, depth) * coverage`` among those covering at least ``min_coverage`` of
the items; when none does, the user gets the "mixed" theme rather than an invented one.

Titles are generated per theme, so the number of distinct themes is an LLM budget:
``max_themes`` keeps the most common themes and moves every other user to their best
remaining theme (often the parent category), else to "mixed". All of it is vectorised
in Polars over (user, feature) rows.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import polars as pl

from subjectline.data.contract import CATEGORY_SEP, Item, category_levels
from subjectline.themes.contract import Theme, ThemeKind
from subjectline.themes.trust import trusted_label, trusted_text

MIXED_KEY = "mixed"
NEW_ARRIVALS_KEY = "new_arrivals"
ALL_CATEGORIES = "All"
# Nested bands ("under $50" holds every item under $25 too), so that, like category
# levels, the tightest band covering most items wins, and its label is a true claim.
PRICE_BANDS: tuple[tuple[float, str, str], ...] = (
    (25.0, "under-25", "under $25"),
    (50.0, "under-50", "under $50"),
    (100.0, "under-100", "under $100"),
)


@dataclass(frozen=True)
class ThemeConfig:
    """How themes are chosen. Weights favour specific, informative themes."""

    min_coverage: float = 0.5
    new_arrival_days: int = 14
    category_depth_weights: tuple[float, ...] = (0.55, 0.8, 1.0)
    brand_weight: float = 0.9
    attribute_weight: float = 0.6
    new_arrivals_weight: float = 0.75
    price_band_weight: float = 0.4
    attribute_names: tuple[str, ...] = ("color", "material", "flavor", "scent", "style")
    max_themes: int | None = None
    example_titles: int = 8
    generic_leaf_names: frozenset[str] = field(
        default_factory=lambda: frozenset({"Shoes", "Apparel", "Gear", "Accessories", "Lighting"})
    )

    def category_weight(self, depth: int) -> float:
        weights = self.category_depth_weights
        return weights[min(depth, len(weights)) - 1]


@dataclass
class ThemeAssignment:
    """Per-user themes (one row per user) and the distinct themes they use."""

    users: pl.DataFrame  # user_id, theme_key, coverage, item_ids (theme's items first)
    themes: dict[str, Theme]

    def theme_counts(self) -> dict[str, int]:
        counts = self.users.group_by("theme_key").len().sort("len", descending=True)
        return dict(zip(counts["theme_key"], counts["len"], strict=True))


@dataclass(frozen=True)
class _Feature:
    key: str
    kind: ThemeKind
    label: str
    weight: float
    root: str


def _price_bands(price: float) -> list[tuple[float, str, str]]:
    """Every band the price is under, tightest first (none for a zero price)."""
    if price <= 0:
        return []
    return [band for band in PRICE_BANDS if price < band[0]]


def _category_label(path: str, ambiguous: set[str], config: ThemeConfig) -> str:
    parts = path.split(CATEGORY_SEP)
    leaf = parts[-1]
    if len(parts) > 1 and (leaf in ambiguous or leaf in config.generic_leaf_names):
        parent = parts[-2]
        return leaf if parent in leaf else f"{parent} {leaf}"
    return leaf


def item_features(
    items: pl.DataFrame, as_of: datetime, config: ThemeConfig
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """``(pairs, features)``: one row per (item_id, key), and one per feature key."""
    paths = {path for cat in items["category"].unique() for path in category_levels(cat)}
    leaf_names = Counter(path.split(CATEGORY_SEP)[-1] for path in paths)
    ambiguous = {name for name, n in leaf_names.items() if n > 1}
    brand_roots: dict[str, Counter[str]] = {}
    for brand, cat in items.select("brand", "category").iter_rows():
        if brand:
            brand_roots.setdefault(brand, Counter())[category_levels(cat)[0]] += 1
    new_since = as_of - timedelta(days=config.new_arrival_days)
    features: dict[str, _Feature] = {}
    rows: list[tuple[str, str]] = []
    columns = ("item_id", "category", "brand", "price", "added_at", "attributes")
    for item_id, category, brand, price, added_at, attributes in items.select(columns).iter_rows():
        levels = category_levels(category)
        root = levels[0] if levels else ALL_CATEGORIES
        found: list[_Feature] = [
            _Feature(
                f"category:{path}",
                "category",
                _category_label(path, ambiguous, config),
                config.category_weight(depth),
                root,
            )
            for depth, path in enumerate(levels, start=1)
        ]
        if brand and trusted_label(brand):  # seller text: no "Your Account Team" theme
            brand_root = brand_roots[brand].most_common(1)[0][0]
            found.append(
                _Feature(f"brand:{brand}", "brand", brand, config.brand_weight, brand_root)
            )
        attrs = json.loads(attributes) if attributes else {}
        for name in config.attribute_names:
            value = attrs.get(name)
            if isinstance(value, str) and value and "|" not in value and trusted_label(value):
                found.append(
                    _Feature(
                        f"attribute:{name}={value}",
                        "attribute",
                        value,
                        config.attribute_weight,
                        ALL_CATEGORIES,
                    )
                )
        if added_at is not None and added_at >= new_since:
            found.append(
                _Feature(
                    NEW_ARRIVALS_KEY,
                    "new_arrivals",
                    "New arrivals",
                    config.new_arrivals_weight,
                    ALL_CATEGORIES,
                )
            )
        found += [
            _Feature(
                f"price_band:{slug}",
                "price_band",
                label,
                config.price_band_weight * (0.9**depth),
                ALL_CATEGORIES,
            )
            for depth, (_, slug, label) in enumerate(_price_bands(float(price)))
        ]
        for feature in found:
            features.setdefault(feature.key, feature)
            rows.append((item_id, feature.key))
    table = pl.DataFrame(
        [(f.key, f.kind, f.label, f.weight, f.root) for f in features.values()],
        schema={
            "key": pl.String,
            "kind": pl.String,
            "label": pl.String,
            "weight": pl.Float64,
            "root": pl.String,
        },
        orient="row",
    )
    pairs = pl.DataFrame(rows, schema={"item_id": pl.String, "key": pl.String}, orient="row")
    return pairs, table


def assign_themes(
    recommendations: pl.DataFrame,
    items: pl.DataFrame,
    as_of: datetime,
    config: ThemeConfig | None = None,
) -> ThemeAssignment:
    """Pick each user's theme from their recommended items (``user_id, item_id, rank``)."""
    config = config or ThemeConfig()
    pairs, table = item_features(items, as_of, config)
    recs = recommendations.select("user_id", "item_id", "rank")
    n_items = recs.group_by("user_id").agg(pl.len().alias("n_items"))
    scored = (
        recs.join(pairs, on="item_id")
        .group_by("user_id", "key")
        .agg(pl.len().alias("hits"))
        .join(n_items, on="user_id")
        .with_columns((pl.col("hits") / pl.col("n_items")).alias("coverage"))
        .filter(pl.col("coverage") >= config.min_coverage)
        .join(table.select("key", "weight"), on="key")
        .with_columns((pl.col("weight") * pl.col("coverage")).alias("score"))
    )
    best = _best_per_user(scored)
    if config.max_themes is not None:
        allowed = (
            best.group_by("key")
            .len()
            .sort(["len", "key"], descending=[True, False])
            .head(max(config.max_themes - 1, 0))  # one slot stays for "mixed"
            .select("key")
        )
        best = _best_per_user(scored.join(allowed, on="key"))
    users = (
        n_items.select("user_id")
        .join(best.select("user_id", "key", "coverage"), on="user_id", how="left")
        .with_columns(
            pl.col("key").fill_null(MIXED_KEY).alias("theme_key"),
            pl.col("coverage").fill_null(0.0),
        )
        .drop("key")
    )
    ordered = _order_items(recs, pairs, users)
    users = users.join(ordered, on="user_id").sort("user_id")
    themes = _theme_records(users, recs, pairs, table, items, config)
    return ThemeAssignment(users.select("user_id", "theme_key", "coverage", "item_ids"), themes)


def _best_per_user(scored: pl.DataFrame) -> pl.DataFrame:
    # Ties go to the more specific key, then alphabetically, so the choice is deterministic.
    return scored.sort(
        ["user_id", "score", "weight", "key"], descending=[False, True, True, False]
    ).unique("user_id", keep="first", maintain_order=True)


def _order_items(recs: pl.DataFrame, pairs: pl.DataFrame, users: pl.DataFrame) -> pl.DataFrame:
    """Each user's items, those that fit the theme first, each group in rank order."""
    fits = pairs.rename({"key": "theme_key"}).with_columns(pl.lit(True).alias("fits"))
    return (
        recs.join(users.select("user_id", "theme_key"), on="user_id")
        .join(fits, on=["item_id", "theme_key"], how="left")
        .with_columns(pl.col("fits").fill_null(False))
        .sort(["user_id", "fits", "rank"], descending=[False, True, False])
        .group_by("user_id", maintain_order=True)
        .agg(pl.col("item_id").alias("item_ids"))
    )


def _theme_records(
    users: pl.DataFrame,
    recs: pl.DataFrame,
    pairs: pl.DataFrame,
    table: pl.DataFrame,
    items: pl.DataFrame,
    config: ThemeConfig,
) -> dict[str, Theme]:
    coverage = users.group_by("theme_key").agg(pl.col("coverage").mean())
    # Representative items: the theme's items most often recommended to its users.
    members = (
        recs.join(users.select("user_id", "theme_key"), on="user_id")
        .join(pairs.rename({"key": "theme_key"}), on=["item_id", "theme_key"])
        .group_by("theme_key", "item_id")
        .len()
        .join(items.select("item_id", "title", "brand"), on="item_id")
        .sort(["theme_key", "len", "item_id"], descending=[False, True, False])
    )
    info = table.rows_by_key("key", named=True, unique=True)
    themes: dict[str, Theme] = {}
    for key, mean_coverage in coverage.iter_rows():
        rows = members.filter(pl.col("theme_key") == key)
        titles = tuple(t for t in rows["title"].head(config.example_titles) if trusted_text(t))
        brands = tuple(
            b for b in rows["brand"].unique(maintain_order=True).head(5) if b and trusted_label(b)
        )
        if key == MIXED_KEY:
            themes[key] = Theme(key, "mixed", "Picks for you", ALL_CATEGORIES, mean_coverage)
            continue
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
            example_titles=titles,
            brands=brands,
            attributes=attributes,
        )
    return themes


def representative_items(
    assigned: pl.DataFrame, items: pl.DataFrame, per_theme: int = 6
) -> dict[str, list[Item]]:
    """Each theme's most shown items among the first three of its users' emails
    (``assigned``: ``theme_key, item_ids`` per user, as ``ThemeAssignment.users``)."""
    counted = (
        assigned.select("theme_key", pl.col("item_ids").list.head(3))
        .explode("item_ids")
        .group_by("theme_key", "item_ids")
        .len()
        .sort(["theme_key", "len", "item_ids"], descending=[False, True, False])
        .group_by("theme_key", maintain_order=True)
        .head(per_theme)
        .rename({"item_ids": "item_id"})
        .join(items, on="item_id")
    )
    out: dict[str, list[Item]] = {}
    for row in counted.iter_rows(named=True):
        out.setdefault(row["theme_key"], []).append(Item.from_row(row))
    return out
