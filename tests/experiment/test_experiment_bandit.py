"""Thompson sampling: posterior updates, the exploration floor, holdout kept, persistence."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from subjectline.experiment.assignment import assign
from subjectline.experiment.bandit import ThemeBandit, ThompsonSampler
from subjectline.experiment.definition import Arm, Experiment
from subjectline.workspace import Workspace


def test_batch_update_is_beta_bernoulli() -> None:
    sampler = ThompsonSampler(["a", "b"], floor=0.0)
    sampler.update([100, 50], [10, 1])
    sampler.update([100, 0], [5, 0])
    assert sampler.alpha.tolist() == [16.0, 2.0]
    assert sampler.beta.tolist() == [186.0, 50.0]
    with pytest.raises(ValueError):
        sampler.update([10, 10], [11, 0])


def test_floor_keeps_exploring_and_shares_sum_to_one() -> None:
    sampler = ThompsonSampler(["a", "b", "c"], floor=0.05)
    sampler.update([100_000, 100_000, 100_000], [3_000, 2_000, 2_000])
    shares = sampler.allocation()
    assert sum(shares.values()) == pytest.approx(1.0)
    assert shares["b"] == pytest.approx(0.05, abs=1e-3) and shares["c"] >= 0.05
    assert shares["a"] == pytest.approx(0.90, abs=1e-3)
    with pytest.raises(ValueError):
        ThompsonSampler(["a", "b", "c"], floor=0.4)


def test_batches_move_traffic_to_the_best_variant() -> None:
    true_ctr = {"t1": 0.020, "t2": 0.026, "t3": 0.021}
    bandit = ThemeBandit({"shoes": list(true_ctr)}, floor=0.05, seed=1)
    rng = np.random.default_rng(0)
    users = pl.DataFrame({"user_id": np.arange(20_000), "theme": "shoes"})
    for day in range(8):
        arms = bandit.assign(users, batch=f"day-{day}")
        counts = arms.group_by("arm").len()
        sends = dict(counts.iter_rows())
        outcomes = pl.DataFrame(
            {
                "theme": "shoes",
                "variant": list(sends),
                "sends": list(sends.values()),
                "successes": [rng.binomial(n, true_ctr[v]) for v, n in sends.items()],
            }
        )
        bandit.update(outcomes)
    final = bandit.samplers["shoes"].allocation()
    assert final["t2"] > 0.6
    assert min(final.values()) >= 0.05 - 1e-12


def test_assignment_keeps_the_holdout_and_is_deterministic() -> None:
    users = pl.DataFrame({"user_id": np.arange(30_000), "theme": ["a", "b", "c"] * 10_000})
    bandit = ThemeBandit({"a": ["x", "y"], "b": ["x", "z"], "c": ["w"]}, holdout_share=0.05)
    first = bandit.assign(users, batch="1").sort("user_id")
    again = bandit.assign(users, batch="1").sort("user_id")
    assert first.equals(again)
    experiment = Experiment(
        id="e",
        arms=[Arm(name="template", share=0.5), Arm(name="llm", share=0.5)],
        control="template",
        holdout_share=0.05,
    )
    held = assign(experiment, users).filter(pl.col("arm") == "holdout")["user_id"].sort()
    assert first.filter(pl.col("arm") == "holdout")["user_id"].sort().equals(held)
    others = first.filter(pl.col("arm") != "holdout")
    allowed = {"a": {"x", "y"}, "b": {"x", "z"}, "c": {"w"}}
    assert all(arm in allowed[theme] for theme, arm in others.select("theme", "arm").iter_rows())
    share_x = others.filter(pl.col("theme") == "a")["arm"].eq("x").mean()
    assert share_x == pytest.approx(0.5, abs=0.03)


def test_state_roundtrip(tmp_path) -> None:
    bandit = ThemeBandit({"a": ["x", "y"], "b": ["z"]})
    bandit.update(
        pl.DataFrame(
            {"theme": ["a", "a"], "variant": ["x", "y"], "sends": [10, 20], "successes": [1, 5]}
        )
    )
    bandit.save(Workspace(tmp_path), "b1")
    loaded = ThemeBandit.load(Workspace(tmp_path), "b1")
    assert loaded.samplers["a"].posterior_means() == bandit.samplers["a"].posterior_means()
    assert loaded.samplers["a"].variants == ["x", "y"]
