"""Thompson sampling among a theme's title variants, updated in batches.

Each variant of a theme has a Beta(α, β) posterior on its success rate (click per send by
default): prior Beta(1, 1), and after a batch with ``sends`` and ``successes``,
``α += successes, β += sends - successes``. The next batch's traffic share of variant i is

    share_i = floor + (1 - K·floor) · P(variant i is best | data),

where P(best) is estimated from ``draws`` joint posterior samples, so every variant keeps at
least ``floor`` of the traffic (exploration never stops, and a variant that had a bad first
day can recover). Users in the global holdout are never given a variant: the same salted
hash as ``assignment.assign`` takes them out first, whatever the bandit learns.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import duckdb
import numpy as np
import polars as pl

from subjectline.experiment.assignment import HOLDOUT_SALT, unit_hash_sql
from subjectline.experiment.definition import HOLDOUT
from subjectline.workspace import Workspace

STATE_TABLE = "bandit_state"


class ThompsonSampler:
    """Beta-Bernoulli Thompson sampling over one theme's variants."""

    def __init__(
        self,
        variants: Sequence[str],
        floor: float = 0.05,
        prior: tuple[float, float] = (1.0, 1.0),
        draws: int = 20_000,
        seed: int = 0,
    ):
        if len(set(variants)) != len(variants) or not variants:
            raise ValueError("variants must be a non-empty list of distinct names")
        if not 0 <= floor * len(variants) <= 1:
            raise ValueError(f"floor {floor} × {len(variants)} variants must be at most 1")
        self.variants = list(variants)
        self.floor = floor
        self.alpha = np.full(len(variants), prior[0], dtype=float)
        self.beta = np.full(len(variants), prior[1], dtype=float)
        self.draws = draws
        self.seed = seed

    def update(self, sends: Sequence[int], successes: Sequence[int]) -> None:
        """Add one batch of outcome counts (aligned with ``variants``)."""
        n = np.asarray(sends, dtype=float)
        k = np.asarray(successes, dtype=float)
        if n.shape != self.alpha.shape or k.shape != self.alpha.shape:
            raise ValueError(f"expected {len(self.variants)} counts per batch")
        if (n < 0).any() or (k < 0).any() or (k > n).any():
            raise ValueError("counts must satisfy 0 <= successes <= sends")
        self.alpha += k
        self.beta += n - k

    def probability_best(self) -> np.ndarray:
        """Monte Carlo P(best); seeded per call, so one posterior gives one allocation."""
        rng = np.random.default_rng(self.seed)
        samples = rng.beta(self.alpha, self.beta, size=(self.draws, len(self.variants)))
        wins = np.bincount(samples.argmax(axis=1), minlength=len(self.variants))
        return wins / self.draws

    def allocation(self) -> dict[str, float]:
        """Next batch's traffic share per variant, with the exploration floor."""
        k = len(self.variants)
        shares = self.floor + (1 - k * self.floor) * self.probability_best()
        return dict(zip(self.variants, shares.tolist(), strict=True))

    def posterior_means(self) -> dict[str, float]:
        return dict(
            zip(self.variants, (self.alpha / (self.alpha + self.beta)).tolist(), strict=True)
        )


class ThemeBandit:
    """One ``ThompsonSampler`` per theme; batch updates and assignment over a user frame."""

    def __init__(
        self,
        variants_by_theme: Mapping[str, Sequence[str]],
        floor: float = 0.05,
        holdout_share: float = 0.0,
        seed: int = 0,
    ):
        self.samplers = {
            theme: ThompsonSampler(v, floor=floor, seed=seed + i)
            for i, (theme, v) in enumerate(sorted(variants_by_theme.items()))
        }
        self.holdout_share = holdout_share

    def update(self, outcomes: pl.DataFrame) -> None:
        """Batch update from a frame of ``theme, variant, sends, successes`` counts."""
        missing = {"theme", "variant", "sends", "successes"} - set(outcomes.columns)
        if missing:
            raise ValueError(f"outcomes lack column(s) {sorted(missing)}")
        totals = outcomes.group_by("theme", "variant").agg(pl.col("sends", "successes").sum())
        for theme, part in totals.group_by("theme"):
            name = str(theme[0])
            if name not in self.samplers:
                raise ValueError(f"unknown theme {name!r}")
            sampler = self.samplers[name]
            unknown = set(part["variant"]) - set(sampler.variants)
            if unknown:
                raise ValueError(f"unknown variant(s) {sorted(unknown)} for theme {name!r}")
            counts = {
                r["variant"]: (r["sends"], r["successes"]) for r in part.iter_rows(named=True)
            }
            sampler.update(
                [counts.get(v, (0, 0))[0] for v in sampler.variants],
                [counts.get(v, (0, 0))[1] for v in sampler.variants],
            )

    def allocations(self) -> pl.DataFrame:
        rows = [
            {"theme": theme, "variant": variant, "share": share}
            for theme, sampler in self.samplers.items()
            for variant, share in sampler.allocation().items()
        ]
        return pl.DataFrame(
            rows, schema={"theme": pl.String, "variant": pl.String, "share": pl.Float64}
        )

    def assign(
        self, users: pl.DataFrame, batch: str, allocations: pl.DataFrame | None = None
    ) -> pl.DataFrame:
        """``user_id, theme`` -> ``user_id, theme, arm`` (a variant or ``holdout``).

        Deterministic for a (batch, user): the user's hash position in this batch picks the
        variant whose cumulative-share interval contains it.
        """
        shares = self.allocations() if allocations is None else allocations
        edges = shares.with_columns(
            pl.col("share").cum_sum().over("theme").alias("high"),
        ).with_columns((pl.col("high") - pl.col("share")).alias("low"))
        batch_key = "'" + f"bandit:{batch}:".replace("'", "''") + "'"
        sql = f"""
            WITH hashed AS (
                SELECT user_id, theme,
                       {unit_hash_sql(f"'{HOLDOUT_SALT}:' || CAST(user_id AS VARCHAR)")} AS held,
                       {unit_hash_sql(f"{batch_key} || theme || ':' || CAST(user_id AS VARCHAR)")}
                           AS bucket
                FROM users)
            SELECT h.user_id, h.theme,
                   CASE WHEN h.held < {self.holdout_share!r} THEN '{HOLDOUT}'
                        ELSE arg_max(e.variant, e.low) FILTER (WHERE h.bucket >= e.low) END AS arm
            FROM hashed h JOIN edges e ON e.theme = h.theme
            GROUP BY h.user_id, h.theme, h.held, h.bucket"""
        con = duckdb.connect()
        try:
            con.register("users", users.select("user_id", "theme").to_arrow())
            con.register("edges", edges.to_arrow())
            return con.sql(sql).pl()
        finally:
            con.close()

    def save(self, workspace: Workspace, bandit_id: str) -> None:
        """Store the posteriors in table ``bandit_state`` (replacing this bandit's rows)."""
        state = pl.DataFrame(
            [
                {"bandit_id": bandit_id, "theme": t, "variant": v, "alpha": a, "beta": b}
                for t, s in self.samplers.items()
                for v, a, b in zip(s.variants, s.alpha.tolist(), s.beta.tolist(), strict=True)
            ]
        )
        with workspace.connect() as con:
            con.execute(
                f"""CREATE TABLE IF NOT EXISTS {STATE_TABLE} (bandit_id VARCHAR, theme VARCHAR,
                    variant VARCHAR, alpha DOUBLE, beta DOUBLE)"""
            )
            con.begin()
            con.execute(f"DELETE FROM {STATE_TABLE} WHERE bandit_id = ?", [bandit_id])
            con.register("state", state.to_arrow())
            con.execute(f"INSERT INTO {STATE_TABLE} SELECT * FROM state")
            con.commit()

    @classmethod
    def load(
        cls, workspace: Workspace, bandit_id: str, floor: float = 0.05, holdout_share: float = 0.0
    ) -> ThemeBandit:
        with workspace.connect(read_only=True) as con:
            safe_id = bandit_id.replace("'", "''")
            state = con.sql(
                f"SELECT * FROM {STATE_TABLE} WHERE bandit_id = '{safe_id}' ORDER BY theme, variant"
            ).pl()
        if state.is_empty():
            raise KeyError(f"no bandit {bandit_id!r} in {workspace.root}")
        variants = {
            str(t[0]): part["variant"].to_list()
            for t, part in state.group_by("theme", maintain_order=True)
        }
        bandit = cls(variants, floor=floor, holdout_share=holdout_share)
        for (theme,), part in state.group_by("theme", maintain_order=True):
            sampler = bandit.samplers[str(theme)]
            sampler.alpha = part["alpha"].to_numpy().astype(float)
            sampler.beta = part["beta"].to_numpy().astype(float)
        return bandit
