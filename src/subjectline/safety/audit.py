"""The audit trail: every rejection stored with candidate, theme, check and detail."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import polars as pl

from subjectline.safety.context import Reason
from subjectline.safety.guard import SafeChoice
from subjectline.workspace import Workspace

TABLE = "rejections"
SCHEMA: dict[str, pl.DataType] = {
    "run_id": pl.String(),
    "candidate": pl.String(),
    "theme_key": pl.String(),
    "check": pl.String(),
    "detail": pl.String(),
    "recorded_at": pl.Datetime("us", "UTC"),
}


@dataclass(frozen=True)
class Rejection:
    candidate: str
    theme_key: str
    check: str
    detail: str


def rejections_of(candidate: str, theme_key: str, reasons: Sequence[Reason]) -> list[Rejection]:
    return [Rejection(candidate, theme_key, r.check, r.detail) for r in reasons]


def rejections_from_choice(choice: SafeChoice, theme_key: str) -> list[Rejection]:
    """One row per (rejected candidate, reason) of a ``choose_safe`` call."""
    return [
        row for cand, reasons in choice.rejected for row in rejections_of(cand, theme_key, reasons)
    ]


def record_rejections(
    workspace: Workspace, run_id: str, rows: Iterable[Rejection | Mapping[str, str]]
) -> int:
    """Append rows to the workspace table ``rejections``; returns how many were stored."""
    records = [
        (r.candidate, r.theme_key, r.check, r.detail)
        if isinstance(r, Rejection)
        else (r["candidate"], r["theme_key"], r["check"], r["detail"])
        for r in rows
    ]
    now = datetime.now(UTC)
    frame = pl.DataFrame(
        {
            "run_id": [run_id] * len(records),
            "candidate": [r[0] for r in records],
            "theme_key": [r[1] for r in records],
            "check": [r[2] for r in records],
            "detail": [r[3] for r in records],
            "recorded_at": [now] * len(records),
        },
        schema=SCHEMA,
    )
    with workspace.connect() as con:
        con.execute(
            f'CREATE TABLE IF NOT EXISTS "{TABLE}" (run_id VARCHAR, candidate VARCHAR, '
            'theme_key VARCHAR, "check" VARCHAR, detail VARCHAR, recorded_at TIMESTAMPTZ)'
        )
        if records:
            con.register("__rejections", frame.to_arrow())
            con.execute(f'INSERT INTO "{TABLE}" SELECT * FROM __rejections')
            con.unregister("__rejections")
    return len(records)


def rejection_counts(workspace: Workspace, run_id: str | None = None) -> dict[str, int]:
    """Rejections per check (for ``report.json``), for one run or all, most frequent first."""
    if not workspace.has_table(TABLE):
        return {}
    query = f'SELECT "check", count(*) AS n FROM "{TABLE}"'
    params: list[str] = []
    if run_id is not None:
        query += " WHERE run_id = ?"
        params.append(run_id)
    query += ' GROUP BY "check" ORDER BY n DESC, "check"'
    with workspace.connect(read_only=True) as con:
        return {check: int(n) for check, n in con.execute(query, params).fetchall()}


def count_by_check(rows: Iterable[Rejection]) -> dict[str, int]:
    """In-memory version of ``rejection_counts``."""
    return dict(Counter(r.check for r in rows).most_common())


def fallback_counts(choices: Iterable[SafeChoice]) -> dict[str, int]:
    """How many choices came from a candidate, a theme template or the generic template."""
    counts = Counter({"candidate": 0, "theme_template": 0, "generic_template": 0})
    counts.update(c.source for c in choices)
    return dict(counts)
