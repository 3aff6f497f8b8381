"""The Open Bandit Dataset (OBD) sample shipped in the obp 0.4.1 wheel, and the OPE check on it.

ZOZOTOWN's fashion e-commerce site shows 3 recommended items at once (positions 1-3, a
slate). For three campaigns (all items, men's, women's) two behaviour policies were logged:
``random`` (uniform over the campaign's items at every position) and ``bts`` (Bernoulli
Thompson Sampling). The sample has 10,000 rows per (policy, campaign); a row is one item
shown at one position of one impression:

- ``timestamp``; ``item_id`` (0 .. n_items - 1); ``position`` (1, 2, 3); ``click`` (0/1);
- ``propensity_score``: the logging policy's probability of that item at that position
  (1/n_items for random);
- ``user_feature_0..3``: hashed categorical user attributes;
- ``user-item_affinity_<j>``: a numeric user-to-item-j affinity, one column per item.

``item_context.csv`` has ``item_feature_0`` (numeric, standardised) and
``item_feature_1..3`` (hashed categoricals).

The check (issue 5): estimate the value of the BTS policy (with ZOZOTOWN's production prior,
``obp/policy/conf/prior_bts.yaml``) from the random logs, and compare with BTS's on-policy
value, the mean click of its own logs. Nothing of obp is imported: files are read from the
wheel.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from subjectline import assets
from subjectline.errors import AssetError, DataError
from subjectline.progress import StepReporter, no_steps
from subjectline.simulate.feedback import LoggedFeedback
from subjectline.simulate.ope import (
    ESTIMATORS,
    N_BOOTSTRAP,
    PolicyValue,
    RewardModel,
    on_policy_value,
)

CAMPAIGNS = ("all", "men", "women")
BEHAVIOR_POLICIES = ("random", "bts")
LEN_LIST = 3
PRIOR_MEMBER = "obp/policy/conf/prior_bts.yaml"
USER_FEATURES = tuple(f"user_feature_{i}" for i in range(4))
AFFINITY_PREFIX = "user-item_affinity_"
OPE_ESTIMATORS = ("ips", "snips", "dr")
STEPS = (
    "reading logs",
    "Thompson sampling distribution",
    "reward model (cross-fitted)",
    "bootstrap",
)


@dataclass(frozen=True)
class OpenBanditLog:
    """One (behaviour policy, campaign) log as :class:`LoggedFeedback` plus its provenance.

    ``feedback.context`` is ``[one-hot(user_feature_0..3), user-item affinities]``; the one-hot
    vocabulary is the union of both policies' logs of the campaign, so random and bts
    contexts share columns (``context_columns`` names them). ``feedback.action_context`` is
    ``[item_feature_0, one-hot(item_feature_1..3)]``. ``position`` is 0-based.
    """

    behavior_policy: str
    campaign: str
    feedback: LoggedFeedback
    context_columns: tuple[str, ...]
    timestamp: np.ndarray


def _check_campaign(campaign: str) -> None:
    if campaign not in CAMPAIGNS:
        raise DataError("open bandit dataset", f"unknown campaign {campaign!r}; known: {CAMPAIGNS}")


def _log_path(root: Path, behavior_policy: str, campaign: str) -> Path:
    return root / behavior_policy / campaign / f"{campaign}.csv"


def _read_csv(path: Path) -> pl.DataFrame:
    if not path.is_file():
        raise AssetError(f"{path} is missing; run `subjectline assets fetch`")
    # The first, unnamed column is pandas' saved index.
    return pl.read_csv(path).drop("", strict=False)


def _one_hot(
    frame: pl.DataFrame, columns: tuple[str, ...], vocab: dict[str, list[str]]
) -> pl.DataFrame:
    return frame.select(
        (pl.col(c) == value).cast(pl.Float64).alias(f"{c}={value}")
        for c in columns
        for value in vocab[c]
    )


def load_open_bandit(
    behavior_policy: str, campaign: str, data_dir: Path | None = None
) -> OpenBanditLog:
    """Read ``<data_dir>/<behavior_policy>/<campaign>/<campaign>.csv`` (default: the obp
    wheel's sample) as logged feedback, rows sorted by timestamp as obp does."""
    if behavior_policy not in BEHAVIOR_POLICIES:
        raise DataError(
            "open bandit dataset",
            f"unknown behaviour policy {behavior_policy!r}; known: {BEHAVIOR_POLICIES}",
        )
    _check_campaign(campaign)
    root = assets.open_bandit_dir() if data_dir is None else Path(data_dir)
    path = _log_path(root, behavior_policy, campaign)
    log = _read_csv(path)
    items = _read_csv(path.parent / "item_context.csv").sort("item_id")
    n_items = items.height
    if not np.array_equal(items["item_id"].to_numpy(), np.arange(n_items)):
        raise DataError(str(path.parent / "item_context.csv"), "item_id must be 0..n_items-1")
    affinity = [f"{AFFINITY_PREFIX}{j}" for j in range(n_items)]
    required = ["timestamp", "item_id", "position", "click", "propensity_score"]
    missing = [c for c in (*required, *USER_FEATURES, *affinity) if c not in log.columns]
    if missing:
        raise DataError(str(path), f"missing column(s) {missing[:5]}")
    log = log.with_columns(pl.col("timestamp").str.to_datetime(time_zone="UTC")).sort(
        "timestamp", maintain_order=True
    )

    # One vocabulary for both policies' logs (where present), so their contexts share columns.
    user_frames = [log.select(USER_FEATURES)]
    for policy in BEHAVIOR_POLICIES:
        other = _log_path(root, policy, campaign)
        if policy != behavior_policy and other.is_file():
            user_frames.append(pl.read_csv(other, columns=list(USER_FEATURES)))
    users = pl.concat(user_frames)
    vocab = {c: sorted(users[c].unique().to_list()) for c in USER_FEATURES}
    context = pl.concat(
        [_one_hot(log, USER_FEATURES, vocab), log.select(affinity)], how="horizontal"
    )
    item_categorical = ("item_feature_1", "item_feature_2", "item_feature_3")
    item_vocab = {c: sorted(items[c].unique().to_list()) for c in item_categorical}
    action_context = pl.concat(
        [items.select("item_feature_0"), _one_hot(items, item_categorical, item_vocab)],
        how="horizontal",
    )
    position = log["position"].to_numpy()
    if not np.isin(position, np.arange(1, LEN_LIST + 1)).all():
        raise DataError(str(path), f"position must be in 1..{LEN_LIST}", column="position")
    feedback = LoggedFeedback(
        n_rounds=log.height,
        n_actions=n_items,
        context=context.to_numpy(),
        action=log["item_id"].to_numpy(),
        reward=log["click"].to_numpy(),
        pscore=log["propensity_score"].to_numpy(),
        position=position - 1,
        action_context=action_context.to_numpy(),
    )
    return OpenBanditLog(
        behavior_policy=behavior_policy,
        campaign=campaign,
        feedback=feedback,
        context_columns=tuple(context.columns),
        timestamp=log["timestamp"].to_numpy(),
    )


def _parse_prior_yaml(text: str) -> dict[str, dict[str, list[float]]]:
    """Parse prior_bts.yaml: ``<campaign>:`` / ``  alpha:`` or ``  beta:`` / ``    - <float>``.

    A strict reader of exactly that layout (the project has no YAML dependency); any other
    line is an error rather than a silent misread."""
    prior: dict[str, dict[str, list[float]]] = {}
    campaign: str | None = None
    key: str | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if m := re.fullmatch(r"(\w+):\s*", line):
            campaign, key = m.group(1), None
            prior[campaign] = {}
        elif (m := re.fullmatch(r"\s+(alpha|beta):\s*", line)) and campaign is not None:
            key = m.group(1)
            prior[campaign][key] = []
        elif (m := re.fullmatch(r"\s+-\s*([0-9.eE+-]+)\s*", line)) and key is not None:
            assert campaign is not None
            prior[campaign][key].append(float(m.group(1)))
        else:
            raise DataError(PRIOR_MEMBER, f"unexpected line {line!r}", row=number)
    return prior


def read_bts_prior(campaign: str, wheel: Path | None = None) -> tuple[np.ndarray, np.ndarray]:
    """ZOZOTOWN's production Beta prior (alpha, beta) per item for ``campaign``, read from
    ``obp/policy/conf/prior_bts.yaml`` inside the obp 0.4.1 wheel."""
    _check_campaign(campaign)
    wheel = assets.wheel_path(assets.OBP) if wheel is None else wheel
    try:
        with zipfile.ZipFile(wheel) as zf:
            text = zf.read(PRIOR_MEMBER).decode("utf-8")
    except KeyError as exc:
        raise AssetError(f"{wheel.name} has no {PRIOR_MEMBER}") from exc
    prior = _parse_prior_yaml(text).get(campaign, {})
    alpha, beta = np.array(prior.get("alpha", [])), np.array(prior.get("beta", []))
    if alpha.size == 0 or alpha.shape != beta.shape or (alpha <= 0).any() or (beta <= 0).any():
        raise DataError(PRIOR_MEMBER, f"campaign {campaign!r} needs positive alpha/beta lists")
    return alpha, beta


def bernoulli_ts_action_dist(
    alpha: np.ndarray,
    beta: np.ndarray,
    len_list: int = LEN_LIST,
    n_sim: int = 100_000,
    seed: int = 0,
    block: int = 20_000,
) -> np.ndarray:
    """Bernoulli Thompson Sampling's slate distribution, ``(n_actions, len_list)``.

    As obp's ``BernoulliTS.compute_batch_action_dist`` (with no observed rewards, i.e. the
    prior alone): each of ``n_sim`` draws samples theta_a ~ Beta(alpha_a, beta_a) for every
    action and shows the ``len_list`` largest in decreasing order; ``[a, k]`` is the share of
    draws with action a at position k. Vectorised in blocks of draws, seeded.
    """
    alpha = np.asarray(alpha, dtype=np.float64)
    beta = np.asarray(beta, dtype=np.float64)
    n_actions = alpha.shape[0]
    if len_list > n_actions:
        raise ValueError(f"len_list={len_list} exceeds n_actions={n_actions}")
    rng = np.random.default_rng(seed)
    counts = np.zeros(n_actions * len_list, dtype=np.int64)
    slot = np.arange(len_list)
    for start in range(0, n_sim, block):
        size = min(block, n_sim - start)
        theta = rng.beta(alpha, beta, size=(size, n_actions))
        top = np.argpartition(-theta, len_list - 1, axis=1)[:, :len_list]
        order = np.argsort(-np.take_along_axis(theta, top, axis=1), axis=1)
        ranked = np.take_along_axis(top, order, axis=1)  # (size, len_list) action ids
        counts += np.bincount((ranked * len_list + slot).ravel(), minlength=counts.size)
    return counts.reshape(n_actions, len_list) / n_sim


@dataclass(frozen=True)
class CampaignResult:
    """The OBD check for one campaign."""

    campaign: str
    on_policy: PolicyValue
    estimates: dict[str, PolicyValue]

    def relative_error(self) -> dict[str, float]:
        """|V_hat - V_on| / V_on per estimator."""
        truth = self.on_policy.value
        return {name: abs(est.value - truth) / truth for name, est in self.estimates.items()}

    def to_dict(self) -> dict[str, Any]:
        return {
            "on_policy": self.on_policy.to_dict(),
            "estimates": {name: est.to_dict() for name, est in self.estimates.items()},
            "relative_error": self.relative_error(),
        }


def evaluate_campaign(
    campaign: str,
    *,
    n_sim: int = 100_000,
    n_bootstrap: int = N_BOOTSTRAP,
    n_folds: int = 3,
    seed: int = 0,
    data_dir: Path | None = None,
    wheel: Path | None = None,
    on_step: StepReporter = no_steps,
) -> CampaignResult:
    """BTS's value estimated from the random logs (IPS, SNIPS, DR) vs its on-policy value.

    ``on_step`` is called with each of :data:`STEPS` as it starts."""
    on_step(STEPS[0])
    random_log = load_open_bandit("random", campaign, data_dir).feedback
    bts_log = load_open_bandit("bts", campaign, data_dir).feedback
    on_step(STEPS[1])
    alpha, beta = read_bts_prior(campaign, wheel)
    if alpha.shape[0] != random_log.n_actions:
        raise DataError(
            PRIOR_MEMBER,
            f"{campaign}: prior has {alpha.shape[0]} items, log has {random_log.n_actions}",
        )
    slate = bernoulli_ts_action_dist(alpha, beta, LEN_LIST, n_sim=n_sim, seed=seed)
    # Context-free policy: the same distribution for every round (a read-only view, no copy).
    action_dist = np.broadcast_to(slate, (random_log.n_rounds, *slate.shape))
    on_step(STEPS[2])
    q_hat = RewardModel(n_folds=n_folds, seed=seed).fit_predict(random_log, LEN_LIST)
    on_step(STEPS[3])
    estimates = {
        name: ESTIMATORS[name].estimate(
            random_log, action_dist, q_hat, n_bootstrap=n_bootstrap, seed=seed
        )
        for name in OPE_ESTIMATORS
    }
    truth = on_policy_value(bts_log, n_bootstrap=n_bootstrap, seed=seed)
    return CampaignResult(campaign=campaign, on_policy=truth, estimates=estimates)


def obd_check(
    campaigns: tuple[str, ...] = CAMPAIGNS, on_step: StepReporter = no_steps, **options: Any
) -> dict[str, CampaignResult]:
    """:func:`evaluate_campaign` for each campaign; steps are reported as
    ``"<campaign>: <step>"``."""
    return {
        campaign: evaluate_campaign(
            campaign, on_step=lambda step, c=campaign: on_step(f"{c}: {step}"), **options
        )
        for campaign in campaigns
    }
