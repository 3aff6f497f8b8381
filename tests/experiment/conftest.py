"""Shared synthetic sends with known effects (small, so the suite stays fast)."""

from __future__ import annotations

import polars as pl
import pytest

from subjectline.experiment.synthetic import ArmRates, SendsSpec, synthetic_sends


@pytest.fixture(scope="session")
def sends() -> pl.DataFrame:
    """Three arms, a real CTR lift on ``llm_a``, a pre-period covariate and send times."""
    return synthetic_sends(
        SendsSpec(
            n=120_000,
            arms={
                "template": ArmRates(),
                "llm_a": ArmRates(open_rate=0.21, click_given_open=0.115),
                "llm_b": ArmRates(),
            },
            pre_value=True,
            seed=7,
        )
    )
