"""Deterministic assignment of users to arms by salted hashing, in bulk in DuckDB.

A user's position in [0, 1) is the first 52 bits of SHA-256 of a text key, read as an
integer and divided by 2^52. SHA-256 is a fixed standard, so the split is the same on
every machine and in every version of DuckDB, Polars or Python (``unit_hash`` computes
the same numbers with ``hashlib``; a test pins them). Polars' ``hash`` is not used: its
values may change between versions.

- The global holdout comes first, keyed by ``HOLDOUT_SALT:user_id`` only, so the same users
  are held out of every experiment (a 5% holdout is a subset of a 10% one).
- The arm is keyed by ``experiment_id:salt:user_id``: different experiments give
  independent splits, and a new salt reshuffles an experiment without renaming it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import UTC, datetime

import duckdb
import numpy as np
import polars as pl

from subjectline.experiment.definition import HOLDOUT, Experiment
from subjectline.workspace import Workspace

HOLDOUT_SALT = "subjectline-global-holdout"
EXPOSURES = "exposures"
_BITS = 52
_HEX_DIGITS = _BITS // 4
_SCALE = float(2**_BITS)


def unit_hash_sql(key: str) -> str:
    """A DuckDB expression mapping the text expression ``key`` to [0, 1)."""
    return f"(('0x' || substr(sha256({key}), 1, {_HEX_DIGITS}))::BIGINT / {_SCALE!r})"


def unit_hash(keys: Iterable[str]) -> np.ndarray:
    """Reference implementation of ``unit_hash_sql`` with hashlib (one key at a time)."""
    return np.array(
        [int(hashlib.sha256(k.encode()).hexdigest()[:_HEX_DIGITS], 16) / _SCALE for k in keys]
    )


def _sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def assign(
    experiment: Experiment, users: pl.DataFrame | pl.Series, user_col: str = "user_id"
) -> pl.DataFrame:
    """One row per user: ``user_id``, ``arm`` (an arm name or ``holdout``), ``bucket``.

    ``bucket`` is the user's position in [0, 1) for this experiment; arms take consecutive
    intervals of it in the order of the definition, scaled by their shares.
    """
    frame = users.to_frame(user_col) if isinstance(users, pl.Series) else users.select(user_col)
    if frame[user_col].null_count():
        raise ValueError(f"{user_col} has missing values")
    arm_key = _sql_text(f"{experiment.id}:{experiment.salt}:")
    holdout_key = _sql_text(f"{HOLDOUT_SALT}:")
    cases = []
    edge = 0.0
    for arm in experiment.arms[:-1]:
        edge += arm.share
        cases.append(f"WHEN bucket < {edge!r} THEN {_sql_text(arm.name)}")
    last = _sql_text(experiment.arms[-1].name)
    sql = f"""
        WITH hashed AS (
            SELECT "{user_col}",
                   {unit_hash_sql(f'{holdout_key} || CAST("{user_col}" AS VARCHAR)')} AS held,
                   {unit_hash_sql(f'{arm_key} || CAST("{user_col}" AS VARCHAR)')} AS bucket
            FROM users)
        SELECT "{user_col}",
               CASE WHEN held < {experiment.holdout_share!r} THEN '{HOLDOUT}'
                    {" ".join(cases)} ELSE {last} END AS arm,
               bucket
        FROM hashed"""
    con = duckdb.connect()
    try:
        con.register("users", frame.to_arrow())
        return con.sql(sql).pl()
    finally:
        con.close()


def log_exposures(
    workspace: Workspace,
    experiment_id: str,
    assignments: pl.DataFrame,
    exposed_at: datetime | None = None,
    user_col: str = "user_id",
) -> int:
    """Append first exposures to the ``exposures`` table; returns the rows added.

    A user already exposed in this experiment keeps the first record (the arm cannot
    change, since assignment is deterministic).
    """
    when = exposed_at or datetime.now(UTC)
    frame = assignments.select(
        pl.lit(experiment_id).alias("experiment_id"),
        pl.col(user_col).cast(pl.String).alias("user_id"),
        pl.col("arm"),
    )
    with workspace.connect() as con:
        con.execute(
            f"""CREATE TABLE IF NOT EXISTS {EXPOSURES} (
                experiment_id VARCHAR NOT NULL, user_id VARCHAR NOT NULL,
                arm VARCHAR NOT NULL, exposed_at TIMESTAMPTZ NOT NULL,
                PRIMARY KEY (experiment_id, user_id))"""
        )
        before = _count(con, experiment_id)
        con.register("new_exposures", frame.to_arrow())
        con.execute(
            f"INSERT OR IGNORE INTO {EXPOSURES} SELECT experiment_id, user_id, arm, ? "
            "FROM new_exposures",
            [when],
        )
        return _count(con, experiment_id) - before


def _count(con: duckdb.DuckDBPyConnection, experiment_id: str) -> int:
    # fetchall: DuckDB 2 keeps a connection busy until a result is fully fetched.
    rows = con.execute(
        f"SELECT count(*) FROM {EXPOSURES} WHERE experiment_id = ?", [experiment_id]
    ).fetchall()
    return int(rows[0][0])
