"""A synthetic marketplace: catalog, users with latent tastes, interactions, promotions.

Users' latent preferences are written apart, to ``ground_truth/``: only the offline
simulator may read them (it is the ground truth the rest of the system must learn).
Everything is drawn from one seeded generator, so the same seed gives the same bytes.
Fully vectorised with NumPy and Polars: a million users take well under a minute.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl

from subjectline.data.contract import SCHEMAS
from subjectline.data.vocab import (
    ADJECTIVES,
    FIRST_NAMES,
    LEAVES,
    LOCALE_WEIGHTS,
    LOCALES,
    ROOT_BRANDS,
    roots,
)
from subjectline.progress import StepReporter, no_steps

GROUND_TRUTH_DIR = "ground_truth"
PREFERENCES_FILE = "user_preferences.parquet"
DEFAULT_AS_OF = datetime(2026, 11, 1, tzinfo=UTC)
EVENT_NAMES = ("view", "cart", "purchase", "rating")
EVENT_PROBS = (0.74, 0.13, 0.08, 0.05)


@dataclass(frozen=True)
class SynthConfig:
    users: int = 10_000
    items: int = 2_000
    seed: int = 0
    as_of: datetime = DEFAULT_AS_OF
    mean_events: float = 8.0
    new_arrival_share: float = 0.08
    new_arrival_days: int = 14
    in_stock_share: float = 0.93
    extra: dict[str, float] = field(default_factory=dict)


@dataclass
class Marketplace:
    items: pl.DataFrame
    users: pl.DataFrame
    interactions: pl.DataFrame
    promotions: pl.DataFrame
    preferences: pl.DataFrame

    def contract_frames(self) -> dict[str, pl.DataFrame]:
        return {
            "items": self.items,
            "users": self.users,
            "interactions": self.interactions,
            "promotions": self.promotions,
        }


def _ids(prefix: str, n: int) -> pl.Series:
    width = max(6, len(str(n)))
    return pl.select(
        pl.format(f"{prefix}{{}}", pl.int_range(1, n + 1).cast(pl.String).str.zfill(width))
    ).to_series()


def _catalog(cfg: SynthConfig, rng: np.random.Generator) -> tuple[pl.DataFrame, np.ndarray]:
    """Items sorted by leaf; returns the frame and each item's popularity weight."""
    n = cfg.items
    leaf_idx = np.sort(rng.integers(0, len(LEAVES), n))
    # Every leaf gets at least a handful of items so every category can be recommended.
    leaf_idx[: len(LEAVES) * 3] = np.repeat(np.arange(len(LEAVES)), 3)[: min(n, len(LEAVES) * 3)]
    leaf_idx = np.sort(leaf_idx)
    titles, brands, categories, attrs, prices = [], [], [], [], []
    adj_draw = rng.integers(0, len(ADJECTIVES), n)
    noun_draw = rng.integers(0, 1 << 30, n)
    brand_draw = rng.integers(0, 1 << 30, n)
    attr_draw = rng.integers(0, 1 << 30, (n, 2))
    price_u = rng.random(n)
    for i, li in enumerate(leaf_idx):
        leaf = LEAVES[li]
        root = leaf.path.split(" > ")[0]
        brand = ROOT_BRANDS[root][brand_draw[i] % len(ROOT_BRANDS[root])]
        noun = leaf.nouns[noun_draw[i] % len(leaf.nouns)]
        item_attrs = {
            name: values[attr_draw[i, j % 2] % len(values)]
            for j, (name, values) in enumerate(sorted(leaf.attributes.items()))
        }
        lead = item_attrs.get("color") or item_attrs.get("flavor") or item_attrs.get("scent")
        words = [brand, ADJECTIVES[adj_draw[i]], noun]
        titles.append(" ".join(words) + (f", {lead}" if lead else ""))
        brands.append(brand)
        categories.append(leaf.path)
        attrs.append(json.dumps(item_attrs, sort_keys=True))
        low, high = leaf.price
        # Log-uniform within the leaf's range, rounded to a .99 price point.
        price = float(np.exp(np.log(low) + price_u[i] * (np.log(high) - np.log(low))))
        prices.append(max(0.99, round(price) - 0.01))
    age_days = rng.uniform(cfg.new_arrival_days, 720, n)
    is_new = rng.random(n) < cfg.new_arrival_share
    age_days[is_new] = rng.uniform(0, cfg.new_arrival_days, is_new.sum())
    added_at = [cfg.as_of - timedelta(days=float(d)) for d in age_days]
    popularity = rng.zipf(1.6, n).astype(np.float64)
    popularity = np.minimum(popularity, 500.0)
    items = pl.DataFrame(
        {
            "item_id": _ids("i", n),
            "title": titles,
            "category": categories,
            "brand": brands,
            "price": prices,
            "currency": ["USD"] * n,
            "in_stock": rng.random(n) < cfg.in_stock_share,
            "added_at": added_at,
            "attributes": attrs,
        },
        schema=SCHEMAS["items"],
    )
    return items, popularity


def _preferences(cfg: SynthConfig, rng: np.random.Generator) -> dict[str, np.ndarray]:
    n = cfg.users
    root_names = roots()
    leaf_root = np.array([root_names.index(leaf.path.split(" > ")[0]) for leaf in LEAVES])
    root_weights = rng.dirichlet(np.full(len(root_names), 0.35), n).astype(np.float32)
    top_root = root_weights.argmax(axis=1)
    fav_leaf = np.empty((n, 2), dtype=np.int64)
    for r in range(len(root_names)):
        members = np.flatnonzero(leaf_root == r)
        sel = top_root == r
        fav_leaf[sel, 0] = rng.choice(members, sel.sum())
    # Second favourite leaf: drawn from the user's root weights (vectorised inverse CDF).
    cum = np.cumsum(root_weights, axis=1)
    r2 = (cum < rng.random((n, 1)) * cum[:, -1:]).sum(axis=1)
    leaf_offsets = [np.flatnonzero(leaf_root == r) for r in range(len(root_names))]
    pick = rng.integers(0, 1 << 30, n)
    fav_leaf[:, 1] = [
        leaf_offsets[r][p % len(leaf_offsets[r])] for r, p in zip(r2, pick, strict=True)
    ]
    brand_pick = rng.integers(0, 1 << 30, n)
    fav_brand = [
        ROOT_BRANDS[root_names[r]][p % len(ROOT_BRANDS[root_names[r]])]
        for r, p in zip(top_root, brand_pick, strict=True)
    ]
    return {
        "root_weights": root_weights,
        "fav_leaf": fav_leaf,
        "fav_brand": np.array(fav_brand, dtype=object),
        "activity": rng.lognormal(np.log(cfg.mean_events) - 0.32, 0.8, n),
        "price_sensitivity": rng.lognormal(0.0, 0.5, n),
        "deal_affinity": rng.beta(2, 5, n),
        "novelty_affinity": rng.beta(2, 3, n),
        "open_propensity": rng.beta(2.5, 7.5, n),
        "days_since_active": np.where(
            rng.random(n) < 0.25, rng.uniform(45, 240, n), rng.exponential(12, n)
        ),
    }


def _interactions(
    cfg: SynthConfig,
    rng: np.random.Generator,
    prefs: dict[str, np.ndarray],
    items: pl.DataFrame,
    popularity: np.ndarray,
    user_ids: pl.Series,
) -> pl.DataFrame:
    n_users = cfg.users
    counts = np.minimum(rng.poisson(prefs["activity"]), 200)
    counts = np.maximum(counts, 1)
    user_of = np.repeat(np.arange(n_users), counts)
    m = user_of.size
    leaf_of_item = _leaf_index(items)
    n_leaves = len(LEAVES)
    leaf_start = np.searchsorted(leaf_of_item, np.arange(n_leaves), side="left")
    leaf_end = np.searchsorted(leaf_of_item, np.arange(n_leaves), side="right")
    cum_pop = np.concatenate([[0.0], np.cumsum(popularity)])

    root_names = roots()
    leaf_root = np.array([root_names.index(leaf.path.split(" > ")[0]) for leaf in LEAVES])
    mode = rng.random(m)
    leaf = np.empty(m, dtype=np.int64)
    fav = prefs["fav_leaf"][user_of]
    first = rng.random(m) < 0.65
    leaf[:] = np.where(first, fav[:, 0], fav[:, 1])
    explore = mode >= 0.55
    # Exploration: a root drawn from the user's weights, then any leaf in it.
    weights = prefs["root_weights"]
    cum = np.cumsum(weights, axis=1)
    u = rng.random(m).astype(np.float32) * cum[user_of, -1]
    root_draw = np.zeros(m, dtype=np.int64)
    for r in range(len(root_names) - 1):
        root_draw += (u > cum[user_of, r]).astype(np.int64)
    members = [np.flatnonzero(leaf_root == r) for r in range(len(root_names))]
    pick = rng.integers(0, 1 << 30, m)
    explore_leaf = np.empty(m, dtype=np.int64)
    for r, mem in enumerate(members):
        sel = root_draw == r
        explore_leaf[sel] = mem[pick[sel] % len(mem)]
    leaf = np.where(explore, explore_leaf, leaf)
    # Popular anywhere: a small share of events ignore taste entirely.
    anywhere = mode >= 0.93
    leaf = np.where(anywhere, leaf_of_item[rng.integers(0, len(leaf_of_item), m)], leaf)

    # Item within the leaf by popularity; among three draws prefer the favourite brand.
    lo = cum_pop[leaf_start[leaf]]
    hi = cum_pop[leaf_end[leaf]]
    brands = items["brand"].to_numpy()
    fav_brand = prefs["fav_brand"][user_of]
    chosen = None
    for _ in range(3):
        draw = np.searchsorted(cum_pop, lo + rng.random(m) * (hi - lo), side="right") - 1
        draw = np.clip(draw, leaf_start[leaf], leaf_end[leaf] - 1)
        if chosen is None:
            chosen = draw
        else:
            better = (brands[draw] == fav_brand) & (brands[chosen] != fav_brand)
            chosen = np.where(better, draw, chosen)
    assert chosen is not None

    event = rng.choice(len(EVENT_NAMES), m, p=EVENT_PROBS)
    value = np.ones(m)
    is_rating = event == EVENT_NAMES.index("rating")
    value[is_rating] = rng.choice([1, 2, 3, 4, 5], is_rating.sum(), p=[0.05, 0.08, 0.2, 0.37, 0.3])
    last_active = prefs["days_since_active"][user_of]
    age = last_active + rng.exponential(40, m)
    ts = np.datetime64(cfg.as_of.replace(tzinfo=None), "us") - (age * 86_400e6).astype(
        "timedelta64[us]"
    )
    frame = pl.DataFrame(
        {
            "user_id": user_ids.gather(user_of),
            "item_id": items["item_id"].gather(chosen),
            "event": np.array(EVENT_NAMES)[event],
            "value": value,
            "ts": pl.Series(ts).dt.replace_time_zone("UTC"),
        }
    )
    return frame.sort(["user_id", "ts"]).cast(SCHEMAS["interactions"])  # type: ignore[arg-type]


def _leaf_index(items: pl.DataFrame) -> np.ndarray:
    order = {leaf.path: i for i, leaf in enumerate(LEAVES)}
    return items["category"].replace_strict(order, return_dtype=pl.Int64).to_numpy()


def _promotions(cfg: SynthConfig, rng: np.random.Generator) -> pl.DataFrame:
    root_names = roots()
    mid = sorted({" > ".join(leaf.path.split(" > ")[:2]) for leaf in LEAVES})
    pick_root = root_names[int(rng.integers(len(root_names)))]
    pick_mid = mid[int(rng.integers(len(mid)))]
    brand_root = root_names[int(rng.integers(len(root_names)))]
    brand = ROOT_BRANDS[brand_root][int(rng.integers(len(ROOT_BRANDS[brand_root])))]
    other_mid = mid[int(rng.integers(len(mid)))]
    day = timedelta(days=1)
    now = cfg.as_of
    rows = [
        ("p1", "all", None, 10.0, now - 3 * day, now + 11 * day),
        ("p2", "category", pick_root, 20.0, now - 2 * day, now + 12 * day),
        ("p3", "category", pick_mid, 30.0, now - 1 * day, now + 6 * day),
        ("p4", "brand", brand, 15.0, now - 5 * day, now + 9 * day),
        ("p5", "category", other_mid, 40.0, now - 30 * day, now - 16 * day),
        ("p6", "brand", ROOT_BRANDS[root_names[0]][0], 25.0, now + 10 * day, now + 20 * day),
    ]
    return pl.DataFrame(rows, schema=SCHEMAS["promotions"], orient="row")


SYNTH_STEPS = ("catalog", "users", "interactions", "write")


def synthesize(cfg: SynthConfig, on_step: StepReporter = no_steps) -> Marketplace:
    """Build the whole marketplace in memory."""
    rng = np.random.default_rng(cfg.seed)
    on_step("catalog")
    items, popularity = _catalog(cfg, rng)
    on_step("users")
    prefs = _preferences(cfg, rng)
    user_ids = _ids("u", cfg.users)
    n = cfg.users
    name_idx = rng.integers(0, len(FIRST_NAMES), n)
    names = pl.Series(np.array(FIRST_NAMES)[name_idx]).scatter(
        np.flatnonzero(rng.random(n) < 0.15), None
    )
    last_active = np.datetime64(cfg.as_of.replace(tzinfo=None), "us") - (
        prefs["days_since_active"] * 86_400e6
    ).astype("timedelta64[us]")
    users = pl.DataFrame(
        {
            "user_id": user_ids,
            "first_name": names,
            "locale": np.array(LOCALES)[rng.choice(len(LOCALES), n, p=LOCALE_WEIGHTS)],
            "last_active_at": pl.Series(last_active).dt.replace_time_zone("UTC"),
        },
        schema=SCHEMAS["users"],
    )
    on_step("interactions")
    interactions = _interactions(cfg, rng, prefs, items, popularity, user_ids)
    root_names = roots()
    preferences = pl.DataFrame(
        {
            "user_id": user_ids,
            **{
                f"root_{i}": prefs["root_weights"][:, i].astype(np.float64)
                for i in range(len(root_names))
            },
            "fav_leaf_1": np.array([LEAVES[i].path for i in range(len(LEAVES))])[
                prefs["fav_leaf"][:, 0]
            ],
            "fav_leaf_2": np.array([LEAVES[i].path for i in range(len(LEAVES))])[
                prefs["fav_leaf"][:, 1]
            ],
            "fav_brand": prefs["fav_brand"].astype(str),
            "price_sensitivity": prefs["price_sensitivity"],
            "deal_affinity": prefs["deal_affinity"],
            "novelty_affinity": prefs["novelty_affinity"],
            "open_propensity": prefs["open_propensity"],
            "activity": prefs["activity"],
        }
    ).rename({f"root_{i}": f"pref:{name}" for i, name in enumerate(root_names)})
    return Marketplace(items, users, interactions, _promotions(cfg, rng), preferences)


def write_marketplace(
    cfg: SynthConfig, out_dir: Path, fmt: str = "parquet", on_step: StepReporter = no_steps
) -> dict[str, int]:
    """Write the contract files to ``out_dir`` and the ground truth to ``out_dir/ground_truth``."""
    if fmt not in ("parquet", "csv"):
        raise ValueError(f"format must be parquet or csv, got {fmt!r}")
    market = synthesize(cfg, on_step)
    on_step("write")
    out_dir.mkdir(parents=True, exist_ok=True)
    truth = out_dir / GROUND_TRUTH_DIR
    truth.mkdir(exist_ok=True)
    counts = {}
    for kind, frame in market.contract_frames().items():
        path = out_dir / f"{kind}.{fmt}"
        tmp = path.with_suffix(path.suffix + ".part")
        if fmt == "parquet":
            frame.write_parquet(tmp, statistics=False)
        else:
            frame.write_csv(tmp, datetime_format="%Y-%m-%dT%H:%M:%S%.6fZ")
        tmp.replace(path)
        counts[kind] = frame.height
    market.preferences.write_parquet(truth / PREFERENCES_FILE, statistics=False)
    meta = asdict(cfg) | {"as_of": cfg.as_of.isoformat(), "roots": list(roots())}
    (truth / "config.json").write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")
    return counts
