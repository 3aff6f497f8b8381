"""Experiment definitions: arms and shares, a global holdout, dates, metrics, MDE.

Stored in the workspace DuckDB, table ``experiments`` (one row per experiment, the
definition as JSON next to a few queryable columns).
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from typing import Literal

import polars as pl
from pydantic import BaseModel, Field, field_validator, model_validator

from subjectline.errors import SubjectlineError
from subjectline.workspace import Workspace

Metric = Literal["open_rate", "ctr", "ctor", "cvr", "unsub_rate", "revenue_per_send"]
METRICS: tuple[Metric, ...] = ("open_rate", "ctr", "ctor", "cvr", "unsub_rate", "revenue_per_send")
HOLDOUT = "holdout"
TABLE = "experiments"


class Arm(BaseModel):
    """An arm and its share of the non-holdout traffic."""

    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.:-]+$")
    share: float = Field(gt=0, le=1)
    description: str = ""

    @field_validator("name")
    @classmethod
    def _not_holdout(cls, name: str) -> str:
        if name == HOLDOUT:
            raise ValueError(f"'{HOLDOUT}' is reserved for the global holdout")
        return name


class Experiment(BaseModel):
    """A subject-line experiment: the template control against LLM variants."""

    id: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.:-]+$")
    arms: list[Arm] = Field(min_length=2)
    control: str
    holdout_share: float = Field(default=0.0, ge=0, lt=1)
    salt: str = Field(default="", description="Changes the arm split without a new id")
    start: datetime | None = None
    end: datetime | None = None
    primary_metric: Metric = "ctr"
    guardrail_metrics: list[Metric] = Field(default_factory=lambda: list[Metric](["unsub_rate"]))
    mde: float = Field(default=0.05, gt=0, description="Minimum detectable relative lift")
    alpha: float = Field(default=0.05, gt=0, lt=1)

    @model_validator(mode="after")
    def _check(self) -> Experiment:
        names = [a.name for a in self.arms]
        if len(set(names)) != len(names):
            raise ValueError(f"arm names must be unique: {names}")
        if self.control not in names:
            raise ValueError(f"control {self.control!r} is not one of the arms {names}")
        if not math.isclose(sum(a.share for a in self.arms), 1.0, abs_tol=1e-9):
            raise ValueError("arm shares must sum to 1 (they split the non-holdout traffic)")
        if self.start and self.end and self.end <= self.start:
            raise ValueError("end must be after start")
        return self

    @property
    def arm_names(self) -> list[str]:
        return [a.name for a in self.arms]

    def expected_shares(self, include_holdout: bool = False) -> dict[str, float]:
        """Share of all users per arm (holdout included when asked)."""
        scale = 1 - self.holdout_share
        shares = {a.name: a.share * scale for a in self.arms}
        if include_holdout:
            shares[HOLDOUT] = self.holdout_share
        return shares


def save_experiment(workspace: Workspace, experiment: Experiment) -> None:
    """Insert or replace the definition in the ``experiments`` table."""
    with workspace.connect() as con:
        con.execute(
            f"""CREATE TABLE IF NOT EXISTS {TABLE} (
                id VARCHAR PRIMARY KEY, control VARCHAR, arms VARCHAR[],
                holdout_share DOUBLE, start_at TIMESTAMPTZ, end_at TIMESTAMPTZ,
                primary_metric VARCHAR, definition JSON, updated_at TIMESTAMPTZ)"""
        )
        con.execute(
            f"INSERT OR REPLACE INTO {TABLE} VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                experiment.id,
                experiment.control,
                experiment.arm_names,
                experiment.holdout_share,
                experiment.start,
                experiment.end,
                experiment.primary_metric,
                experiment.model_dump_json(),
                datetime.now(UTC),
            ],
        )


def load_experiment(workspace: Workspace, experiment_id: str) -> Experiment:
    if not workspace.has_table(TABLE):
        raise SubjectlineError(f"workspace {workspace.root} has no experiments yet")
    with workspace.connect(read_only=True) as con:
        rows = con.execute(
            f"SELECT definition FROM {TABLE} WHERE id = ?", [experiment_id]
        ).fetchall()
    if not rows:
        raise SubjectlineError(f"no experiment {experiment_id!r} in workspace {workspace.root}")
    return Experiment.model_validate(json.loads(rows[0][0]))


def list_experiments(workspace: Workspace) -> pl.DataFrame:
    if not workspace.has_table(TABLE):
        return pl.DataFrame()
    with workspace.connect(read_only=True) as con:
        return con.sql(f"SELECT * EXCLUDE (definition) FROM {TABLE} ORDER BY id").pl()
