"""Shared fixtures: a small synthetic marketplace, written once per session."""

from __future__ import annotations

from pathlib import Path

import pytest

from subjectline.data.synth import SynthConfig, write_marketplace


@pytest.fixture(scope="session")
def small_market(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 500-user synthetic marketplace as CSV files (read-only for tests)."""
    out = tmp_path_factory.mktemp("market")
    write_marketplace(SynthConfig(users=500, items=300, seed=7), out, fmt="csv")
    return out
