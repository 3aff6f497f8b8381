"""The title cache: table ``title_cache`` in the workspace's DuckDB.

One row per (theme, prompt version, backend:model, settings hash, candidate index), the
theme named by its key and a digest of its prompt fields (``generate.cache_theme_id``),
written once the candidate is final: accepted (``text`` set) or given up after the
bounded retries (``text`` NULL, ``reason`` set), so a rerun repeats neither.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import polars as pl

from subjectline.workspace import Workspace

TABLE = "title_cache"
_DDL = f"""
CREATE TABLE IF NOT EXISTS {TABLE} (
    theme_key VARCHAR NOT NULL,
    prompt_version VARCHAR NOT NULL,
    model_id VARCHAR NOT NULL,
    settings_hash VARCHAR NOT NULL,
    idx INTEGER NOT NULL,
    text VARCHAR,
    reason VARCHAR,
    raw VARCHAR,
    seed BIGINT NOT NULL,
    temperature DOUBLE NOT NULL,
    attempts INTEGER NOT NULL,
    backend VARCHAR NOT NULL,
    model VARCHAR NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (theme_key, prompt_version, model_id, settings_hash, idx)
)
"""
_SCHEMA: dict[str, pl.DataType] = {
    "theme_key": pl.String(),
    "prompt_version": pl.String(),
    "model_id": pl.String(),
    "settings_hash": pl.String(),
    "idx": pl.Int32(),
    "text": pl.String(),
    "reason": pl.String(),
    "raw": pl.String(),
    "seed": pl.Int64(),
    "temperature": pl.Float64(),
    "attempts": pl.Int32(),
    "backend": pl.String(),
    "model": pl.String(),
    "created_at": pl.Datetime("us", "UTC"),
}


@dataclass(frozen=True)
class CacheKey:
    prompt_version: str
    model_id: str
    settings_hash: str


@dataclass(frozen=True)
class CachedRow:
    theme_key: str
    idx: int
    text: str | None
    reason: str | None
    raw: str | None
    seed: int
    temperature: float
    attempts: int
    backend: str
    model: str


def load(
    workspace: Workspace, key: CacheKey, theme_keys: Sequence[str], n: int
) -> dict[tuple[str, int], CachedRow]:
    """Cached rows for these themes and candidate indexes ``< n``."""
    if not theme_keys or not workspace.has_table(TABLE):
        return {}
    wanted = pl.DataFrame({"theme_key": list(theme_keys)}, schema={"theme_key": pl.String()})
    with workspace.connect(read_only=True) as con:
        con.register("__wanted", wanted.to_arrow())
        rows = con.execute(
            f"""SELECT c.theme_key, idx, text, reason, raw, seed, temperature, attempts,
                       backend, model
                FROM {TABLE} c JOIN __wanted w USING (theme_key)
                WHERE prompt_version = ? AND model_id = ? AND settings_hash = ? AND idx < ?""",
            [key.prompt_version, key.model_id, key.settings_hash, n],
        ).fetchall()
    found = [CachedRow(*row) for row in rows]
    return {(row.theme_key, row.idx): row for row in found}


def store(workspace: Workspace, key: CacheKey, rows: Sequence[CachedRow]) -> None:
    """Insert (or replace) final rows in one transaction."""
    if not rows:
        return
    now = datetime.now(UTC)
    frame = pl.DataFrame(
        [
            {
                **row.__dict__,
                "prompt_version": key.prompt_version,
                "model_id": key.model_id,
                "settings_hash": key.settings_hash,
                "created_at": now,
            }
            for row in rows
        ],
        schema=_SCHEMA,
    )
    with workspace.connect() as con:
        con.execute(_DDL)
        con.register("__rows", frame.to_arrow())
        con.execute(f"INSERT OR REPLACE INTO {TABLE} BY NAME SELECT * FROM __rows")
        con.unregister("__rows")
