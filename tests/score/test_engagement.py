"""The engagement model learns from a log and reports AUC and calibration."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from subjectline.score.engagement import FEATURES, EngagementModel, expected_calibration_error


def _log(n: int, seed: int) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pl.DataFrame({name: rng.random(n) for name in FEATURES})
    # Opens depend on the user's past open rate, clicks on the title's relevance.
    p_open = 0.1 + 0.4 * frame["past_open_rate"].to_numpy()
    opened = rng.random(n) < p_open
    clicked = opened & (rng.random(n) < 0.05 + 0.3 * frame["relevance"].to_numpy())
    converted = clicked & (rng.random(n) < 0.1)
    return frame.with_columns(
        pl.Series("open", opened.astype(np.int8)),
        pl.Series("click", clicked.astype(np.int8)),
        pl.Series("convert", converted.astype(np.int8)),
    )


def test_learns_stage_models_with_auc_and_calibration() -> None:
    model = EngagementModel.fit(_log(8_000, 0))
    assert model.report["open"]["auc"] > 0.6
    assert model.report["click"]["auc"] > 0.6
    assert model.report["open"]["ece"] < 0.05
    fresh = _log(4_000, 1)
    predicted = model.predict(fresh)
    assert set(predicted) == {"open", "click_given_open", "convert_given_click", "click", "convert"}
    assert np.allclose(predicted["click"], predicted["open"] * predicted["click_given_open"])
    high = fresh["relevance"].to_numpy() > 0.8
    low = fresh["relevance"].to_numpy() < 0.2
    assert predicted["click_given_open"][high].mean() > predicted["click_given_open"][low].mean()


def test_rejects_a_log_without_the_features() -> None:
    with pytest.raises(ValueError, match="lacks"):
        EngagementModel.fit(pl.DataFrame({"open": [0, 1]}))


def test_expected_calibration_error() -> None:
    y = np.array([0, 0, 1, 1])
    assert expected_calibration_error(y, np.array([0.0, 0.0, 1.0, 1.0]))[0] == 0.0
    ece, table = expected_calibration_error(y, np.full(4, 0.95))
    assert ece == pytest.approx(0.45)
    assert table[0]["n"] == 4


def test_a_stage_with_few_positives_predicts_its_base_rate() -> None:
    log = _log(600, 2).with_columns(pl.lit(0, dtype=pl.Int8).alias("convert"))
    log = log.with_columns(pl.Series("convert", np.r_[np.ones(3), np.zeros(597)].astype(np.int8)))
    model = EngagementModel.fit(log)
    assert "convert" not in model.models
    assert model.report["convert"]["auc"] is None
    predicted = model.predict(log)["convert_given_click"]
    assert np.allclose(predicted, model.base_rates["convert"])
