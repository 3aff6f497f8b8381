from __future__ import annotations

import hashlib
from pathlib import Path

import polars as pl

from subjectline.data.synth import (
    GROUND_TRUTH_DIR,
    PREFERENCES_FILE,
    SynthConfig,
    synthesize,
    write_marketplace,
)
from subjectline.data.validate import validate


def _digest(directory: Path) -> dict[str, str]:
    return {
        str(p.relative_to(directory)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(directory.rglob("*"))
        if p.is_file()
    }


def test_same_seed_same_bytes_other_seed_differs(tmp_path: Path) -> None:
    cfg = SynthConfig(users=300, items=200, seed=11)
    write_marketplace(cfg, tmp_path / "a")
    write_marketplace(cfg, tmp_path / "b")
    write_marketplace(SynthConfig(users=300, items=200, seed=12), tmp_path / "c")
    assert _digest(tmp_path / "a") == _digest(tmp_path / "b")
    assert _digest(tmp_path / "a") != _digest(tmp_path / "c")


def test_frames_satisfy_the_contract() -> None:
    market = synthesize(SynthConfig(users=400, items=250, seed=1))
    for kind, frame in market.contract_frames().items():
        validate(frame, kind, kind)
    assert market.items["category"].str.count_matches(" > ").min() >= 1
    assert market.interactions["item_id"].is_in(market.items["item_id"].implode()).all()


def test_interactions_follow_latent_preferences() -> None:
    market = synthesize(SynthConfig(users=2000, items=600, seed=2))
    root = market.items.select("item_id", pl.col("category").str.split(" > ").list.first())
    events = market.interactions.join(root, on="item_id").rename({"category": "root"})
    top = (
        market.preferences.unpivot(index="user_id", variable_name="root", value_name="w")
        .filter(pl.col("root").str.starts_with("pref:"))
        .with_columns(pl.col("root").str.strip_prefix("pref:"))
        .sort("w", descending=True)
        .group_by("user_id", maintain_order=True)
        .first()
    )
    share = events.join(top, on="user_id").select((pl.col("root") == pl.col("root_right")).mean())
    # Seven roots: taste-blind choice would put about 1/7 of events in the top root.
    assert share.item() > 0.5


def test_ground_truth_is_apart(tmp_path: Path) -> None:
    write_marketplace(SynthConfig(users=20, items=40), tmp_path)
    assert (tmp_path / GROUND_TRUTH_DIR / PREFERENCES_FILE).is_file()
    top_level = {p.name for p in tmp_path.iterdir() if p.is_file()}
    assert top_level == {f"{k}.parquet" for k in ("items", "users", "interactions", "promotions")}
