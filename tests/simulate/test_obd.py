from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from scipy import integrate, stats
from typer.testing import CliRunner

from subjectline.assets import open_bandit_dir
from subjectline.cli import app
from subjectline.errors import DataError
from subjectline.simulate.obd import (
    CAMPAIGNS,
    LEN_LIST,
    _parse_prior_yaml,
    bernoulli_ts_action_dist,
    load_open_bandit,
    read_bts_prior,
)

N_ITEMS = {"all": 80, "men": 34, "women": 46}
runner = CliRunner()


@pytest.mark.parametrize("campaign", CAMPAIGNS)
def test_reader_shapes_and_contexts_line_up(campaign: str) -> None:
    random_log = load_open_bandit("random", campaign)
    bts_log = load_open_bandit("bts", campaign)
    for log in (random_log, bts_log):
        fb = log.feedback
        assert fb.n_rounds == 10_000
        assert fb.n_actions == N_ITEMS[campaign]
        assert set(np.unique(fb.position)) == {0, 1, 2}
        assert fb.len_list == LEN_LIST
        assert fb.context.shape == (10_000, len(log.context_columns))
        assert fb.action_context is not None and fb.action_context.shape[0] == fb.n_actions
        assert set(np.unique(fb.reward)) <= {0.0, 1.0}
        assert (np.diff(log.timestamp) >= np.timedelta64(0)).all()
    # Same one-hot vocabulary for both policies; random logs are uniform over the items.
    assert random_log.context_columns == bts_log.context_columns
    np.testing.assert_allclose(random_log.feedback.pscore, 1 / N_ITEMS[campaign])
    assert bts_log.feedback.pscore.std() > 0


def test_reader_rejects_unknown_names() -> None:
    with pytest.raises(DataError, match="campaign"):
        load_open_bandit("random", "kids")
    with pytest.raises(DataError, match="behaviour policy"):
        load_open_bandit("egreedy", "all")


def test_reader_takes_a_directory_and_names_missing_columns(tmp_path: Path) -> None:
    source = open_bandit_dir() / "random" / "men"
    target = tmp_path / "random" / "men"
    shutil.copytree(source, target)  # only one policy: the vocabulary comes from it alone
    assert load_open_bandit("random", "men", data_dir=tmp_path).feedback.n_rounds == 10_000
    log = pl.read_csv(target / "men.csv")
    log.drop("click").write_csv(target / "men.csv")
    with pytest.raises(DataError, match="click"):
        load_open_bandit("random", "men", data_dir=tmp_path)


@pytest.mark.parametrize("campaign", CAMPAIGNS)
def test_production_prior_has_one_beta_per_item(campaign: str) -> None:
    alpha, beta = read_bts_prior(campaign)
    assert alpha.shape == beta.shape == (N_ITEMS[campaign],)
    assert (alpha > 0).all() and (beta > alpha).all()  # click rates well below one half


def test_prior_reader_refuses_unknown_layout() -> None:
    good = "all:\n  alpha:\n    - 1.0\n  beta:\n    - 2.0\n"
    assert _parse_prior_yaml(good) == {"all": {"alpha": [1.0], "beta": [2.0]}}
    with pytest.raises(DataError) as info:
        _parse_prior_yaml(good + "  gamma: 3\n")
    assert info.value.row == 6


def test_thompson_sampling_matches_the_exact_two_arm_probability() -> None:
    alpha, beta = np.array([30.0, 20.0]), np.array([970.0, 780.0])
    dist = bernoulli_ts_action_dist(alpha, beta, len_list=2, n_sim=200_000, seed=1)
    np.testing.assert_allclose(dist.sum(axis=0), 1.0)
    # P(theta_0 > theta_1) = integral of f_0(t) F_1(t) dt.
    exact, _ = integrate.quad(
        lambda t: stats.beta.pdf(t, alpha[0], beta[0]) * stats.beta.cdf(t, alpha[1], beta[1]),
        0,
        0.1,
        points=[0.03],
    )
    se = np.sqrt(exact * (1 - exact) / 200_000)
    assert abs(dist[0, 0] - exact) < 4 * se
    assert dist[1, 1] == pytest.approx(dist[0, 0])  # the other arm fills slot 2
    assert bernoulli_ts_action_dist(alpha, beta, 2, 1_000, seed=3).tolist() == (
        bernoulli_ts_action_dist(alpha, beta, 2, 1_000, seed=3).tolist()
    )


def test_thompson_sampling_slates_have_distinct_items() -> None:
    alpha, beta = read_bts_prior("men")
    dist = bernoulli_ts_action_dist(alpha, beta, n_sim=20_000, seed=0)
    assert dist.shape == (N_ITEMS["men"], LEN_LIST)
    np.testing.assert_allclose(dist.sum(axis=0), 1.0)
    # Each item appears at most once per slate, so its total share is at most 1.
    assert (dist.sum(axis=1) <= 1.0 + 1e-12).all()
    # The production prior concentrates on a few items: far from uniform.
    assert dist.max() > 5 / N_ITEMS["men"]


def _bench(*options: str) -> dict:
    result = runner.invoke(app, ["bench", "ope", "--dataset", "obd", "--json", *options])
    assert result.exit_code == 0, result.output
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    assert len(lines) == 1  # exactly one JSON object on stdout
    return json.loads(lines[0])


def _check_report(report: dict) -> None:
    assert list(report) == ["campaigns"]
    assert list(report["campaigns"]) == list(CAMPAIGNS)
    for campaign, block in report["campaigns"].items():
        assert set(block) == {"on_policy", "estimates", "relative_error"}
        assert set(block["estimates"]) == set(block["relative_error"]) == {"ips", "snips", "dr"}
        truth = block["on_policy"]
        low, high = truth["ci95"]
        assert low <= truth["value"] <= high
        for name, est in block["estimates"].items():
            assert set(est) == {"value", "ci95"}
            assert est["ci95"][0] <= est["value"] <= est["ci95"][1]
            expected = abs(est["value"] - truth["value"]) / truth["value"]
            assert block["relative_error"][name] == pytest.approx(expected)
        dr_low, dr_high = block["estimates"]["dr"]["ci95"]
        assert dr_low <= high and low <= dr_high, f"{campaign}: DR misses the on-policy interval"


def test_bench_ope_json_and_overlap_quick() -> None:
    _check_report(_bench("--n-sim", "20000", "--n-bootstrap", "300", "--folds", "2"))


@pytest.mark.slow
def test_bench_ope_json_and_overlap_defaults() -> None:
    _check_report(_bench())


def test_bench_ope_rejects_unknown_dataset() -> None:
    result = runner.invoke(app, ["bench", "ope", "--dataset", "movielens", "--json"])
    assert result.exit_code != 0
