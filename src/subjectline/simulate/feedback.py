"""The logged-feedback contract shared by the offline simulator and the OPE estimators.

Modelled on obp's ``BanditFeedback`` (a dict there, a validated frozen dataclass here):
one row per *round*, i.e. one shown action and the reward it got. For slate logs (the
Open Bandit Dataset shows 3 items at once) each (impression, position) pair is a round and
``position`` says which slot it was; the evaluation policy's ``action_dist`` then has one
distribution over actions per position (shape ``(n_rounds, n_actions, len_list)``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl

from subjectline.errors import DataError

SOURCE = "LoggedFeedback"
CONTEXT_PREFIX = "context_"


def _fail(reason: str, column: str, bad: np.ndarray | None = None) -> DataError:
    """A DataError naming the field and, if any, the first offending round (1-based)."""
    row = int(np.flatnonzero(bad)[0]) + 1 if bad is not None and bad.any() else None
    return DataError(SOURCE, reason, row=row, column=column)


def _frozen(values: Any, dtype: type, column: str, ndim: int) -> np.ndarray:
    try:
        array: np.ndarray = np.array(
            values, dtype=dtype
        )  # a copy, so the caller cannot mutate it later
    except (TypeError, ValueError) as exc:
        raise _fail(f"cannot be read as {np.dtype(dtype).name}: {exc}", column) from exc
    if array.ndim != ndim:
        raise _fail(f"must be {ndim}-D, got shape {array.shape}", column)
    array.setflags(write=False)
    return array


def _integers(values: Any, column: str) -> np.ndarray:
    raw = np.asarray(values)
    if raw.dtype.kind == "f":
        fractional = raw != np.round(raw)
        if fractional.any():
            raise _fail("must hold integers", column, fractional)
    elif raw.dtype.kind not in "iub":
        raise _fail(f"must hold integers, got dtype {raw.dtype}", column)
    return _frozen(raw, np.int64, column, ndim=1)


@dataclass(frozen=True, eq=False)
class LoggedFeedback:
    """Logged bandit feedback collected by a behaviour policy pi_b.

    Fields (``T = n_rounds``):

    - ``n_rounds``: number of rounds T (rows).
    - ``n_actions``: size of the action set; actions are ``0 .. n_actions - 1``.
    - ``context``: ``(T, dim_context)`` float features x_t known before acting
      (user features, recency, ...). ``dim_context`` may be 0.
    - ``action``: ``(T,)`` int, the action a_t that pi_b took.
    - ``reward``: ``(T,)`` float, the observed reward r_t (e.g. click 0/1).
    - ``pscore``: ``(T,)`` float in (0, 1], the propensity pi_b(a_t | x_t) (at ``position``
      for slates) of the logged action. Estimators divide by it, so it must be the real
      logging probability, not an estimate of the evaluation policy.
    - ``position``: optional ``(T,)`` int >= 0, the slot of a_t in a slate; ``None`` means a
      single slot (``len_list == 1``).
    - ``action_context``: optional ``(n_actions, dim_action_context)`` float features of
      each action (item or title features); ``None`` means one-hot actions.

    Arrays are copied and made read-only, so a LoggedFeedback never changes once built.
    Every check failure raises :class:`~subjectline.errors.DataError` naming the field and
    the first bad round.
    """

    n_rounds: int
    n_actions: int
    context: np.ndarray
    action: np.ndarray
    reward: np.ndarray
    pscore: np.ndarray
    position: np.ndarray | None = None
    action_context: np.ndarray | None = field(default=None)

    def __post_init__(self) -> None:
        if not isinstance(self.n_rounds, int | np.integer) or self.n_rounds < 1:
            raise _fail(f"must be a positive integer, got {self.n_rounds!r}", "n_rounds")
        if not isinstance(self.n_actions, int | np.integer) or self.n_actions < 1:
            raise _fail(f"must be a positive integer, got {self.n_actions!r}", "n_actions")
        n = int(self.n_rounds)
        object.__setattr__(self, "n_rounds", n)
        object.__setattr__(self, "n_actions", int(self.n_actions))

        context = _frozen(self.context, np.float64, "context", ndim=2)
        action = _integers(self.action, "action")
        reward = _frozen(self.reward, np.float64, "reward", ndim=1)
        pscore = _frozen(self.pscore, np.float64, "pscore", ndim=1)
        arrays = {"context": context, "action": action, "reward": reward, "pscore": pscore}
        for name, array in arrays.items():
            if array.shape[0] != n:
                raise _fail(f"has {array.shape[0]} rows, expected n_rounds={n}", name)
        if not np.isfinite(context).all():
            raise _fail("must be finite", "context", ~np.isfinite(context).all(axis=1))
        out_of_range = (action < 0) | (action >= self.n_actions)
        if out_of_range.any():
            raise _fail(f"must be in [0, n_actions={self.n_actions})", "action", out_of_range)
        if not np.isfinite(reward).all():
            raise _fail("must be finite", "reward", ~np.isfinite(reward))
        bad_pscore = ~((pscore > 0.0) & (pscore <= 1.0))  # also catches NaN
        if bad_pscore.any():
            raise _fail("must be a probability in (0, 1]", "pscore", bad_pscore)
        object.__setattr__(self, "context", context)
        object.__setattr__(self, "action", action)
        object.__setattr__(self, "reward", reward)
        object.__setattr__(self, "pscore", pscore)

        if self.position is not None:
            position = _integers(self.position, "position")
            if position.shape[0] != n:
                raise _fail(f"has {position.shape[0]} rows, expected n_rounds={n}", "position")
            if (position < 0).any():
                raise _fail("must be >= 0", "position", position < 0)
            object.__setattr__(self, "position", position)
        if self.action_context is not None:
            action_context = _frozen(self.action_context, np.float64, "action_context", ndim=2)
            if action_context.shape[0] != self.n_actions:
                raise _fail(
                    f"has {action_context.shape[0]} rows, expected n_actions={self.n_actions}",
                    "action_context",
                )
            if not np.isfinite(action_context).all():
                raise _fail("must be finite", "action_context")
            object.__setattr__(self, "action_context", action_context)

    @property
    def dim_context(self) -> int:
        return int(self.context.shape[1])

    @property
    def len_list(self) -> int:
        """Slate length implied by the log: ``max(position) + 1`` (1 without positions)."""
        return 1 if self.position is None else int(self.position.max()) + 1

    def positions(self) -> np.ndarray:
        """``position``, or zeros when the log has a single slot."""
        if self.position is None:
            return np.zeros(self.n_rounds, dtype=np.int64)
        return self.position

    def subset(self, rows: np.ndarray) -> LoggedFeedback:
        """The rounds selected by ``rows`` (indices or a boolean mask), same action set."""
        return LoggedFeedback(
            n_rounds=int(np.arange(self.n_rounds)[rows].shape[0]),
            n_actions=self.n_actions,
            context=self.context[rows],
            action=self.action[rows],
            reward=self.reward[rows],
            pscore=self.pscore[rows],
            position=None if self.position is None else self.position[rows],
            action_context=self.action_context,
        )

    def to_frame(self) -> pl.DataFrame:
        """One row per round: action, reward, pscore, [position], context_0..context_{d-1}.

        ``n_actions`` and ``action_context`` are per-log, not per-row: pass them back to
        :meth:`from_frame`.
        """
        columns: dict[str, pl.Series] = {
            "action": pl.Series("action", self.action, dtype=pl.Int64),
            "reward": pl.Series("reward", self.reward, dtype=pl.Float64),
            "pscore": pl.Series("pscore", self.pscore, dtype=pl.Float64),
        }
        if self.position is not None:
            columns["position"] = pl.Series("position", self.position, dtype=pl.Int64)
        for j in range(self.dim_context):
            name = f"{CONTEXT_PREFIX}{j}"
            columns[name] = pl.Series(name, self.context[:, j], dtype=pl.Float64)
        return pl.DataFrame(list(columns.values()))

    @classmethod
    def from_frame(
        cls,
        frame: pl.DataFrame,
        n_actions: int | None = None,
        action_context: np.ndarray | None = None,
    ) -> LoggedFeedback:
        """Build from a frame with ``action``, ``reward``, ``pscore``, optional ``position``
        and ``context_*`` columns (in numeric order). ``n_actions`` defaults to
        ``max(action) + 1``, which undercounts if the largest actions were never logged."""
        missing = [c for c in ("action", "reward", "pscore") if c not in frame.columns]
        if missing:
            raise DataError(SOURCE, f"frame lacks column(s) {', '.join(missing)}")
        if frame.height == 0:
            raise DataError(SOURCE, "frame has no rows")
        context_columns = sorted(
            (c for c in frame.columns if c.startswith(CONTEXT_PREFIX)),
            key=lambda c: int(c.removeprefix(CONTEXT_PREFIX)),
        )
        for name in ("action", "reward", "pscore", "position", *context_columns):
            if name in frame.columns and frame[name].null_count():
                bad = frame[name].is_null().to_numpy()
                raise _fail("has nulls", name, bad)
        action = frame["action"].to_numpy()
        if context_columns:
            context = frame.select(context_columns).to_numpy().astype(np.float64)
        else:
            context = np.zeros((frame.height, 0))
        return cls(
            n_rounds=frame.height,
            n_actions=int(action.max()) + 1 if n_actions is None else n_actions,
            context=context,
            action=action,
            reward=frame["reward"].to_numpy(),
            pscore=frame["pscore"].to_numpy(),
            position=frame["position"].to_numpy() if "position" in frame.columns else None,
            action_context=action_context,
        )
