"""The reward a candidate earns: the multi-objective score if it passes every guardrail,
0 if it fails one (a negative example), with the reasons kept.

The score is the reranker's ``lam * creativity + (1 - lam) * conversion`` over the named
objectives, so the generator learns exactly what the campaign's reranker would pick.
The engagement objective comes from the engagement model fitted on logged sends
(:class:`AudienceEngagement`); without a log it is neutral.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import polars as pl

from subjectline.finetune.cases import ThemeCase
from subjectline.safety import check_title
from subjectline.score.engagement import (
    KIND_FEATURES,
    TITLE_FEATURES,
    EngagementModel,
    kind_columns,
)
from subjectline.score.objectives import off_theme_words, relevance_objective, score_objectives
from subjectline.score.rerank import add_tradeoff_scores, lambda_for
from subjectline.score.text import title_features

AUDIENCE_ROWS = 400


class AudienceEngagement:
    """Predicted CTR of any title for a theme, averaged over a reference audience: the
    logged recipients of that theme when the log has them, else a sample of all."""

    def __init__(self, model: EngagementModel, log: pl.DataFrame, seed: int = 0):
        self.model = model
        user_columns = [c for c in log.columns if c not in (*TITLE_FEATURES, *KIND_FEATURES)]
        self.log = log.select(user_columns)
        self.seed = seed

    def _audience(self, theme_key: str, kind: str) -> pl.DataFrame:
        rows = self.log.filter(pl.col("theme_key") == theme_key)
        if rows.height == 0:
            rows = self.log
        rows = rows.sample(min(AUDIENCE_ROWS, rows.height), seed=self.seed)
        kinds = pl.Series([kind] * rows.height)
        return pl.concat([rows, pl.DataFrame(kind_columns(kinds))], how="horizontal")

    def predict(self, case: ThemeCase, titles: Sequence[str]) -> np.ndarray:
        audience = self._audience(case.theme.key, case.theme.kind)
        features = title_features(titles).with_columns(
            pl.Series("relevance", relevance_objective(titles, case.score_ctx)),
            pl.Series("off_theme", [float(off_theme_words(t, case.score_ctx)) for t in titles]),
        )
        n = audience.height
        batch = pl.concat(
            [pl.concat([features[[i] * n], audience], how="horizontal") for i in range(len(titles))]
        )
        return self.model.predict(batch)["click"].reshape(len(titles), n).mean(axis=1)


def score_case(
    case: ThemeCase,
    titles: Sequence[str],
    lam: float | None = None,
    lambdas: Mapping[str, float] | None = None,
    engagement: AudienceEngagement | None = None,
    campaign_titles: Sequence[str] = (),
) -> pl.DataFrame:
    """One row per title: ``title, safe, reasons, reward`` and every objective.

    ``lam`` fixes the trade-off weight; otherwise the category's lambda from
    ``lambdas`` (the trade-off file) or the scoring default is used.
    """
    titles = list(titles)
    weight = lam if lam is not None else lambda_for(case.theme.root_category, lambdas)
    results = [check_title(t, case.check_ctx) for t in titles]
    ctr = template_ctr = None
    if engagement is not None and titles:
        predicted = engagement.predict(case, [case.score_ctx.template, *titles])
        template_ctr, ctr = float(predicted[0]), predicted[1:]
    scored = add_tradeoff_scores(
        score_objectives(titles, case.score_ctx, ctr, template_ctr, campaign_titles), weight
    )
    safe = [r.ok for r in results]
    return scored.with_columns(
        pl.Series("safe", safe, dtype=pl.Boolean),
        pl.Series("reasons", [",".join(r.checks) for r in results], dtype=pl.String),
        pl.Series("lam", [weight] * len(titles), dtype=pl.Float64),
        pl.when(pl.Series(safe, dtype=pl.Boolean))
        .then(pl.col("score"))
        .otherwise(0.0)
        .alias("reward"),
    )
