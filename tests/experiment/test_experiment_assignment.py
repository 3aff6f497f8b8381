"""Hash assignment: proportions, stability across machines/versions, independence."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from scipy import stats

from subjectline.experiment.assignment import HOLDOUT_SALT, assign, log_exposures, unit_hash
from subjectline.experiment.definition import (
    Arm,
    Experiment,
    list_experiments,
    load_experiment,
    save_experiment,
)
from subjectline.workspace import Workspace

USERS = pl.DataFrame({"user_id": np.arange(200_000)})


def _experiment(exp_id: str = "exp-1", holdout: float = 0.05, **kw) -> Experiment:
    arms = [
        Arm(name="template", share=0.5),
        Arm(name="llm", share=0.3),
        Arm(name="llm2", share=0.2),
    ]
    return Experiment(id=exp_id, arms=arms, control="template", holdout_share=holdout, **kw)


def test_split_matches_shares_chi_square() -> None:
    experiment = _experiment()
    counts = assign(experiment, USERS)["arm"].value_counts()
    shares = experiment.expected_shares(include_holdout=True)
    observed = [counts.filter(pl.col("arm") == a)["count"].item() for a in shares]
    expected = [s * USERS.height for s in shares.values()]
    assert stats.chisquare(observed, expected).pvalue > 0.001


def test_bucket_is_sha256_and_pinned() -> None:
    """The same numbers as hashlib (hence any machine and version); pinned values."""
    experiment = _experiment(holdout=0.0, salt="s1")
    sample = pl.DataFrame({"user_id": ["u1", "u2", "alice", "42"]})
    got = assign(experiment, sample)
    reference = unit_hash([f"exp-1:s1:{u}" for u in sample["user_id"]])
    assert got["bucket"].to_numpy() == pytest.approx(reference, abs=0)
    assert unit_hash(["exp-1:s1:u1"])[0] == pytest.approx(0.564268549671062, abs=1e-15)
    assert got["arm"].to_list() == assign(experiment, sample)["arm"].to_list()


def test_integer_and_string_ids_hash_alike() -> None:
    experiment = _experiment()
    as_int = assign(experiment, USERS.head(1000))
    as_str = assign(experiment, USERS.head(1000).with_columns(pl.col("user_id").cast(pl.String)))
    assert as_int["arm"].to_list() == as_str["arm"].to_list()


def test_experiments_are_independent() -> None:
    first = assign(_experiment("exp-a", holdout=0.0), USERS)
    second = assign(_experiment("exp-b", holdout=0.0), USERS)
    table = pl.DataFrame({"a": first["arm"], "b": second["arm"]}).pivot(
        on="b", index="a", values="a", aggregate_function="len"
    )
    assert stats.chi2_contingency(table.drop("a").to_numpy()).pvalue > 0.001
    assert first["arm"].to_list() != second["arm"].to_list()


def test_global_holdout_is_shared_and_nested() -> None:
    small = assign(_experiment("exp-a", holdout=0.05), USERS)
    large = assign(_experiment("exp-b", holdout=0.10), USERS)
    held_small = set(small.filter(pl.col("arm") == "holdout")["user_id"])
    held_large = set(large.filter(pl.col("arm") == "holdout")["user_id"])
    assert held_small < held_large
    expected = unit_hash([f"{HOLDOUT_SALT}:{u}" for u in range(2000)]) < 0.05
    assert (small.head(2000)["arm"] == "holdout").to_numpy().tolist() == expected.tolist()


def test_definition_roundtrip_and_exposures(tmp_path) -> None:
    ws = Workspace(tmp_path)
    experiment = _experiment(primary_metric="cvr", guardrail_metrics=["unsub_rate", "ctr"])
    save_experiment(ws, experiment)
    assert load_experiment(ws, "exp-1") == experiment
    assert list_experiments(ws)["id"].to_list() == ["exp-1"]
    assignments = assign(experiment, USERS.head(1000))
    assert log_exposures(ws, "exp-1", assignments) == 1000
    assert log_exposures(ws, "exp-1", assign(experiment, USERS.head(1500))) == 500
    with ws.connect(read_only=True) as con:
        rows = con.execute("SELECT count(*), count(DISTINCT arm) FROM exposures").fetchall()
    assert rows == [(1500, 4)]


def test_definition_rejects_bad_shares() -> None:
    with pytest.raises(ValueError, match="sum to 1"):
        Experiment(id="x", arms=[Arm(name="a", share=0.5), Arm(name="b", share=0.4)], control="a")
    with pytest.raises(ValueError, match="control"):
        Experiment(id="x", arms=[Arm(name="a", share=0.5), Arm(name="b", share=0.5)], control="c")
