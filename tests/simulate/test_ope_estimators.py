from __future__ import annotations

import numpy as np
import pytest

from subjectline.errors import SubjectlineError
from subjectline.simulate.feedback import LoggedFeedback
from subjectline.simulate.ope import (
    ESTIMATORS,
    DoublyRobust,
    InverseProbabilityWeighting,
    RewardModel,
    bootstrap_ratio,
    check_action_dist,
    estimate_policy_value,
    on_policy_value,
)

from .synthetic import SyntheticBandit

PROBLEM = SyntheticBandit()


@pytest.fixture(scope="module")
def truth() -> float:
    return PROBLEM.true_value()


@pytest.mark.parametrize("len_list", [1, 2])
def test_ips_snips_dr_intervals_cover_the_true_value(len_list: int) -> None:
    problem = SyntheticBandit(len_list=len_list)
    truth = problem.true_value()
    feedback, action_dist, _ = problem.sample(20_000, seed=1)
    behaviour_value = float(feedback.reward.mean())
    estimates = estimate_policy_value(feedback, action_dist, ("ips", "snips", "dr", "dm"))
    for name in ("ips", "snips", "dr"):
        assert estimates[name].contains(truth), (name, estimates[name], truth)
    # The check has teeth: pi_e is worth clearly more than pi_b, and the naive mean misses it.
    assert not estimates["dr"].contains(behaviour_value)
    assert estimates["dm"].value > 0  # reference only: its model is misspecified here


def test_ips_is_unbiased_over_replications(truth: float) -> None:
    ips = InverseProbabilityWeighting()
    values = []
    for seed in range(300):
        feedback, action_dist, _ = PROBLEM.sample(1_000, seed=100 + seed)
        numerator, _ = ips.terms(feedback, action_dist, None)
        values.append(numerator.mean())
    mean, se = np.mean(values), np.std(values, ddof=1) / np.sqrt(len(values))
    assert abs(mean - truth) < 3 * se


def test_dr_is_exact_with_a_perfect_reward_model() -> None:
    feedback, action_dist, q = PROBLEM.sample(5_000, seed=3, noisy=False)
    sample_value = (action_dist[:, :, 0] * q[:, :, 0]).sum(axis=1).mean()
    dr = DoublyRobust().estimate(feedback, action_dist, q)
    ips = InverseProbabilityWeighting().estimate(feedback, action_dist)
    assert dr.value == pytest.approx(sample_value, rel=1e-12)
    assert abs(ips.value - sample_value) > 1e-6  # IPS only gets there on average


def test_a_good_reward_model_narrows_dr_against_ips() -> None:
    feedback, action_dist, q = PROBLEM.sample(20_000, seed=4)
    dr = DoublyRobust().estimate(feedback, action_dist, q)
    ips = InverseProbabilityWeighting().estimate(feedback, action_dist)
    # With the true q only the Bernoulli noise is left in DR's correction term (measured
    # ratio about 0.87 here); IPS also carries the spread of w_t * q.
    assert dr.ci95[1] - dr.ci95[0] < 0.95 * (ips.ci95[1] - ips.ci95[0])


def test_reward_model_is_cross_fitted_and_beats_the_base_rate() -> None:
    feedback, _, q = PROBLEM.sample(6_000, seed=5)
    model = RewardModel(n_folds=3, seed=0)
    q_hat = model.fit_predict(feedback)
    assert q_hat.shape == (feedback.n_rounds, feedback.n_actions, 1)
    assert len(model.fold_models) == 3
    rows = np.arange(feedback.n_rounds)
    logged = np.clip(q_hat[rows, feedback.action, 0], 1e-9, 1 - 1e-9)
    r = feedback.reward
    log_loss = -np.mean(r * np.log(logged) + (1 - r) * np.log(1 - logged))
    base = r.mean()
    base_loss = -np.mean(r * np.log(base) + (1 - r) * np.log(1 - base))
    assert log_loss < base_loss
    assert np.corrcoef(q_hat.ravel(), q.ravel())[0, 1] > 0.5


@pytest.mark.filterwarnings("ignore:The least populated class")
def test_reward_model_survives_a_fold_without_positive_rewards() -> None:
    feedback, _, _ = PROBLEM.sample(300, seed=6)
    rewards = np.zeros(feedback.n_rounds)
    rewards[0] = 1.0  # one click: some training folds have none
    sparse = LoggedFeedback(
        n_rounds=feedback.n_rounds,
        n_actions=feedback.n_actions,
        context=feedback.context,
        action=feedback.action,
        reward=rewards,
        pscore=feedback.pscore,
    )
    q_hat = RewardModel(n_folds=3).fit_predict(sparse)
    assert np.isfinite(q_hat).all()
    assert ((q_hat >= 0) & (q_hat <= 1)).all()


def test_bootstrap_is_seeded_and_matches_the_normal_interval() -> None:
    values = np.random.default_rng(0).normal(loc=1.0, scale=2.0, size=4_000)
    first = bootstrap_ratio(values, seed=7)
    assert first == bootstrap_ratio(values, seed=7)
    assert first != bootstrap_ratio(values, seed=8)
    half_width = 1.96 * values.std(ddof=1) / np.sqrt(values.size)
    assert (first.ci95[1] - first.ci95[0]) / 2 == pytest.approx(half_width, rel=0.1)
    assert first.value == pytest.approx(values.mean())


def test_ratio_bootstrap_and_on_policy_value() -> None:
    feedback, _, _ = PROBLEM.sample(2_000, seed=8)
    on_policy = on_policy_value(feedback)
    assert on_policy.value == pytest.approx(feedback.reward.mean())
    assert on_policy.ci95[0] < on_policy.value < on_policy.ci95[1]
    ratio = bootstrap_ratio(feedback.reward, np.full(feedback.n_rounds, 2.0))
    assert ratio.value == pytest.approx(feedback.reward.mean() / 2)


def test_action_dist_and_q_hat_are_checked() -> None:
    feedback, action_dist, q = PROBLEM.sample(100, seed=9)
    with pytest.raises(SubjectlineError, match="shape"):
        check_action_dist(feedback, action_dist[:50])
    with pytest.raises(SubjectlineError, match="distribution"):
        check_action_dist(feedback, action_dist * 2)
    with pytest.raises(SubjectlineError, match="q_hat"):
        DoublyRobust().estimate(feedback, action_dist)
    with pytest.raises(SubjectlineError, match="q_hat"):
        DoublyRobust().estimate(feedback, action_dist, q[:, :2])
    with pytest.raises(SubjectlineError, match="unknown estimator"):
        estimate_policy_value(feedback, action_dist, ("ipw",))
    positioned, slate_dist, _ = SyntheticBandit(len_list=2).sample(100, seed=9)
    with pytest.raises(SubjectlineError, match="len_list"):
        check_action_dist(positioned, slate_dist[:, :, :1])
    assert set(ESTIMATORS) == {"ips", "snips", "dr", "dm"}
