"""Off-policy evaluation: the value of an evaluation policy pi_e from logs of pi_b.

Notation (as in obp): the log is D = {(x_t, a_t, k_t, r_t, p_t)}_{t=1..T} with context x_t,
action a_t shown at position k_t, reward r_t and propensity p_t = pi_b(a_t | x_t, k_t).
``action_dist[t, a, k]`` is pi_e(a | x_t, k), shape ``(T, n_actions, len_list)``.
E_D[.] is the empirical mean over the T rounds, w_t = pi_e(a_t | x_t, k_t) / p_t the importance
weight, q(x, a, k) = E[r | x, a, k] and q_hat its estimate.

Every estimator is a ratio of per-round sums, V_hat = sum_t n_t / sum_t d_t (d_t = 1 except for
the self-normalised one), so the bootstrap resamples rounds and recomputes the whole ratio.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np
from sklearn.base import BaseEstimator, clone, is_classifier
from sklearn.linear_model import LogisticRegressionCV, RidgeCV
from sklearn.model_selection import KFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from subjectline.errors import SubjectlineError
from subjectline.simulate.feedback import LoggedFeedback

ALPHA = 0.05
N_BOOTSTRAP = 2000
# Bootstrap resamples are drawn in blocks of at most this many indices (about 32 MB of int64).
_BOOTSTRAP_BLOCK = 4_000_000


@dataclass(frozen=True)
class PolicyValue:
    """A policy-value estimate with its bootstrap (percentile) confidence interval."""

    value: float
    ci95: tuple[float, float]

    def contains(self, value: float) -> bool:
        return self.ci95[0] <= value <= self.ci95[1]

    def overlaps(self, other: PolicyValue) -> bool:
        return self.ci95[0] <= other.ci95[1] and other.ci95[0] <= self.ci95[1]

    def to_dict(self) -> dict[str, float | list[float]]:
        return {"value": self.value, "ci95": [self.ci95[0], self.ci95[1]]}


def bootstrap_ratio(
    numerator: np.ndarray,
    denominator: np.ndarray | None = None,
    *,
    n_bootstrap: int = N_BOOTSTRAP,
    alpha: float = ALPHA,
    seed: int = 0,
) -> PolicyValue:
    """sum(numerator) / sum(denominator) (the mean when ``denominator`` is None) with a
    nonparametric percentile bootstrap interval: rounds are resampled with replacement,
    ``n_bootstrap`` times, vectorised in blocks, seeded."""
    numerator = np.asarray(numerator, dtype=np.float64)
    n = numerator.shape[0]
    if n == 0:
        raise SubjectlineError("cannot estimate a policy value from zero rounds")
    den = None if denominator is None else np.asarray(denominator, dtype=np.float64)
    value = float(numerator.sum() / (n if den is None else den.sum()))
    rng = np.random.default_rng(seed)
    block = max(1, _BOOTSTRAP_BLOCK // n)
    stats = np.empty(n_bootstrap)
    for start in range(0, n_bootstrap, block):
        stop = min(n_bootstrap, start + block)
        idx = rng.integers(0, n, size=(stop - start, n))
        num = numerator[idx].sum(axis=1)
        if den is None:
            stats[start:stop] = num / n
        else:
            total = den[idx].sum(axis=1)
            with np.errstate(invalid="ignore", divide="ignore"):
                stats[start:stop] = np.where(total > 0, num / total, np.nan)
    low, high = np.nanquantile(stats, [alpha / 2, 1 - alpha / 2])
    return PolicyValue(value=value, ci95=(float(low), float(high)))


def on_policy_value(
    feedback: LoggedFeedback, *, n_bootstrap: int = N_BOOTSTRAP, seed: int = 0
) -> PolicyValue:
    """The value of the logging policy itself: V = E_D[r_t], with a bootstrap interval."""
    return bootstrap_ratio(feedback.reward, n_bootstrap=n_bootstrap, seed=seed)


def check_action_dist(feedback: LoggedFeedback, action_dist: np.ndarray) -> np.ndarray:
    """Validate pi_e's ``(n_rounds, n_actions, len_list)`` distribution against the log."""
    action_dist = np.asarray(action_dist, dtype=np.float64)
    expected = (feedback.n_rounds, feedback.n_actions)
    if action_dist.ndim != 3 or action_dist.shape[:2] != expected:
        raise SubjectlineError(
            f"action_dist must have shape (n_rounds, n_actions, len_list) with"
            f" (n_rounds, n_actions) = {expected}, got {action_dist.shape}"
        )
    if action_dist.shape[2] < feedback.len_list:
        raise SubjectlineError(
            f"action_dist has len_list={action_dist.shape[2]} but the log has positions up to"
            f" {feedback.len_list - 1}"
        )
    if (action_dist < 0).any() or not np.allclose(action_dist.sum(axis=1), 1.0, atol=1e-6):
        raise SubjectlineError("action_dist must be a distribution over actions per position")
    return action_dist


def importance_weights(feedback: LoggedFeedback, action_dist: np.ndarray) -> np.ndarray:
    """w_t = pi_e(a_t | x_t, k_t) / pi_b(a_t | x_t, k_t)."""
    rounds = np.arange(feedback.n_rounds)
    return action_dist[rounds, feedback.action, feedback.positions()] / feedback.pscore


def _policy_expectation(
    feedback: LoggedFeedback, action_dist: np.ndarray, q_hat: np.ndarray
) -> np.ndarray:
    """q_hat(x_t, pi_e) = sum_a pi_e(a | x_t, k_t) q_hat(x_t, a, k_t), per round."""
    rounds = np.arange(feedback.n_rounds)
    position = feedback.positions()
    pi = action_dist[rounds, :, position]
    q = q_hat[rounds, :, position]
    return np.einsum("ta,ta->t", pi, q)


class OffPolicyEstimator(ABC):
    """Base class: per-round terms, a point estimate and a bootstrap interval."""

    name: ClassVar[str]
    needs_reward_model: ClassVar[bool] = False

    @abstractmethod
    def terms(
        self, feedback: LoggedFeedback, action_dist: np.ndarray, q_hat: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """Per-round numerator and denominator (None means 1) of the estimator's ratio."""

    def estimate(
        self,
        feedback: LoggedFeedback,
        action_dist: np.ndarray,
        q_hat: np.ndarray | None = None,
        *,
        n_bootstrap: int = N_BOOTSTRAP,
        alpha: float = ALPHA,
        seed: int = 0,
    ) -> PolicyValue:
        """V_hat(pi_e; D) with a (1 - alpha) percentile-bootstrap interval over rounds.

        ``q_hat`` (shape ``(n_rounds, n_actions, len_list)``) is held fixed across resamples,
        as obp does; cross-fitting (:class:`RewardModel`) keeps it from overfitting the log.
        """
        action_dist = check_action_dist(feedback, action_dist)
        if self.needs_reward_model:
            if q_hat is None:
                raise SubjectlineError(f"{self.name} needs q_hat from a reward model")
            if np.shape(q_hat) != action_dist.shape:
                raise SubjectlineError(
                    f"q_hat must have the shape of action_dist {action_dist.shape},"
                    f" got {np.shape(q_hat)}"
                )
        numerator, denominator = self.terms(feedback, action_dist, q_hat)
        return bootstrap_ratio(
            numerator, denominator, n_bootstrap=n_bootstrap, alpha=alpha, seed=seed
        )


class InverseProbabilityWeighting(OffPolicyEstimator):
    """Inverse propensity scoring (IPS).

    .. math::  V_IPS(pi_e; D) = E_D[ w_t r_t ],   w_t = pi_e(a_t | x_t, k_t) / pi_b(a_t | x_t, k_t)

    Unbiased when the propensities are the true logging probabilities and pi_b covers every
    action pi_e takes; high variance when pi_e concentrates where pi_b rarely goes.
    Reference: Strehl et al., "Learning from Logged Implicit Exploration Data", 2010.
    """

    name = "ips"

    def terms(
        self, feedback: LoggedFeedback, action_dist: np.ndarray, q_hat: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray | None]:
        return importance_weights(feedback, action_dist) * feedback.reward, None


class SelfNormalizedIPS(OffPolicyEstimator):
    """Self-normalised inverse propensity scoring (SNIPS).

    .. math::  V_SNIPS(pi_e; D) = E_D[ w_t r_t ] / E_D[ w_t ]

    Biased (consistent) but bounded by the reward range and usually much less variable than
    IPS. The bootstrap resamples numerator and denominator together.
    Reference: Swaminathan & Joachims, "The Self-Normalized Estimator for Counterfactual
    Learning", 2015.
    """

    name = "snips"

    def terms(
        self, feedback: LoggedFeedback, action_dist: np.ndarray, q_hat: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray | None]:
        weights = importance_weights(feedback, action_dist)
        return weights * feedback.reward, weights


class DirectMethod(OffPolicyEstimator):
    """Direct method (DM), for reference.

    .. math::  V_DM(pi_e; D, q_hat) = E_D[ sum_a pi_e(a | x_t, k_t) q_hat(x_t, a, k_t) ]

    Low variance, but biased by however wrong the reward model is.
    Reference: Beygelzimer & Langford, "The Offset Tree for Learning with Partial Labels", 2009.
    """

    name = "dm"
    needs_reward_model = True

    def terms(
        self, feedback: LoggedFeedback, action_dist: np.ndarray, q_hat: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray | None]:
        assert q_hat is not None
        return _policy_expectation(feedback, action_dist, q_hat), None


class DoublyRobust(OffPolicyEstimator):
    """Doubly robust (DR).

    .. math::  V_DR(pi_e; D, q_hat) = E_D[ q_hat(x_t, pi_e) + w_t (r_t - q_hat(x_t, a_t, k_t)) ]

    where q_hat(x_t, pi_e) = sum_a pi_e(a | x_t, k_t) q_hat(x_t, a, k_t). The reward model is
    a control variate for IPS: unbiased if the propensities are right, whatever q_hat is, and
    lower variance the better q_hat is (exact, with zero variance from the correction, when
    q_hat = r). q_hat must be cross-fitted (predicted for each round by a model that did not
    see it), or its overfitting leaks into the correction term.
    Reference: Dudík, Erhan, Langford & Li, "Doubly Robust Policy Evaluation and
    Optimization", 2014; cross-fitting: Narita, Yasui & Yata, 2020.
    """

    name = "dr"
    needs_reward_model = True

    def terms(
        self, feedback: LoggedFeedback, action_dist: np.ndarray, q_hat: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray | None]:
        assert q_hat is not None
        rounds = np.arange(feedback.n_rounds)
        q_logged = q_hat[rounds, feedback.action, feedback.positions()]
        correction = importance_weights(feedback, action_dist) * (feedback.reward - q_logged)
        return _policy_expectation(feedback, action_dist, q_hat) + correction, None


ESTIMATORS: dict[str, OffPolicyEstimator] = {
    e.name: e
    for e in (InverseProbabilityWeighting(), SelfNormalizedIPS(), DoublyRobust(), DirectMethod())
}


def _default_model(binary: bool) -> BaseEstimator:
    """L2 logistic regression (ridge for non-binary rewards) on standardised features,
    its strength chosen by 3-fold cross-validated log loss (squared error) on the training
    folds only."""
    if binary:
        head: BaseEstimator = LogisticRegressionCV(
            Cs=np.logspace(-4, 0, 5),
            l1_ratios=(0.0,),
            cv=3,
            scoring="neg_log_loss",
            max_iter=2000,
            use_legacy_attributes=False,
        )
    else:
        head = RidgeCV(alphas=np.logspace(-2, 3, 6))
    return make_pipeline(StandardScaler(), head)


@dataclass
class RewardModel:
    """q_hat(x, a, k) = E[r | x, a, k], learnt from the log and cross-fitted.

    Features of a round are ``[context, one-hot(action), action_context[action],
    one-hot(position)]``. With ``n_folds`` > 1 the rounds are split into folds and each
    fold's q_hat comes from a model fitted on the other folds, so DR's correction term
    never sees a prediction fitted to its own reward. ``base_model`` is any scikit-learn
    estimator (a classifier's ``predict_proba[:, 1]`` is used); the default depends on
    whether rewards are binary (see :func:`_default_model`).
    """

    base_model: BaseEstimator | None = None
    n_folds: int = 3
    seed: int = 0
    fold_models: list[BaseEstimator] = field(default_factory=list, init=False, repr=False)

    def fit_predict(self, feedback: LoggedFeedback, len_list: int | None = None) -> np.ndarray:
        """q_hat for every round, action and position: ``(n_rounds, n_actions, len_list)``."""
        len_list = feedback.len_list if len_list is None else len_list
        binary = bool(np.isin(feedback.reward, (0.0, 1.0)).all())
        template = _default_model(binary) if self.base_model is None else self.base_model
        q_hat = np.empty((feedback.n_rounds, feedback.n_actions, len_list))
        self.fold_models = []
        if self.n_folds <= 1:
            splits = [(np.arange(feedback.n_rounds), np.arange(feedback.n_rounds))]
        else:
            folds = KFold(n_splits=self.n_folds, shuffle=True, random_state=self.seed)
            splits = list(folds.split(feedback.context))
        # Many small dense fits: multi-threaded BLAS only adds overhead (5-10x slower on 2 cores).
        with threadpool_limits(limits=1, user_api="blas"):
            for train, test in splits:
                model = self._fit(template, feedback, train, len_list)
                self.fold_models.append(model)
                self._predict_into(q_hat, test, model, feedback, len_list)
        return q_hat

    def _design(
        self, feedback: LoggedFeedback, rows: np.ndarray, len_list: int
    ) -> tuple[np.ndarray, slice, slice]:
        """Design matrix for ``rows`` with the logged action/position, plus the column
        ranges of the action and position blocks so prediction can swap them."""
        n_actions = feedback.n_actions
        extra = 0 if feedback.action_context is None else feedback.action_context.shape[1]
        d = feedback.dim_context
        x = np.zeros((rows.shape[0], d + n_actions + extra + len_list))
        x[:, :d] = feedback.context[rows]
        action_block = slice(d, d + n_actions + extra)
        position_block = slice(d + n_actions + extra, x.shape[1])
        self._set_action(x, action_block, feedback, feedback.action[rows])
        x[np.arange(rows.shape[0]), position_block.start + feedback.positions()[rows]] = 1.0
        return x, action_block, position_block

    @staticmethod
    def _set_action(
        x: np.ndarray, block: slice, feedback: LoggedFeedback, action: np.ndarray
    ) -> None:
        x[:, block] = 0.0
        x[np.arange(x.shape[0]), block.start + action] = 1.0
        if feedback.action_context is not None:
            x[:, block.start + feedback.n_actions : block.stop] = feedback.action_context[action]

    def _fit(
        self,
        template: BaseEstimator,
        feedback: LoggedFeedback,
        train: np.ndarray,
        len_list: int,
    ) -> BaseEstimator:
        x, _, _ = self._design(feedback, train, len_list)
        y = feedback.reward[train]
        if np.unique(y).shape[0] < 2:
            return _Constant(float(y.mean()))  # e.g. a fold without a single click
        model = clone(template)
        return model.fit(x, y.astype(int) if is_classifier(model) else y)

    def _predict_into(
        self,
        q_hat: np.ndarray,
        test: np.ndarray,
        model: BaseEstimator,
        feedback: LoggedFeedback,
        len_list: int,
    ) -> None:
        x, action_block, position_block = self._design(feedback, test, len_list)
        for action in range(feedback.n_actions):
            self._set_action(x, action_block, feedback, np.full(test.shape[0], action))
            for position in range(len_list):
                x[:, position_block] = 0.0
                x[:, position_block.start + position] = 1.0
                q_hat[test, action, position] = _predict(model, x)


class _Constant(BaseEstimator):
    def __init__(self, value: float):
        self.value = value

    def predict(self, x: np.ndarray) -> np.ndarray:
        return np.full(x.shape[0], self.value)


def _predict(model: BaseEstimator, x: np.ndarray) -> np.ndarray:
    if is_classifier(model):
        return np.asarray(model.predict_proba(x)[:, 1])
    return np.asarray(model.predict(x), dtype=np.float64)


def estimate_policy_value(
    feedback: LoggedFeedback,
    action_dist: np.ndarray,
    estimators: tuple[str, ...] = ("ips", "snips", "dr"),
    *,
    reward_model: RewardModel | None = None,
    q_hat: np.ndarray | None = None,
    n_bootstrap: int = N_BOOTSTRAP,
    seed: int = 0,
) -> dict[str, PolicyValue]:
    """Run the named estimators on one log; fits ``reward_model`` (default
    :class:`RewardModel`) once if an estimator needs q_hat and none is given."""
    unknown = [name for name in estimators if name not in ESTIMATORS]
    if unknown:
        raise SubjectlineError(f"unknown estimator(s) {unknown}; known: {sorted(ESTIMATORS)}")
    action_dist = check_action_dist(feedback, action_dist)
    if q_hat is None and any(ESTIMATORS[name].needs_reward_model for name in estimators):
        model = reward_model or RewardModel(seed=seed)
        q_hat = model.fit_predict(feedback, len_list=action_dist.shape[2])
    return {
        name: ESTIMATORS[name].estimate(
            feedback, action_dist, q_hat, n_bootstrap=n_bootstrap, seed=seed
        )
        for name in estimators
    }
